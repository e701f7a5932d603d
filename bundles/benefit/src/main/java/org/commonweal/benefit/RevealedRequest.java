package org.commonweal.benefit;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.commonweal.crypto.Sha256;

/**
 * What a serving node reveals to its auditor about a sampled request: everything needed to run it again (prompt
 * tokens, sampling parameters, limits; the seed and model are in the receipt) and the output it served. It is bound
 * to the receipt: {@link #commitment()} must equal the receipt's request commitment and {@link #outputHash()} its
 * output hash.
 * <p>
 * The prompt bytes of the commitment are the token ids as big-endian u32; the canonical parameters are, big-endian:
 * <pre>
 * f32 temperature  i32 topK  f32 topP  f32 minP  f32 repeatPenalty  i32 repeatLastN  f32 frequencyPenalty
 * f32 presencePenalty  i32 maxTokens  u16 stop count, each u16 length + UTF-8  u16 adapter length + UTF-8 ("" = none)
 * </pre>
 * The output hash is {@code SHA-256("commonweal/output/v1" || output token ids as big-endian u32)}. The encoding
 * (the plaintext of a reveal) is {@code u32 n, n prompt ids, u32 length, canonical parameters, u32 m, m output ids}.
 */
public record RevealedRequest(int[] prompt, float temperature, int topK, float topP, float minP, float repeatPenalty,
        int repeatLastN, float frequencyPenalty, float presencePenalty, int maxTokens, List<String> stop, String adapter,
        int[] output) {

    private static final byte[] OUTPUT_DOMAIN = "commonweal/output/v1".getBytes(StandardCharsets.US_ASCII);

    public RevealedRequest {
        prompt = prompt.clone();
        output = output.clone();
        stop = List.copyOf(stop);
        adapter = adapter == null ? "" : adapter;
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens is at least 0, not " + maxTokens);
        }
    }

    /** The SHA-256 a receipt carries of the output token ids. */
    public static byte[] outputHash(int[] output) {
        return Sha256.hash(OUTPUT_DOMAIN, tokens(output));
    }

    public byte[] outputHash() {
        return outputHash(output);
    }

    /** The receipt's request commitment of this request. */
    public byte[] commitment() {
        return Receipt.requestCommitment(tokens(prompt), canonicalParameters());
    }

    public byte[] canonicalParameters() {
        List<byte[]> stops = stop.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        byte[] adapterBytes = adapter.getBytes(StandardCharsets.UTF_8);
        int size = 9 * 4 + 2 + stops.stream().mapToInt(s -> 2 + s.length).sum() + 2 + adapterBytes.length;
        ByteBuffer out = ByteBuffer.allocate(size).putFloat(temperature).putInt(topK).putFloat(topP).putFloat(minP)
                .putFloat(repeatPenalty).putInt(repeatLastN).putFloat(frequencyPenalty).putFloat(presencePenalty)
                .putInt(maxTokens).putShort((short) stops.size());
        stops.forEach(s -> out.putShort((short) s.length).put(s));
        return out.putShort((short) adapterBytes.length).put(adapterBytes).array();
    }

    public byte[] encode() {
        byte[] parameters = canonicalParameters();
        return ByteBuffer.allocate(4 + 4 * prompt.length + 4 + parameters.length + 4 + 4 * output.length)
                .putInt(prompt.length).put(tokens(prompt)).putInt(parameters.length).put(parameters).putInt(output.length)
                .put(tokens(output)).array();
    }

    /** The request in these bytes; anything but a canonical encoding is an {@link IllegalArgumentException} naming why. */
    public static RevealedRequest decode(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            int[] prompt = readTokens(in);
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw new IllegalArgumentException("the parameters' length " + length + " is past the end");
            }
            ByteBuffer p = in.slice(in.position(), length);
            in.position(in.position() + length);
            float temperature = p.getFloat();
            int topK = p.getInt();
            float topP = p.getFloat();
            float minP = p.getFloat();
            float repeatPenalty = p.getFloat();
            int repeatLastN = p.getInt();
            float frequencyPenalty = p.getFloat();
            float presencePenalty = p.getFloat();
            int maxTokens = p.getInt();
            int stops = p.getShort() & 0xFFFF;
            List<String> stop = new ArrayList<>(stops);
            for (int i = 0; i < stops; i++) {
                stop.add(readString(p));
            }
            String adapter = readString(p);
            int[] output = readTokens(in);
            RevealedRequest request = new RevealedRequest(prompt, temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    frequencyPenalty, presencePenalty, maxTokens, stop, adapter, output);
            if (p.hasRemaining() || in.hasRemaining() || !Arrays.equals(request.encode(), bytes)) {
                throw new IllegalArgumentException("trailing or non-canonical bytes");
            }
            return request;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a revealed request ends early (" + bytes.length + " bytes)");
        }
    }

    private static int[] readTokens(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / 4) {
            throw new IllegalArgumentException("a token count of " + n + " is past the end");
        }
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = in.getInt();
        }
        return tokens;
    }

    private static String readString(ByteBuffer in) {
        byte[] bytes = new byte[in.getShort() & 0xFFFF];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] tokens(int[] ids) {
        ByteBuffer out = ByteBuffer.allocate(4 * ids.length);
        for (int id : ids) {
            out.putInt(id);
        }
        return out.array();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    @Override
    public int[] output() {
        return output.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RevealedRequest r && Arrays.equals(encode(), r.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
