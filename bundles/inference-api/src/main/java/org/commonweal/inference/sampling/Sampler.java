package org.commonweal.inference.sampling;

import java.util.Arrays;

/**
 * Chooses the next token from a model's logits, in the order of llama.cpp's default sampler chain: penalties,
 * top-k, top-p, min-p, temperature, softmax, draw. Temperature 0 takes the most likely token after the
 * penalties (the lowest id among equals).
 *
 * <p>The result is reproducible bit for bit: other nodes re-execute inference and compare tokens, so the same
 * parameters, seed and logits must choose the same token on every JVM and CPU. Hence the sampler's own
 * generator (SplitMix64 seeded with {@link SamplingParams#seed()}, one draw per sampled token when the
 * temperature is above 0), {@link StrictMath#exp} (the intrinsic behind {@code Math.exp} may differ by CPU), sums
 * in a fixed order and orderings whose ties go to the lower token id.
 *
 * <p>One sampler per generated sequence: it keeps the generator's state and its buffers, so call
 * {@link #sample} once per token, in order, from one thread at a time.
 */
public final class Sampler {

    private final SamplingParams params;
    private final int vocabularySize;
    /** The logits after the penalties: the caller's array is left alone. */
    private final float[] logits;
    /** The remaining candidates' token ids. */
    private final int[] candidates;
    /** Ordering keys (see {@link #key}): top-k's heap, or the candidates top-p sorts. */
    private long[] keys;
    /** Each remaining candidate's unnormalised probability. */
    private double[] weights;
    /** The history window the penalties count, sorted. */
    private final int[] window;
    private long state;

    public Sampler(SamplingParams params, int vocabularySize) {
        if (params == null) {
            throw new IllegalArgumentException("sampling parameters are null");
        }
        if (vocabularySize <= 0) {
            throw new IllegalArgumentException("vocabulary size is " + vocabularySize + " but must be > 0");
        }
        this.params = params;
        this.vocabularySize = vocabularySize;
        this.logits = new float[vocabularySize];
        this.candidates = new int[vocabularySize];
        this.keys = new long[Math.min(params.topK(), vocabularySize)];
        this.weights = new double[Math.min(Math.max(params.topK(), 64), vocabularySize)];
        this.window = new int[params.repeatLastN()];
        this.state = params.seed();
    }

    /**
     * The next token.
     *
     * @param logits        the model's output; this vocabulary's logits are {@code logits[offset .. offset + vocabularySize)}
     * @param history       the prompt's tokens followed by those generated so far (the penalties look at its end)
     * @param historyLength how many entries of {@code history} are used
     */
    public int sample(float[] logits, int offset, int[] history, int historyLength) {
        if (logits == null || offset < 0 || offset > logits.length - vocabularySize) {
            throw new IllegalArgumentException("the logits must hold " + vocabularySize + " values from offset " + offset
                    + " but the array has " + (logits == null ? "null" : logits.length + " values"));
        }
        if (history == null || historyLength < 0 || historyLength > history.length) {
            throw new IllegalArgumentException("history length " + historyLength + " is outside the history array of "
                    + (history == null ? "null" : history.length + " tokens"));
        }
        load(logits, offset);
        if (params.penalises()) {
            penalise(history, historyLength);
        }
        if (params.temperature() == 0) {
            return requireFinite(argmax());
        }
        int n = vocabularySize;
        boolean sorted = false;
        if (params.topK() > 0 && params.topK() < vocabularySize) {
            n = topK(params.topK());
            sorted = true;
        } else {
            for (int id = 0; id < n; id++) {
                candidates[id] = id;
            }
        }
        float max = this.logits[requireFinite(sorted ? candidates[0] : argmax())];
        // Top-p's probabilities are over the candidates before min-p: its normaliser is taken first, and both filters
        // keep a most-likely prefix, so applying min-p first (to sort fewer tokens) does not change the outcome.
        double topPNormaliser = params.topP() < 1 ? sumExp(n, max, 1) : 0;
        if (params.minP() > 0) {
            n = minP(n, max + (float) StrictMath.log(params.minP()));
        }
        if (params.topP() < 1) {
            n = topP(n, sorted, max, topPNormaliser);
        }
        return draw(n, max);
    }

    private void load(float[] source, int offset) {
        for (int id = 0; id < vocabularySize; id++) {
            float v = source[offset + id];
            // NaN or +infinity would make the softmax NaN: the forward pass went wrong.
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("the logit of token " + id + " is " + v
                        + ": the model's output is broken (check the weights and the forward pass)");
            }
            logits[id] = v;
        }
    }

    /** Repeat penalty, then frequency and presence penalties, for each distinct token of the window (llama.cpp's formulas). */
    private void penalise(int[] history, int historyLength) {
        int start = Math.max(0, historyLength - window.length);
        int length = historyLength - start;
        for (int i = 0; i < length; i++) {
            int token = history[start + i];
            if (token < 0 || token >= vocabularySize) {
                throw new IllegalArgumentException("history token " + (start + i) + " is " + token
                        + ", outside the vocabulary of " + vocabularySize + " tokens");
            }
            window[i] = token;
        }
        Arrays.sort(window, 0, length);
        for (int i = 0; i < length;) {
            int token = window[i];
            int count = 0;
            while (i < length && window[i] == token) {
                count++;
                i++;
            }
            float v = logits[token];
            v = v <= 0 ? v * params.repeatPenalty() : v / params.repeatPenalty();
            logits[token] = v - (count * params.frequencyPenalty() + params.presencePenalty());
        }
    }

    /** The most likely token; the lowest id among equals. */
    private int argmax() {
        int best = 0;
        for (int id = 1; id < vocabularySize; id++) {
            if (logits[id] > logits[best]) {
                best = id;
            }
        }
        return best;
    }

    private int requireFinite(int best) {
        if (logits[best] == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -infinity after the penalties: there is no token to sample");
        }
        return best;
    }

    /** Puts the k most likely tokens, most likely first, in {@code candidates}; a bounded heap, not a sort of all. */
    private int topK(int k) {
        long[] heap = keys; // a max-heap of keys: its root is the worst of the best k so far
        for (int id = 0; id < k; id++) {
            heap[id] = key(id);
            siftUp(heap, id);
        }
        float worst = logits[(int) heap[0]];
        for (int id = k; id < vocabularySize; id++) {
            // Ids come in ascending order, so a later token equal to the worst kept one ranks below it.
            if (logits[id] > worst) {
                heap[0] = key(id);
                siftDown(heap, k);
                worst = logits[(int) heap[0]];
            }
        }
        Arrays.sort(heap, 0, k);
        for (int i = 0; i < k; i++) {
            candidates[i] = (int) heap[i];
        }
        return k;
    }

    private static void siftUp(long[] heap, int i) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] >= heap[i]) {
                return;
            }
            swap(heap, parent, i);
            i = parent;
        }
    }

    private static void siftDown(long[] heap, int size) {
        for (int i = 0;;) {
            int child = 2 * i + 1;
            if (child >= size) {
                return;
            }
            if (child + 1 < size && heap[child + 1] > heap[child]) {
                child++;
            }
            if (heap[i] >= heap[child]) {
                return;
            }
            swap(heap, i, child);
            i = child;
        }
    }

    private static void swap(long[] a, int i, int j) {
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /**
     * Moves the candidates whose logit is at least {@code threshold} to the front, most likely first (the lower id
     * first among equals), the others behind them; returns how many are in front.
     */
    private int sortToFront(int n, float threshold) {
        if (keys.length < n) {
            keys = new long[vocabularySize];
        }
        int front = 0;
        int back = n;
        for (int i = 0; i < n; i++) {
            int id = candidates[i];
            if (logits[id] >= threshold) {
                keys[front++] = key(id);
            } else {
                keys[--back] = id;
            }
        }
        Arrays.sort(keys, 0, front);
        for (int i = 0; i < n; i++) {
            candidates[i] = (int) keys[i];
        }
        return front;
    }

    /**
     * A key whose ascending order is descending logit, then ascending id: the logit's bits made to order like
     * the float (-0 counted as +0), inverted, above the id. Keys are distinct, so every ordering is total.
     */
    private long key(int id) {
        int bits = Float.floatToRawIntBits(logits[id] + 0.0f);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | id;
    }

    /** Keeps the candidates whose logit is at least {@code threshold} (max + ln minP), in their order. */
    private int minP(int n, float threshold) {
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (logits[candidates[i]] >= threshold) {
                candidates[kept++] = candidates[i];
            }
        }
        return kept;
    }

    /**
     * Keeps the most likely candidates until their cumulative probability reaches p. Unsorted candidates (a whole
     * vocabulary) are not all sorted: the kept ones are nearly always close to the best, so those within a logit gap
     * of it are sorted first and the gap widened until the walk reaches p. The outcome is that of a full sort.
     */
    private int topP(int n, boolean sorted, float max, double normaliser) {
        for (int round = 0;; round++) {
            int front = sorted ? n : sortToFront(n, round < 5 ? max - (2 << round) : Float.NEGATIVE_INFINITY);
            double cumulative = 0;
            for (int i = 0; i < front; i++) {
                cumulative += StrictMath.exp((double) logits[candidates[i]] - max) / normaliser;
                if (cumulative >= params.topP()) {
                    return i + 1;
                }
            }
            if (front == n) {
                return n;
            }
        }
    }

    /** Sum of exp((logit - max) / temperature) over the first n candidates, in their order; fills {@code weights}. */
    private double sumExp(int n, float max, float temperature) {
        if (weights.length < n) {
            weights = new double[vocabularySize];
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double w = StrictMath.exp(((double) logits[candidates[i]] - max) / temperature);
            weights[i] = w;
            sum += w;
        }
        return sum;
    }

    /** Softmax at the temperature and one draw from the generator. */
    private int draw(int n, float max) {
        double sum = sumExp(n, max, params.temperature());
        double target = nextUniform() * sum;
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < n; i++) {
            if (weights[i] > 0) {
                cumulative += weights[i];
                last = i;
                if (target < cumulative) {
                    return candidates[i];
                }
            }
        }
        return candidates[last]; // only when u * sum rounded up to the sum
    }

    /** SplitMix64's next value, as a uniform double in [0, 1) from its top 53 bits. */
    private double nextUniform() {
        long z = state += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }
}
