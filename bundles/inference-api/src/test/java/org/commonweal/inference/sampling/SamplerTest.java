package org.commonweal.inference.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final int[] NO_HISTORY = {};

    /** 64 distinct logits from -4 to 3.875 in a scrambled order, exact in float on every platform. */
    private static float[] scrambled() {
        float[] logits = new float[64];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = ((i * 37) % 64) / 8f - 4f;
        }
        return logits;
    }

    /** Logits whose softmax is exactly the given probabilities (up to rounding). */
    private static float[] fromProbabilities(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) StrictMath.log(probabilities[i]);
        }
        return logits;
    }

    private static SamplingParams params(float temperature, int topK, float topP, float minP) {
        return new SamplingParams(temperature, topK, topP, minP, 1, 0, 0, 0, 7);
    }

    private static int[] sequence(SamplingParams params, float[] logits, int count) {
        Sampler sampler = new Sampler(params, logits.length);
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = sampler.sample(logits, 0, NO_HISTORY, 0);
        }
        return tokens;
    }

    private static int[] histogram(SamplingParams params, float[] logits, int draws) {
        int[] counts = new int[logits.length];
        for (int token : sequence(params, logits, draws)) {
            counts[token]++;
        }
        return counts;
    }

    // ------------------------------------------------------------------ determinism

    @Test
    void theSameSeedGivesTheSameSequenceAndAnotherSeedAnother() {
        float[] logits = scrambled();
        int[] first = sequence(SamplingParams.defaults(42), logits, 200);
        assertArrayEquals(first, sequence(SamplingParams.defaults(42), logits, 200));
        assertFalse(Arrays.equals(first, sequence(SamplingParams.defaults(43), logits, 200)));
    }

    /** Golden tokens: a change in the generator, the maths or the ordering changes them, and breaks replay on other nodes. */
    @Test
    void goldenSequences() {
        float[] logits = scrambled();
        assertArrayEquals(new int[] {43, 38, 57, 57, 19, 55, 38, 62, 57, 50, 38, 31, 31, 31, 5, 38, 19, 31, 19, 24, 22, 19, 50, 50}, sequence(SamplingParams.defaults(42), logits, 24));
        // No top-k: all 64 tokens are candidates, sorted for top-p.
        assertArrayEquals(new int[] {19, 5, 29, 55, 43, 38, 19, 31, 50, 10, 38, 19, 36, 3, 29, 31, 38, 62, 41, 43, 50, 62, 31, 43}, sequence(new SamplingParams(1.3f, 0, 0.9f, 0, 1, 0, 0, 0, -5), logits, 24));
        // Nothing filtered: the draw is over all tokens in id order.
        assertArrayEquals(new int[] {10, 31, 12, 33, 8, 43, 54, 50, 36, 38, 56, 38, 34, 13, 8, 5, 8, 12, 33, 38, 60, 34, 41, 43}, sequence(new SamplingParams(2f, 0, 1, 0, 1, 0, 0, 0, 123456789L), logits, 24));
    }

    @Test
    void theCallersLogitsAreLeftAloneAndTheOffsetIsHonoured() {
        float[] logits = scrambled();
        float[] padded = new float[logits.length + 10];
        System.arraycopy(logits, 0, padded, 10, logits.length);
        float[] before = padded.clone();
        SamplingParams penalising = new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.3f, 64, 0.5f, 0.5f, 9);
        Sampler direct = new Sampler(penalising, logits.length);
        Sampler offset = new Sampler(penalising, logits.length);
        int[] history = {1, 2, 3, 1};
        for (int i = 0; i < 50; i++) {
            assertEquals(direct.sample(logits, 0, history, 4), offset.sample(padded, 10, history, 4));
        }
        assertArrayEquals(before, padded);
    }

    // ------------------------------------------------------------------ greedy

    @Test
    void greedyTakesTheMostLikelyTokenAndTheLowestIdAmongEquals() {
        Sampler greedy = new Sampler(SamplingParams.greedy(), 5);
        assertEquals(3, greedy.sample(new float[] {1, 2, -1, 5, 4}, 0, NO_HISTORY, 0));
        assertEquals(1, greedy.sample(new float[] {1, 5, -1, 5, 5}, 0, NO_HISTORY, 0));
        assertEquals(0, greedy.sample(new float[] {-0f, 0f, -1, -2, -3}, 0, NO_HISTORY, 0));
        assertEquals(4, greedy.sample(new float[] {Float.NEGATIVE_INFINITY, -9, -8, -7, -6}, 0, NO_HISTORY, 0));
    }

    @Test
    void samplingKeepsEqualLogitsInIdOrder() {
        // top-k 1 among equal logits keeps the lowest id, whatever the draw.
        float[] logits = {0, 3, 1, 3, 3};
        for (int token : sequence(params(1, 1, 1, 0), logits, 20)) {
            assertEquals(1, token);
        }
    }

    // ------------------------------------------------------------------ filters

    @Test
    void topKKeepsTheKMostLikely() {
        float[] logits = {0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.45f};
        int[] counts = histogram(params(1, 3, 1, 0), logits, 3000);
        assertTrue(counts[0] > 0 && counts[5] > 0 && counts[1] > 0, Arrays.toString(counts));
        assertEquals(0, counts[2] + counts[3] + counts[4], Arrays.toString(counts));
        int[] all = histogram(params(1, 0, 1, 0), logits, 3000);
        assertTrue(all[2] > 0 && all[3] > 0 && all[4] > 0, Arrays.toString(all));
    }

    @Test
    void topPKeepsTheMostLikelyUntilTheirProbabilityReachesP() {
        float[] logits = fromProbabilities(0.15, 0.5, 0.05, 0.3);
        // 0.5 < 0.75, then 0.5 + 0.3 >= 0.75: tokens 1 and 3 stay.
        int[] counts = histogram(params(1, 0, 0.75f, 0), logits, 3000);
        assertTrue(counts[1] > 0 && counts[3] > 0, Arrays.toString(counts));
        assertEquals(0, counts[0] + counts[2], Arrays.toString(counts));
        // Renormalised: token 1 has 0.5 / 0.8 of the draws.
        assertEquals(0.625, counts[1] / 3000.0, 0.03);
        // After top-k 3 the probabilities are renormalised over 3 tokens: 0.5 / 0.95 >= 0.5 alone.
        int[] afterTopK = histogram(params(1, 3, 0.5f, 0), logits, 1000);
        assertEquals(1000, afterTopK[1], Arrays.toString(afterTopK));
    }

    @Test
    void topPOverAWholeVocabularyReachesPastTheTokensNearTheBest() {
        // Token 0 has 0.957 of the mass, 999 tokens 10 below it 0.0000434 each: top-p 0.99 keeps token 0 and the
        // 769 lowest ids of the others (equal logits go in id order), so the sampler must look beyond the best few.
        float[] logits = new float[1000];
        Arrays.fill(logits, -5);
        logits[0] = 5;
        int[] counts = histogram(params(1, 0, 0.99f, 0), logits, 3000);
        int others = 3000 - counts[0];
        assertTrue(others > 50 && others < 160, "others " + others);
        for (int id = 770; id < logits.length; id++) {
            assertEquals(0, counts[id], "token " + id);
        }
    }

    @Test
    void minPDropsTokensLessLikelyThanAFractionOfTheBest() {
        float[] logits = fromProbabilities(0.15, 0.5, 0.05, 0.3);
        // Threshold 0.2 * 0.5 = 0.1: token 2 (0.05) goes, token 0 (0.15) stays.
        int[] counts = histogram(params(1, 0, 1, 0.2f), logits, 3000);
        assertTrue(counts[0] > 0 && counts[1] > 0 && counts[3] > 0, Arrays.toString(counts));
        assertEquals(0, counts[2], Arrays.toString(counts));
        // With top-p as well, the smaller set wins whichever filter cuts it.
        int[] both = histogram(params(1, 0, 0.75f, 0.2f), logits, 3000);
        assertEquals(0, both[0] + both[2], Arrays.toString(both));
        int[] minPCuts = histogram(params(1, 0, 0.99f, 0.5f), logits, 3000);
        assertEquals(0, minPCuts[0] + minPCuts[2], Arrays.toString(minPCuts));
        assertTrue(minPCuts[3] > 0, Arrays.toString(minPCuts));
    }

    @Test
    void temperatureSharpensOrFlattens() {
        float[] logits = fromProbabilities(0.4, 0.3, 0.2, 0.1);
        int[] cold = histogram(params(0.25f, 0, 1, 0), logits, 4000);
        int[] warm = histogram(params(1, 0, 1, 0), logits, 4000);
        int[] hot = histogram(params(4, 0, 1, 0), logits, 4000);
        // p^(1/T) normalised: T=0.25 gives token 0 0.72, T=1 0.40, T=4 0.29.
        assertEquals(0.72, cold[0] / 4000.0, 0.03);
        assertEquals(0.40, warm[0] / 4000.0, 0.03);
        assertEquals(0.29, hot[0] / 4000.0, 0.03);
        assertTrue(hot[3] > warm[3] && warm[3] > cold[3]);
    }

    // ------------------------------------------------------------------ penalties

    private static int greedyWith(float repeat, int lastN, float frequency, float presence, float[] logits, int... history) {
        return new Sampler(new SamplingParams(0, 0, 1, 0, repeat, lastN, frequency, presence, 0), logits.length)
                .sample(logits, 0, history, history.length);
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        assertEquals(1, greedyWith(1.1f, 64, 0, 0, new float[] {2.0f, 1.9f}, 0)); // 2.0 / 1.1 = 1.82
        assertEquals(0, greedyWith(1.1f, 64, 0, 0, new float[] {2.0f, 1.9f}, 1)); // 1.9 / 1.1
        assertEquals(1, greedyWith(1.1f, 64, 0, 0, new float[] {-1.0f, -1.05f}, 0)); // -1.1 < -1.05
        assertEquals(0, greedyWith(1, 64, 0, 0, new float[] {2.0f, 1.9f}, 0)); // 1 is off
    }

    @Test
    void frequencyPenaltyCountsOccurrencesAndPresencePenaltyDoesNot() {
        float[] logits = {3, 2};
        assertEquals(0, greedyWith(1, 64, 0.4f, 0, logits, 0, 0)); // 3 - 0.8
        assertEquals(1, greedyWith(1, 64, 0.4f, 0, logits, 0, 0, 0)); // 3 - 1.2
        assertEquals(0, greedyWith(1, 64, 0, 0.9f, logits, 0, 0, 0, 0, 0)); // 3 - 0.9 whatever the count
        assertEquals(1, greedyWith(1, 64, 0, 1.5f, logits, 0)); // 3 - 1.5
        assertEquals(0, greedyWith(1, 64, -0.6f, 0, new float[] {2, 2.5f}, 0)); // 2 + 0.6: a negative penalty encourages
        assertEquals(1, greedyWith(1, 64, 0, 0, new float[] {2, 2.5f}, 0));
    }

    @Test
    void penaltiesLookOnlyAtTheLastRepeatLastNTokens() {
        float[] logits = {3, 2, 0, 0, 0, 0, 0};
        assertEquals(0, greedyWith(1, 2, 0, 1.5f, logits, 0, 5, 6)); // token 0 is outside the window
        assertEquals(1, greedyWith(1, 3, 0, 1.5f, logits, 0, 5, 6));
        assertEquals(0, greedyWith(1, 0, 0, 1.5f, logits, 0, 5, 6)); // window 0: no penalties at all
        assertEquals(1, greedyWith(1.6f, 3, 0, 0, logits, 0, 5, 6)); // 3 / 1.6 < 2
        // historyLength below the array's length: the tail beyond it is not history.
        Sampler sampler = new Sampler(new SamplingParams(0, 0, 1, 0, 1, 64, 0, 1.5f, 0), logits.length);
        assertEquals(0, sampler.sample(logits, 0, new int[] {5, 0}, 1));
    }

    // ------------------------------------------------------------------ invalid input

    @Test
    void invalidParametersAreRefusedNamingTheFieldTheValueAndTheRange() {
        record Case(String field, String value, Function<Float, SamplingParams> make, float bad) {
        }
        Case[] cases = {
            new Case("temperature", "-0.1", v -> new SamplingParams(v, 40, 1, 0, 1, 64, 0, 0, 1), -0.1f),
            new Case("temperature", "NaN", v -> new SamplingParams(v, 40, 1, 0, 1, 64, 0, 0, 1), Float.NaN),
            new Case("topK", "-1", v -> new SamplingParams(1, v.intValue(), 1, 0, 1, 64, 0, 0, 1), -1),
            new Case("topP", "0.0", v -> new SamplingParams(1, 40, v, 0, 1, 64, 0, 0, 1), 0),
            new Case("topP", "1.01", v -> new SamplingParams(1, 40, v, 0, 1, 64, 0, 0, 1), 1.01f),
            new Case("minP", "1.0", v -> new SamplingParams(1, 40, 1, v, 1, 64, 0, 0, 1), 1),
            new Case("minP", "-0.5", v -> new SamplingParams(1, 40, 1, v, 1, 64, 0, 0, 1), -0.5f),
            new Case("repeatPenalty", "0.0", v -> new SamplingParams(1, 40, 1, 0, v, 64, 0, 0, 1), 0),
            new Case("repeatLastN", "-1", v -> new SamplingParams(1, 40, 1, 0, 1, v.intValue(), 0, 0, 1), -1),
            new Case("frequencyPenalty", "2.5", v -> new SamplingParams(1, 40, 1, 0, 1, 64, v, 0, 1), 2.5f),
            new Case("presencePenalty", "-2.5", v -> new SamplingParams(1, 40, 1, 0, 1, 64, 0, v, 1), -2.5f),
        };
        for (Case c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.make().apply(c.bad()), c.field());
            assertTrue(e.getMessage().startsWith("sampling parameter " + c.field() + " is " + c.value() + " but must be "),
                    e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new Sampler(SamplingParams.greedy(), 0));
    }

    @Test
    void defaultsAreLlamaCppServers() {
        assertEquals(new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1, 64, 0, 0, 5), SamplingParams.defaults(5));
        assertEquals(0, SamplingParams.greedy().temperature());
    }

    @Test
    void brokenLogitsAndHistoriesAreRefused() {
        Sampler sampler = new Sampler(new SamplingParams(1, 0, 1, 0, 1.1f, 64, 0, 0, 0), 3);
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[] {0, Float.NaN, 0}, 0, NO_HISTORY, 0));
        assertTrue(nan.getMessage().contains("logit of token 1 is NaN"), nan.getMessage());
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[] {0, 1, 0}, 0, new int[] {0, 3}, 2));
        assertTrue(outside.getMessage().contains("history token 1 is 3, outside the vocabulary of 3 tokens"), outside.getMessage());
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(new float[] {0, 1, 0}, 1, NO_HISTORY, 0));
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(new float[] {0, 1, 0}, 0, NO_HISTORY, 1));
        float[] masked = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(masked, 0, NO_HISTORY, 0));
    }

    // ------------------------------------------------------------------ large vocabularies

    @Test
    void aLlama3SizedVocabularyIsSampledFromItsBestTokens() {
        int vocabulary = 128_256;
        float[] logits = new float[vocabulary];
        long x = 1;
        for (int i = 0; i < vocabulary; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            logits[i] = (x >>> 40) / (float) (1 << 24) * 20 - 10;
        }
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        float fortieth = sorted[vocabulary - 40];
        int[] history = new int[64];
        for (SamplingParams params : new SamplingParams[] {SamplingParams.defaults(3),
                new SamplingParams(1, 0, 0.5f, 0, 1, 0, 0, 0, 3), new SamplingParams(1, 0, 1, 0.3f, 1, 0, 0, 0, 3)}) {
            Sampler a = new Sampler(params, vocabulary);
            Sampler b = new Sampler(params, vocabulary);
            long start = System.nanoTime();
            for (int i = 0; i < 64; i++) {
                int token = a.sample(logits, 0, history, i);
                assertEquals(token, b.sample(logits, 0, history, i));
                assertTrue(logits[token] >= (params.topK() > 0 ? fortieth : sorted[vocabulary - 1] - 1.21f),
                        "token " + token + " with logit " + logits[token]);
                history[i] = token;
            }
            System.out.printf("%s: %.2f ms per token%n", params, (System.nanoTime() - start) / 64 / 2e6);
        }
    }
}
