package org.commonweal.consensus.bft.protocol;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.commonweal.consensus.bft.protocol.Messages.Block;
import org.commonweal.consensus.bft.protocol.Messages.BlockRequest;
import org.commonweal.consensus.bft.protocol.Messages.BlockResponse;
import org.commonweal.consensus.bft.protocol.Messages.Message;
import org.commonweal.consensus.bft.protocol.Messages.Proposal;
import org.commonweal.consensus.bft.protocol.Messages.Timeout;
import org.commonweal.consensus.bft.protocol.Messages.Vote;

/**
 * The one byte encoding of every consensus message and certificate (big-endian, length-prefixed, with
 * hard limits): what validators send each other and what certificates store. Decoding accepts exactly
 * what encoding produces and throws {@link IllegalArgumentException} on anything else.
 */
public final class Codec {

    public static final int MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
    public static final int MAX_SIGNED = 1024;

    private static final byte PROPOSAL = 1;
    private static final byte VOTE = 2;
    private static final byte TIMEOUT = 3;
    private static final byte BLOCK_REQUEST = 4;
    private static final byte BLOCK_RESPONSE = 5;
    private static final byte BATCH = 6;
    private static final byte BATCH_ACK = 7;
    private static final byte BATCH_PROOF = 8;
    private static final byte BATCH_REQUEST = 9;
    private static final byte SYNC_REQUEST = 10;
    private static final byte SYNC_RESPONSE = 11;
    /** Committed blocks per {@link Messages.SyncResponse} at most, and (about) the bytes a validator sends in one. */
    public static final int MAX_SYNC_BLOCKS = 256;
    public static final int SYNC_RESPONSE_BYTES = 16 << 20;
    public static final int MAX_BATCH_TRANSACTIONS = 100_000;
    public static final int MAX_TRANSACTION_BYTES = 64 * 1024;

    private Codec() {
    }

    public static byte[] encode(Message message) {
        Out out = new Out();
        switch (message) {
            case Proposal p -> out.u8(PROPOSAL).proposal(p);
            case Vote v -> out.u8(VOTE).i64(v.round()).id(v.blockId()).signed(v.vote());
            case Timeout t -> out.u8(TIMEOUT).i64(t.round()).qc(t.highQc()).tc(t.lastTc()).signed(t.signed());
            case BlockRequest r -> out.u8(BLOCK_REQUEST).id(r.blockId());
            case BlockResponse r -> out.u8(BLOCK_RESPONSE).proposal(r.proposal());
            case Messages.Batch b -> {
                out.u8(BATCH).i32(b.author()).i64(b.sequence()).i32(b.transactions().size());
                b.transactions().forEach(out::bytes);
            }
            case Messages.BatchAck a -> out.u8(BATCH_ACK).id(a.batchId()).signed(a.signed());
            case Messages.BatchProof p -> out.u8(BATCH_PROOF).proof(p);
            case Messages.BatchRequest r -> out.u8(BATCH_REQUEST).id(r.batchId());
            case Messages.SyncRequest r -> out.u8(SYNC_REQUEST).i64(r.fromHeight());
            case Messages.SyncResponse r -> {
                out.u8(SYNC_RESPONSE).i64(r.fromHeight()).i32(r.blocks().size());
                r.blocks().forEach(out::bytes);
                r.certificates().forEach(out::bytes);
            }
        }
        return out.bytes();
    }

    public static Message decode(byte[] bytes) {
        In in = new In(bytes);
        try {
            Message message = switch (in.buffer.get()) {
                case PROPOSAL -> in.proposal();
                case VOTE -> new Vote(in.i64(), in.id(), in.signed());
                case TIMEOUT -> new Timeout(in.i64(), in.qc(), in.tc(), in.signed());
                case BLOCK_REQUEST -> new BlockRequest(in.id());
                case BLOCK_RESPONSE -> new BlockResponse(in.proposal());
                case BATCH -> in.batch();
                case BATCH_ACK -> new Messages.BatchAck(in.id(), in.signed());
                case BATCH_PROOF -> in.proof();
                case BATCH_REQUEST -> new Messages.BatchRequest(in.id());
                case SYNC_REQUEST -> new Messages.SyncRequest(in.i64());
                case SYNC_RESPONSE -> in.syncResponse();
                default -> throw new IllegalArgumentException("unknown consensus message type " + bytes[0]);
            };
            in.end();
            return message;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a consensus message ends early");
        }
    }

    /** A block's payload under the quorum store: the leader's time and the proofs of the batches it orders. */
    public record OrderedBatches(long timeMillis, List<Messages.BatchProof> proofs) {
    }

    public static byte[] encodeOrdered(OrderedBatches ordered) {
        Out out = new Out().i64(ordered.timeMillis()).i32(ordered.proofs().size());
        ordered.proofs().forEach(out::proof);
        return out.bytes();
    }

    public static OrderedBatches decodeOrdered(byte[] bytes) {
        In in = new In(bytes);
        try {
            long time = in.i64();
            int n = in.i32();
            if (n < 0 || n > MAX_SIGNED) {
                throw new IllegalArgumentException("a block claims " + n + " batches (at most " + MAX_SIGNED + ")");
            }
            List<Messages.BatchProof> proofs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                proofs.add(in.proof());
            }
            in.end();
            return new OrderedBatches(time, proofs);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a block's batch list ends early");
        }
    }

    /** A block with its certificate: what the BFT engine stores as a commit certificate's proof. */
    public static byte[] encodeCertified(Block block, QuorumCert qc) {
        return new Out().block(block).qc(qc).bytes();
    }

    public record Certified(Block block, QuorumCert qc) {
    }

    public static Certified decodeCertified(byte[] bytes) {
        In in = new In(bytes);
        try {
            Certified certified = new Certified(in.block(), in.qc());
            in.end();
            return certified;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a certified block ends early");
        }
    }

    public static byte[] encodeSafety(SafetyState state) {
        return new Out().i64(state.highestVotedRound()).qc(state.highQc()).bytes();
    }

    public static SafetyState decodeSafety(byte[] bytes) {
        In in = new In(bytes);
        try {
            SafetyState state = new SafetyState(in.i64(), in.qc());
            in.end();
            return state;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a safety state ends early");
        }
    }

    private static final class Out {
        private ByteBuffer buffer = ByteBuffer.allocate(256);

        private Out ensure(int n) {
            if (buffer.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + n));
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
            return this;
        }

        Out u8(byte b) {
            ensure(1).buffer.put(b);
            return this;
        }

        Out i32(int v) {
            ensure(4).buffer.putInt(v);
            return this;
        }

        Out i64(long v) {
            ensure(8).buffer.putLong(v);
            return this;
        }

        Out raw(byte[] b) {
            ensure(b.length).buffer.put(b);
            return this;
        }

        Out bytes(byte[] b) {
            return i32(b.length).raw(b);
        }

        Out id(Id id) {
            return raw(id.bytes());
        }

        Out signed(Signed s) {
            return i32(s.validator()).i64(s.value()).bytes(s.signature());
        }

        Out signedList(List<Signed> list) {
            i32(list.size());
            list.forEach(this::signed);
            return this;
        }

        Out qc(QuorumCert qc) {
            return i64(qc.round()).id(qc.blockId()).signedList(qc.votes());
        }

        Out tc(TimeoutCert tc) {
            if (tc == null) {
                return u8((byte) 0);
            }
            return u8((byte) 1).i64(tc.round()).signedList(tc.signed());
        }

        Out block(Block b) {
            return i64(b.round()).i32(b.author()).qc(b.parent()).tc(b.timeout()).bytes(b.payload());
        }

        Out proposal(Proposal p) {
            return block(p.block()).bytes(p.signature());
        }

        Out proof(Messages.BatchProof p) {
            return id(p.batchId()).i32(p.author()).i32(p.transactionCount()).signedList(p.acks());
        }

        byte[] bytes() {
            byte[] out = new byte[buffer.position()];
            buffer.flip().get(out);
            return out;
        }
    }

    private static final class In {
        final ByteBuffer buffer;

        In(byte[] bytes) {
            buffer = ByteBuffer.wrap(bytes);
        }

        long i64() {
            return buffer.getLong();
        }

        int i32() {
            return buffer.getInt();
        }

        byte[] bytes(int max) {
            int n = buffer.getInt();
            if (n < 0 || n > max || n > buffer.remaining()) {
                throw new IllegalArgumentException("a field claims " + n + " bytes (at most " + max + ", " + buffer.remaining()
                        + " remain)");
            }
            byte[] b = new byte[n];
            buffer.get(b);
            return b;
        }

        Id id() {
            byte[] b = new byte[32];
            buffer.get(b);
            return new Id(b);
        }

        Signed signed() {
            return new Signed(i32(), i64(), bytes(64));
        }

        List<Signed> signedList() {
            int n = i32();
            if (n < 0 || n > MAX_SIGNED) {
                throw new IllegalArgumentException("a certificate claims " + n + " signatures (at most " + MAX_SIGNED + ")");
            }
            List<Signed> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(signed());
            }
            return list;
        }

        QuorumCert qc() {
            return new QuorumCert(i64(), id(), signedList());
        }

        TimeoutCert tc() {
            byte present = buffer.get();
            if (present == 0) {
                return null;
            }
            if (present != 1) {
                throw new IllegalArgumentException("a timeout certificate marker is 0 or 1, not " + present);
            }
            return new TimeoutCert(i64(), signedList());
        }

        Block block() {
            return new Block(i64(), i32(), qc(), tc(), bytes(MAX_PAYLOAD_BYTES));
        }

        Proposal proposal() {
            return new Proposal(block(), bytes(64));
        }

        Messages.BatchProof proof() {
            return new Messages.BatchProof(id(), i32(), i32(), signedList());
        }

        Messages.Batch batch() {
            int author = i32();
            long sequence = i64();
            int n = i32();
            if (n < 0 || n > MAX_BATCH_TRANSACTIONS) {
                throw new IllegalArgumentException("a batch claims " + n + " transactions (at most " + MAX_BATCH_TRANSACTIONS + ")");
            }
            List<byte[]> txs = new ArrayList<>(Math.min(n, 1024));
            for (int i = 0; i < n; i++) {
                txs.add(bytes(MAX_TRANSACTION_BYTES));
            }
            return new Messages.Batch(author, sequence, txs);
        }

        Messages.SyncResponse syncResponse() {
            long from = i64();
            int n = i32();
            if (n < 0 || n > MAX_SYNC_BLOCKS) {
                throw new IllegalArgumentException("a sync response claims " + n + " blocks (at most " + MAX_SYNC_BLOCKS + ")");
            }
            List<byte[]> blocks = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                blocks.add(bytes(MAX_PAYLOAD_BYTES));
            }
            List<byte[]> certificates = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                certificates.add(bytes(MAX_PAYLOAD_BYTES));
            }
            return new Messages.SyncResponse(from, blocks, certificates);
        }

        void end() {
            if (buffer.hasRemaining()) {
                throw new IllegalArgumentException(buffer.remaining() + " bytes after the end of a consensus message");
            }
        }
    }
}
