package org.commonweal.inference.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;

import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.ModelFileHandover;
import org.commonweal.inference.sampling.SamplingParams;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The weights handed from one implementation to the next: the same memory, the same tokens; never a changed file. */
class ModelFileHandoverTest {

    @TempDir
    Path dir;

    private static final Scheduler.Limits LIMITS = new Scheduler.Limits(4, 4, 64, GgmlType.F32, 64 << 20, 4096);

    @Test
    void theNextLoadTakesTheOpenFileAndAnswersTheSame() throws Exception {
        Path demo = DemoModel.ensure(dir);
        try (KernelPool pool = new KernelPool(1)) {
            LoadedModel first = LoadedModel.load(demo, GgufFile.Loading.ALLOCATED, pool, LIMITS, bytes -> { });
            assertFalse(first.handedOver());
            int[] tokens = generate(first);
            handOver(first, Duration.ofSeconds(30));

            long[] read = {0};
            LoadedModel second = LoadedModel.load(demo, GgufFile.Loading.ALLOCATED, pool, LIMITS, bytes -> read[0] = bytes);
            assertTrue(second.handedOver(), "the file came open from the first");
            assertEquals(0, read[0], "nothing was packed again: the packed weights came with the file");
            assertEquals(first.info(), second.info());
            assertArrayEquals(tokens, generate(second));
            handOver(second, Duration.ofSeconds(30));

            // Another loading mode takes them too (the same bits; only where unpacked matrices live differs)...
            LoadedModel mapped = LoadedModel.load(demo, GgufFile.Loading.MAPPED, pool, LIMITS, bytes -> { });
            assertTrue(mapped.handedOver());
            assertArrayEquals(tokens, generate(mapped));
            handOver(mapped, Duration.ofSeconds(30));
            // ... but not a file changed on disk since: read again.
            Files.setLastModifiedTime(demo, FileTime.fromMillis(Files.getLastModifiedTime(demo).toMillis() - 60_000));
            LoadedModel changed = LoadedModel.load(demo, GgufFile.Loading.MAPPED, pool, LIMITS, bytes -> { });
            assertFalse(changed.handedOver());
            handOver(changed, Duration.ZERO);
            assertTrue(ModelFileHandover.take(demo, GgufFile.Loading.MAPPED).isEmpty(), "a zero keep closes at once");
        }
    }

    @Test
    void aFileNobodyTakesIsClosedAfterItsTime() throws Exception {
        Path demo = DemoModel.ensure(dir);
        try (KernelPool pool = new KernelPool(1)) {
            LoadedModel model = LoadedModel.load(demo, GgufFile.Loading.ALLOCATED, pool, LIMITS, bytes -> { });
            handOver(model, Duration.ofMillis(50));
            Thread.sleep(500);
            assertTrue(ModelFileHandover.take(demo, GgufFile.Loading.MAPPED).isEmpty());
        }
    }

    private static int[] generate(LoadedModel model) throws Exception {
        SchedulerTest.Collector c = new SchedulerTest.Collector();
        model.generate(new GenerationRequest(model.tokenizer().encode("Hello", true, false), SamplingParams.defaults(7), 16,
                List.of(), true), c);
        return c.await().tokens();
    }

    /** What a stopping implementation does with a model when it leaves it to the next one. */
    private static void handOver(LoadedModel model, Duration keep) {
        model.unloadKeepingWeights();
        model.leaveWeights(keep);
    }
}
