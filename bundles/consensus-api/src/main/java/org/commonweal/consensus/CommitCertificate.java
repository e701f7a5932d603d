package org.commonweal.consensus;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Rejection;

/**
 * The proof that a block was agreed: signatures by the engine's signers (the solo sequencer; a BFT
 * quorum) over {@link #signingBytes(int, long, byte[])}, and whatever else the engine needs to show
 * that the block is final ({@code proof}: e.g. the quorum certificates of a 2-chain commit; empty for
 * solo). Which signers count, and what the proof means, is the engine's rule; the certificate itself
 * checks only that each signature is valid. Stored beside its block in the block log.
 *
 * <pre>
 * u8 version  u8 engineNameLength  engineName (UTF-8)  u64 height  32 blockHash
 * u16 count  count x (32 signer, 64 signature)  u32 proofLength  proof      (big-endian)
 * </pre>
 */
public record CommitCertificate(String engine, long height, byte[] blockHash, List<Vote> votes, byte[] proof) {

    public static final int VERSION = 1;
    public static final String SIGNING_DOMAIN = "commonweal/commit/v1";
    public static final int MAX_VOTES = 1024;
    public static final int MAX_PROOF_BYTES = 1 << 20;

    /** One signer's signature over the block. */
    public record Vote(PublicKey signer, byte[] signature) {
        public Vote {
            if (signature.length != Ed25519.SIGNATURE_LENGTH) {
                throw new IllegalArgumentException("a vote's signature has " + Ed25519.SIGNATURE_LENGTH + " bytes, not "
                        + signature.length);
            }
            signature = signature.clone();
        }

        @Override
        public byte[] signature() {
            return signature.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Vote v && signer.equals(v.signer) && Arrays.equals(signature, v.signature);
        }

        @Override
        public int hashCode() {
            return signer.hashCode() * 31 + Arrays.hashCode(signature);
        }
    }

    public CommitCertificate {
        byte[] name = engine.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > 255) {
            throw new IllegalArgumentException("an engine name has 1..255 bytes, not " + name.length);
        }
        if (blockHash.length != 32) {
            throw new IllegalArgumentException("a block hash has 32 bytes, not " + blockHash.length);
        }
        if (height < 0 || votes.size() > MAX_VOTES) {
            throw new IllegalArgumentException("height " + height + " or " + votes.size() + " votes out of range");
        }
        if (proof.length > MAX_PROOF_BYTES) {
            throw new IllegalArgumentException("a certificate's proof has at most " + MAX_PROOF_BYTES + " bytes, not "
                    + proof.length);
        }
        blockHash = blockHash.clone();
        votes = List.copyOf(votes);
        proof = proof.clone();
    }

    /** A certificate of signatures alone (no engine proof). */
    public CommitCertificate(String engine, long height, byte[] blockHash, List<Vote> votes) {
        this(engine, height, blockHash, votes, new byte[0]);
    }

    @Override
    public byte[] proof() {
        return proof.clone();
    }

    @Override
    public byte[] blockHash() {
        return blockHash.clone();
    }

    /** What each vote signs: the domain, chain, height and block hash. */
    public static byte[] signingBytes(int chainId, long height, byte[] blockHash) {
        byte[] domain = SIGNING_DOMAIN.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(domain.length + 4 + 8 + 32).put(domain).putInt(chainId).putLong(height).put(blockHash)
                .array();
    }

    /**
     * A certificate with one vote, {@code signer}'s (a solo sequencer's); {@code sign} signs with its key
     * (a {@link org.commonweal.crypto.PrivateKey#sign}, or a node identity that keeps its key to itself).
     */
    public static CommitCertificate signedBy(String engine, int chainId, long height, byte[] blockHash, PublicKey signer,
            UnaryOperator<byte[]> sign) {
        return new CommitCertificate(engine, height, blockHash,
                List.of(new Vote(signer, sign.apply(signingBytes(chainId, height, blockHash)))));
    }

    /** Whether every vote is a valid signature of its signer over this certificate's block on {@code chainId}. */
    public boolean signaturesValid(int chainId) {
        byte[] message = signingBytes(chainId, height, blockHash);
        for (Vote vote : votes) {
            if (!Ed25519.verify(vote.signer(), message, vote.signature)) {
                return false;
            }
        }
        return true;
    }

    public byte[] encode() {
        byte[] name = engine.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(1 + 1 + name.length + 8 + 32 + 2 + votes.size() * 96 + 4 + proof.length);
        out.put((byte) VERSION).put((byte) name.length).put(name).putLong(height).put(blockHash).putShort((short) votes.size());
        for (Vote vote : votes) {
            out.put(vote.signer().bytes()).put(vote.signature);
        }
        return out.putInt(proof.length).put(proof).array();
    }

    /** The one certificate {@code bytes} encode; anything else is {@link Rejection.Reason#MALFORMED}. */
    public static CommitCertificate decode(byte[] bytes) throws Rejection {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            int version = in.get() & 0xFF;
            if (version != VERSION) {
                throw new Rejection(Rejection.Reason.MALFORMED, "unknown commit certificate version " + version);
            }
            byte[] name = new byte[in.get() & 0xFF];
            in.get(name);
            long height = in.getLong();
            byte[] hash = new byte[32];
            in.get(hash);
            int count = in.getShort() & 0xFFFF;
            if (count > MAX_VOTES || in.remaining() < count * 96 + 4) {
                throw new Rejection(Rejection.Reason.MALFORMED, "a commit certificate of " + count + " votes needs "
                        + (count * 96 + 4) + " more bytes, " + in.remaining() + " remain");
            }
            List<Vote> votes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                byte[] signer = new byte[32];
                byte[] signature = new byte[64];
                in.get(signer).get(signature);
                votes.add(new Vote(PublicKey.of(signer), signature));
            }
            long proofLength = in.getInt() & 0xFFFFFFFFL;
            if (proofLength > MAX_PROOF_BYTES || proofLength != in.remaining()) {
                throw new Rejection(Rejection.Reason.MALFORMED, "a commit certificate's proof claims " + proofLength
                        + " bytes, " + in.remaining() + " remain (at most " + MAX_PROOF_BYTES + ")");
            }
            byte[] proof = new byte[(int) proofLength];
            in.get(proof);
            String engine = new String(name, StandardCharsets.UTF_8);
            if (!Arrays.equals(engine.getBytes(StandardCharsets.UTF_8), name)) {
                throw new Rejection(Rejection.Reason.MALFORMED, "the engine name is not canonical UTF-8");
            }
            return new CommitCertificate(engine, height, hash, votes, proof);
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new Rejection(Rejection.Reason.MALFORMED, "not a commit certificate: " + e.getMessage());
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CommitCertificate c && Arrays.equals(encode(), c.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
