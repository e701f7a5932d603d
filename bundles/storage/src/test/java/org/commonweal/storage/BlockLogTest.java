package org.commonweal.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockLogTest {

    private static List<byte[]> randomBlocks(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<byte[]> blocks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            // mostly small blocks, some up to 64 KiB, and the empty block
            int size = i == 7 ? 0 : random.nextInt(8) == 0 ? random.nextInt(65_536) : random.nextInt(512);
            byte[] block = new byte[size];
            random.nextBytes(block);
            blocks.add(block);
        }
        return blocks;
    }

    @Test
    void tenThousandBlocksRoundTripAndSurviveReopen(@TempDir Path dir) {
        List<byte[]> blocks = randomBlocks(10_000, 42);
        try (BlockLog log = BlockLog.open(dir)) {
            assertEquals(0, log.size());
            for (int i = 0; i < blocks.size(); i++) {
                assertEquals(i, log.append(blocks.get(i)));
            }
            assertEquals(blocks.size(), log.size());
            for (int i = 0; i < blocks.size(); i++) {
                assertArrayEquals(blocks.get(i), log.read(i), "block " + i);
            }
            // random access, backwards
            for (int i = blocks.size() - 1; i >= 0; i -= 97) {
                assertArrayEquals(blocks.get(i), log.read(i), "block " + i);
            }
        }
        try (BlockLog log = BlockLog.open(dir)) {
            assertEquals(blocks.size(), log.size());
            for (int i = 0; i < blocks.size(); i++) {
                assertArrayEquals(blocks.get(i), log.read(i), "block " + i + " after reopen");
            }
            // appending continues the numbering
            assertEquals(blocks.size(), log.append(new byte[] {1, 2, 3}));
            assertEquals(blocks.size() + 1, log.size());
        }
        try (BlockLog log = BlockLog.open(dir)) {
            assertEquals(blocks.size() + 1, log.size());
            assertArrayEquals(new byte[] {1, 2, 3}, log.read(blocks.size()));
        }
    }

    @Test
    void emptyLogAndBounds(@TempDir Path dir) {
        try (BlockLog log = BlockLog.open(dir)) {
            assertEquals(0, log.size());
            assertThrows(IndexOutOfBoundsException.class, () -> log.read(0));
            log.append(new byte[] {9});
            assertThrows(IndexOutOfBoundsException.class, () -> log.read(1));
            assertThrows(IndexOutOfBoundsException.class, () -> log.read(-1));
        }
        try (BlockLog log = BlockLog.open(dir)) {
            assertEquals(1, log.size());
        }
    }

    @Test
    void closedLogRefusesCalls(@TempDir Path dir) {
        BlockLog log = BlockLog.open(dir);
        log.close();
        log.close();
        assertThrows(IllegalStateException.class, log::size);
        assertThrows(IllegalStateException.class, () -> log.append(new byte[1]));
    }

    @Test
    void appendsFromManyThreadsGetDistinctConsecutiveNumbers(@TempDir Path dir) throws Exception {
        try (BlockLog log = BlockLog.open(dir)) {
            Thread[] threads = new Thread[4];
            for (int t = 0; t < threads.length; t++) {
                byte tag = (byte) t;
                threads[t] = new Thread(() -> {
                    for (int i = 0; i < 250; i++) {
                        long index = log.append(new byte[] {tag});
                        assertEquals(tag, log.read(index)[0]);
                    }
                });
                threads[t].start();
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(1000, log.size());
        }
    }
}
