package org.commonweal.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer JVM killed with SIGKILL in the middle of appending (so possibly in the middle of a document):
 * every append it acknowledged must be there on reopen, every entry must read back exactly, and appending
 * must continue at the next number. This covers a process crash, not a power cut (the page cache survives).
 */
class CrashTest {

    /** Block {@code i}: deterministic, so the checking JVM knows what the killed one wrote. */
    static byte[] block(long i) {
        SplittableRandom random = new SplittableRandom(i);
        byte[] block = new byte[random.nextInt(8_192)];
        random.nextBytes(block);
        return block;
    }

    /**
     * The writer: appends block(size), block(size + 1), ... for ever, printing each acknowledged number. With a
     * second argument N: appends N blocks, then starts a Chronicle document, writes half a block into it and
     * halts the JVM (no close, no shutdown hooks): what a SIGKILL in the middle of an append leaves on disk.
     */
    public static void main(String[] args) throws Exception {
        BlockLog log = BlockLog.open(Path.of(args[0]));
        if (args.length > 1) {
            for (long i = 0; i < Long.parseLong(args[1]); i++) {
                log.append(block(log.size()));
            }
            java.lang.reflect.Field field = BlockLog.class.getDeclaredField("appender");
            field.setAccessible(true);
            net.openhft.chronicle.queue.ExcerptAppender appender = (net.openhft.chronicle.queue.ExcerptAppender) field.get(log);
            java.lang.reflect.Field thread = BlockLog.class.getDeclaredField("chronicleThread");
            thread.setAccessible(true);
            ((java.util.concurrent.ExecutorService) thread.get(log)).submit(() -> { // where the log calls Chronicle
                net.openhft.chronicle.wire.DocumentContext unfinished = appender.writingDocument();
                unfinished.wire().bytes().writeByte((byte) 1).write(new byte[4_000]);
                System.out.println("halting");
                System.out.flush();
                Runtime.getRuntime().halt(9);
            }).get();
        }
        for (long i = log.size();; i++) {
            long index = log.append(block(i));
            System.out.println(index);
            System.out.flush();
        }
    }

    @Test
    void sigkillDuringAppendsLosesNoAcknowledgedBlock(@TempDir Path dir) throws Exception {
        for (int round = 0; round < 3; round++) {
            long acknowledged = killWriterAfter(dir, 1_000 + round * 777);
            long started = System.nanoTime();
            try (BlockLog log = BlockLog.open(dir)) {
                long size = log.size();
                long reopenMillis = (System.nanoTime() - started) / 1_000_000;
                System.out.println("round " + round + ": acknowledged " + (acknowledged + 1) + ", size on reopen " + size
                        + ", reopen " + reopenMillis + " ms");
                assertTrue(size >= acknowledged + 1, "size " + size + " < acknowledged " + (acknowledged + 1));
                for (long i = 0; i < size; i++) {
                    assertArrayEquals(block(i), log.read(i), "block " + i);
                }
                long appendStarted = System.nanoTime();
                assertEquals(size, log.append(block(size)));
                System.out.println("round " + round + ": first append after the crash "
                        + (System.nanoTime() - appendStarted) / 1_000_000 + " ms");
                assertArrayEquals(block(size), log.read(size));
            }
        }
    }

    @Test
    void anUnfinishedDocumentIsSkippedOnReopen(@TempDir Path dir) throws Exception {
        Process writer = new ProcessBuilder(writerCommand(dir, "500")).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(writer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(writer.waitFor(30, TimeUnit.SECONDS));
        assertEquals(9, writer.exitValue(), output);
        long started = System.nanoTime();
        try (BlockLog log = BlockLog.open(dir)) {
            System.out.println("after an unfinished document: size " + log.size() + ", reopen "
                    + (System.nanoTime() - started) / 1_000_000 + " ms");
            assertEquals(500, log.size());
            for (long i = 0; i < 500; i++) {
                assertArrayEquals(block(i), log.read(i), "block " + i);
            }
            long appendStarted = System.nanoTime();
            long index = log.append(block(500));
            System.out.println("after an unfinished document: first append got index " + index + " in "
                    + (System.nanoTime() - appendStarted) / 1_000_000 + " ms");
            assertEquals(500, index);
            assertArrayEquals(block(500), log.read(500));
        }
        try (BlockLog log = BlockLog.open(dir)) {
            assertEquals(501, log.size());
            assertArrayEquals(block(500), log.read(500));
        }
    }

    private static List<String> writerCommand(Path dir, String... more) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Path options = Path.of("../../framework/jvm.options").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(options), options.toString());
        command.add("@" + options);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(CrashTest.class.getName());
        command.add(dir.toString());
        command.addAll(List.of(more));
        return command;
    }

    /** Starts the writer, SIGKILLs it once it has acknowledged {@code atLeast} appends; the last acknowledged number. */
    private static long killWriterAfter(Path dir, long atLeast) throws Exception {
        Process writer = new ProcessBuilder(writerCommand(dir)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long last = -1;
        long seen = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                last = Long.parseLong(line.strip());
                if (++seen >= atLeast) {
                    writer.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close
                    break;
                }
            }
        }
        assertTrue(writer.waitFor(30, TimeUnit.SECONDS), "writer did not die");
        assertEquals(137, writer.exitValue(), "killed by SIGKILL");
        return last;
    }
}
