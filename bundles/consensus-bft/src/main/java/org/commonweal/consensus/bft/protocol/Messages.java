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
    public sealed interface Message permits Proposal, Vote, Timeout, BlockRequest, BlockResponse, BatchMessage {
    }

    /**
     * The quorum store's messages (batch dissemination, apart from ordering): a validator spreads batches of
     * transactions, others acknowledge holding them, f + 1 acknowledgements are a proof of availability, and
     * leaders order proofs, not transactions. Also state sync's messages ({@link SyncRequest}, {@link SyncResponse}).
     * Jolteon ignores them; the engine handles them.
     */
    public sealed interface BatchMessage extends Message permits Batch, BatchAck, BatchProof, BatchRequest, SyncRequest,
            SyncResponse {
    }

    /**
     * "Send me the committed ledger blocks from height {@code fromHeight} on": a validator further behind than the
     * consensus blocks its peers keep catches up through their chains.
     */
    public record SyncRequest(long fromHeight) implements BatchMessage {
    }

    /**
     * Committed ledger blocks (encoded) from height {@code fromHeight} on, each with the certificate its sender
     * committed it with (encoded; it holds the sender's signature of the block).
     */
    public record SyncResponse(long fromHeight, List<byte[]> blocks, List<byte[]> certificates) implements BatchMessage {

        public SyncResponse {
            if (blocks.size() != certificates.size()) {
                throw new IllegalArgumentException(blocks.size() + " blocks but " + certificates.size() + " certificates");
            }
            blocks = blocks.stream().map(byte[]::clone).toList();
            certificates = certificates.stream().map(byte[]::clone).toList();
        }

        @Override
        public List<byte[]> blocks() {
            return blocks.stream().map(byte[]::clone).toList();
        }

        @Override
        public List<byte[]> certificates() {
            return certificates.stream().map(byte[]::clone).toList();
        }
    }

    /** A batch of encoded transactions from {@code author}, its {@code sequence}-th. */
    public record Batch(int author, long sequence, List<byte[]> transactions) implements BatchMessage {

        public Batch {
            transactions = transactions.stream().map(byte[]::clone).toList();
        }

        @Override
        public List<byte[]> transactions() {
            return transactions.stream().map(byte[]::clone).toList();
        }

        /** SHA-256 over author, sequence and each transaction's SHA-256. */
        public Id id() {
            ByteBuffer buffer = ByteBuffer.allocate(4 + 8 + 32 * transactions.size()).putInt(author).putLong(sequence);
            transactions.forEach(tx -> buffer.put(Sha256.hash(tx)));
            return new Id(Sha256.hash(buffer.array()));
        }
    }

    /** "I hold batch {@code batchId}, and its transactions' signatures check": sent to the batch's author. */
    public record BatchAck(Id batchId, Signed signed) implements BatchMessage {
    }

    /** A proof of availability: acknowledgements of batch {@code batchId} by f + 1 validators. Broadcast by its author. */
    public record BatchProof(Id batchId, int author, int transactionCount, List<Signed> acks) implements BatchMessage {

        public BatchProof {
            acks = List.copyOf(acks);
        }

        /** Whether f + 1 distinct validators signed the acknowledgement (so at least one honest one holds it). */
        public boolean valid(int chainId, ValidatorSet validators, Signatures signatures) {
            java.util.BitSet seen = new java.util.BitSet();
            for (Signed s : acks) {
                if (s.validator() < 0 || s.validator() >= validators.size() || seen.get(s.validator())
                        || !signatures.verify(s.validator(), batchAckBytes(chainId, batchId), s.signature())) {
                    return false;
                }
                seen.set(s.validator());
            }
            return seen.cardinality() >= validators.faults() + 1 && author >= 0 && author < validators.size();
        }
    }

    /** "Send me batch {@code batchId}" (ordered, but not received here). */
    public record BatchRequest(Id batchId) implements BatchMessage {
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

    public static byte[] batchAckBytes(int chainId, Id batchId) {
        return tagged("commonweal/bft/batch/v1", chainId, 32).put(batchId.bytes()).array();
    }

    static byte[] timeoutBytes(int chainId, long round, long highQcRound) {
        return tagged("commonweal/bft/timeout/v1", chainId, 16).putLong(round).putLong(highQcRound).array();
    }

    private static ByteBuffer tagged(String domain, int chainId, int rest) {
        byte[] tag = domain.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(tag.length + 4 + rest).put(tag).putInt(chainId);
    }
}
