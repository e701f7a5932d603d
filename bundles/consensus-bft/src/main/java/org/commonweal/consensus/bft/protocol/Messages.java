package org.commonweal.consensus.bft.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.commonweal.crypto.Sha256;

/**
 * What validators say to each other, and the exact bytes each signature covers (every one starts with
 * a domain tag and the chain id, so no signature can be replayed as another kind or on another chain).
 */
public final class Messages {

    private Messages() {
    }

    /** Any message; {@code from} is the sending validator (authenticated by the channel, not trusted here). */
    public sealed interface Message permits Proposal, Vote, Timeout, BlockRequest, BlockResponse {
    }

    /**
     * A block of the consensus: its round, its author (the round's leader), the certificate of its parent,
     * the timeout certificate of the previous round if the leader entered this round by one, and the payload
     * it orders (opaque here: the engine's ledger block).
     */
    public record Block(long round, int author, QuorumCert parent, TimeoutCert timeout, byte[] payload) {

        public Block {
            payload = payload.clone();
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }

        /** The block id: SHA-256 over round, author, parent round and id, timeout round (or -1), payload hash. */
        public Id id() {
            return new Id(Sha256.hash(ByteBuffer.allocate(8 + 4 + 8 + 32 + 8 + 32).putLong(round).putInt(author)
                    .putLong(parent.round()).put(parent.blockId().bytes()).putLong(timeout == null ? -1 : timeout.round())
                    .put(Sha256.hash(payload)).array()));
        }
    }

    /** A leader's block, signed by it over the block id. */
    public record Proposal(Block block, byte[] signature) implements Message {
    }

    /** A vote for a block, sent to the next round's leader. */
    public record Vote(long round, Id blockId, Signed vote) implements Message {
    }

    /**
     * "Round {@code round} timed out here; my highest certificate is {@code highQc}", with the timeout
     * certificate that brought the sender into this round, if one did ({@code lastTc}, may be null), so a
     * validator that missed it catches up. Broadcast.
     */
    public record Timeout(long round, QuorumCert highQc, TimeoutCert lastTc, Signed signed) implements Message {
    }

    /** "Send me the block with this id" (a proposal's parent I missed, an ancestor of a certificate). */
    public record BlockRequest(Id blockId) implements Message {
    }

    /** A block someone asked for, as its leader proposed it. */
    public record BlockResponse(Proposal proposal) implements Message {
    }

    static byte[] proposalBytes(int chainId, Id blockId) {
        return tagged("commonweal/bft/proposal/v1", chainId, 32).put(blockId.bytes()).array();
    }

    static byte[] voteBytes(int chainId, long round, Id blockId) {
        return tagged("commonweal/bft/vote/v1", chainId, 8 + 32).putLong(round).put(blockId.bytes()).array();
    }

    static byte[] timeoutBytes(int chainId, long round, long highQcRound) {
        return tagged("commonweal/bft/timeout/v1", chainId, 16).putLong(round).putLong(highQcRound).array();
    }

    private static ByteBuffer tagged(String domain, int chainId, int rest) {
        byte[] tag = domain.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(tag.length + 4 + rest).put(tag).putInt(chainId);
    }

    /** Validators whose signatures appear in {@code signed} (for tests and logs). */
    static List<Integer> signers(List<Signed> signed) {
        return signed.stream().map(Signed::validator).toList();
    }
}
