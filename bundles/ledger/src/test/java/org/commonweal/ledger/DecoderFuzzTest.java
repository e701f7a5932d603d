package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of every decoder of untrusted bytes. In a normal build each test
 * replays its inputs from src/test/resources (a few milliseconds); to fuzz for real:
 * {@code JAZZER_FUZZ=1 ./mvnw -pl bundles/ledger test -Dtest=DecoderFuzzTest} (new crashing inputs are
 * saved beside the test's resources). The property: a decoder either refuses with a {@link Rejection}
 * or returns a value whose encoding is exactly its input; no other exception, ever.
 */
class DecoderFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void transactions(byte[] input) {
        try {
            assertArrayEquals(input, TransactionCodec.encode(TransactionCodec.decode(input)));
        } catch (Rejection refused) {
            // refusing is fine
        }
    }

    @FuzzTest(maxDuration = "10s")
    void blocks(byte[] input) {
        try {
            assertArrayEquals(input, Block.decode(input).encode());
        } catch (Rejection refused) {
            // refusing is fine
        }
    }

    @FuzzTest(maxDuration = "10s")
    void transfers(byte[] input) {
        try {
            assertArrayEquals(input, Transfer.decode(input).encode());
        } catch (Rejection refused) {
            // refusing is fine
        }
    }
}
