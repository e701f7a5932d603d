package org.commonweal.inference.transformer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.commonweal.kernels.Dequantize;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.Quantize;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * A plain scalar forward pass, written from the definitions and sharing nothing with {@link Transformer}
 * but the weights: whole weight rows dequantized, dot products and everything else in double, attention
 * recomputed over the whole sequence. Like ggml (and the kernels), activations entering a quantized matrix
 * are first rounded through Q8_0 (or Q8_K for K-quants), so the two passes differ only by summation order.
 */
final class ScalarForward {

    private final ModelConfig c;
    private final Weights w;
    private final LoraAdapter adapter;

    ScalarForward(ModelConfig config, Weights weights) {
        this(config, weights, null);
    }

    /** With {@code adapter}'s deltas: each adapted projection is {@code W·x + s·B·(A·x)}, in double. */
    ScalarForward(ModelConfig config, Weights weights, LoraAdapter adapter) {
        this.c = config;
        this.w = weights;
        this.adapter = adapter;
    }

    /** Logits for every position of {@code tokens}, {@code [position][vocabulary]}. */
    double[][] logits(int[] tokens) {
        int n = tokens.length;
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = row(w.tokenEmbedding(), tokens[t]);
        }
        for (int l = 0; l < c.layers(); l++) {
            Weights.Layer layer = w.layers().get(l);
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], layer.attentionNorm());
                q[t] = rope(plus(project(l, LoraAdapter.Projection.Q, layer.q(), h), layer.qBias().orElse(null)), c.heads(), t);
                k[t] = rope(plus(project(l, LoraAdapter.Projection.K, layer.k(), h), layer.kBias().orElse(null)), c.kvHeads(), t);
                v[t] = plus(project(l, LoraAdapter.Projection.V, layer.v(), h), layer.vBias().orElse(null));
            }
            int group = c.heads() / c.kvHeads();
            int hd = c.headDim();
            for (int t = 0; t < n; t++) {
                double[] attended = new double[c.qDim()];
                for (int head = 0; head < c.heads(); head++) {
                    int kvHead = head / group;
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int p = 0; p <= t; p++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) {
                            dot += q[t][head * hd + i] * k[p][kvHead * hd + i];
                        }
                        scores[p] = dot / Math.sqrt(hd);
                        max = Math.max(max, scores[p]);
                    }
                    double sum = 0;
                    for (int p = 0; p <= t; p++) {
                        scores[p] = Math.exp(scores[p] - max);
                        sum += scores[p];
                    }
                    for (int p = 0; p <= t; p++) {
                        for (int i = 0; i < hd; i++) {
                            attended[head * hd + i] += scores[p] / sum * v[p][kvHead * hd + i];
                        }
                    }
                }
                double[] out = project(l, LoraAdapter.Projection.O, layer.o(), attended);
                for (int i = 0; i < c.dim(); i++) {
                    x[t][i] += out[i];
                }
                double[] h = rmsNorm(x[t], layer.ffnNorm());
                double[] gate = project(l, LoraAdapter.Projection.GATE, layer.gate(), h);
                double[] up = project(l, LoraAdapter.Projection.UP, layer.up(), h);
                for (int i = 0; i < gate.length; i++) {
                    gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                double[] down = project(l, LoraAdapter.Projection.DOWN, layer.down(), gate);
                for (int i = 0; i < c.dim(); i++) {
                    x[t][i] += down[i];
                }
            }
        }
        double[][] logits = new double[n][];
        for (int t = 0; t < n; t++) {
            logits[t] = matvec(w.output(), rmsNorm(x[t], w.outputNorm()));
        }
        return logits;
    }

    /** A projection, plus the adapter's delta {@code s·B·(A·x)} when it adapts it. */
    private double[] project(int layer, LoraAdapter.Projection p, WeightMatrix m, double[] x) {
        double[] y = matvec(m, x);
        LoraAdapter.Delta d = adapter == null ? null : adapter.delta(layer, p);
        if (d != null) {
            double[] low = matvec(d.a(), x);
            double[] delta = matvec(d.b(), low);
            for (int i = 0; i < y.length; i++) {
                y[i] += d.scale() * delta[i];
            }
        }
        return y;
    }

    private static double[] plus(double[] x, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < x.length; i++) {
                x[i] += bias[i];
            }
        }
        return x;
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double sum = 0;
        for (double v : x) {
            sum += v * v;
        }
        double scale = 1 / Math.sqrt(sum / x.length + c.normEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
        return out;
    }

    private double[] rope(double[] x, int heads, int position) {
        int hd = c.headDim();
        float[] factors = w.ropeFrequencyFactors().orElse(null);
        for (int i = 0; i < hd / 2; i++) {
            double theta = c.ropeFreqScale() * position * Math.pow(c.ropeBase(), -2.0 * i / hd)
                    / (factors == null ? 1 : factors[i]);
            double cos = Math.cos(theta);
            double sin = Math.sin(theta);
            for (int h = 0; h < heads; h++) {
                int i0 = h * hd + (c.ropeNeox() ? i : 2 * i);
                int i1 = h * hd + (c.ropeNeox() ? i + hd / 2 : 2 * i + 1);
                double x0 = x[i0];
                double x1 = x[i1];
                x[i0] = x0 * cos - x1 * sin;
                x[i1] = x0 * sin + x1 * cos;
            }
        }
        return x;
    }

    private static double[] row(WeightMatrix m, int r) {
        float[] f = new float[m.cols()];
        Dequantize.row(m.type(), m.data(), m.rowOffset(r), f, 0, f.length);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** {@code W · x}, {@code x} first rounded as ggml rounds activations for the weight type. */
    private static double[] matvec(WeightMatrix m, double[] x) {
        double[] in = activations(m.type(), x);
        double[] out = new double[m.rows()];
        for (int r = 0; r < m.rows(); r++) {
            double[] wr = row(m, r);
            double dot = 0;
            for (int i = 0; i < in.length; i++) {
                dot += wr[i] * in[i];
            }
            out[r] = dot;
        }
        return out;
    }

    private static double[] activations(GgmlType weights, double[] x) {
        GgmlType q = switch (weights) {
            case Q4_0, Q4_1, Q5_0, Q8_0 -> GgmlType.Q8_0;
            case Q4_K, Q5_K, Q6_K -> GgmlType.Q8_K;
            default -> null;
        };
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        if (q != null) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment blocks = arena.allocate(q.rowBytes(f.length));
                if (q == GgmlType.Q8_0) {
                    Quantize.q8_0(f, 0, f.length, blocks, 0);
                } else {
                    Quantize.q8K(f, 0, f.length, blocks, 0);
                }
                Dequantize.row(q, blocks, 0, f, 0, f.length);
            }
        }
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
