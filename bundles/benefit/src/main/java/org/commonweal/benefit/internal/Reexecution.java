package org.commonweal.benefit.internal;

import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealedRequest;

/**
 * Runs a revealed request again, deterministically, and gives the hash of the output it gets
 * ({@link RevealedRequest#outputHash(int[])}). The one implementation uses the node's language models; this interface
 * keeps the inference package out of every class that is loaded without it.
 */
interface Reexecution {

    /**
     * @throws IllegalStateException if this node cannot run it (the receipt's model is not loaded), naming the model
     */
    byte[] outputHash(Receipt receipt, RevealedRequest request) throws Exception;
}
