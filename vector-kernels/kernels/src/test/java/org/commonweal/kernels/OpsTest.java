package org.commonweal.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Ops} against {@link ScalarOps}, bit for bit, with both reduction implementations (one 512-bit
 * vector, two 256-bit vectors). All kernels compare exactly, the transcendental ones included: both sides
 * compute exp/tanh/sin/cos per element with StrictMath, so there is no tolerance to hide behind. Known
 * values and double-precision formulas check that the reference itself is right.
 */
class OpsTest {

    /** Sizes around the 16-lane and vector boundaries, and one large odd size. */
    static final int[] SIZES = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 257, 4096 + 3};
    static final boolean[] WIDTHS = {true, false};
    static final int PAD = 5;

    // ---- helpers ----

    static float[] random(SplittableRandom random, int n, float range) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((random.nextDouble() * 2 - 1) * range);
        }
        return a;
    }

    /** {@code n} random values at offset {@link #PAD} of an array with {@link #PAD} spare elements each side. */
    static float[] padded(SplittableRandom random, int n, float range) {
        return random(random, n + 2 * PAD, range);
    }

    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToRawIntBits(expected[i]);
            int a = Float.floatToRawIntBits(actual[i]);
            if (e != a) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + " (0x"
                        + Integer.toHexString(a) + "), expected " + expected[i] + " (0x" + Integer.toHexString(e) + ")");
            }
        }
    }

    static void assertBits(float expected, float actual, String what) {
        assertBits(new float[] {expected}, new float[] {actual}, what);
    }

    // ---- reductions: the fixed order ----

    @Test
    void reductionsMatchReferenceBitForBitAtEveryWidth() {
        SplittableRandom random = new SplittableRandom(1);
        for (int n : SIZES) {
            float[] a = padded(random, n, 3f);
            float[] b = padded(random, n, 3f);
            float dot = ScalarOps.dot(a, PAD, b, PAD + 1, n - 1);
            float squares = ScalarOps.sumOfSquares(a, PAD, n);
            float sum = ScalarOps.sum(a, PAD, n);
            float max = ScalarOps.max(a, PAD, n);
            for (boolean wide : WIDTHS) {
                String at = "n=" + n + " wide=" + wide;
                assertBits(dot, Ops.dot(a, PAD, b, PAD + 1, n - 1, wide), "dot " + at);
                assertBits(squares, Ops.dot(a, PAD, a, PAD, n, wide), "sum of squares " + at);
                assertBits(sum, Ops.fold(a, PAD, n, false, wide), "sum " + at);
                assertBits(max, Ops.fold(a, PAD, n, true, wide), "max " + at);
            }
        }
    }

    /**
     * 1 + 2^24 + 1 summed left to right is 2^24 (each +1 rounds away); in the fixed order the two 1s share
     * lane 0 (elements 0 and 16) and 2^24 sits in lane 1, so the result is 2^24 + 2. Catches any other order.
     */
    @Test
    void reductionOrderIsTheDocumentedSixteenLaneTree() {
        float[] x = new float[17];
        x[0] = 1f;
        x[1] = 16777216f;
        x[16] = 1f;
        float[] ones = new float[17];
        Arrays.fill(ones, 1f);
        float sequential = 0f;
        for (float v : x) {
            sequential += v;
        }
        assertEquals(16777216f, sequential);
        assertBits(16777218f, ScalarOps.sum(x, 0, 17), "reference sum");
        assertBits(16777218f, ScalarOps.dot(x, 0, ones, 0, 17), "reference dot");
        for (boolean wide : WIDTHS) {
            assertBits(16777218f, Ops.fold(x, 0, 17, false, wide), "sum wide=" + wide);
            assertBits(16777218f, Ops.dot(x, 0, ones, 0, 17, wide), "dot wide=" + wide);
        }
    }

    @Test
    void maxHandlesNegativesAndSignedZeros() {
        float[] x = {-3f, -0.0f, -7f, 0.0f, -1f};
        for (boolean wide : WIDTHS) {
            assertBits(0.0f, Ops.fold(x, 0, 5, true, wide), "max wide=" + wide);
            assertBits(-1f, Ops.fold(x, 4, 1, true, wide), "max of one wide=" + wide);
        }
    }

    // ---- rmsNorm ----

    @Test
    void rmsNormMatchesReference() {
        SplittableRandom random = new SplittableRandom(2);
        for (int n : SIZES) {
            float[] x = padded(random, n, 4f);
            float[] w = random(random, n, 2f);
            float[] expected = new float[n + 3];
            ScalarOps.rmsNorm(expected, 3, x, PAD, w, n, 1e-5f);
            for (boolean wide : WIDTHS) {
                float[] out = new float[n + 3];
                Ops.rmsNorm(out, 3, x, PAD, w, n, 1e-5f, wide);
                assertBits(expected, out, "rmsNorm n=" + n + " wide=" + wide);
            }
            float[] out = new float[n + 3];
            Ops.rmsNorm(out, 3, x, PAD, w, n, 1e-5f);
            assertBits(expected, out, "rmsNorm public n=" + n);
            // in place
            float[] inPlace = x.clone();
            Ops.rmsNorm(inPlace, PAD, inPlace, PAD, w, n, 1e-5f);
            assertBits(Arrays.copyOfRange(expected, 3, n + 3), Arrays.copyOfRange(inPlace, PAD, PAD + n),
                    "rmsNorm in place n=" + n);
        }
    }

    @Test
    void rmsNormOfAConstantVectorIsTheWeight() {
        float[] x = new float[4099];
        Arrays.fill(x, -2f);
        float[] w = new float[4099];
        Arrays.fill(w, 3f);
        float[] out = new float[4099];
        Ops.rmsNorm(out, 0, x, 0, w, 4099, 0f); // mean 4 exactly, scale 0.5 exactly
        for (float v : out) {
            assertBits(-3f, v, "rmsNorm of constant -2, weight 3");
        }
        Ops.rmsNorm(out, 0, x, 0, w, 4099, 1e-5f);
        double expected = -2 / Math.sqrt(4 + 1e-5) * 3;
        for (float v : out) {
            assertEquals(expected, v, 1e-6);
        }
    }

    @Test
    void rmsNormReferenceFollowsTheFormula() {
        SplittableRandom random = new SplittableRandom(3);
        float[] x = random(random, 300, 5f);
        float[] w = random(random, 300, 1f);
        float[] out = new float[300];
        ScalarOps.rmsNorm(out, 0, x, 0, w, 300, 1e-6f);
        double squares = 0;
        for (float v : x) {
            squares += (double) v * v;
        }
        double scale = 1 / Math.sqrt(squares / 300 + 1e-6);
        for (int i = 0; i < 300; i++) {
            assertEquals(x[i] * scale * w[i], out[i], 1e-5 * Math.abs(x[i] * scale * w[i]) + 1e-7);
        }
    }

    // ---- softmax ----

    @Test
    void softmaxMatchesReference() {
        SplittableRandom random = new SplittableRandom(4);
        for (int n : SIZES) {
            float[] x = padded(random, n, 20f);
            float[] expected = x.clone();
            ScalarOps.softmax(expected, PAD, n);
            for (boolean wide : WIDTHS) {
                float[] actual = x.clone();
                Ops.softmax(actual, PAD, n, wide);
                assertBits(expected, actual, "softmax n=" + n + " wide=" + wide);
            }
            float[] actual = x.clone();
            Ops.softmax(actual, PAD, n);
            assertBits(expected, actual, "softmax public n=" + n);
        }
    }

    @Test
    void softmaxSumsToOneAndIsShiftInvariant() {
        SplittableRandom random = new SplittableRandom(5);
        for (int n : new int[] {1, 17, 1000}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = random.nextInt(-80, 80) / 8f; // multiples of 1/8: shifting by 64 is exact
            }
            float[] shifted = new float[n];
            for (int i = 0; i < n; i++) {
                shifted[i] = x[i] + 64f;
            }
            Ops.softmax(x, 0, n);
            Ops.softmax(shifted, 0, n);
            assertBits(x, shifted, "softmax(x + 64) vs softmax(x), n=" + n);
            double sum = 0;
            for (float p : x) {
                assertTrue(p > 0f && p <= 1f, "probability " + p);
                sum += p;
            }
            assertEquals(1.0, sum, 1e-5, "sum of softmax, n=" + n);
        }
    }

    @Test
    void softmaxKnownValuesAndMaskedPositions() {
        float[] x = {0f, (float) Math.log(3), Float.NEGATIVE_INFINITY};
        Ops.softmax(x, 0, 3);
        assertEquals(0.25f, x[0], 1e-7f);
        assertEquals(0.75f, x[1], 1e-7f);
        assertBits(0f, x[2], "masked position");
        float[] one = {42f};
        Ops.softmax(one, 0, 1);
        assertBits(1f, one[0], "softmax of one element");
    }

    // ---- RoPE ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void ropeMatchesReference(boolean neox) {
        SplittableRandom random = new SplittableRandom(6);
        for (int headDim : new int[] {2, 4, 6, 14, 16, 18, 34, 64, 128, 130}) {
            for (int position : new int[] {0, 1, 7, 511, 100_000}) {
                int nHeads = 3;
                float[] x = padded(random, nHeads * headDim, 2f);
                float[] expected = x.clone();
                ScalarOps.rope(expected, PAD, nHeads, headDim, position, 10000f, neox);
                float[] actual = x.clone();
                Ops.rope(actual, PAD, nHeads, headDim, position, 10000f, neox);
                assertBits(expected, actual, "rope neox=" + neox + " headDim=" + headDim + " pos=" + position);
            }
        }
    }

    @Test
    void ropeAtPositionZeroIsTheIdentity() {
        SplittableRandom random = new SplittableRandom(7);
        float[] x = random(random, 4 * 128, 3f);
        for (boolean neox : new boolean[] {false, true}) {
            float[] y = x.clone();
            Ops.rope(y, 0, 4, 128, 0, 500000f, neox);
            assertBits(x, y, "rope at position 0, neox=" + neox);
        }
    }

    @Test
    void ropePreservesPairNormsAndStylesDiffer() {
        SplittableRandom random = new SplittableRandom(8);
        int headDim = 64;
        float[] x = random(random, headDim, 3f);
        float[] normal = x.clone();
        float[] neox = x.clone();
        Ops.rope(normal, 0, 1, headDim, 37, 10000f, false);
        Ops.rope(neox, 0, 1, headDim, 37, 10000f, true);
        for (int i = 0; i < headDim / 2; i++) {
            assertEquals(Math.hypot(x[2 * i], x[2 * i + 1]), Math.hypot(normal[2 * i], normal[2 * i + 1]), 1e-5,
                    "normal pair " + i);
            int half = headDim / 2;
            assertEquals(Math.hypot(x[i], x[i + half]), Math.hypot(neox[i], neox[i + half]), 1e-5, "neox pair " + i);
        }
        assertNotEquals(Arrays.toString(normal), Arrays.toString(neox));
    }

    @Test
    void ropeAnglesFollowTheFrequencies() {
        int headDim = 8;
        int position = 3;
        for (boolean neox : new boolean[] {false, true}) {
            for (int i = 0; i < headDim / 2; i++) {
                float[] x = new float[headDim];
                int i0 = neox ? i : 2 * i;
                int i1 = neox ? i + headDim / 2 : 2 * i + 1;
                x[i0] = 1f;
                Ops.rope(x, 0, 1, headDim, position, 10000f, neox);
                double theta = position * Math.pow(10000, -2.0 * i / headDim);
                assertEquals(Math.cos(theta), x[i0], 1e-6, "cos of pair " + i + " neox=" + neox);
                assertEquals(Math.sin(theta), x[i1], 1e-6, "sin of pair " + i + " neox=" + neox);
            }
        }
    }

    /** The point of RoPE: q·k after rotation depends only on the distance between the positions. */
    @Test
    void ropeDotProductDependsOnRelativePosition() {
        SplittableRandom random = new SplittableRandom(9);
        float[] q = random(random, 64, 1f);
        float[] k = random(random, 64, 1f);
        double first = rotatedDot(q, k, 10, 4);
        double second = rotatedDot(q, k, 110, 104);
        assertEquals(first, second, 1e-4);
    }

    private static double rotatedDot(float[] q, float[] k, int qPos, int kPos) {
        float[] rq = q.clone();
        float[] rk = k.clone();
        Ops.rope(rq, 0, 1, 64, qPos, 10000f, false);
        Ops.rope(rk, 0, 1, 64, kPos, 10000f, false);
        double dot = 0;
        for (int i = 0; i < 64; i++) {
            dot += (double) rq[i] * rk[i];
        }
        return dot;
    }

    // ---- activations and element-wise maps ----

    @Test
    void activationsMatchReferenceAndFormulas() {
        SplittableRandom random = new SplittableRandom(10);
        for (int n : SIZES) {
            float[] x = padded(random, n, 12f);
            float[] up = padded(random, n, 2f);

            float[] silu = x.clone();
            float[] siluRef = x.clone();
            Ops.silu(silu, PAD, n);
            ScalarOps.silu(siluRef, PAD, n);
            assertBits(siluRef, silu, "silu n=" + n);

            float[] gelu = x.clone();
            float[] geluRef = x.clone();
            Ops.gelu(gelu, PAD, n);
            ScalarOps.gelu(geluRef, PAD, n);
            assertBits(geluRef, gelu, "gelu n=" + n);

            float[] swiglu = new float[n + 1];
            float[] swigluRef = new float[n + 1];
            Ops.swiglu(swiglu, 1, x, PAD, up, PAD, n);
            ScalarOps.swiglu(swigluRef, 1, x, PAD, up, PAD, n);
            assertBits(swigluRef, swiglu, "swiglu n=" + n);

            for (int i = 0; i < n; i++) {
                double v = x[PAD + i];
                assertEquals(v / (1 + Math.exp(-v)), silu[PAD + i], 1e-6 * Math.max(1, Math.abs(v)), "silu(" + v + ")");
                double g = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                assertEquals(g, gelu[PAD + i], 1e-5 * Math.max(1, Math.abs(v)), "gelu(" + v + ")");
                assertEquals(silu[PAD + i] * up[PAD + i], swiglu[1 + i], 0f, "swiglu = silu(gate) * up");
            }
        }
    }

    @Test
    void expIsWithinTwoUlpOfTheExactValueAndEveryLaneIsTheDefinition() {
        SplittableRandom random = new SplittableRandom(12);
        float[] x = new float[1 << 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 200 - 110);
        }
        float[] special = { 0f, -0f, 1f, -1f, 88.72f, 88.73f, 89f, 1e9f, Float.MAX_VALUE, Float.POSITIVE_INFINITY, -87.3f,
            -100f, -103.27f, -103.28f, -104f, -1e9f, Float.NEGATIVE_INFINITY, Float.NaN, 1e-30f, -1e-30f, 0.34657359f,
            -0.34657359f, Float.MIN_VALUE };
        System.arraycopy(special, 0, x, 0, special.length);
        VectorSpecies<Float> species = FloatVector.SPECIES_PREFERRED;
        float[] lanes = new float[x.length];
        for (int i = 0; i < x.length; i += species.length()) {
            Ops.exp(FloatVector.fromArray(species, x, i)).intoArray(lanes, i);
        }
        for (int i = 0; i < x.length; i++) {
            float e = ScalarOps.exp(x[i]);
            assertBits(e, lanes[i], "lane of exp(" + x[i] + ")");
            double exact = StrictMath.exp(x[i]);
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(e), "exp(NaN) is NaN");
            } else if (exact > Float.MAX_VALUE || exact < 0x1p-150) {
                assertEquals((float) exact, e, 0f, "exp(" + x[i] + ") overflows or underflows as the exact value does");
            } else {
                double ulp = Math.ulp(Math.max((float) exact, Float.MIN_NORMAL));
                assertTrue(Math.abs(e - exact) <= 2 * ulp, "exp(" + x[i] + ") = " + e + ", exactly " + exact);
            }
        }
        assertBits(1f, ScalarOps.exp(0f), "exp(0)");
    }

    @Test
    void elementWiseMapsMatchReferenceAndMayWorkInPlace() {
        SplittableRandom random = new SplittableRandom(11);
        for (int n : SIZES) {
            float[] a = padded(random, n, 5f);
            float[] b = padded(random, n, 5f);
            float[] out = new float[n + 2];
            float[] ref = new float[n + 2];

            Ops.add(out, 2, a, PAD, b, PAD - 1, n);
            ScalarOps.add(ref, 2, a, PAD, b, PAD - 1, n);
            assertBits(ref, out, "add n=" + n);
            Ops.mul(out, 2, a, PAD, b, PAD - 1, n);
            ScalarOps.mul(ref, 2, a, PAD, b, PAD - 1, n);
            assertBits(ref, out, "mul n=" + n);
            Ops.scale(out, 2, a, PAD, n, 0.3f);
            ScalarOps.scale(ref, 2, a, PAD, n, 0.3f);
            assertBits(ref, out, "scale n=" + n);

            float[] residual = a.clone();
            Ops.add(residual, PAD, residual, PAD, b, PAD, n);
            float[] gated = b.clone();
            Ops.swiglu(gated, PAD, a, PAD, gated, PAD, n);
            float[] scaled = a.clone();
            Ops.scale(scaled, PAD, scaled, PAD, n, -2f);
            for (int i = 0; i < n; i++) {
                assertBits(a[PAD + i] + b[PAD + i], residual[PAD + i], "add in place");
                assertBits(ScalarOps.silu(a[PAD + i]) * b[PAD + i], gated[PAD + i], "swiglu in place");
                assertBits(a[PAD + i] * -2f, scaled[PAD + i], "scale in place");
            }
            for (int i = 0; i < PAD; i++) {
                assertBits(a[i], residual[i], "add wrote outside its range");
            }
        }
    }

    // ---- bad input ----

    static IllegalArgumentException fails(Runnable call) {
        return assertThrows(IllegalArgumentException.class, call::run);
    }

    @Test
    void badRangesFailNamingTheSizesAndWriteNothing() {
        float[] x = new float[10];
        float[] w = new float[10];
        float[] out = new float[10];
        Arrays.fill(out, 7f);

        String m = fails(() -> Ops.rmsNorm(out, 1, x, 0, w, 10, 1e-5f)).getMessage();
        assertTrue(m.contains("rmsNorm") && m.contains("out[1, 11)") && m.contains("length 10"), m);
        m = fails(() -> Ops.rmsNorm(out, 0, x, 0, new float[9], 10, 1e-5f)).getMessage();
        assertTrue(m.contains("weight[0, 10)") && m.contains("length 9"), m);
        m = fails(() -> Ops.rmsNorm(out, 0, x, 0, w, 0, 1e-5f)).getMessage();
        assertTrue(m.contains("n is 0"), m);
        m = fails(() -> Ops.rmsNorm(out, 0, x, 0, w, 10, -1f)).getMessage();
        assertTrue(m.contains("eps -1.0"), m);
        m = fails(() -> Ops.rmsNorm(out, 0, x, -1, w, 5, 1e-5f)).getMessage();
        assertTrue(m.contains("x[-1, 4)"), m);

        m = fails(() -> Ops.softmax(out, 5, 6)).getMessage();
        assertTrue(m.contains("softmax") && m.contains("x[5, 11)"), m);
        m = fails(() -> Ops.softmax(out, 0, 0)).getMessage();
        assertTrue(m.contains("n is 0"), m);

        m = fails(() -> Ops.add(out, 0, x, 0, new float[3], 0, 4)).getMessage();
        assertTrue(m.contains("add") && m.contains("b[0, 4)") && m.contains("length 3"), m);
        m = fails(() -> Ops.mul(out, 0, x, 8, w, 0, 4)).getMessage();
        assertTrue(m.contains("mul") && m.contains("a[8, 12)"), m);
        m = fails(() -> Ops.swiglu(out, 0, x, 0, w, 7, 4)).getMessage();
        assertTrue(m.contains("swiglu") && m.contains("up[7, 11)"), m);
        m = fails(() -> Ops.scale(out, 0, x, 0, -1, 2f)).getMessage();
        assertTrue(m.contains("scale") && m.contains("-1"), m);
        m = fails(() -> Ops.silu(out, 11, 0)).getMessage();
        assertTrue(m.contains("silu") && m.contains("x[11, 11)"), m);
        m = fails(() -> Ops.gelu(out, 0, 11)).getMessage();
        assertTrue(m.contains("gelu") && m.contains("x[0, 11)"), m);

        m = fails(() -> Ops.rope(out, 0, 1, 5, 0, 10000f, false)).getMessage();
        assertTrue(m.contains("headDim 5") && m.contains("even"), m);
        m = fails(() -> Ops.rope(out, 0, 2, 6, 0, 10000f, true)).getMessage();
        assertTrue(m.contains("nHeads 2 x headDim 6") && m.contains("[0, 12)"), m);
        m = fails(() -> Ops.rope(out, 0, 1, 4, -1, 10000f, true)).getMessage();
        assertTrue(m.contains("position -1"), m);
        m = fails(() -> Ops.rope(out, 0, 1, 4, 0, 0f, true)).getMessage();
        assertTrue(m.contains("base 0.0"), m);

        float[] untouched = new float[10];
        Arrays.fill(untouched, 7f);
        assertBits(untouched, out, "a failed call wrote to out");
    }
}
