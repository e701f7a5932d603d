package org.commonweal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StandbyModelsTest {

    /** A new object each time (a method reference without capture would be one shared instance). */
    private static LanguageModels models() {
        return new LanguageModels() {
            @Override
            public List<LanguageModel> models() {
                return List.of();
            }
        };
    }

    @AfterEach
    void noStandbyLeft() {
        StandbyModels.replace(null);
    }

    @Test
    void theStandbyServesUntilItsSuccessorReplacesItThenRetiresOnce() throws Exception {
        LanguageModels old = models();
        LanguageModels next = models();
        CountDownLatch retired = new CountDownLatch(1);
        AtomicInteger retirements = new AtomicInteger();
        AtomicInteger changes = new AtomicInteger();
        Runnable listener = changes::incrementAndGet;
        StandbyModels.listen(listener);
        try {
            StandbyModels.offer(old, Duration.ofMinutes(1), () -> {
                retirements.incrementAndGet();
                retired.countDown();
            });
            assertSame(old, StandbyModels.current());
            assertFalse(StandbyModels.replace(old), "a standby does not replace itself");
            assertSame(old, StandbyModels.current());

            assertTrue(StandbyModels.replace(next));
            assertNull(StandbyModels.current());
            assertTrue(retired.await(5, TimeUnit.SECONDS));
            assertFalse(StandbyModels.replace(next), "nothing left to replace");
            Thread.sleep(50);
            assertEquals(1, retirements.get());
            assertEquals(2, changes.get(), "offered, replaced");
        } finally {
            StandbyModels.unlisten(listener);
        }
    }

    @Test
    void aStandbyNobodyReplacesRetiresByItselfAfterItsTime() throws Exception {
        CountDownLatch retired = new CountDownLatch(1);
        long offered = System.nanoTime();
        StandbyModels.offer(models(), Duration.ofMillis(100), retired::countDown);
        assertTrue(retired.await(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - offered >= 100_000_000L, "not before its time");
        assertNull(StandbyModels.current());
    }

    @Test
    void aNewOfferRetiresTheStandbyBeforeIt() throws Exception {
        CountDownLatch first = new CountDownLatch(1);
        StandbyModels.offer(models(), Duration.ofMinutes(1), first::countDown);
        LanguageModels second = models();
        StandbyModels.offer(second, Duration.ofMinutes(1), () -> { });
        assertTrue(first.await(5, TimeUnit.SECONDS));
        assertSame(second, StandbyModels.current());
    }
}
