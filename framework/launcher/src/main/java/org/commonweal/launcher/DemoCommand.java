package org.commonweal.launcher;

import java.io.IOException;
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
import java.util.concurrent.Callable;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cw demo}: a network of BFT validators on this machine, each a {@code cw node} process of its own
 * (its own data folder, HTTP port and validator port), a client sending transfers to them, and a line of
 * progress every two seconds; Ctrl-C stops everything.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Start a network of BFT validators on this machine (separate cw node processes on loopback), send them transfers,"
                + " and show each node's height as they agree. Ctrl-C stops every node." })
final class DemoCommand implements Callable<Integer> {

    private static final int CHAIN = 2026;

    @Option(names = "--validators", defaultValue = "4", description = "How many validators (default: ${DEFAULT-VALUE}; 3f+1 tolerates f faulty).")
    int count;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "demo",
            description = "Where the nodes keep their data and logs (default: ./${DEFAULT-VALUE}; kept between runs).")
    Path dir;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8100",
            description = "First HTTP port; node i uses N+i for HTTP and N+100+i between validators (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "0", description = "Stop after S seconds (default: run until Ctrl-C).")
    long seconds;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Override
    public Integer call() throws Exception {
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
            Path key = dir.resolve("node-" + i).resolve("node.key");
            validators.add(keyAt(key).publicKey());
            bftPorts[i] = port + 100 + i;
            new HttpEndpoint("127.0.0.1", port + i).checkFree();
            new HttpEndpoint("127.0.0.1", bftPorts[i]).checkFree();
        }
        PrivateKey client = keyAt(dir.resolve("client.key"));
        Path dist = BftDistribution.write(dev, BftDistribution.engineJar(home), dir.resolve("dist"), CHAIN, client.publicKey(),
                1_000_000_000_000L, validators, bftPorts);

        List<Process> nodes = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAll(nodes)));
        for (int i = 0; i < count; i++) {
            Path log = dir.resolve("node-" + i).resolve("node.log");
            nodes.add(new ProcessBuilder(home.resolve("cw").toString(), "node", "--dist", dist.toString(), "--port",
                    Integer.toString(port + i), "--data", dir.resolve("node-" + i).toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start());
        }
        System.out.printf("cw demo: %d BFT validators (tolerating %d faulty), chain %d, data and logs in %s%n", count,
                (count - 1) / 3, CHAIN, dir.toAbsolutePath());
        for (int i = 0; i < count; i++) {
            awaitHealthy(nodes.get(i), port + i, dir.resolve("node-" + i).resolve("node.log"));
            System.out.printf("  node %d: http://127.0.0.1:%d/api/chain   (validator port %d, log %s)%n", i, port + i,
                    bftPorts[i], dir.resolve("node-" + i).resolve("node.log"));
        }
        System.out.println("Sending transfers from the client key " + dir.resolve("client.key") + "; try: ./cw account --key "
                + dir.resolve("client.key") + " --node http://127.0.0.1:" + port + ". Ctrl-C stops.");
        long nonce = json(get(port, "/api/chain/accounts/" + client.publicKey().hex())).getJsonNumber("nonce").longValue();
        long end = seconds > 0 ? System.currentTimeMillis() + seconds * 1000 : Long.MAX_VALUE;
        SecureRandom random = new SecureRandom();
        while (System.currentTimeMillis() < end) {
            int to = (int) (nonce / 20 % count); // each round's transfers go to one node; the network spreads them
            for (int n = 0; n < 20; n++) {
                byte[] recipient = new byte[32];
                random.nextBytes(recipient);
                Transaction tx = TransactionCodec.sign(client, CHAIN, nonce, 1, Transfer.TYPE,
                        new Transfer(PublicKey.of(recipient), 1 + random.nextInt(1000)).encode());
                if (post(port + to, tx)) {
                    nonce++;
                }
            }
            Thread.sleep(2_000);
            StringBuilder line = new StringBuilder("  heights:");
            for (int i = 0; i < count; i++) {
                try {
                    JsonObject chain = json(get(port + i, "/api/chain"));
                    line.append(String.format(" node %d %d (%s)", i, chain.getJsonObject("head").getJsonNumber("height").longValue(),
                            chain.isNull("engine") ? "waiting" : chain.getString("engine")));
                } catch (IOException e) {
                    line.append(" node ").append(i).append(" down");
                }
            }
            System.out.println(line.append("; transfers sent ").append(nonce));
        }
        stopAll(nodes);
        return 0;
    }

    private static PrivateKey keyAt(Path file) throws IOException {
        if (Files.exists(file)) {
            return KeyFiles.read(file, null);
        }
        Files.createDirectories(file.getParent());
        PrivateKey key = Ed25519.generate(new SecureRandom());
        KeyFiles.write(file, key, null);
        return key;
    }

    private void awaitHealthy(Process node, int httpPort, Path log) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            if (!node.isAlive()) {
                throw new LaunchException("a demo node exited while starting; see " + log);
            }
            try {
                if (get(httpPort, "/health").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new LaunchException("the demo node on port " + httpPort + " was not healthy within 120 s; see " + log);
    }

    private HttpResponse<String> get(int httpPort, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).timeout(Duration.ofSeconds(5))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private boolean post(int httpPort, Transaction tx) throws InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/chain/transactions"))
                    .header("Content-Type", "application/octet-stream").timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(TransactionCodec.encode(tx))).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 202;
        } catch (IOException e) {
            return false; // that node is down; the next transfer goes to another
        }
    }

    private static JsonObject json(HttpResponse<String> response) {
        return Json.createReader(new StringReader(response.body())).readObject();
    }

    private static void stopAll(List<Process> nodes) {
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
    }
}
