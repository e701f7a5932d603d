package org.example.memo;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.commonweal.ledger.PayloadType;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.StateChanges;
import org.commonweal.ledger.Transaction;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code memo} transaction type (id {@value #ID}): a note of 1 to 140 bytes of valid UTF-8, kept on the
 * chain and changing nothing but the sender's fee and nonce. Registered as a service, it is executed by every
 * node that has this bundle; deterministic like every payload type (no clock, no randomness, no I/O).
 */
@Component(service = PayloadType.class)
public final class MemoPayload implements PayloadType {

    public static final int ID = 100;
    public static final int MAX_BYTES = 140;

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String name() {
        return "memo";
    }

    @Override
    public void execute(Transaction tx, StateChanges changes) throws Rejection {
        byte[] memo = tx.payload();
        if (memo.length < 1 || memo.length > MAX_BYTES) {
            throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "a memo has 1.." + MAX_BYTES + " bytes, not " + memo.length);
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(memo));
        } catch (CharacterCodingException e) {
            throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "a memo is UTF-8 text: " + e.getMessage());
        }
    }
}
