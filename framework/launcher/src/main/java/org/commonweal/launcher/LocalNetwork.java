package org.commonweal.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * BFT validators on this machine, each a {@code cw node} process of its own (data folder {@code dir/node-i} with its
 * node key and log, HTTP port {@code port + i}, validator port {@code port + 100 + i}) on a distribution made from the
 * built dev distribution ({@link BftDistribution}). What {@code cw demo} and {@code cw bench consensus --processes} run.
 * Closing stops every node (SIGTERM, so each stops its bundles).
 */
final class LocalNetwork implements AutoCloseable {

    private final Path dir;
    private final int port;
    private final List<Process> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private LocalNetwork(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts {@code count} validators of chain {@code chainId} funding {@code balances}, and waits until each is healthy. */
    static LocalNetwork start(Path dir, int count, int port, int chainId, Map<PublicKey, Long> balances, PrintStream progress)
            throws Exception {
        if (count < 1 || count > 32) {
            throw new LaunchException("--validators " + count + ": give 1..32 (4 tolerates one faulty validator)");
        }
        Path home = Cw.home();
        Path dev = home.resolve("distributions/dev/target/dist");
        if (!Files.isRegularFile(dev.resolve("feature.json"))) {
            throw new LaunchException("the dev distribution is not built (" + dev + "): run ./mvnw install -DskipTests");
        }
        Files.createDirectories(dir);
        List<PublicKey> validators = new ArrayList<>();
        int[] bftPorts = new int[count];
        for (int i = 0; i < count; i++) {
            validators.add(key(dir.resolve("node-" + i).resolve("node.key")).publicKey());
            bftPorts[i] = port + 100 + i;
            new HttpEndpoint("127.0.0.1", port + i).checkFree();
            new HttpEndpoint("127.0.0.1", bftPorts[i]).checkFree();
        }
        Path dist = BftDistribution.write(dev, BftDistribution.engineJar(home), dir.resolve("dist"), chainId, balances,
                validators, bftPorts);
        LocalNetwork network = new LocalNetwork(dir, port);
        Runtime.getRuntime().addShutdownHook(new Thread(network::close));
        try {
            for (int i = 0; i < count; i++) {
                network.nodes.add(new ProcessBuilder(home.resolve("cw").toString(), "node", "--dist", dist.toString(), "--port",
                        Integer.toString(port + i), "--data", dir.resolve("node-" + i).toString())
                        .redirectErrorStream(true).redirectOutput(network.log(i).toFile()).start());
            }
            progress.printf("  starting %d BFT validators (tolerating %d faulty), chain %d, data and logs in %s%n", count,
                    (count - 1) / 3, chainId, dir.toAbsolutePath());
            for (int i = 0; i < count; i++) {
                network.awaitHealthy(i);
                progress.printf("  node %d: http://127.0.0.1:%d/api/chain   (validator port %d, log %s)%n", i, port + i,
                        bftPorts[i], network.log(i));
            }
            return network;
        } catch (Exception | Error e) {
            network.close();
            throw e;
        }
    }

    /** The key in {@code file}, made (and written, unencrypted) if there is none yet. */
    static PrivateKey key(Path file) throws IOException {
        if (Files.exists(file)) {
            return KeyFiles.read(file, null);
        }
        Files.createDirectories(file.getParent());
        PrivateKey key = Ed25519.generate(new SecureRandom());
        KeyFiles.write(file, key, null);
        return key;
    }

    int size() {
        return nodes.size();
    }

    int httpPort(int node) {
        return port + node;
    }

    Path log(int node) {
        return dir.resolve("node-" + node).resolve("node.log");
    }

    private void awaitHealthy(int node) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            if (!nodes.get(node).isAlive()) {
                throw new LaunchException("node " + node + " exited while starting; see " + log(node));
            }
            try {
                if (get(node, "/health").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new LaunchException("node " + node + " (port " + httpPort(node) + ") was not healthy within 120 s; see "
                + log(node));
    }

    HttpResponse<String> get(int node, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort(node) + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonObject json(int node, String path) throws IOException, InterruptedException {
        return Json.createReader(new StringReader(get(node, path).body())).readObject();
    }

    /** Submits {@code tx} (its binary encoding) to {@code node}: whether it was accepted; false if the node is down. */
    boolean post(int node, Transaction tx) throws InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort(node) + "/api/chain/transactions"))
                    .header("Content-Type", "application/octet-stream").timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(TransactionCodec.encode(tx))).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 202;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        for (Process node : nodes) {
            node.destroy(); // SIGTERM: each node stops its bundles and exits 0
        }
        for (Process node : nodes) {
            try {
                node.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        nodes.clear();
    }
}
