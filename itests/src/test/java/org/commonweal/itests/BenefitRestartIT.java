package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.launcher.Node;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A chain whose blocks need proof of benefit restarts: the dev distribution with benefit configured and
 * {@code extensions.required = [benefit]}, booted twice by the launcher on one data directory. The chain waits
 * for the benefit types and rule before it replays its log, so the second boot replays blocks of claims and
 * emission to the same state root, keeps the node's rewards, and goes on rewarding. (Without the wait, the log
 * replays with the standard types only and the chain cannot start.)
 */
public class BenefitRestartIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final NationCode DEV = new NationCode("dev");
    private static final PrivateKey REGISTRY = key("registry");
    private static final PrivateKey PERSON = key("person");
    private static final int CHAIN = 1337;

    private static PrivateKey key(String name) {
        return Ed25519.fromSeed(Sha256.hash(("benefit-restart-it/" + name).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    public void aChainOfClaimsReplaysAfterARestartAndKeepsRewarding() throws Exception {
        // this test is about replay: rewards paid in the block that earns them, no auditor using the node key
        Path distribution = distributionWithBenefit("benefit-dist", REGISTRY, java.util.Map.of("audit.sampleRate", 0L,
                "audit.unbondingBlocks", 0L));
        Path data = DevDistribution.workFolder("benefit-restart");
        long rewards;
        String root;
        try (Running node = new Running(distribution, data)) {
            PrivateKey nodeKey = KeyFiles.read(data.resolve("node.key"), null);
            node.commit(node.sign(REGISTRY, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(DEV,
                    nodeKey.publicKey()).encode()));
            node.commit(node.sign(nodeKey, BenefitPayloads.STAKE, new BenefitPayloads.Stake(1_000).encode()));
            node.commit(node.sign(REGISTRY, BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(DEV,
                    PERSON.publicKey(), Sha256.hash(new byte[] {1})).encode()));
            node.commit(node.claim(nodeKey, 1));
            rewards = node.get("/api/benefit/nodes/" + nodeKey.publicKey().hex()).get("rewards").asLong();
            assertTrue(rewards > 0);
            root = node.get("/api/chain").get("head").toString();
        }
        try (Running node = new Running(distribution, data)) {
            PrivateKey nodeKey = KeyFiles.read(data.resolve("node.key"), null);
            assertEquals("the same head after the replay", root, node.get("/api/chain").get("head").toString());
            assertEquals(rewards, node.get("/api/benefit/nodes/" + nodeKey.publicKey().hex()).get("rewards").asLong());
            node.commit(node.claim(nodeKey, 2));
            assertEquals(2 * rewards, node.get("/api/benefit/nodes/" + nodeKey.publicKey().hex()).get("rewards").asLong());
        }
    }

    /**
     * A copy of the built dev distribution with proof of benefit configured (nation "dev" of {@code registry}, which is
     * also its payment key; {@code more} benefit properties) and required by the chain.
     */
    static Path distributionWithBenefit(String folder, PrivateKey registry, java.util.Map<String, Long> more)
            throws Exception {
        Path copy = DevDistribution.workFolder(folder);
        Path source = DevDistribution.directory();
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : files.toList()) {
                Path target = copy.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        ObjectNode feature = (ObjectNode) JSON.readTree(copy.resolve("feature.json").toFile());
        ObjectNode configurations = (ObjectNode) feature.get("configurations");
        ((ObjectNode) configurations.get("org.commonweal.chain")).putArray("extensions.required").add("benefit");
        String hex = registry.publicKey().hex();
        ObjectNode benefit = configurations.putObject("org.commonweal.benefit");
        ArrayNode nations = benefit.putArray("nations");
        nations.add("dev:" + hex + ":" + hex);
        new java.util.TreeMap<>(more).forEach(benefit::put);
        JSON.writerWithDefaultPrettyPrinter().writeValue(copy.resolve("feature.json").toFile(), feature);
        return copy;
    }

    /** A node booted by the launcher, and the chain API as this test uses it. */
    static final class Running implements AutoCloseable {
        private final Node node;
        private final int port = DevDistribution.freePort();
        private final HttpClient http = HttpClient.newHttpClient();

        Running(Path distribution, Path data) throws Exception {
            node = Node.start(new Node.Options(distribution, data, port), new PrintStream(PrintStream.nullOutputStream()));
        }

        String url() {
            return "http://127.0.0.1:" + port;
        }

        JsonNode get(String path) throws Exception {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(path + ": " + response.body(), 200, response.statusCode());
            return JSON.readTree(response.body());
        }

        long nonce(PrivateKey key) throws Exception {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/chain/accounts/" + key.publicKey().hex())).build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 404 ? 0 : JSON.readTree(response.body()).get("nonce").asLong();
        }

        Transaction sign(PrivateKey key, int type, byte[] payload) throws Exception {
            return TransactionCodec.sign(key, CHAIN, nonce(key), 0, type, payload);
        }

        Transaction claim(PrivateKey nodeKey, int request) throws Exception {
            Receipt receipt = Receipt.unsigned(CHAIN, nodeKey.publicKey(), PERSON.publicKey(), Sha256.hash(new byte[] {1}),
                    new byte[32], Receipt.requestCommitment(new byte[] {(byte) request}, new byte[0]), request,
                    Sha256.hash(new byte[] {(byte) request}), 10, 20, System.currentTimeMillis(), 0)
                    .signedBy(nodeKey).countersignedBy(PERSON);
            return sign(nodeKey, BenefitPayloads.CLAIM, new BenefitPayloads.Claim(List.of(receipt)).encode());
        }

        void commit(Transaction tx) throws Exception {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/chain/transactions?wait=30")).header("Content-Type", "application/octet-stream")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(TransactionCodec.encode(tx))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(response.body(), 200, response.statusCode());
        }

        @Override
        public void close() throws Exception {
            node.close();
        }
    }
}
