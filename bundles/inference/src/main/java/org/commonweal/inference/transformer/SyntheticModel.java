package org.commonweal.inference.transformer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;

import org.commonweal.inference.gguf.GgufWriter;
import org.commonweal.kernels.Dequantize;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.Half;

/**
 * A random-weight {@code llama} model of a named shape and weight type, written as a complete GGUF file
 * (hyperparameters, a SentencePiece-style vocabulary, a ChatML chat template): benchmarks and the node's
 * built-in demo model need no download. It produces nonsense, fast.
 * <p>
 * Every 2-D tensor has the weight type (as {@code llama-quantize --pure}); norms are F32 ones. Weights are
 * zero-mean with a standard deviation of {@code 1/sqrt(cols)}, so activations keep their scale through
 * the layers. Quantized tensors are random raw blocks whose scale (and min) fields are set so that the
 * dequantized values have that spread and mean 0 ({@link #calibrate}). A K-quant tensor whose rows are not whole
 * 256-element blocks falls back as llama.cpp does (Q4_K to Q5_0, Q6_K to Q8_0), except Q5_K to Q5_0
 * (llama.cpp's Q5_1 is not a type Commonweal reads). The file's bytes depend only on the spec and the seed.
 *
 * @param shape the dimensions
 * @param weightType the type of the 2-D tensors
 */
public record SyntheticModel(Shape shape, GgmlType weightType) {

    /** The shapes of shared/testdata/REFERENCE.md, and a tiny one for the demo and tests. */
    public enum Shape {
        DEMO("demo", 128, 2, 4, 2, 384, 512, 2048, false),
        M15("15m", 288, 6, 6, 6, 768, 32000, 2048, false),
        M110("110m", 768, 12, 12, 12, 2048, 32000, 2048, false),
        /** Llama 3.2 1B's dimensions; the output head is tied to the token embeddings. */
        B1("1b", 2048, 16, 32, 8, 8192, 128256, 131072, true);

        private final String label;
        final int dim;
        final int layers;
        final int heads;
        final int kvHeads;
        final int ffnDim;
        final int vocabularySize;
        final int contextLength;
        final boolean tiedOutput;

        Shape(String label, int dim, int layers, int heads, int kvHeads, int ffnDim, int vocabularySize,
                int contextLength, boolean tiedOutput) {
            this.label = label;
            this.dim = dim;
            this.layers = layers;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.ffnDim = ffnDim;
            this.vocabularySize = vocabularySize;
            this.contextLength = contextLength;
            this.tiedOutput = tiedOutput;
        }

        /** The name in specs: demo, 15m, 110m, 1b. */
        public String label() {
            return label;
        }

        int headDim() {
            return dim / heads;
        }
    }

    /** The weight types a synthetic model can have. */
    public static final List<GgmlType> WEIGHT_TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    /** The control tokens after the 256 byte tokens: ChatML's. */
    /** Metadata key set to true in every synthetic model: its weights are random. */
    public static final String RANDOM_WEIGHTS_KEY = "commonweal.random_weights";

    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";

    /** The ChatML template of Qwen2 and SmolLM. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    // SentencePiece token types, as llama.cpp numbers them.
    private static final int NORMAL = 1;
    private static final int UNKNOWN = 2;
    private static final int CONTROL = 3;
    private static final int BYTE = 6;

    private static final ValueLayout.OfShort F16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes generated at a time: a heap buffer filled, its block scales set, then copied to the file. */
    private static final int CHUNK = 1 << 16;

    public SyntheticModel {
        if (!WEIGHT_TYPES.contains(weightType)) {
            throw new IllegalArgumentException("a synthetic model cannot have " + weightType + " weights; types: "
                    + typeNames());
        }
    }

    /**
     * Parses {@code <shape>-<type>}, such as {@code 1b-q4_0} or {@code 110m-q8_0}; fails listing the valid
     * shapes and types.
     */
    public static SyntheticModel parse(String spec) {
        String s = spec.strip().toLowerCase(Locale.ROOT);
        int dash = s.indexOf('-');
        Shape shape = null;
        GgmlType type = null;
        if (dash > 0) {
            for (Shape candidate : Shape.values()) {
                if (candidate.label.equals(s.substring(0, dash))) {
                    shape = candidate;
                }
            }
            for (GgmlType candidate : WEIGHT_TYPES) {
                if (candidate.name().toLowerCase(Locale.ROOT).equals(s.substring(dash + 1))) {
                    type = candidate;
                }
            }
        }
        if (shape == null || type == null) {
            throw new IllegalArgumentException("synthetic model '" + spec + "' is not <shape>-<type> (for example"
                    + " 1b-q4_0); shapes: " + Arrays.stream(Shape.values()).map(Shape::label).collect(Collectors.joining(", "))
                    + "; types: " + typeNames());
        }
        return new SyntheticModel(shape, type);
    }

    private static String typeNames() {
        return WEIGHT_TYPES.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    }

    /** The spec this model parses from: {@code 1b-q4_0}. */
    @Override
    public String toString() {
        return shape.label + "-" + weightType.name().toLowerCase(Locale.ROOT);
    }

    /** Bytes of tensor data the file holds (about its size). */
    public long tensorBytes() {
        return tensors(0).bytes;
    }

    /**
     * Writes the model to {@code target} (complete, or not at all); {@code progress} hears the tensor bytes
     * written so far, out of {@link #tensorBytes()}.
     */
    public void write(Path target, long seed, LongConsumer progress) throws IOException {
        GgufWriter writer = new GgufWriter();
        metadata(writer);
        tensors(seed).add(writer, progress);
        writer.write(target);
    }

    private void metadata(GgufWriter w) {
        Shape s = shape;
        w.putString("general.architecture", "llama");
        w.putString("general.type", "model");
        w.putString("general.name", "Commonweal " + shape.label + " model (" + weightType
                + ") — random weights, produces nonsense");
        // Marks the model as random-weight for whoever serves it (/v1/models says so).
        w.putBool(RANDOM_WEIGHTS_KEY, true);
        w.putU32("llama.vocab_size", s.vocabularySize);
        w.putU32("llama.context_length", s.contextLength);
        w.putU32("llama.embedding_length", s.dim);
        w.putU32("llama.block_count", s.layers);
        w.putU32("llama.feed_forward_length", s.ffnDim);
        w.putU32("llama.attention.head_count", s.heads);
        w.putU32("llama.attention.head_count_kv", s.kvHeads);
        w.putU32("llama.rope.dimension_count", s.headDim());
        w.putF32("llama.rope.freq_base", 10000.0f);
        w.putF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);

        String[] tokens = new String[s.vocabularySize];
        float[] scores = new float[s.vocabularySize];
        int[] types = new int[s.vocabularySize];
        tokens[0] = "<unk>";
        types[0] = UNKNOWN;
        tokens[1] = "<s>";
        types[1] = CONTROL;
        tokens[2] = "</s>";
        types[2] = CONTROL;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = BYTE;
        }
        int imStart = 3 + 256;
        tokens[imStart] = IM_START;
        types[imStart] = CONTROL;
        tokens[imStart + 1] = IM_END;
        types[imStart + 1] = CONTROL;
        // Filler pieces "▁a", "▁b", ..., "▁aa", ...: unique, more likely (higher score) first.
        for (int i = imStart + 2, n = 0; i < tokens.length; i++, n++) {
            tokens[i] = "\u2581" + letters(n);
            scores[i] = -1 - n;
            types[i] = NORMAL;
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putStrings("tokenizer.ggml.tokens", tokens);
        w.putF32s("tokenizer.ggml.scores", scores);
        w.putI32s("tokenizer.ggml.token_type", types);
        w.putU32("tokenizer.ggml.bos_token_id", 1);
        w.putU32("tokenizer.ggml.eos_token_id", 2);
        w.putU32("tokenizer.ggml.unknown_token_id", 0);
        // Chat turns end at <|im_end|>, as in the models this template comes from.
        w.putU32("tokenizer.ggml.eot_token_id", imStart + 1);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putString("tokenizer.chat_template", CHAT_TEMPLATE);
    }

    /** The n-th string of lowercase letters in length-then-alphabetical order: a .. z, aa .. zz, aaa, ... */
    static String letters(int n) {
        int length = 1;
        long count = 26;
        while (n >= count) {
            n -= (int) count;
            count *= 26;
            length++;
        }
        char[] c = new char[length];
        for (int i = length - 1; i >= 0; i--) {
            c[i] = (char) ('a' + n % 26);
            n /= 26;
        }
        return new String(c);
    }

    /** The tensors in llama.cpp's names, each with its own random stream (split in order from the seed). */
    private Tensors tensors(long seed) {
        Shape s = shape;
        int qDim = s.heads * s.headDim();
        int kvDim = s.kvHeads * s.headDim();
        Tensors t = new Tensors(new SplittableRandom(seed));
        t.matrix("token_embd.weight", s.vocabularySize, s.dim);
        for (int l = 0; l < s.layers; l++) {
            String p = "blk." + l + ".";
            t.ones(p + "attn_norm.weight", s.dim);
            t.matrix(p + "attn_q.weight", qDim, s.dim);
            t.matrix(p + "attn_k.weight", kvDim, s.dim);
            t.matrix(p + "attn_v.weight", kvDim, s.dim);
            t.matrix(p + "attn_output.weight", s.dim, qDim);
            t.ones(p + "ffn_norm.weight", s.dim);
            t.matrix(p + "ffn_gate.weight", s.ffnDim, s.dim);
            t.matrix(p + "ffn_up.weight", s.ffnDim, s.dim);
            t.matrix(p + "ffn_down.weight", s.dim, s.ffnDim);
        }
        t.ones("output_norm.weight", s.dim);
        if (!s.tiedOutput) {
            t.matrix("output.weight", s.vocabularySize, s.dim);
        }
        return t;
    }

    /** The type of a matrix with rows of {@code cols}: the weight type, or llama.cpp's fallback for K-quants. */
    GgmlType typeFor(int cols) {
        if (cols % weightType.blockSize() == 0) {
            return weightType;
        }
        return switch (weightType) {
            case Q4_K, Q5_K -> GgmlType.Q5_0;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new IllegalStateException(weightType + " rows of " + cols + " elements");
        };
    }

    private final class Tensors {
        private record Entry(String name, GgmlType type, long[] dims, SplittableRandom random) {
        }

        private final SplittableRandom seeds;
        private final List<Entry> entries = new ArrayList<>();
        long bytes;

        Tensors(SplittableRandom seeds) {
            this.seeds = seeds;
        }

        void matrix(String name, int rows, int cols) {
            GgmlType type = typeFor(cols);
            entries.add(new Entry(name, type, new long[] { cols, rows }, seeds.split()));
            bytes += rows * type.rowBytes(cols);
        }

        void ones(String name, int n) {
            entries.add(new Entry(name, GgmlType.F32, new long[] { n }, null));
            bytes += 4L * n;
        }

        void add(GgufWriter writer, LongConsumer progress) {
            long[] written = { 0 };
            Map<GgmlType, float[]> scales = new EnumMap<>(GgmlType.class);
            for (Entry e : entries) {
                if (e.random == null) {
                    float[] ones = new float[(int) e.dims[0]];
                    Arrays.fill(ones, 1.0f);
                    writer.tensor(e.name, e.dims, ones);
                    written[0] += 4L * ones.length;
                    continue;
                }
                float std = (float) (1 / Math.sqrt(e.dims[0]));
                float[] unit = scales.computeIfAbsent(e.type, SyntheticModel::calibrate);
                writer.tensor(e.name, e.type, e.dims, segment -> {
                    fill(segment, e.type, std, unit, e.random, done -> progress.accept(written[0] + done));
                    written[0] += segment.byteSize();
                });
            }
        }
    }

    /**
     * Fills {@code segment} with random values of spread {@code std}: floats uniform in
     * [-std·√3, std·√3], or random blocks with their d (and min) fields set to {@code std} times
     * {@code unit} ({@link #calibrate}).
     */
    private static void fill(MemorySegment segment, GgmlType type, float std, float[] unit, SplittableRandom random,
            LongConsumer progress) {
        long[] buffer = new long[CHUNK / 8];
        MemorySegment chunk = MemorySegment.ofArray(buffer);
        long blockBytes = type.typeSize();
        long chunkBytes = CHUNK / blockBytes * blockBytes;
        short d = Half.floatToF16(std * unit[0]);
        short min = Half.floatToF16(std * unit[1]);
        float range = (float) (std * Math.sqrt(3));
        for (long at = 0; at < segment.byteSize(); at += chunkBytes) {
            long n = Math.min(chunkBytes, segment.byteSize() - at);
            switch (type) {
                case F32 -> {
                    for (long i = 0; i < n; i += 4) {
                        chunk.set(F32_LE, i, uniform(random, range));
                    }
                }
                case F16, BF16 -> {
                    for (long i = 0; i < n; i += 2) {
                        float v = uniform(random, range);
                        chunk.set(F16_LE, i, type == GgmlType.F16 ? Half.floatToF16(v) : Half.floatToBf16(v));
                    }
                }
                default -> {
                    for (int i = 0; i < (n + 7) / 8; i++) {
                        buffer[i] = random.nextLong();
                    }
                    setScales(chunk, n, type, d, min, true);
                }
            }
            MemorySegment.copy(chunk, 0, segment, at, n);
            progress.accept(at + n);
        }
    }

    private static float uniform(SplittableRandom random, float range) {
        return (float) ((random.nextDouble() * 2 - 1) * range);
    }

    /**
     * Sets the f16 d (and min) field of every block in the first {@code bytes} of {@code blocks}, negated in
     * every other block if {@code alternate}: that cancels the mean a format may have on random bytes (Q4_0's
     * values run from -8 to 7 times d).
     */
    private static void setScales(MemorySegment blocks, long bytes, GgmlType type, short d, short min, boolean alternate) {
        short negD = (short) (d ^ 0x8000);
        short negMin = (short) (min ^ 0x8000);
        for (long b = 0, i = 0; b < bytes; b += type.typeSize(), i++) {
            boolean negate = alternate && (i & 1) == 1;
            short dd = negate ? negD : d;
            short mm = negate ? negMin : min;
            switch (type) {
                case Q6_K -> blocks.set(F16_LE, b + 208, dd);
                case Q4_1, Q4_K, Q5_K -> {
                    blocks.set(F16_LE, b, dd);
                    blocks.set(F16_LE, b + 2, mm);
                }
                default -> blocks.set(F16_LE, b, dd);
            }
        }
    }

    /**
     * The d and min fields that give random blocks of {@code type} values of mean 0 and standard deviation 1
     * (scaled by the target spread when written). A dequantized value is linear in d and min,
     * {@code x = d·A + min·B} with A and B set by the block's random bytes, so: measure the mean of A (d = 1,
     * min = 0) and of B (d = 0, min = 1) over random blocks, choose the ratio min/d that cancels the mean,
     * then measure the spread at d = 1 with that ratio. Types without a min field are centred by
     * alternating signs when written. Floats need no calibration.
     */
    static float[] calibrate(GgmlType type) {
        if (type.blockSize() == 1) {
            return new float[] { 1, 0 };
        }
        boolean hasMin = type == GgmlType.Q4_1 || type == GgmlType.Q4_K || type == GgmlType.Q5_K;
        int blocks = Math.max(64, 16384 / type.blockSize());
        MemorySegment sample = MemorySegment.ofArray(new long[(int) ((blocks * type.typeSize() + 7) / 8)]);
        SplittableRandom random = new SplittableRandom(type.id());
        for (long i = 0; i + 8 <= sample.byteSize(); i += 8) {
            sample.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        float ratio = 0;
        if (hasMin) {
            double meanA = moments(sample, blocks, type, 1, 0)[0];
            double meanB = moments(sample, blocks, type, 0, 1)[0];
            ratio = (float) (-meanA / meanB);
        }
        double[] m = moments(sample, blocks, type, 1, ratio);
        double std = Math.sqrt(m[1] - m[0] * m[0]);
        return new float[] { (float) (1 / std), (float) (ratio / std) };
    }

    /** Mean and mean square of the sample's values with these d and min fields. */
    private static double[] moments(MemorySegment sample, int blocks, GgmlType type, float d, float min) {
        long bytes = (long) blocks * type.typeSize();
        setScales(sample, bytes, type, Half.floatToF16(d), Half.floatToF16(min), false);
        int n = blocks * type.blockSize();
        float[] values = new float[n];
        Dequantize.row(type, sample, 0, values, 0, n);
        double sum = 0;
        double squares = 0;
        for (float v : values) {
            sum += v;
            squares += (double) v * v;
        }
        return new double[] { sum / n, squares / n };
    }

    /**
     * Writes a random LoRA adapter (llama.cpp's GGUF format, F32, alpha = 2 · rank) for a model of
     * configuration {@code c}: rank-{@code rank} deltas of small random values on {@code projections} in
     * every layer, deterministic per seed. For benchmarks and sample culture packs; it adapts nothing real.
     */
    public static void writeLora(ModelConfig c, int rank, List<LoraAdapter.Projection> projections, long seed, Path target)
            throws IOException {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        GgufWriter w = new GgufWriter().putString("general.architecture", c.architecture())
                .putString("general.type", "adapter").putString("adapter.type", "lora").putF32("adapter.lora.alpha", 2 * rank)
                .putString("general.name", "synthetic LoRA adapter: random weights (seed " + seed + ")");
        for (int l = 0; l < c.layers(); l++) {
            for (LoraAdapter.Projection p : projections) {
                int in = switch (p) {
                    case O -> c.qDim();
                    case DOWN -> c.ffnDim();
                    default -> c.dim();
                };
                int out = switch (p) {
                    case Q -> c.qDim();
                    case K, V -> c.kvDim();
                    case O, DOWN -> c.dim();
                    case GATE, UP -> c.ffnDim();
                };
                String name = "blk." + l + "." + p.tensor + ".weight.lora_";
                w.tensor(name + "a", new long[] {in, rank}, uniform(random, in * rank, 0.1));
                w.tensor(name + "b", new long[] {rank, out}, uniform(random, rank * out, 0.1));
            }
        }
        w.write(target);
    }

    private static float[] uniform(java.util.SplittableRandom random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }
}
