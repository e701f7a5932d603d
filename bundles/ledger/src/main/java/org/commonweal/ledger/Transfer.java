package org.commonweal.ledger;

import java.nio.ByteBuffer;

import org.commonweal.crypto.PublicKey;

/**
 * The {@code transfer} payload (type {@value #TYPE}): move {@code amount} (at least 1) from the sender
 * to {@code recipient}. Encoding: 32 bytes recipient, u64 amount, big-endian; exactly 40 bytes.
 */
public record Transfer(PublicKey recipient, long amount) {

    public static final int TYPE = 1;
    public static final int BYTES = 32 + 8;

    public Transfer {
        if (amount <= 0) {
            throw new IllegalArgumentException("a transfer moves 1..2^63-1, not " + amount);
        }
    }

    /** Executes transfers: the amount (plus the fee, which must not overflow with it) leaves the sender. */
    public static final PayloadType PAYLOAD_TYPE = new PayloadType() {
        @Override
        public int id() {
            return TYPE;
        }

        @Override
        public String name() {
            return "transfer";
        }

        @Override
        public void execute(Transaction tx, StateChanges changes) throws Rejection {
            Transfer transfer = decode(tx.payload());
            if (transfer.recipient().equals(tx.sender())) {
                throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "a transfer to the sender itself");
            }
            if (transfer.amount() > Long.MAX_VALUE - tx.fee()) {
                throw new Rejection(Rejection.Reason.OVERFLOW, "fee " + tx.fee() + " plus amount " + transfer.amount()
                        + " exceeds 2^63 - 1");
            }
            changes.debit(tx.sender(), transfer.amount());
            changes.credit(transfer.recipient(), transfer.amount());
        }
    };

    public byte[] encode() {
        return ByteBuffer.allocate(BYTES).put(recipient.bytes()).putLong(amount).array();
    }

    public static Transfer decode(byte[] payload) throws Rejection {
        if (payload.length != BYTES) {
            throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "a transfer payload has " + BYTES + " bytes, not "
                    + payload.length);
        }
        ByteBuffer in = ByteBuffer.wrap(payload);
        byte[] recipient = new byte[32];
        in.get(recipient);
        long amount = in.getLong();
        if (amount <= 0) {
            throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "a transfer moves 1..2^63-1, not " + Long.toUnsignedString(amount));
        }
        return new Transfer(PublicKey.of(recipient), amount);
    }
}
