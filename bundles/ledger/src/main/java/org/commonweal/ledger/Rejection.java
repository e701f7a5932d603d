package org.commonweal.ledger;

/**
 * Why a transaction or block is refused: a stable code clients can act on, and words a person can
 * read. A refused transaction never changes the state.
 */
public final class Rejection extends Exception {

    private static final long serialVersionUID = 1L;

    /** Stable reason codes (their names are part of the chain API). */
    public enum Reason {
        /** The bytes are not a canonical encoding of the format. */
        MALFORMED,
        /** Over a hard size limit. */
        OVERSIZED,
        /** The signature is not the sender's over the transaction. */
        BAD_SIGNATURE,
        /** Signed for another chain. */
        WRONG_CHAIN,
        /** The nonce was already used (a replay). */
        NONCE_REPLAYED,
        /** The nonce skips ahead of the sender's next one. */
        NONCE_GAP,
        /** Amount plus fee exceeds the sender's balance. */
        INSUFFICIENT_FUNDS,
        /** An amount would overflow 64 bits. */
        OVERFLOW,
        /** No registered payload type has this id. */
        UNKNOWN_PAYLOAD_TYPE,
        /** The payload is not valid for its type (e.g. a transfer to oneself). */
        INVALID_PAYLOAD,
        /** A block that does not follow its parent, or whose roots, counts or transactions do not check out. */
        INVALID_BLOCK,
        /** The signer lacks the authority the payload needs (not the registry key, not a validator). */
        UNAUTHORIZED,
        /** A key the payload needs registered (a person, a node, a nation) is not. */
        NOT_REGISTERED,
        /** Done already: a key registered twice, a receipt claimed twice, a vote cast twice. */
        DUPLICATE,
        /** The parties belong to different nations, or to none the payload allows. */
        WRONG_NATION,
        /** A quota or cap is used up (a daily allowance, a supply cap, a daily minting cap). */
        LIMIT_REACHED,
        /** A block breaks an invariant a block rule keeps. */
        INVARIANT_VIOLATED,
        /** A step that had a deadline in blocks (a reveal, an attestation, a dispute) comes after it. */
        DEADLINE_PASSED,
        /** The thing the payload acts on is not in the phase the step needs (e.g. an attestation before the reveal). */
        WRONG_PHASE
    }

    private final Reason reason;

    public Rejection(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
