package org.commonweal.launcher;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code cw node}: run a node from a distribution until Ctrl-C or SIGTERM, then stop it cleanly (exit 0). */
@Command(name = "node", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Run a Commonweal node from a distribution until Ctrl-C or SIGTERM; then stop every bundle"
                + " and exit 0.", "Prints where to reach it once GET /health answers 200." })
final class NodeCommand implements Callable<Integer> {

    /** The framework property through which the inference bundle hears of {@code --model}. */
    static final String MODELS_PROPERTY = "commonweal.models";

    @Option(names = "--dist", paramLabel = "NAME|DIR", defaultValue = "dev",
            description = "The distribution: a name under distributions/ (built into distributions/NAME/target/dist),"
                    + " or a folder holding feature.json and bundles/. Default: ${DEFAULT-VALUE}.")
    String distribution;

    @Option(names = "--port", paramLabel = "N",
            description = "The HTTP port (default: the distribution's, 8080 for dev). The host stays the distribution's"
                    + " (127.0.0.1 for dev).")
    Integer port;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "data",
            description = "The data directory: node key, framework cache, state. Default: ./${DEFAULT-VALUE}.")
    Path data;

    @Option(names = "--model", paramLabel = "PATH",
            description = "A GGUF model file (or a folder of them) to serve, beside the distribution's models folder"
                    + " (<data>/models by default). Repeatable. A file that cannot be served is logged and skipped.")
    List<Path> models = new ArrayList<>();

    @Option(names = "--shell", description = "Attach an interactive Gogo shell (try: cw:health, cw:bundles, lb, help).")
    boolean shell;

    @Override
    public Integer call() throws Exception {
        Map<String, String> properties = new HashMap<>();
        if (!models.isEmpty()) {
            List<String> paths = new ArrayList<>();
            for (Path model : models) {
                if (!Files.exists(model)) {
                    throw new LaunchException("no model file or folder " + model + ". Fix: give the path of a .gguf"
                            + " file (or a folder of them) to --model");
                }
                paths.add(model.toAbsolutePath().toString());
            }
            properties.put(MODELS_PROPERTY, String.join(File.pathSeparator, paths));
        }
        // The handlers are in place before the node starts: a SIGTERM that arrives while it starts (a service manager,
        // a test that saw /health answer 200 before this method returned) stops it once it has started, and the
        // process still exits 0 instead of dying by the signal.
        java.util.concurrent.atomic.AtomicReference<Node> started = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stopRequested = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable stop = () -> {
            stopRequested.set(true);
            Node running = started.get();
            if (running != null && stopping.compareAndSet(false, true)) {
                System.out.println("Stopping the node...");
                running.close();
            }
        };
        Signal.handle(new Signal("INT"), signal -> Thread.ofPlatform().start(stop));
        Signal.handle(new Signal("TERM"), signal -> Thread.ofPlatform().start(stop));
        Node node;
        try {
            node = Node.start(new Node.Options(distributionFolder(), data, port, shell, properties), System.out);
        } catch (LaunchException e) {
            if (stopRequested.get()) {
                // Stopped while it started (a signal; with --shell, the signal's process also closed the shell's input,
                // and the shell stopped the framework): what was asked for, not a failure.
                System.out.println("Node stopped before it was ready.");
                return 0;
            }
            throw e;
        }
        started.set(node);
        if (stopRequested.get()) {
            stop.run();
        }
        node.awaitStop();
        System.out.println("Node stopped.");
        return 0;
    }

    private Path distributionFolder() throws LaunchException {
        Path asFolder = Path.of(distribution);
        if (Files.isRegularFile(asFolder.resolve(Distribution.FEATURE_FILE))) {
            return asFolder;
        }
        Path named = Cw.home().resolve("distributions").resolve(distribution);
        Path built = named.resolve("target").resolve("dist");
        if (Files.isRegularFile(built.resolve(Distribution.FEATURE_FILE))) {
            return built;
        }
        if (Files.isDirectory(named)) {
            throw new LaunchException("distribution '" + distribution + "' is not built (no " + built + "). Fix: ./mvnw"
                    + " install -DskipTests, or run ./cw, which builds what is missing");
        }
        throw new LaunchException("no distribution '" + distribution + "': neither a folder with "
                + Distribution.FEATURE_FILE + " nor a folder under " + Cw.home().resolve("distributions") + ". Fix: --dist"
                + " dev, or the path of an assembled distribution");
    }
}
