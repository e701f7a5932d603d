package org.commonweal.inference.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.commonweal.inference.Completion;
import org.commonweal.inference.Generation;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.ModelClosedException;
import org.commonweal.inference.OverloadedException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.sampling.SamplingParams;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Continuous batching on the demo model: determinism whatever the batch, limits, stops, cancellation. */
class SchedulerTest {

    @TempDir
    static Path dir;
    static Path demo;
    static KernelPool pool;

    @BeforeAll
    static void writeDemoModel() throws IOException {
        demo = DemoModel.ensure(dir);
        pool = new KernelPool(2);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    private static LoadedModel load(int maxBatch, int maxQueued, long kvBudget) throws IOException {
        return load(maxBatch, maxQueued, kvBudget, 4096);
    }

    private static LoadedModel load(int maxBatch, int maxQueued, long kvBudget, int contextLimit) throws IOException {
        return LoadedModel.load(demo, GgufFile.Loading.ALLOCATED, pool,
                new Scheduler.Limits(maxBatch, maxQueued, 64, GgmlType.F32, kvBudget, contextLimit), bytes -> { });
    }

    /** Collects a generation's events. */
    static class Collector implements GenerationListener {
        final StringBuilder text = new StringBuilder();
        final CompletableFuture<Completion> done = new CompletableFuture<>();

        @Override
        public void text(String delta) {
            text.append(delta);
        }

        @Override
        public void finished(Completion completion) {
            done.complete(completion);
        }

        @Override
        public void failed(Exception cause) {
            done.completeExceptionally(cause);
        }

        Completion await() throws Exception {
            return done.get(60, TimeUnit.SECONDS);
        }
    }

    private static GenerationRequest request(LoadedModel model, String prompt, long seed, int maxTokens, List<String> stop) {
        return new GenerationRequest(model.tokenizer().encode(prompt, true, false), SamplingParams.defaults(seed),
                maxTokens, stop, true);
    }

    @Test
    void batchedGenerationsGiveTheSameTokensAsAlone() throws Exception {
        try (LoadedModel model = load(8, 8, 64 << 20)) {
            String[] prompts = {"Hello there", "A much longer prompt that takes a few steps to fill in", "x"};
            int[][] alone = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) {
                Collector c = new Collector();
                model.generate(request(model, prompts[i], 100 + i, 20, List.of()), c);
                alone[i] = c.await().tokens();
            }
            List<Collector> together = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                Collector c = new Collector();
                model.generate(request(model, prompts[i], 100 + i, 20, List.of()), c);
                together.add(c);
            }
            for (int i = 0; i < prompts.length; i++) {
                Completion done = together.get(i).await();
                assertArrayEquals(alone[i], done.tokens(), "prompt " + i);
                assertEquals("length", done.finishReason());
                assertEquals(20, done.completionTokens());
                assertEquals(done.text(), together.get(i).text.toString());
            }
        }
    }

    @Test
    void stopStringsEndTheTextBeforeThem() throws Exception {
        try (LoadedModel model = load(4, 4, 64 << 20)) {
            Collector free = new Collector();
            model.generate(request(model, "Once", 5, 30, List.of()), free);
            String text = free.await().text();
            assertTrue(text.length() > 4, text);
            String stop = text.substring(3, 5);
            Collector stopped = new Collector();
            model.generate(request(model, "Once", 5, 30, List.of(stop)), stopped);
            Completion done = stopped.await();
            assertEquals("stop", done.finishReason());
            assertEquals(text.substring(0, text.indexOf(stop)), done.text());
            assertFalse(stopped.text.toString().contains(stop));
        }
    }

    @Test
    void cancellingEndsAGenerationAndFreesItsPlace() throws Exception {
        try (LoadedModel model = load(1, 1, 64 << 20)) {
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
            Collector first = new Collector() {
                @Override
                public void text(String delta) {
                    started.countDown();
                }
            };
            Generation running = model.generate(request(model, "Go on", 1, 2000, List.of()), first);
            assertTrue(started.await(30, TimeUnit.SECONDS));
            Collector second = new Collector();
            model.generate(request(model, "Wait", 2, 3, List.of()), second);
            // One running, one waiting: the queue is full.
            OverloadedException full = assertThrows(OverloadedException.class,
                    () -> model.generate(request(model, "Too many", 3, 3, List.of()), new Collector()));
            assertTrue(full.getMessage().contains("requests waiting already"), full.getMessage());
            assertTrue(full.retryAfterSeconds() > 0);
            running.cancel();
            assertEquals("cancelled", first.await().finishReason());
            assertEquals(3, second.await().completionTokens());
        }
    }

    @Test
    void refusesPromptsBeyondTheContextAndTheMemoryBudget() throws Exception {
        try (LoadedModel model = load(4, 4, 1 << 20)) {
            int context = model.info().contextLength();
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    new GenerationRequest(new int[context], SamplingParams.greedy(), 10, List.of(), false), new Collector()));
            assertTrue(tooLong.getMessage().contains("the prompt has " + context + " tokens"), tooLong.getMessage());
            IllegalArgumentException budget = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    new GenerationRequest(new int[] {1}, SamplingParams.greedy(), 1_000_000, List.of(), false), new Collector()));
            assertTrue(budget.getMessage().contains("MiB of KV cache"), budget.getMessage());
            IllegalArgumentException token = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    new GenerationRequest(new int[] {1, 99999}, SamplingParams.greedy(), 1, List.of(), false), new Collector()));
            assertTrue(token.getMessage().contains("token 99999 is outside"), token.getMessage());
        }
    }

    @Test
    void theNodesContextLimitBoundsEverySequence() throws Exception {
        try (LoadedModel model = load(4, 4, 64 << 20, 64)) {
            assertEquals(64, model.info().contextLength());
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    new GenerationRequest(new int[64], SamplingParams.greedy(), 1, List.of(), false), new Collector()));
            assertTrue(tooLong.getMessage().contains("has a context of 64 tokens on this node"), tooLong.getMessage());
            Collector c = new Collector();
            model.generate(new GenerationRequest(new int[] {1, 5, 6}, SamplingParams.greedy(), 1000, List.of(), true), c);
            Completion done = c.await();
            assertEquals("length", done.finishReason());
            // 3 prompt positions and 61 generated tokens fill the 64 positions; the last one sampled is never fed back.
            assertEquals(64 - 3 + 1, done.completionTokens());
        }
    }

    @Test
    void aFailingListenerCancelsOnlyItsOwnGeneration() throws Exception {
        try (LoadedModel model = load(4, 4, 64 << 20)) {
            Collector failing = new Collector() {
                @Override
                public void text(String delta) {
                    throw new IllegalStateException("client gone");
                }
            };
            Collector healthy = new Collector();
            model.generate(request(model, "One", 1, 50, List.of()), failing);
            model.generate(request(model, "Two", 2, 10, List.of()), healthy);
            assertEquals("cancelled", failing.await().finishReason());
            assertEquals(10, healthy.await().completionTokens());
        }
    }

    @Test
    void unloadingLetsAcceptedGenerationsFinishAndRefusesNewOnes() throws Exception {
        LoadedModel model = load(1, 8, 64 << 20);
        List<Collector> accepted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Collector c = new Collector();
            model.generate(request(model, "Accepted " + i, i, 20, List.of()), c);
            accepted.add(c);
        }
        model.stopAccepting();
        ModelClosedException refused = assertThrows(ModelClosedException.class,
                () -> model.generate(request(model, "Late", 9, 20, List.of()), new Collector()));
        assertTrue(refused.getMessage().contains("is being unloaded"), refused.getMessage());
        assertTrue(model.drain(System.nanoTime() + 60_000_000_000L), "drained within the time");
        model.close();
        for (Collector c : accepted) {
            assertEquals("length", c.await().finishReason(), "one batch at a time, yet each accepted one finished");
            assertEquals(20, c.await().completionTokens());
        }
    }

    @Test
    void pastTheDrainTimeAGenerationWithoutTextIsGivenBackForRetryAndOneWithTextFails() throws Exception {
        LoadedModel model = load(1, 8, 64 << 20);
        Collector running = new Collector();
        model.generate(request(model, "Long", 1, 3000, List.of()), running);
        Collector queued = new Collector();
        model.generate(request(model, "Queued", 2, 10, List.of()), queued);
        while (running.text.isEmpty() && !running.done.isDone()) {
            Thread.sleep(1);
        }
        assertFalse(model.drain(System.nanoTime() + 20_000_000L), "3000 tokens do not fit in 20 ms");
        model.close();
        Exception cut = assertThrows(Exception.class, running::await);
        assertTrue(cut.getCause() instanceof IllegalStateException && cut.getCause().getMessage().contains(
                "in the middle of this generation"), cut.toString());
        Exception givenBack = assertThrows(Exception.class, queued::await);
        assertTrue(givenBack.getCause() instanceof ModelClosedException, givenBack.toString());
    }
}
