package org.commonweal.consensus.bft.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.commonweal.consensus.bft.protocol.Messages.Block;
import org.commonweal.consensus.bft.protocol.Messages.BlockRequest;
import org.commonweal.consensus.bft.protocol.Messages.BlockResponse;
import org.commonweal.consensus.bft.protocol.Messages.Message;
import org.commonweal.consensus.bft.protocol.Messages.Proposal;
import org.commonweal.consensus.bft.protocol.Messages.Timeout;
import org.commonweal.consensus.bft.protocol.Messages.Vote;
import org.junit.jupiter.api.Test;

class CodecTest {

    private static Id id(int i) {
        byte[] b = new byte[32];
        b[0] = (byte) i;
        return new Id(b);
    }

    private static Signed signed(int v) {
        byte[] s = new byte[64];
        Arrays.fill(s, (byte) v);
        return new Signed(v, 100 + v, s);
    }

    @Test
    void everyMessageRoundTripsAndNothingElseDecodes() {
        QuorumCert qc = new QuorumCert(5, id(1), List.of(signed(0), signed(2), signed(3)));
        TimeoutCert tc = new TimeoutCert(6, List.of(signed(1), signed(2), signed(3)));
        Proposal proposal = new Proposal(new Block(7, 3, qc, tc, new byte[] { 9, 8, 7 }), new byte[64]);
        List<Message> messages = List.of(proposal, new Vote(7, id(2), signed(1)), new Timeout(7, qc, tc, signed(2)),
                new Timeout(7, qc, null, signed(2)), new BlockRequest(id(3)), new BlockResponse(proposal),
                new Messages.SyncRequest(42), new Messages.SyncResponse(42, List.of(new byte[] { 1, 2 }, new byte[0]),
                        List.of(new byte[] { 3 }, new byte[] { 4, 5, 6 })));
        SplittableRandom random = new SplittableRandom(1);
        for (Message message : messages) {
            byte[] bytes = Codec.encode(message);
            assertArrayEquals(bytes, Codec.encode(Codec.decode(bytes)), message.toString());
            assertThrows(IllegalArgumentException.class, () -> Codec.decode(Arrays.copyOf(bytes, bytes.length - 1)));
            assertThrows(IllegalArgumentException.class, () -> Codec.decode(Arrays.copyOf(bytes, bytes.length + 1)));
            for (int i = 0; i < 200; i++) { // random corruption: decodes to something or fails cleanly, never anything else
                byte[] corrupt = bytes.clone();
                corrupt[random.nextInt(corrupt.length)] ^= (byte) (1 + random.nextInt(255));
                try {
                    Codec.decode(corrupt);
                } catch (IllegalArgumentException expected) {
                    // clean refusal
                }
            }
        }
        byte[] certified = Codec.encodeCertified(proposal.block(), qc);
        assertArrayEquals(certified, Codec.encodeCertified(Codec.decodeCertified(certified).block(),
                Codec.decodeCertified(certified).qc()));
    }
}
