package org.commonweal.inference.transformer;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.TensorInfo;
import org.commonweal.kernels.KernelPool;
import org.commonweal.kernels.MatrixKernels;
import org.commonweal.kernels.Ops;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * A LoRA adapter in llama.cpp's GGUF format ({@code general.type = adapter}, {@code adapter.type = lora},
 * {@code adapter.lora.alpha}; tensors {@code blk.N.<projection>.weight.lora_a} of ggml shape
 * {@code [in, r]} and {@code .lora_b} of shape {@code [r, out]}), applied at inference time without
 * touching the base weights: an adapted projection computes {@code W·x + s·(B·(A·x))} with
 * {@code s = scale · alpha / r}, as llama.cpp does. The tensors stay where the file holds them (mapped
 * or allocated), so many adapters serve from one base model at once.
 */
public final class LoraAdapter {

    /** The projections of a transformer block an adapter may change, by llama.cpp's tensor names. */
    public enum Projection {
        Q("attn_q"), K("attn_k"), V("attn_v"), O("attn_output"), GATE("ffn_gate"), UP("ffn_up"), DOWN("ffn_down");

        final String tensor;

        Projection(String tensor) {
            this.tensor = tensor;
        }

        WeightMatrix of(Weights.Layer layer) {
            return switch (this) {
                case Q -> layer.q();
                case K -> layer.k();
                case V -> layer.v();
                case O -> layer.o();
                case GATE -> layer.gate();
                case UP -> layer.up();
                case DOWN -> layer.down();
            };
        }
    }

    /** One adapted projection: A (r x in) and B (out x r), as weight matrices. */
    record Delta(WeightMatrix a, WeightMatrix b, float scale) {
        int rank() {
            return a.rows();
        }
    }

    private final String name;
    private final float alpha;
    private final float scale;
    private final List<Map<Projection, Delta>> layers;

    private LoraAdapter(String name, float alpha, float scale, List<Map<Projection, Delta>> layers) {
        this.name = name;
        this.alpha = alpha;
        this.scale = scale;
        this.layers = layers;
    }

    /**
     * Reads the adapter in {@code file} for {@code base} at {@code scale} (1 as llama.cpp's {@code --lora});
     * fails naming the file and the tensor for anything that does not fit the base model.
     */
    public static LoraAdapter fromGguf(GgufFile file, ModelConfig base, Weights weights, float scale) throws GgufException {
        String type = file.findString("general.type").orElse("model");
        if (!type.equals("adapter") || !file.findString("adapter.type").orElse("").equals("lora")) {
            throw new GgufException(file.path(), "is not a LoRA adapter (general.type '" + type + "', adapter.type '"
                    + file.findString("adapter.type").orElse("") + "'); llama.cpp's convert_lora_to_gguf.py writes them");
        }
        String arch = file.string("general.architecture");
        if (!arch.equals(base.architecture())) {
            throw new GgufException(file.path(), "adapts architecture '" + arch + "', but the base model is '"
                    + base.architecture() + "'");
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("a LoRA scale must be finite, not " + scale);
        }
        float alpha = (float) file.number("adapter.lora.alpha", 0);
        Map<String, TensorInfo> byName = new HashMap<>();
        for (TensorInfo t : file.tensors()) {
            byName.put(t.name(), t);
        }
        List<Map<Projection, Delta>> layers = new java.util.ArrayList<>();
        int pairs = 0;
        for (int l = 0; l < base.layers(); l++) {
            Map<Projection, Delta> deltas = new EnumMap<>(Projection.class);
            for (Projection p : Projection.values()) {
                String prefix = "blk." + l + "." + p.tensor + ".weight.lora_";
                TensorInfo a = byName.remove(prefix + "a");
                TensorInfo b = byName.remove(prefix + "b");
                if (a == null && b == null) {
                    continue;
                }
                if (a == null || b == null) {
                    throw new GgufException(file.path(), "has " + prefix + (a == null ? "b" : "a") + " without "
                            + prefix + (a == null ? "a" : "b"));
                }
                WeightMatrix w = p.of(weights.layers().get(l));
                long[] ad = a.dims();
                long[] bd = b.dims();
                if (ad.length != 2 || bd.length != 2 || ad[0] != w.cols() || bd[1] != w.rows() || ad[1] != bd[0]) {
                    throw new GgufException(file.path(), "tensors " + prefix + "a " + java.util.Arrays.toString(ad)
                            + " and " + prefix + "b " + java.util.Arrays.toString(bd) + " do not fit the base matrix ["
                            + w.cols() + ", " + w.rows() + "]: expected [" + w.cols() + ", r] and [r, " + w.rows() + "]");
                }
                int rank = (int) ad[1];
                // llama.cpp: alpha 0 means no rescaling (s = scale).
                float s = alpha == 0 ? scale : scale * alpha / rank;
                deltas.put(p, new Delta(file.matrix(a.name(), rank, w.cols()), file.matrix(b.name(), w.rows(), rank), s));
                pairs++;
            }
            layers.add(deltas);
        }
        if (!byName.isEmpty()) {
            throw new GgufException(file.path(), "has tensors this node cannot apply: " + byName.keySet().stream().sorted()
                    .limit(5).toList() + (byName.size() > 5 ? " and " + (byName.size() - 5) + " more" : ""));
        }
        if (pairs == 0) {
            throw new GgufException(file.path(), "holds no lora_a/lora_b tensor pair");
        }
        String name = file.path().getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        return new LoraAdapter(name, alpha, scale, List.copyOf(layers));
    }

    public String name() {
        return name;
    }

    public float alpha() {
        return alpha;
    }

    public float scale() {
        return scale;
    }

    Delta delta(int layer, Projection projection) {
        return layers.get(layer).get(projection);
    }

    /**
     * Adds the adapter's delta for {@code projection} of {@code layer} to {@code out} for {@code count} tokens
     * whose inputs start at rows {@code rows[0..count)} of {@code x} (row stride {@code xStride}) and whose
     * outputs are the same rows of {@code out} (stride {@code outStride}).
     */
    void apply(int layer, Projection projection, float[] x, int xStride, int[] rows, int count, float[] out,
            int outStride, KernelPool pool) {
        Delta d = delta(layer, projection);
        if (d == null) {
            return;
        }
        int in = d.a.cols();
        int r = d.rank();
        int outDim = d.b.rows();
        float[] gathered = new float[count * in];
        for (int i = 0; i < count; i++) {
            System.arraycopy(x, rows[i] * xStride, gathered, i * in, in);
        }
        float[] low = new float[count * r];
        MatrixKernels.matmul(d.a, gathered, in, count, low, r, pool);
        float[] delta = new float[count * outDim];
        MatrixKernels.matmul(d.b, low, r, count, delta, outDim, pool);
        Ops.scale(delta, 0, delta, 0, delta.length, d.scale);
        for (int i = 0; i < count; i++) {
            Ops.add(out, rows[i] * outStride, out, rows[i] * outStride, delta, i * outDim, outDim);
        }
    }

    @Override
    public String toString() {
        return "LoRA adapter " + name + " (alpha " + alpha + ", scale " + scale + ")";
    }
}
