package org.commonweal.itests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code ./cw} run as a person runs it: a separate process, its output captured to a file. */
final class CwProcess implements AutoCloseable {

    private final Process process;
    private final Path output;

    private CwProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    static CwProcess start(Map<String, String> environment, String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(DevDistribution.home().resolve("cw").toAbsolutePath().toString());
        command.addAll(List.of(arguments));
        return run(environment, command);
    }

    /** Any command (an assembled distribution's launch script), its output captured the same way. */
    static CwProcess run(Map<String, String> environment, List<String> command) {
        Path output = DevDistribution.workFolder("cw-output").resolve("output.txt");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().putAll(environment);
        try {
            return new CwProcess(builder.start(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CwProcess start(String... arguments) {
        return start(Map.of(), arguments);
    }

    /** Waits for the process to end by itself (bounded) and returns its exit code. */
    int exitCode(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("cw did not exit within " + seconds + " s; output:\n" + output());
        }
        return process.exitValue();
    }

    /** Types into the process's standard input, as a person at the shell. */
    void type(String text) throws IOException {
        process.getOutputStream().write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /** SIGTERM, as a service manager stops a node. */
    void terminate() {
        process.destroy();
    }

    /** SIGKILL, as a crash or the OOM killer ends a node: no shutdown hook, no cleanup. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Dumps the live objects of the JVM that this {@code cw} runs to
     * {@code file} with the JDK's jcmd, and explains what holds the class loaders of disposed bundle revisions in it.
     */
    String heapDumpAndExplain(Path file) {
        try {
            // cw execs java, or runs it as a child
            ProcessHandle jvm = java.util.stream.Stream.concat(java.util.stream.Stream.of(process.toHandle()),
                    process.descendants()).filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no java process is or runs under cw"));
            Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
            Files.deleteIfExists(file);
            Files.createDirectories(file.getParent());
            // Its threads first (those that run finalizers and cleaners among them): a finalize() that blocks keeps
            // every object waiting for finalization alive.
            Path threads = file.resolveSibling(file.getFileName() + ".threads.txt");
            new ProcessBuilder(jcmd.toString(), Long.toString(jvm.pid()), "Thread.print").redirectErrorStream(true)
                    .redirectOutput(threads.toFile()).start().waitFor();
            Process dump = new ProcessBuilder(jcmd.toString(), Long.toString(jvm.pid()), "GC.heap_dump", file.toString())
                    .redirectErrorStream(true).start();
            String said = new String(dump.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (dump.waitFor() != 0 || !Files.exists(file)) {
                return "no heap dump: jcmd said " + said;
            }
            return "threads: " + threads + "\nheap dump " + file + " (" + Files.size(file) / 1_000_000 + " MB)\n"
                    + GcRootPaths.of(file);
        } catch (IOException | RuntimeException e) {
            return "no heap dump or analysis (" + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "no heap dump (interrupted)";
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
