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

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
