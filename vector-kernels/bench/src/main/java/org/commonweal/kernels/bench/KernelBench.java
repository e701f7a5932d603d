package org.commonweal.kernels.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.commonweal.kernels.MatrixKernels;
import org.commonweal.kernels.PackedMatrix;
import org.commonweal.kernels.types.WeightMatrix;

import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;
import jdk.incubator.vector.FloatVector;

/**
 * {@code cw bench kernels}: measures, in one run, the machine's memory bandwidth (STREAM triad and a
 * read-only stream over memory far larger than the cache) and FMA peak, then every weight type's
 * matvec (GB/s of weights streamed, % of the triads measured around it) and matmul (GFLOP/s at 64 tokens, % of the
 * FMA peak), each beside the simplest correct Vector API kernel ({@link Baseline}). Weights are random,
 * in allocated off-heap memory, repacked where the kernels repack them ({@link PackedMatrix}: F32, Q8_0, Q4_0,
 * Q4_K, Q5_K, Q6_K), and F32 also in GGUF's layout, read where a file maps it.
 */
public final class KernelBench {

    /** How to run: thread counts to measure (each gets its own pool), and where to print. */
    public record Options(List<Integer> threadCounts, boolean json, PrintStream out, long weightBytes, int tokens,
            long bandwidthBytes, long fmaIterations, long warmUpMillis) {
        /** 128 MiB of weights per type and 3 x 256 MiB for the triad: far beyond any last-level cache. */
        public static Options defaults(PrintStream out, boolean json, Integer threads) {
            int cores = Runtime.getRuntime().availableProcessors();
            List<Integer> counts = threads != null ? List.of(threads) : cores > 1 ? List.of(1, cores) : List.of(1);
            return new Options(counts, json, out, 128L << 20, 64, 256L << 20, 20_000_000L, 1000);
        }
    }

    static final GgmlType[] TYPES = { GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K };
    private static final int COLS = 4096;
    private static final int REPETITIONS = 5;
    /** Rounds of each packed matvec, each between two triads (see the section loop). */
    private static final int MATVEC_ROUNDS = 3;
    private static long warmUpMillis = 1000;

    private KernelBench() {
    }

    public static void run(Options options) {
        warmUpMillis = options.warmUpMillis();
        PrintStream out = options.out();
        out.printf("cw bench kernels: %d cores, %d-bit vectors, weights %d MiB per type (random), %d tokens per matmul%n",
                Runtime.getRuntime().availableProcessors(), FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                options.weightBytes() >> 20, options.tokens());
        JsonObjectBuilder json = Json.createObjectBuilder();
        try (Arena arena = Arena.ofShared()) {
            out.print("Preparing memory...");
            MemorySegment a = arena.allocate(options.bandwidthBytes(), 64);
            MemorySegment b = arena.allocate(options.bandwidthBytes(), 64);
            MemorySegment c = arena.allocate(options.bandwidthBytes(), 64);
            b.fill((byte) 1);
            c.fill((byte) 2);
            a.fill((byte) 0);
            Map<GgmlType, Weights> weights = new LinkedHashMap<>();
            SplittableRandom random = new SplittableRandom(2026);
            StringBuilder packing = new StringBuilder();
            for (GgmlType type : TYPES) {
                WeightMatrix w = randomWeights(type, options.weightBytes(), random, arena);
                long start = System.nanoTime();
                PackedMatrix packed = PackedMatrix.of(w, arena, false);
                if (PackedMatrix.repacks(type)) {
                    packing.append(String.format(java.util.Locale.ROOT, " %s %.2f GB/s", type, w.byteSize() / (double) (System.nanoTime() - start)));
                }
                WeightMatrix head = new WeightMatrix(type, w.data(), w.offset(), Math.min(w.rows(), 4096), w.cols());
                weights.put(type, new Weights(w, packed, head, PackedMatrix.of(head, arena, false)));
            }
            Map<GgmlType, WeightMatrix> mapped = new LinkedHashMap<>();
            for (GgmlType type : new GgmlType[] { GgmlType.F32 }) {
                mapped.put(type, mapToFile(weights.get(type).plain(), arena));
            }
            out.println(" done. Repacked (once, at load) at" + packing + ".");
            Map<Integer, JsonObjectBuilder> runs = new LinkedHashMap<>();
            Map<Integer, Double> triads = new LinkedHashMap<>();

            for (int threads : options.threadCounts()) {
                try (KernelPool pool = new KernelPool(threads)) {
                    JsonObjectBuilder run = Json.createObjectBuilder();
                    // The limits are measured before and after the kernels and the higher figure is the
                    // reference: on a machine shared with other work, a core taken away during one
                    // measurement would otherwise inflate every percentage of the section.
                    double[] before = limits(a, b, c, pool, options);
                    Map<GgmlType, Figures> figuresByType = new LinkedHashMap<>();
                    for (GgmlType type : TYPES) {
                        Weights w = weights.get(type);
                        // Each matvec against the triads around it: this VM's memory switches between a slow and a
                        // fast mode for seconds at a time (Q4_0's two-thread matvec alone gave 46, 47, 48 and 73
                        // GB/s in four consecutive three-second windows), so one round could fall in one mode and
                        // its triads in the other. Three rounds between four triads; the fastest round against the
                        // highest triad.
                        Runnable kernel = packedMatvec(w.packed(), pool);
                        double near = MachineLimits.triadGBs(a, b, c, pool, REPETITIONS);
                        double[] mv = matvec(w.plain(), kernel, pool);
                        for (int round = 1; round < MATVEC_ROUNDS; round++) {
                            near = Math.max(near, MachineLimits.triadGBs(a, b, c, pool, REPETITIONS));
                            mv[0] = Math.max(mv[0], matvecGBs(w.plain(), kernel));
                        }
                        near = Math.max(near, MachineLimits.triadGBs(a, b, c, pool, REPETITIONS));
                        figuresByType.put(type, new Figures(mv, matmul(w.head(), w.packedHead(), pool, options.tokens()), near));
                    }
                    double[] after = limits(a, b, c, pool, options);
                    double triad = Math.max(before[0], after[0]);
                    double read = Math.max(before[1], after[1]);
                    double peak = Math.max(before[2], after[2]);
                    out.printf("%n== %d thread%s: memory triad %.1f GB/s, read %.1f GB/s; FMA peak %.0f GFLOP/s"
                            + " (the higher of before and after: %.1f/%.1f, %.1f/%.1f, %.0f/%.0f)%n", threads,
                            threads == 1 ? "" : "s", triad, read, peak, before[0], after[0], before[1], after[1], before[2], after[2]);
                    run.add("triadGBs", round(triad)).add("readGBs", round(read)).add("fmaPeakGflops", round(peak));

                    out.printf("%-6s %-9s | %10s %6s %8s %10s %7s | %12s %8s %12s %7s%n", "type", "memory", "matvec GB/s",
                            "triad", "% triad", "base GB/s", "gain", "matmul GF/s", "% peak", "base GF/s", "gain");
                    JsonObjectBuilder types = Json.createObjectBuilder();
                    for (GgmlType type : TYPES) {
                        double[] mv = figuresByType.get(type).matvec();
                        double[] mm = figuresByType.get(type).matmul();
                        double near = figuresByType.get(type).triad();
                        JsonObjectBuilder figures = Json.createObjectBuilder();
                        out.printf("%-6s %-9s | %10.1f %6.1f %7.0f%% %10.1f %6.1fx | %12.1f %7.0f%% %12.1f %6.1fx%n", type,
                                PackedMatrix.repacks(type) ? "repacked" : "allocated", mv[0], near, 100 * mv[0] / near,
                                mv[1], mv[0] / mv[1], mm[0], 100 * mm[0] / peak, mm[1], mm[0] / mm[1]);
                        figures.add("matvecGBs", round(mv[0])).add("triadGBs", round(near)).add("matvecPctTriad", round(100 * mv[0] / near))
                                .add("baselineMatvecGBs", round(mv[1])).add("matmulGflops", round(mm[0]))
                                .add("matmulPctPeak", round(100 * mm[0] / peak)).add("baselineMatmulGflops", round(mm[1]));
                        types.add(type.name(), figures);
                    }
                    triads.put(threads, triad);
                    run.add("types", types);
                    runs.put(threads, run);
                }
            }
            // Mapped files last: once a mapped segment has gone through the JDK's memory-access code, its
            // (shared) type profiles hold two segment classes and kernels compiled after that for
            // allocated memory run up to 40% slower. A node uses one mode or the other, not both.
            // Repacked types are read from a mapping only once, to repack them: the mapped figure is F32's
            // matvec in GGUF's layout, read where the file maps it (what a node does with a type it does not
            // repack).
            out.printf("%n== mapped files (measured after everything else)%n");
            out.printf("%-6s %-9s | %10s %8s %10s %7s |%n", "type", "threads", "matvec GB/s", "% triad", "base GB/s", "gain");
            for (int threads : options.threadCounts()) {
                try (KernelPool pool = new KernelPool(threads)) {
                    JsonObjectBuilder mappedFigures = Json.createObjectBuilder();
                    for (Map.Entry<GgmlType, WeightMatrix> e : mapped.entrySet()) {
                        WeightMatrix w = e.getValue();
                        float[] x = randomFloats(w.cols());
                        float[] o = new float[w.rows()];
                        double[] mv = matvec(w, () -> MatrixKernels.matvec(w, x, o, pool), pool);
                        double triad = triads.get(threads);
                        out.printf("%-6s %-9d | %10.1f %7.0f%% %10.1f %6.1fx |%n", e.getKey(), threads, mv[0], 100 * mv[0] / triad,
                                mv[1], mv[0] / mv[1]);
                        mappedFigures.add(e.getKey().name(), Json.createObjectBuilder().add("mappedMatvecGBs", round(mv[0]))
                                .add("mappedBaselineMatvecGBs", round(mv[1])));
                    }
                    json.add(Integer.toString(threads), runs.get(threads).add("mapped", mappedFigures));
                }
            }
        }
        out.println();
        out.println("matvec GB/s: weight bytes streamed per second, the best of three rounds; triad: the highest of the");
        out.println("STREAM triads before, between and after them; % triad: of that triad. Mapped files: of the section's triad.");
        out.println("matmul: GFLOP/s at " + options.tokens() + " tokens (2 x rows x cols x tokens); % peak: of the FMA peak above.");
        out.println("base: one row at a time, dequantized by the scalar reference, FP32 Vector API dot; gain = kernel / base.");
        if (options.json()) {
            out.println(Json.createObjectBuilder().add("benchmark", "kernels").add("threads", json).build());
        }
    }

    /** Triad GB/s, read GB/s and FMA peak GFLOP/s with this pool. */
    private static double[] limits(MemorySegment a, MemorySegment b, MemorySegment c, KernelPool pool, Options options) {
        return new double[] { MachineLimits.triadGBs(a, b, c, pool, REPETITIONS), MachineLimits.readGBs(a, pool, REPETITIONS),
                MachineLimits.fmaPeakGflops(pool, options.fmaIterations()) };
    }

    /** One type's random weights: as GGUF stores them (the baseline's), packed (the kernels'), and their first rows. */
    private record Weights(WeightMatrix plain, PackedMatrix packed, WeightMatrix head, PackedMatrix packedHead) {
    }

    /** One type's figures in a section: matvec and matmul (kernel, baseline), and the triad around the matvec. */
    private record Figures(double[] matvec, double[] matmul, double triad) {
    }

    /** The packed matvec of {@code packed} by a random vector. */
    private static Runnable packedMatvec(PackedMatrix packed, KernelPool pool) {
        float[] x = randomFloats(packed.cols());
        float[] out = new float[packed.rows()];
        return () -> MatrixKernels.matvec(packed, x, out, pool);
    }

    /**
     * Best-of-5 matvec GB/s of {@code kernel} (over {@code w}'s weights, in any layout) and of the baseline, after a
     * warm-up; GB/s count the GGUF bytes, as a model's bytes per token do (a repacked Q4_K row is 2.8% longer).
     */
    private static double[] matvec(WeightMatrix w, Runnable kernel, KernelPool pool) {
        float[] x = randomFloats(w.cols());
        float[] out = new float[w.rows()];
        double kernelGBs = matvecGBs(w, kernel);
        double baseline = best(() -> time(() -> Baseline.matvec(w, x, 0, out, 0, pool)));
        return new double[] { kernelGBs, w.byteSize() / baseline };
    }

    /** Best-of-5 GB/s of {@code kernel}, a matvec over {@code w}'s weights, after a warm-up. */
    private static double matvecGBs(WeightMatrix w, Runnable kernel) {
        return w.byteSize() / best(() -> time(kernel));
    }

    /** GFLOP/s of a matmul over the first 4096 rows (or all), kernel and baseline. */
    private static double[] matmul(WeightMatrix w, PackedMatrix packed, KernelPool pool, int tokens) {
        float[] x = randomFloats(w.cols() * tokens);
        float[] out = new float[w.rows() * tokens];
        double flops = 2.0 * w.rows() * w.cols() * tokens;
        double kernel = best(() -> time(() -> MatrixKernels.matmul(packed, x, w.cols(), tokens, out, w.rows(), pool)));
        double baseline = best(() -> time(() -> Baseline.matmul(w, x, tokens, out, pool)));
        return new double[] { flops / kernel, flops / baseline };
    }

    private static long time(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return System.nanoTime() - start;
    }

    /**
     * Best of {@value #REPETITIONS} runs after a warm-up of at least {@code warmUpMillis} (1 s by default)
     * that goes on while the runs still get faster (by 5% within the last half of it, up to five times
     * as long): C2 takes a few hundred milliseconds to compile a large kernel, longer when other work
     * shares the cores, and the code before it (C1's, which boxes every vector) is ten times slower.
     */
    private static double best(LongSupplier run) {
        long warmUp = warmUpMillis * 1_000_000L;
        long start = System.nanoTime();
        long lastGain = start;
        long fastest = Long.MAX_VALUE;
        for (int i = 0; ; i++) {
            long t = run.getAsLong();
            long now = System.nanoTime();
            if (t < fastest * 0.95) {
                lastGain = now;
            }
            fastest = Math.min(fastest, t);
            if (i >= 2 && now - start >= warmUp && (now - lastGain >= warmUp / 2 || now - start >= 5 * warmUp)) {
                break;
            }
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < REPETITIONS; i++) {
            best = Math.min(best, run.getAsLong());
        }
        return best;
    }

    private static float[] randomFloats(int n) {
        SplittableRandom random = new SplittableRandom(n);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** Random bytes, then every block's scales made finite and small, so that every value is a number. */
    static WeightMatrix randomWeights(GgmlType type, long bytes, SplittableRandom random, Arena arena) {
        int rows = (int) (bytes / type.rowBytes(COLS));
        long size = rows * type.rowBytes(COLS);
        MemorySegment m = arena.allocate(size, 64);
        for (long i = 0; i + 8 <= size; i += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        ValueLayout.OfShort half = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        short scale = Float.floatToFloat16(0.01f);
        switch (type) {
            case F32 -> {
                ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < size; i += 4) {
                    m.set(f, i, (float) (random.nextDouble() - 0.5));
                }
            }
            case Q8_0, Q4_0, Q5_0 -> {
                for (long blk = 0; blk < size; blk += type.typeSize()) {
                    m.set(half, blk, scale);
                }
            }
            case Q4_K, Q5_K -> {
                for (long blk = 0; blk < size; blk += type.typeSize()) {
                    m.set(half, blk, scale);
                    m.set(half, blk + 2, scale);
                }
            }
            case Q6_K -> {
                for (long blk = 0; blk < size; blk += type.typeSize()) {
                    m.set(half, blk + 208, scale);
                }
            }
            default -> throw new IllegalArgumentException("no benchmark weights for " + type);
        }
        return new WeightMatrix(type, m, 0, rows, COLS);
    }

    /** The same weights written to a temporary file and mapped back (deleted when the arena closes). */
    private static WeightMatrix mapToFile(WeightMatrix w, Arena arena) {
        try {
            Path file = Files.createTempFile("cw-bench-" + w.type(), ".bin");
            file.toFile().deleteOnExit();
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment target = channel.map(FileChannel.MapMode.READ_WRITE, 0, w.byteSize(), arena);
                target.copyFrom(w.data().asSlice(w.offset(), w.byteSize()));
                target.force();
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, w.byteSize(), arena);
                Files.delete(file);
                return new WeightMatrix(w.type(), mapped, 0, w.rows(), w.cols());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map benchmark weights through a temporary file: " + e.getMessage(), e);
        }
    }

    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }
}
