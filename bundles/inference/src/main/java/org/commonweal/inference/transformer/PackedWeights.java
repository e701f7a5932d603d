package org.commonweal.inference.transformer;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

import org.commonweal.kernels.PackedMatrix;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * The matrices of a model's {@link Weights} in the layout the kernels read fastest ({@link PackedMatrix}):
 * what the forward pass multiplies with. Quantized types the kernels repack are repacked once, here, into
 * off-heap memory; the others stay where the file holds them, or are copied into off-heap memory if asked.
 * The token embedding is not packed: it is only looked up, a row per token, from the file (with tied
 * embeddings the output head is a packed copy of it).
 * <p>
 * The memory belongs to an automatic arena: it is freed once these weights are no longer referenced, so a
 * model that is replaced (a hot upgrade, an unload) needs no explicit release, and a forward pass still
 * running on the old weights can never read freed memory.
 */
public final class PackedWeights {

    /** One transformer block's projections. */
    public record Layer(PackedMatrix q, PackedMatrix k, PackedMatrix v, PackedMatrix o, PackedMatrix gate,
            PackedMatrix up, PackedMatrix down) {
    }

    private final List<Layer> layers;
    private final PackedMatrix output;

    private PackedWeights(List<Layer> layers, PackedMatrix output) {
        this.layers = layers;
        this.output = output;
    }

    /**
     * Packs {@code w}'s projections and output head; {@code copyOthers} copies the matrices that are not
     * repacked into off-heap memory too (rather than reading them from a mapped file); {@code progress}
     * hears the file bytes done after each matrix.
     */
    public static PackedWeights of(Weights w, boolean copyOthers, LongConsumer progress) {
        Arena arena = Arena.ofAuto();
        long[] done = {0};
        java.util.function.Function<WeightMatrix, PackedMatrix> pack = m -> {
            PackedMatrix p = PackedMatrix.of(m, arena, copyOthers);
            progress.accept(done[0] += m.byteSize());
            return p;
        };
        List<Layer> layers = new ArrayList<>();
        for (Weights.Layer l : w.layers()) {
            layers.add(new Layer(pack.apply(l.q()), pack.apply(l.k()), pack.apply(l.v()), pack.apply(l.o()),
                    pack.apply(l.gate()), pack.apply(l.up()), pack.apply(l.down())));
        }
        return new PackedWeights(List.copyOf(layers), pack.apply(w.output()));
    }

    /** Every matrix, layer by layer (q, k, v, o, gate, up, down), then the output head: what a next revision may take over. */
    public PackedMatrix[] matrices() {
        List<PackedMatrix> all = new ArrayList<>();
        for (Layer l : layers) {
            all.addAll(List.of(l.q, l.k, l.v, l.o, l.gate, l.up, l.down));
        }
        all.add(output);
        return all.toArray(PackedMatrix[]::new);
    }

    /**
     * The packing {@code prepared} (as {@link #matrices()} gave it, possibly by an earlier revision of this bundle) if it
     * is {@code w}'s, packed by the kernels this bundle runs with: same count, and each matrix of the same type and
     * shape. Otherwise empty (a kernels upgrade, another model), and {@code w} must be packed again.
     */
    public static java.util.Optional<PackedWeights> adopt(Object prepared, Weights w) {
        if (!(prepared instanceof PackedMatrix[] m) || m.length != 7 * w.layers().size() + 1) {
            return java.util.Optional.empty();
        }
        List<Layer> layers = new ArrayList<>();
        int i = 0;
        for (Weights.Layer l : w.layers()) {
            for (WeightMatrix source : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                if (!same(m[i++], source)) {
                    return java.util.Optional.empty();
                }
            }
            layers.add(new Layer(m[i - 7], m[i - 6], m[i - 5], m[i - 4], m[i - 3], m[i - 2], m[i - 1]));
        }
        return same(m[i], w.output()) ? java.util.Optional.of(new PackedWeights(List.copyOf(layers), m[i]))
                : java.util.Optional.empty();
    }

    private static boolean same(PackedMatrix p, WeightMatrix w) {
        return p.type() == w.type() && p.rows() == w.rows() && p.cols() == w.cols();
    }

    public List<Layer> layers() {
        return layers;
    }

    public PackedMatrix output() {
        return output;
    }
}
