package org.commonweal.inference.receipts;

/**
 * Issues the signed receipt of a request served in deterministic mode for a person who named their key. Provided by
 * proof of benefit (bundle {@code org.commonweal.benefit}) while it runs; the serving side never depends on it.
 */
public interface ReceiptIssuer {

    /**
     * The receipt of {@code served}, signed by the node, which keeps the request to reveal it if it is audited.
     *
     * @throws IllegalArgumentException if no receipt can be made of it (the message says why, for the client)
     */
    IssuedReceipt issue(ServedRequest served);

    /** The path (on this node) where the client posts the countersigned receipt back. */
    String countersignPath();
}
