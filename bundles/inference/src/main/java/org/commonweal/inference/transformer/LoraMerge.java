package org.commonweal.inference.transformer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.GgufWriter;
import org.commonweal.inference.gguf.TensorInfo;
import org.commonweal.kernels.Dequantize;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.Quantize;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * Merges a LoRA adapter into a copy of its base model, for a node that serves one adapter only and wants no
 * per-token delta: every adapted matrix becomes {@code W + s·B·A}, requantized to its own type where
 * Commonweal has a quantizer (Q8_0, Q4_0, Q4_1, Q5_0), written as Q8_0 for K-quants, and as F32 for
 * float types. Every other tensor and all metadata are copied unchanged; {@code commonweal.merged_adapter}
 * names the adapter. The merged model's logits differ from base + adapter at inference time only by the
 * requantization.
 */
public final class LoraMerge {

    private static final Pattern PROJECTION = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.weight");
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LoraMerge() {
    }

    /** Writes {@code base} with {@code adapter} merged in at {@code scale} to {@code target}. */
    public static void write(GgufFile base, GgufFile adapterFile, float scale, Path target, LongConsumer rowsDone)
            throws IOException {
        ModelConfig config = ModelConfig.fromGguf(base);
        Weights weights = Weights.fromGguf(base, config);
        LoraAdapter adapter = LoraAdapter.fromGguf(adapterFile, config, weights, scale);
        GgufWriter writer = new GgufWriter();
        for (String key : base.metadata().keySet()) {
            writer.putRaw(key, base.rawValue(key));
        }
        if (base.has("commonweal.merged_adapter")) {
            throw new GgufException(base.path(), "already has an adapter merged in ("
                    + base.string("commonweal.merged_adapter") + "); merge into the original base model");
        }
        writer.putString("commonweal.merged_adapter", adapter.name() + " at scale " + scale);
        long[] done = {0};
        for (TensorInfo t : base.tensors()) {
            Target adapted = Target.of(t.name());
            LoraAdapter.Delta delta = adapted == null || adapted.layer() >= config.layers() ? null
                    : adapter.delta(adapted.layer(), adapted.projection());
            if (delta == null) {
                writer.tensor(t.name(), t.type(), t.dims(), segment -> segment.copyFrom(base.bytes(t)));
                continue;
            }
            WeightMatrix w = adapted.projection().of(weights.layers().get(adapted.layer()));
            GgmlType type = mergedType(t.type());
            writer.tensor(t.name(), type, t.dims(), segment -> {
                merge(w, delta, type, segment);
                rowsDone.accept(done[0] += w.rows());
            });
        }
        writer.write(target);
    }

    /** The adapted projection a tensor is, if it is one. */
    private record Target(int layer, LoraAdapter.Projection projection) {

        static Target of(String tensor) {
            Matcher m = PROJECTION.matcher(tensor);
            if (m.matches()) {
                for (LoraAdapter.Projection p : LoraAdapter.Projection.values()) {
                    if (p.tensor.equals(m.group(2))) {
                        return new Target(Integer.parseInt(m.group(1)), p);
                    }
                }
            }
            return null;
        }
    }

    static GgmlType mergedType(GgmlType base) {
        return switch (base) {
            case Q8_0, Q4_0, Q4_1, Q5_0 -> base;
            case Q4_K, Q5_K, Q6_K -> GgmlType.Q8_0;
            default -> GgmlType.F32;
        };
    }

    /** Row by row: {@code W[r,:] + s · Σ_k B[r,k] A[k,:]}, then stored as {@code type}. */
    private static void merge(WeightMatrix w, LoraAdapter.Delta d, GgmlType type, MemorySegment out) {
        int cols = w.cols();
        int rank = d.rank();
        float[] a = matrix(d.a());
        float[] b = matrix(d.b());
        float[] row = new float[cols];
        long rowBytes = type.rowBytes(cols);
        for (int r = 0; r < w.rows(); r++) {
            Dequantize.row(w.type(), w.data(), w.rowOffset(r), row, 0, cols);
            for (int c = 0; c < cols; c++) {
                float sum = 0;
                for (int k = 0; k < rank; k++) {
                    sum = Math.fma(b[r * rank + k], a[k * cols + c], sum);
                }
                row[c] += d.scale() * sum;
            }
            long at = r * rowBytes;
            switch (type) {
                case Q8_0 -> Quantize.q8_0(row, 0, cols, out, at);
                case Q4_0 -> Quantize.q4_0(row, 0, cols, out, at);
                case Q4_1 -> Quantize.q4_1(row, 0, cols, out, at);
                case Q5_0 -> Quantize.q5_0(row, 0, cols, out, at);
                default -> MemorySegment.copy(row, 0, out, F32, at, cols);
            }
        }
    }

    private static float[] matrix(WeightMatrix m) {
        float[] values = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            Dequantize.row(m.type(), m.data(), m.rowOffset(r), values, r * m.cols(), m.cols());
        }
        return values;
    }
}
