package org.commonweal.inference.transformer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.kernels.Dequantize;
import org.commonweal.kernels.KernelPool;
import org.commonweal.kernels.MatrixKernels;
import org.commonweal.kernels.PackedMatrix;
import org.commonweal.kernels.Ops;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * The forward pass of a Llama-family model over a batch of sequences, each with its own KV cache: all the
 * batch's tokens go through every weight matrix together (one matmul per matrix, so each weight is read
 * once per step whatever the batch holds), attention is per token against its own sequence's cache.
 * <p>
 * Deterministic: a token's logits depend only on the model, its sequence's tokens and positions, and the
 * KV cache type, never on the thread count nor on which other sequences share the batch, because every
 * kernel computes each row in a fixed order (see the kernels package), and attention for a (token, head)
 * pair is computed by one thread. Not thread-safe: one forward pass at a time per instance.
 */
public final class Transformer {

    /**
     * One sequence's part of a batch: {@code tokens} go at positions {@code cache.length()} on; logits are
     * returned for every one of them if {@code allLogits}, else for the last only.
     */
    public record Step(KvCache cache, int[] tokens, boolean allLogits, LoraAdapter adapter) {

        public Step {
            if (tokens.length == 0) {
                throw new IllegalArgumentException("a step needs at least one token");
            }
        }

        /** A step of the base model, without adapter. */
        public Step(KvCache cache, int[] tokens, boolean allLogits) {
            this(cache, tokens, allLogits, null);
        }

        int logitRows() {
            return allLogits ? tokens.length : 1;
        }
    }

    /**
     * Elements per part of the SwiGLU split among the pool's threads, and what one such part weighs in the
     * pool's units (bytes streamed): each element (two loads, an exp, a division) costs about as much as
     * streaming 8 bytes, so 8192 elements (one token of a 1B model, some 8 microseconds) stay on the caller,
     * and a prompt's or a batch's are split.
     */
    private static final int SWIGLU_CHUNK = 256;
    private static final long SWIGLU_CHUNK_BYTES = 8L * SWIGLU_CHUNK;

    private final ModelConfig c;
    private final Weights w;
    private final PackedWeights packed;
    private final float attentionScale;

    /** A forward pass over {@code weights}, packed here (the matrices that are not repacked read where they are). */
    public Transformer(ModelConfig config, Weights weights) {
        this(config, weights, PackedWeights.of(weights, false, bytes -> { }));
    }

    /** A forward pass over {@code weights}, multiplying with {@code packed}, their packed matrices. */
    public Transformer(ModelConfig config, Weights weights, PackedWeights packed) {
        this.c = config;
        this.w = weights;
        this.packed = packed;
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
    }

    public ModelConfig config() {
        return c;
    }

    public Weights weights() {
        return w;
    }

    /**
     * Runs the batch: appends each step's tokens to its cache and returns the logits, {@code vocabularySize}
     * floats per row, rows in step order (all of a step's tokens, or its last). A step with an adapter has
     * its tokens' projections changed by that adapter's deltas; the other steps in the batch are not.
     */
    public float[] forward(List<Step> steps, KernelPool pool) {
        int tokens = 0;
        int logitRows = 0;
        for (Step s : steps) {
            if (s.cache.length() + s.tokens.length > s.cache.capacity()) {
                throw new IllegalArgumentException("the sequence holds " + s.cache.length() + " positions and "
                        + s.tokens.length + " more do not fit in its cache of " + s.cache.capacity());
            }
            for (int token : s.tokens) {
                if (token < 0 || token >= c.vocabularySize()) {
                    throw new IllegalArgumentException("token " + token + " is outside the vocabulary (0.."
                            + (c.vocabularySize() - 1) + ")");
                }
            }
            tokens += s.tokens.length;
            logitRows += s.logitRows();
        }
        Batch b = new Batch(steps, tokens);
        angles(b);
        float[] x = new float[tokens * c.dim()];
        WeightMatrix embedding = w.tokenEmbedding();
        for (int t = 0; t < tokens; t++) {
            Dequantize.row(embedding.type(), embedding.data(), embedding.rowOffset(b.token[t]), x, t * c.dim(), c.dim());
        }
        Scratch s = new Scratch(c, tokens);
        for (int l = 0; l < c.layers(); l++) {
            layer(l, w.layers().get(l), packed.layers().get(l), b, x, s, pool);
        }
        for (Step step : steps) {
            step.cache.advance(step.tokens.length);
        }
        // Only the rows whose logits are wanted go through the output head.
        float[] normed = new float[logitRows * c.dim()];
        int row = 0;
        int t0 = 0;
        for (Step step : steps) {
            int first = step.allLogits ? 0 : step.tokens.length - 1;
            for (int i = first; i < step.tokens.length; i++) {
                Ops.rmsNorm(normed, row++ * c.dim(), x, (t0 + i) * c.dim(), w.outputNorm(), c.dim(), c.normEps());
            }
            t0 += step.tokens.length;
        }
        float[] logits = new float[logitRows * c.vocabularySize()];
        MatrixKernels.matmul(packed.output(), normed, c.dim(), logitRows, logits, c.vocabularySize(), pool);
        return logits;
    }

    private void layer(int l, Weights.Layer layer, PackedWeights.Layer m, Batch b, float[] x, Scratch s, KernelPool pool) {
        int n = b.tokens;
        int dim = c.dim();
        // What one token's own steps (norms, RoPE, cache store) weigh in the pool's units: two tokens of 1B are worth splitting.
        long perTokenBytes = 16L * dim;
        pool.forRows(n, perTokenBytes, (from, to) -> {
            for (int t = from; t < to; t++) {
                Ops.rmsNorm(s.normed, t * dim, x, t * dim, layer.attentionNorm(), dim, c.normEps());
            }
        });
        MatrixKernels.matmul(new PackedMatrix[] {m.q(), m.k(), m.v()}, s.normed, dim, n, new float[][] {s.q, s.k, s.v},
                new int[] {c.qDim(), c.kvDim(), c.kvDim()}, pool);
        adapt(b, l, LoraAdapter.Projection.Q, s.normed, dim, s.q, c.qDim(), pool);
        adapt(b, l, LoraAdapter.Projection.K, s.normed, dim, s.k, c.kvDim(), pool);
        adapt(b, l, LoraAdapter.Projection.V, s.normed, dim, s.v, c.kvDim(), pool);
        layer.qBias().ifPresent(bias -> addBias(s.q, bias, n));
        layer.kBias().ifPresent(bias -> addBias(s.k, bias, n));
        layer.vBias().ifPresent(bias -> addBias(s.v, bias, n));
        pool.forRows(n, perTokenBytes, (from, to) -> {
            for (int t = from; t < to; t++) {
                rope(s.q, t * c.qDim(), c.heads(), b, t);
                rope(s.k, t * c.kvDim(), c.kvHeads(), b, t);
                b.cache[t].store(l, b.position[t], s.k, t * c.kvDim(), s.v, t * c.kvDim());
            }
        });
        attention(l, b, s, pool);
        MatrixKernels.matmul(m.o(), s.attended, c.qDim(), n, s.projected, dim, pool);
        adapt(b, l, LoraAdapter.Projection.O, s.attended, c.qDim(), s.projected, dim, pool);
        pool.forRows(n, perTokenBytes, (from, to) -> {
            Ops.add(x, from * dim, x, from * dim, s.projected, from * dim, (to - from) * dim);
            for (int t = from; t < to; t++) {
                Ops.rmsNorm(s.normed, t * dim, x, t * dim, layer.ffnNorm(), dim, c.normEps());
            }
        });
        MatrixKernels.matmul(new PackedMatrix[] {m.gate(), m.up()}, s.normed, dim, n, new float[][] {s.gate, s.up},
                new int[] {c.ffnDim(), c.ffnDim()}, pool);
        adapt(b, l, LoraAdapter.Projection.GATE, s.normed, dim, s.gate, c.ffnDim(), pool);
        adapt(b, l, LoraAdapter.Projection.UP, s.normed, dim, s.up, c.ffnDim(), pool);
        int ffn = n * c.ffnDim();
        pool.forRows((ffn + SWIGLU_CHUNK - 1) / SWIGLU_CHUNK, SWIGLU_CHUNK_BYTES, (from, to) -> {
            int at = from * SWIGLU_CHUNK;
            Ops.swiglu(s.gate, at, s.gate, at, s.up, at, Math.min(to * SWIGLU_CHUNK, ffn) - at);
        });
        MatrixKernels.matmul(m.down(), s.gate, c.ffnDim(), n, s.projected, dim, pool);
        adapt(b, l, LoraAdapter.Projection.DOWN, s.gate, c.ffnDim(), s.projected, dim, pool);
        Ops.add(x, 0, x, 0, s.projected, 0, n * dim);
    }

    /** Adds each adapter's delta to its own tokens' outputs of one projection. */
    private static void adapt(Batch b, int l, LoraAdapter.Projection p, float[] x, int xStride, float[] out,
            int outStride, KernelPool pool) {
        for (Map.Entry<LoraAdapter, int[]> e : b.adapterRows.entrySet()) {
            e.getKey().apply(l, p, x, xStride, e.getValue(), e.getValue().length, out, outStride, pool);
        }
    }

    private static void addBias(float[] out, float[] bias, int tokens) {
        for (int t = 0; t < tokens; t++) {
            Ops.add(out, t * bias.length, out, t * bias.length, bias, 0, bias.length);
        }
    }

    /**
     * Causal attention of every (token, query head) pair, split among the pool's threads. The pairs go head
     * by head (all tokens of head 0, then of head 1...), so that each thread's share holds early and late
     * tokens alike: token by token, the thread with the prompt's second half had three times the work.
     */
    private void attention(int l, Batch b, Scratch s, KernelPool pool) {
        int heads = c.heads();
        int group = heads / c.kvHeads();
        int headDim = c.headDim();
        long bytesPerPair = 2L * b.maxPosition * c.headDim() * 4;
        pool.forRows(b.tokens * heads, bytesPerPair, (from, to) -> {
            float[] scores = new float[b.maxPosition + 1];
            for (int pair = from; pair < to; pair++) {
                int t = pair % b.tokens;
                int h = pair / b.tokens;
                KvCache cache = b.cache[t];
                int positions = b.position[t] + 1;
                long headOffset = (long) (h / group) * headDim * (cache.rowBytes() / c.kvDim());
                Ops.attentionScores(scores, s.q, t * c.qDim() + h * headDim, cache.data(), cache.type(),
                        cache.keysOffset(l) + headOffset, cache.rowBytes(), headDim, positions, attentionScale);
                Ops.softmax(scores, 0, positions);
                Ops.attentionWeightedSum(s.attended, t * c.qDim() + h * headDim, scores, cache.data(), cache.type(),
                        cache.valuesOffset(l) + headOffset, cache.rowBytes(), headDim, positions);
            }
        });
    }

    /**
     * Each token's rotation angles, once per forward pass for every layer and for both queries and keys: pair
     * i of the token at position p turns by {@code freqScale * (p * base^(-2i/headDim) / factor_i)}, the power
     * taken step by step in float, as ggml's rope with frequency factors and a linear frequency scale.
     */
    private void angles(Batch b) {
        int pairs = c.headDim() / 2;
        float thetaScale = (float) StrictMath.pow(c.ropeBase(), -2.0f / c.headDim());
        float[] factors = w.ropeFrequencyFactors().orElse(null);
        b.cos = new float[b.tokens * pairs];
        b.sin = new float[b.tokens * pairs];
        for (int t = 0; t < b.tokens; t++) {
            float thetaBase = b.position[t];
            for (int i = 0; i < pairs; i++) {
                float theta = c.ropeFreqScale() * (factors == null ? thetaBase : thetaBase / factors[i]);
                b.cos[t * pairs + i] = (float) StrictMath.cos(theta);
                b.sin[t * pairs + i] = (float) StrictMath.sin(theta);
                thetaBase *= thetaScale;
            }
        }
    }

    /** Rotates {@code nHeads} heads at {@code off} by token {@code t}'s angles. */
    private void rope(float[] x, int off, int nHeads, Batch b, int t) {
        int pairs = c.headDim() / 2;
        for (int i = 0; i < pairs; i++) {
            float cos = b.cos[t * pairs + i];
            float sin = b.sin[t * pairs + i];
            for (int h = 0; h < nHeads; h++) {
                int head = off + h * c.headDim();
                int i0 = c.ropeNeox() ? head + i : head + 2 * i;
                int i1 = c.ropeNeox() ? head + i + pairs : head + 2 * i + 1;
                float x0 = x[i0];
                float x1 = x[i1];
                x[i0] = x0 * cos - x1 * sin;
                x[i1] = x0 * sin + x1 * cos;
            }
        }
    }

    /** The batch flattened: per token, its id, position and cache. */
    private static final class Batch {
        final int tokens;
        final int[] token;
        final int[] position;
        final KvCache[] cache;
        /** Each adapter in the batch and the rows (token indexes) it applies to, in batch order. */
        final Map<LoraAdapter, int[]> adapterRows = new LinkedHashMap<>();
        int maxPosition;
        /** Per token, the cosines and sines of its RoPE angles (head dimension / 2 each). */
        float[] cos;
        float[] sin;

        Batch(List<Step> steps, int tokens) {
            this.tokens = tokens;
            token = new int[tokens];
            position = new int[tokens];
            cache = new KvCache[tokens];
            int t = 0;
            for (Step step : steps) {
                for (int i = 0; i < step.tokens.length; i++, t++) {
                    token[t] = step.tokens[i];
                    position[t] = step.cache.length() + i;
                    cache[t] = step.cache;
                    maxPosition = Math.max(maxPosition, position[t]);
                }
            }
            Map<LoraAdapter, List<Integer>> rows = new LinkedHashMap<>();
            int row = 0;
            for (Step step : steps) {
                for (int i = 0; i < step.tokens.length; i++, row++) {
                    if (step.adapter != null) {
                        rows.computeIfAbsent(step.adapter, a -> new ArrayList<>()).add(row);
                    }
                }
            }
            rows.forEach((adapter, list) -> adapterRows.put(adapter, list.stream().mapToInt(Integer::intValue).toArray()));
        }
    }

    /** Activations of one step, per token. */
    private static final class Scratch {
        final float[] normed;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] attended;
        final float[] projected;
        final float[] gate;
        final float[] up;

        Scratch(ModelConfig c, int tokens) {
            normed = new float[tokens * c.dim()];
            q = new float[tokens * c.qDim()];
            k = new float[tokens * c.kvDim()];
            v = new float[tokens * c.kvDim()];
            attended = new float[tokens * c.qDim()];
            projected = new float[tokens * c.dim()];
            gate = new float[tokens * c.ffnDim()];
            up = new float[tokens * c.ffnDim()];
        }
    }
}
