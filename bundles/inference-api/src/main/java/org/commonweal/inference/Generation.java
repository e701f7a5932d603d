package org.commonweal.inference;

/** A generation in progress. */
public interface Generation {

    /** Stops it at the next step; the listener then hears {@code finished} with reason {@code cancelled}. */
    void cancel();
}
