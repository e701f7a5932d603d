package org.commonweal.benefit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;

/**
 * The receipt of one request a node served in deterministic mode for a registered person: enough for an
 * auditor to re-run it (model, adapter, seed, a commitment to prompt and parameters) and to check it (the
 * output's hash), and nothing personal. Signed by the node, countersigned by the person's client.
 * <p>
 * Encoding, version 1, exactly {@value #BYTES} bytes, big-endian:
 * <pre>
 * u8 version  u32 chainId  32 node  32 person  32 modelDigest  32 adapterDigest (zeros: none)
 * 32 requestCommitment  u64 seed  32 outputHash  u32 promptTokens  u32 completionTokens  u64 timeMillis
 * u8 category  |  64 node signature  64 person countersignature
 * </pre>
 * The node signs {@code "commonweal/receipt/v1" || body} (the first {@value #BODY_BYTES} bytes); the person
 * countersigns {@code "commonweal/receipt/countersign/v1" || body || node signature}. The receipt's id is the
 * SHA-256 of its body: signatures cannot make a second receipt of one request.
 */
public record Receipt(int chainId, PublicKey node, PublicKey person, byte[] modelDigest, byte[] adapterDigest,
        byte[] requestCommitment, long seed, byte[] outputHash, int promptTokens, int completionTokens, long timeMillis,
        int category, byte[] nodeSignature, byte[] personSignature) {

    public static final int VERSION = 1;
    public static final int BODY_BYTES = 1 + 4 + 32 + 32 + 32 + 32 + 32 + 8 + 32 + 4 + 4 + 8 + 1;
    public static final int BYTES = BODY_BYTES + 64 + 64;
    /** The most tokens one receipt may count (prompt plus completion). */
    public static final int MAX_TOKENS = 1 << 20;
    private static final byte[] NODE_DOMAIN = "commonweal/receipt/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PERSON_DOMAIN = "commonweal/receipt/countersign/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_SIGNATURE = new byte[64];

    public Receipt {
        modelDigest = hash(modelDigest, "model digest");
        adapterDigest = hash(adapterDigest, "adapter digest");
        requestCommitment = hash(requestCommitment, "request commitment");
        outputHash = hash(outputHash, "output hash");
        nodeSignature = signature(nodeSignature);
        personSignature = signature(personSignature);
        if (promptTokens < 0 || completionTokens < 0 || (long) promptTokens + completionTokens > MAX_TOKENS
                || timeMillis < 0 || category < 0 || category > 255) {
            throw new IllegalArgumentException("a receipt counts 0.." + MAX_TOKENS + " tokens in all, a time of at least 0"
                    + " and a category 0..255; not " + promptTokens + "+" + completionTokens + ", " + timeMillis + ", " + category);
        }
    }

    /** An unsigned receipt (both signatures zero): sign it with {@link #signedBy} and {@link #countersignedBy}. */
    public static Receipt unsigned(int chainId, PublicKey node, PublicKey person, byte[] modelDigest, byte[] adapterDigest,
            byte[] requestCommitment, long seed, byte[] outputHash, int promptTokens, int completionTokens, long timeMillis,
            int category) {
        return new Receipt(chainId, node, person, modelDigest, adapterDigest, requestCommitment, seed, outputHash, promptTokens,
                completionTokens, timeMillis, category, NO_SIGNATURE, NO_SIGNATURE);
    }

    /** The commitment to a request: SHA-256 of the domain, the prompt and the canonical parameters, length-prefixed. */
    public static byte[] requestCommitment(byte[] prompt, byte[] canonicalParameters) {
        return Sha256.hash("commonweal/request/v1".getBytes(StandardCharsets.US_ASCII),
                ByteBuffer.allocate(8).putInt(prompt.length).putInt(canonicalParameters.length).array(), prompt,
                canonicalParameters);
    }

    /** This receipt signed by the node ({@code key} must be {@link #node()}'s). */
    public Receipt signedBy(PrivateKey key) {
        if (!key.publicKey().equals(node)) {
            throw new IllegalArgumentException("the receipt's node is " + node + ", not " + key.publicKey());
        }
        return new Receipt(chainId, node, person, modelDigest, adapterDigest, requestCommitment, seed, outputHash,
                promptTokens, completionTokens, timeMillis, category, key.sign(nodeSigningBytes()), personSignature);
    }

    /** This receipt with the node's signature made elsewhere (a node signs with its identity service). */
    public Receipt withNodeSignature(byte[] signature) {
        return new Receipt(chainId, node, person, modelDigest, adapterDigest, requestCommitment, seed, outputHash,
                promptTokens, completionTokens, timeMillis, category, signature, personSignature);
    }

    /** This receipt with the person's countersignature (given by the person's client). */
    public Receipt withPersonSignature(byte[] signature) {
        return new Receipt(chainId, node, person, modelDigest, adapterDigest, requestCommitment, seed, outputHash,
                promptTokens, completionTokens, timeMillis, category, nodeSignature, signature);
    }

    /** This receipt countersigned by the person ({@code key} must be {@link #person()}'s). */
    public Receipt countersignedBy(PrivateKey key) {
        if (!key.publicKey().equals(person)) {
            throw new IllegalArgumentException("the receipt's person is " + person + ", not " + key.publicKey());
        }
        return withPersonSignature(key.sign(personSigningBytes()));
    }

    /** What the node signs. */
    public byte[] nodeSigningBytes() {
        return ByteBuffer.allocate(NODE_DOMAIN.length + BODY_BYTES).put(NODE_DOMAIN).put(body()).array();
    }

    /** What the person's client countersigns: the body and the node's signature. */
    public byte[] personSigningBytes() {
        return ByteBuffer.allocate(PERSON_DOMAIN.length + BODY_BYTES + 64).put(PERSON_DOMAIN).put(body()).put(nodeSignature)
                .array();
    }

    /** Whether both signatures are good. */
    public boolean signaturesValid() {
        return Ed25519.verify(node, nodeSigningBytes(), nodeSignature)
                && Ed25519.verify(person, personSigningBytes(), personSignature);
    }

    /** The receipt id: SHA-256 of the body. */
    public byte[] id() {
        return Sha256.hash(body());
    }

    /** Prompt plus completion tokens. */
    public long tokens() {
        return (long) promptTokens + completionTokens;
    }

    /** The day the request was served: {@code timeMillis / 86,400,000}. */
    public long day() {
        return timeMillis / 86_400_000L;
    }

    public byte[] body() {
        return ByteBuffer.allocate(BODY_BYTES).put((byte) VERSION).putInt(chainId).put(node.bytes()).put(person.bytes())
                .put(modelDigest).put(adapterDigest).put(requestCommitment).putLong(seed).put(outputHash).putInt(promptTokens)
                .putInt(completionTokens).putLong(timeMillis).put((byte) category).array();
    }

    public byte[] encode() {
        return ByteBuffer.allocate(BYTES).put(body()).put(nodeSignature).put(personSignature).array();
    }

    /** Reads exactly {@value #BYTES} bytes from {@code in}; anything but a canonical receipt is an {@link IllegalArgumentException}. */
    public static Receipt decode(ByteBuffer in) {
        if (in.remaining() < BYTES) {
            throw new IllegalArgumentException("a receipt has " + BYTES + " bytes, " + in.remaining() + " remain");
        }
        int version = in.get() & 0xFF;
        if (version != VERSION) {
            throw new IllegalArgumentException("unknown receipt version " + version + " (this node reads " + VERSION + ")");
        }
        int chainId = in.getInt();
        PublicKey node = PublicKey.of(bytes(in, 32));
        PublicKey person = PublicKey.of(bytes(in, 32));
        byte[] model = bytes(in, 32);
        byte[] adapter = bytes(in, 32);
        byte[] request = bytes(in, 32);
        long seed = in.getLong();
        byte[] output = bytes(in, 32);
        int prompt = in.getInt();
        int completion = in.getInt();
        long time = in.getLong();
        int category = in.get() & 0xFF;
        return new Receipt(chainId, node, person, model, adapter, request, seed, output, prompt, completion, time, category,
                bytes(in, 64), bytes(in, 64));
    }

    public static Receipt decode(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("a receipt has " + BYTES + " bytes, not " + bytes.length);
        }
        return decode(ByteBuffer.wrap(bytes));
    }

    private static byte[] bytes(ByteBuffer in, int n) {
        byte[] bytes = new byte[n];
        in.get(bytes);
        return bytes;
    }

    private static byte[] hash(byte[] hash, String what) {
        if (hash == null || hash.length != 32) {
            throw new IllegalArgumentException("the " + what + " is a 32-byte SHA-256");
        }
        return hash.clone();
    }

    private static byte[] signature(byte[] signature) {
        if (signature == null || signature.length != 64) {
            throw new IllegalArgumentException("an Ed25519 signature has 64 bytes");
        }
        return signature.clone();
    }

    @Override
    public byte[] modelDigest() {
        return modelDigest.clone();
    }

    @Override
    public byte[] adapterDigest() {
        return adapterDigest.clone();
    }

    @Override
    public byte[] requestCommitment() {
        return requestCommitment.clone();
    }

    @Override
    public byte[] outputHash() {
        return outputHash.clone();
    }

    @Override
    public byte[] nodeSignature() {
        return nodeSignature.clone();
    }

    @Override
    public byte[] personSignature() {
        return personSignature.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Receipt r && Arrays.equals(encode(), r.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
