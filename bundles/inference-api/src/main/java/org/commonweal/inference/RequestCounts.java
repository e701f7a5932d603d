package org.commonweal.inference;

/** A model's requests: now running (in the batch) and waiting, and since it was loaded, how they ended. */
public record RequestCounts(int running, int waiting, long completed, long cancelled, long failed) {
}
