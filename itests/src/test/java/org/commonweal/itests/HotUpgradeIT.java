package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.repo.LocalRepository;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import aQute.bnd.osgi.Builder;
import aQute.bnd.osgi.Jar;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/**
 * Hot upgrade of a running {@code cw node}, as an operator does it: test bundles built here with bnd (a greeter that
 * exports a package, a consumer that imports it, a deliberately leaking bundle, and a bystander) are published to a
 * repository with an author key the distribution trusts; the node runs with an operator key in its configuration.
 * Then, each over the real admin API: upgrade and rollback with {@code cw upgrade} / {@code cw rollback}, a minimal
 * refresh set, a failing health check rolled back automatically, a tampered jar and an untrusted publisher refused,
 * unsigned, foreign-key and replayed admin requests refused, and the leak probe catching the leaking bundle.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class HotUpgradeIT {

    private static final String GREETER = "org.example.upgrade.greeter";
    private static final String CONSUMER = "org.example.upgrade.consumer";
    private static final String LEAKY = "org.example.upgrade.leaky";
    private static final String BYSTANDER = "org.example.upgrade.bystander";
    private static final String FRAGMENT = "org.example.upgrade.greeter.texts";
    /** A real bundle of the node: the solo consensus engine, which commits the chain's blocks. */
    private static final String SOLO = "org.commonweal.consensus.solo";
    private static final String INFERENCE = "org.commonweal.inference";
    private static final String KERNELS = "org.commonweal.kernels";
    private static final String MODELS_COMPONENT = "OSGI-INF/org.commonweal.inference.internal.ModelsComponent.xml";

    private static Path work;
    private static Path operatorKeyFile;
    private static PrivateKey operatorKey;
    private static Path data;
    private static Path dist;
    private static int port;
    private static CwProcess node;

    @BeforeClass
    public static void startNode() throws Exception {
        work = DevDistribution.workFolder("hot-upgrade");
        SecureRandom random = new SecureRandom();
        PrivateKey author = Ed25519.generate(random);
        PrivateKey stranger = Ed25519.generate(random);
        operatorKey = Ed25519.generate(random);
        operatorKeyFile = work.resolve("operator.key");
        KeyFiles.write(operatorKeyFile, operatorKey, null);

        Path jars = Files.createDirectories(work.resolve("jars"));
        Map<String, Path> built = new java.util.LinkedHashMap<>();
        for (String version : List.of("1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0")) {
            built.put(GREETER + "@" + version, bundle(jars, GREETER, version, "org.example.upgrade.greeter.GreeterActivator",
                    Map.of("Private-Package", "org.example.upgrade.greeter", "Export-Package",
                            "org.example.upgrade.greeter.api;version=1.0.0",
                            "Example-Health", version.equals("3.0.0") ? "failing" : "healthy")));
        }
        // A version that cannot resolve: it imports a package nothing provides.
        built.put(GREETER + "@6.0.0", bundle(jars, GREETER, "6.0.0", "org.example.upgrade.greeter.GreeterActivator",
                Map.of("Private-Package", "org.example.upgrade.greeter", "Export-Package",
                        "org.example.upgrade.greeter.api;version=1.0.0", "Import-Package", "org.example.nowhere;version=1,*")));
        built.put(CONSUMER + "@1.0.0", bundle(jars, CONSUMER, "1.0.0", "org.example.upgrade.consumer.ConsumerActivator",
                Map.of("Private-Package", "org.example.upgrade.consumer")));
        for (String version : List.of("1.0.0", "2.0.0")) {
            built.put(LEAKY + "@" + version, bundle(jars, LEAKY, version, "org.example.upgrade.leaky.LeakyActivator",
                    Map.of("Private-Package", "org.example.upgrade.leaky")));
        }
        built.put(BYSTANDER + "@1.0.0", bundle(jars, BYSTANDER, "1.0.0", "org.example.upgrade.bystander.BystanderActivator",
                Map.of("Private-Package", "org.example.upgrade.bystander")));

        for (String version : List.of("1.0.0", "2.0.0")) {
            built.put(FRAGMENT + "@" + version, bundle(jars, FRAGMENT, version, null, Map.of("Fragment-Host", GREETER,
                    "-includeresource", "texts/greeting.txt;literal='hello " + version + "'")));
        }
        Path repo = work.resolve("repo");
        List<LocalRepository.Publication> publications = new java.util.ArrayList<>(built.entrySet().stream()
                .filter(e -> !e.getKey().equals(GREETER + "@5.0.0"))
                .map(e -> new LocalRepository.Publication(e.getValue(), mavenId(e.getKey()))).toList());
        // The build's solo engine, inference implementation and kernels as new versions 0.1.1: the same code, a new manifest
        // version; and inference 0.1.2, whose default maxBatch is 12 instead of 16 (the operator sets it).
        publications.add(revised(jars, SOLO, "0.1.1", Map.of()));
        publications.add(revised(jars, INFERENCE, "0.1.1", Map.of()));
        publications.add(revised(jars, KERNELS, "0.1.1", Map.of()));
        publications.add(revised(jars, INFERENCE, "0.1.2", Map.of(MODELS_COMPONENT,
                xml -> xml.replace("name=\"maxBatch\" type=\"Integer\" value=\"16\"", "name=\"maxBatch\" type=\"Integer\" value=\"12\""))));
        LocalRepository.at(repo).publish(publications, author);
        // Tampered after publishing: other bytes under the signed entry of greeter 4.0.0.
        Path greeter4 = findJar(repo, GREETER + "-4.0.0.jar");
        Files.write(greeter4, Files.readAllBytes(built.get(GREETER + "@2.0.0")));
        // Greeter 5.0.0 only from a publisher the node does not trust.
        Path untrusted = work.resolve("untrusted-repo");
        LocalRepository.at(untrusted).publish(List.of(new LocalRepository.Publication(built.get(GREETER + "@5.0.0"),
                mavenId(GREETER + "@5.0.0"))), stranger);

        dist = work.resolve("dist");
        copyTree(DevDistribution.directory().resolve("bundles"), dist.resolve("bundles"));
        JsonObject dev = Json.createReader(new StringReader(Files.readString(DevDistribution.directory().resolve("feature.json"))))
                .readObject();
        var bundles = Json.createArrayBuilder(dev.getJsonArray("bundles"));
        for (String initial : List.of(GREETER + "@1.0.0", FRAGMENT + "@1.0.0", CONSUMER + "@1.0.0", LEAKY + "@1.0.0",
                BYSTANDER + "@1.0.0")) {
            String id = mavenId(initial);
            String[] gav = id.split(":");
            Path target = dist.resolve("bundles").resolve(gav[0].replace('.', '/')).resolve(gav[1]).resolve(gav[2])
                    .resolve(gav[1] + "-" + gav[2] + ".jar");
            Files.createDirectories(target.getParent());
            Files.copy(built.get(initial), target);
            bundles.add(Json.createObjectBuilder().add("id", id));
        }
        String devKey = Files.readString(DevDistribution.home().resolve("bundle-repo/target/dev-publisher/publisher.pub")).strip();
        JsonObject assembly = Json.createObjectBuilder()
                .add("repositories", Json.createArrayBuilder().add(repo.toString()))
                .add("trust", Json.createObjectBuilder().add("publishers", Json.createArrayBuilder()
                        .add(Json.createObjectBuilder().add("name", "build").add("key", devKey)
                                .add("bundles", Json.createArrayBuilder().add("org.commonweal.*")))
                        .add(Json.createObjectBuilder().add("name", "example author").add("key", author.publicKey().hex())
                                .add("bundles", Json.createArrayBuilder().add("org.example.*").add(SOLO).add(INFERENCE).add(KERNELS)))))
                .build();
        JsonObject configurations = Json.createObjectBuilder(dev.getJsonObject("configurations"))
                .add("org.commonweal.management", Json.createObjectBuilder()
                        .add("operators", Json.createArrayBuilder().add("test operator=" + operatorKey.publicKey().hex()))
                        .add("repositories", Json.createArrayBuilder().add(repo.toString()).add(untrusted.toString()))
                        .add("health.timeout.ms:Long", 3000)
                        // More than the default 5 s: a loaded machine collects late (usually 0.1-0.3 s).
                        .add("leakProbe.timeout.ms:Long", Long.getLong("commonweal.itest.leakProbeSeconds", 20) * 1000))
                .build();
        JsonObject extensions = Json.createObjectBuilder(dev.getJsonObject("extensions")).add("commonweal-assembly",
                Json.createObjectBuilder().add("type", "json").add("kind", "mandatory").add("json", assembly)).build();
        Files.writeString(dist.resolve("feature.json"), Json.createObjectBuilder(dev).add("bundles", bundles)
                .add("configurations", configurations).add("extensions", extensions).build().toString());

        port = DevDistribution.freePort();
        data = work.resolve("data");
        // The operator's layer: one value the distribution also sets (maxBatch 16), one it does not.
        Files.createDirectories(data.resolve("config"));
        Files.writeString(data.resolve("config/operator.json"),
                "{\"org.commonweal.inference\": {\"maxBatch:Integer\": 8, \"maxQueued:Integer\": 32}}");
        node = CwProcess.start("node", "--dist", dist.toString(), "--port", Integer.toString(port), "--data", data.toString());
        CwNodeIT.awaitHealthy(node, port);
    }

    @AfterClass
    public static void stopNode() throws Exception {
        if (node != null) {
            node.terminate();
            assertEquals(node.output(), 0, node.exitCode(60));
        }
    }

    @Test
    public void b_upgradeToAVersionRefreshesTheBundleAndItsDependentsOnly() throws Exception {
        assertTrue(metrics(), metrics().contains("example_starts_total{bundle=\"bystander\"} 1"));
        assertTrue(metrics(), metrics().contains("example_starts_total{bundle=\"consumer\"} 1"));
        String plan = cw(0, "upgrade", GREETER + "@2.0.0", "--plan", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(plan, plan.contains("plan: " + GREETER + " 1.0.0 -> 2.0.0"));
        String refresh = plan.lines().filter(l -> l.contains("refresh (")).findFirst().orElseThrow();
        assertTrue(plan, refresh.startsWith("  refresh (3): " + GREETER + " 1.0.0"));
        assertTrue(plan, refresh.contains(CONSUMER + " 1.0.0") && refresh.contains(FRAGMENT + " 1.0.0"));
        assertFalse(plan, plan.contains("beyond"));
        assertTrue(plan, plan.contains("published by example author"));
        assertEquals("--plan changes nothing", "1.0.0", version(GREETER));

        long start = System.nanoTime();
        String upgraded = cw(0, "upgrade", GREETER + "@2.0.0", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("BENCHMARK cw upgrade -> healthy (new JVM, plan + apply): " + millis + " ms\n" + upgraded);
        assertTrue(upgraded, upgraded.contains("upgraded: " + GREETER + " 2.0.0 runs and the node is healthy"));
        assertTrue(upgraded, upgraded.contains("leak probe: collected"));
        assertEquals("2.0.0", version(GREETER));
        assertEquals("ACTIVE", state(GREETER));
        assertEquals("ACTIVE", state(CONSUMER));
        assertEquals(200, CwNodeIT.get(port, "/health").statusCode());
        assertTrue(CwNodeIT.get(port, "/health").body().contains("greeter 2.0.0"));
        assertTrue("the consumer was refreshed (restarted)", metrics().contains("example_starts_total{bundle=\"consumer\"} 2"));
        assertTrue("a bundle outside the refresh set is not restarted",
                metrics().contains("example_starts_total{bundle=\"bystander\"} 1"));

        String audit = Files.readString(data.resolve("management/audit.jsonl"));
        assertTrue(audit, audit.contains("\"actor\":\"test operator (" + operatorKey.publicKey().hex() + ")\""));
        assertTrue(audit, audit.contains("\"step\":\"healthy\",\"result\":\"ok\",\"bundle\":\"" + GREETER + "\""));
        assertTrue(audit, audit.contains("\"publisherKey\":\""));

        String rolledBack = cw(0, "rollback", GREETER, "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(rolledBack, rolledBack.contains(GREETER + " 1.0.0 runs again and the node is healthy"));
        assertEquals("1.0.0", version(GREETER));
        assertTrue(CwNodeIT.get(port, "/health").body().contains("greeter 1.0.0"));
        String again = cw(1, "rollback", GREETER, "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(again, again.contains("no previous version"));
    }

    @Test
    public void c_aFailingHealthCheckRollsBackByItself() throws Exception {
        String failed = cw(1, "upgrade", GREETER + "@3.0.0", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(failed, failed.contains("rolled-back"));
        assertTrue(failed, failed.contains("greeter 3.0.0 is broken on purpose"));
        assertEquals("1.0.0", version(GREETER));
        assertEquals(200, CwNodeIT.get(port, "/health").statusCode());
        String audit = Files.readString(data.resolve("management/audit.jsonl"));
        assertTrue(audit, audit.contains("\"step\":\"rollback\",\"result\":\"ok\""));
    }

    @Test
    public void ca_aVersionThatCannotResolveIsRolledBackAndItsDependentsRunAgain() throws Exception {
        String failed = cw(1, "upgrade", GREETER + "@6.0.0", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(failed, failed.contains("rolled-back"));
        assertTrue(failed, failed.contains("org.example.nowhere"));
        assertEquals("1.0.0", version(GREETER));
        assertEquals("ACTIVE", state(GREETER));
        assertEquals("ACTIVE", state(CONSUMER));
        assertEquals(200, CwNodeIT.get(port, "/health").statusCode());
    }

    @Test
    public void d_aTamperedJarAndAnUntrustedPublisherAreRefused() throws Exception {
        String tampered = cw(1, "upgrade", GREETER + "@4.0.0", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(tampered, tampered.contains("does not match the signed index"));
        String untrusted = cw(1, "upgrade", GREETER + "@5.0.0", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(untrusted, untrusted.contains("is refused") && untrusted.contains("do not accept"));
        // Without a version: 5.0.0's repository is not trusted, so the highest is 6.0.0 (which cannot resolve).
        String highest = cw(1, "upgrade", GREETER, "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(highest, highest.contains("plan: " + GREETER + " 1.0.0 -> 6.0.0"));
        assertEquals("1.0.0", version(GREETER));
    }

    @Test
    public void e_theAdminApiRefusesUnsignedForeignAndReplayedRequests() throws Exception {
        byte[] body = ("{\"bundle\":\"" + GREETER + "@2.0.0\",\"apply\":false}").getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> unsigned = post("/admin/upgrade", body, Map.of());
        assertEquals(unsigned.body(), 401, unsigned.statusCode());
        assertTrue(unsigned.body(), unsigned.body().contains("not signed"));

        PrivateKey stranger = Ed25519.generate(new SecureRandom());
        HttpResponse<String> foreign = post("/admin/upgrade", body, signed(stranger, "/admin/upgrade", body,
                System.currentTimeMillis()));
        assertEquals(foreign.body(), 401, foreign.statusCode());
        assertTrue(foreign.body(), foreign.body().contains("is not one of this node's operators"));

        HttpResponse<String> stale = post("/admin/upgrade", body, signed(operatorKey, "/admin/upgrade", body,
                System.currentTimeMillis() - 10 * 60_000));
        assertEquals(stale.body(), 401, stale.statusCode());

        Map<String, String> headers = signed(operatorKey, "/admin/upgrade", body, System.currentTimeMillis());
        HttpResponse<String> first = post("/admin/upgrade", body, headers);
        assertEquals(first.body(), 200, first.statusCode());
        assertTrue(first.body(), first.body().contains("\"result\":\"planned\""));
        HttpResponse<String> replay = post("/admin/upgrade", body, headers);
        assertEquals(replay.body(), 401, replay.statusCode());
        assertTrue(replay.body(), replay.body().contains("replay"));

        byte[] other = ("{\"bundle\":\"" + GREETER + "@3.0.0\",\"apply\":true}").getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> altered = post("/admin/upgrade", other, signed(operatorKey, "/admin/upgrade", body,
                System.currentTimeMillis()));
        assertEquals(altered.body(), 401, altered.statusCode());
        assertEquals("1.0.0", version(GREETER));
    }

    @Test
    public void ea_aFragmentsRefreshReachesItsHostSoItNeedsForce() throws Exception {
        String refused = cw(1, "upgrade", FRAGMENT + "@2.0.0", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(refused, refused.contains("reaches beyond the bundles that depend on it") && refused.contains(GREETER));
        assertEquals("1.0.0", version(FRAGMENT));
        String forced = cw(0, "upgrade", FRAGMENT + "@2.0.0", "--force", "--node", nodeUrl(), "--key",
                operatorKeyFile.toString());
        String beyond = forced.lines().filter(l -> l.contains("beyond its dependents: ")).findFirst().orElseThrow();
        assertTrue(forced, beyond.contains(GREETER + " 1.0.0") && beyond.contains(CONSUMER + " 1.0.0"));
        assertTrue(forced, forced.contains("upgraded: " + FRAGMENT + " 2.0.0"));
        assertEquals("2.0.0", version(FRAGMENT));
        assertEquals("RESOLVED", state(FRAGMENT));
        assertEquals("ACTIVE", state(GREETER));
        assertEquals(200, CwNodeIT.get(port, "/health").statusCode());
    }

    @Test
    public void f_theLeakProbeCatchesALeakingBundle() throws Exception {
        String upgraded = cw(0, "upgrade", LEAKY + "@2.0.0", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(upgraded, upgraded.contains("leak probe: leaked"));
        assertTrue(upgraded, upgraded.contains("system property 'org.example.upgrade.leaky.1.0.0'"));
        String metrics = CwNodeIT.get(port, "/metrics").body();
        assertTrue(metrics, metrics.contains("commonweal_classloader_leaks_total 1"));
    }

    @Test
    public void g_metricsShowBundlesUpgradesAndBundleFigures() throws Exception {
        HttpResponse<String> response = CwNodeIT.get(port, "/metrics");
        assertEquals(200, response.statusCode());
        String metrics = response.body();
        assertTrue(metrics, metrics.contains("# TYPE commonweal_bundles gauge"));
        assertTrue(metrics, metrics.contains("commonweal_bundle_info{bundle=\"" + GREETER + "\",state=\"ACTIVE\",version=\"1.0.0\"} 1"));
        assertTrue(metrics, metrics.contains("commonweal_node_healthy 1"));
        assertTrue(metrics, metrics.contains("commonweal_upgrades_total{action=\"upgrade\",result=\"upgraded\"}"));
        assertTrue(metrics, metrics.contains("commonweal_upgrades_total{action=\"upgrade\",result=\"rolled-back\"} 3"));
        assertTrue(metrics, metrics.contains("example_greetings_total{version=\"1.0.0\"} 0"));
        // The inference bundle's request figures (the demo model).
        assertTrue(metrics, metrics.contains("commonweal_inference_requests_total{model=\"commonweal-demo\",outcome=\"completed\"}"));
        assertFalse(metrics, metrics.contains("NaN"));
    }

    @Test
    public void ga_aRealBundleOfTheNodeIsUpgradedWhileTheChainRuns() throws Exception {
        assertTrue(transfer(), transfer().contains("committed in block"));
        long balance = recipientBalance();
        String upgraded = cw(0, "upgrade", SOLO + "@0.1.1", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        System.out.println("upgrade of the solo engine while the chain runs:\n" + upgraded);
        assertTrue(upgraded, upgraded.contains("upgraded: " + SOLO + " 0.1.1"));
        assertTrue(upgraded, upgraded.contains("leak probe: collected"));
        assertEquals("0.1.1", version(SOLO));
        String after = transfer();
        assertTrue("the new engine commits blocks: " + after, after.contains("committed in block"));
        assertEquals("the ledger's state went on from where it was", balance + 5, recipientBalance());
        String rolledBack = cw(0, "rollback", SOLO, "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(rolledBack, rolledBack.contains("leak probe: collected"));
        assertTrue(transfer().contains("committed in block"));
        assertTrue(cw(0, "upgrade", SOLO + "@0.1.1", "--node", nodeUrl(), "--key", operatorKeyFile.toString())
                .contains("upgraded: "));
    }

    private static long recipientBalance() throws Exception {
        return Json.createReader(new StringReader(CwNodeIT.get(port, "/api/chain/accounts/" + "11".repeat(32)).body()))
                .readObject().getJsonNumber("balance").longValue();
    }

    private static String transfer() throws Exception {
        return cw(0, "tx", "transfer", "--key", data.resolve("node.key").toString(), "--to", "11".repeat(32), "--amount", "5",
                "--wait", "30", "--node", nodeUrl());
    }

    @Test
    public void gb_configurationShowsEachValuesLayerAndAnUpgradeKeepsTheOperators() throws Exception {
        String shown = cw(0, "config", "show", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(shown, shown.matches("(?s).*\n  maxBatch +=  ?8 +operator \\(overrides the distribution's 16\\)\n.*"));
        assertTrue(shown, shown.matches("(?s).*\n  maxQueued +=  ?32 +operator\n.*"));
        assertTrue(shown, shown.matches("(?s).*\n  kvCache.maxMegabytes +=  ?512 +distribution\n.*"));
        assertTrue(shown, shown.matches("(?s).*\n  prefillChunk +=  ?256 +default \\(bundle " + INFERENCE + "\\)\n.*"));
        assertTrue(shown, shown.matches("(?s).*\n  org.osgi.service.http.port +=  ?" + port + " +command line\n.*"));
        String plan = cw(0, "upgrade", INFERENCE + "@0.1.1", "--plan", "--node", nodeUrl(), "--key",
                operatorKeyFile.toString());
        assertTrue(plan, plan.contains("operator configuration kept: org.commonweal.inference maxBatch = 8, "
                + "org.commonweal.inference maxQueued = 32"));
        assertFalse("the same defaults: no conflict\n" + plan, plan.contains("configuration conflict"));

        // 0.1.2 changes the default of maxBatch, which the operator set: kept, and reported as a conflict.
        String conflicting = cw(0, "upgrade", INFERENCE + "@0.1.2", "--plan", "--node", nodeUrl(), "--key",
                operatorKeyFile.toString());
        List<String> conflicts = conflicting.lines().filter(l -> l.contains("configuration conflict: ")).toList();
        assertEquals(conflicting, List.of("  configuration conflict: org.commonweal.inference maxBatch: the operator's 8 is"
                + " kept; the default changes from 16 to 12"), conflicts);
        String audit = Files.readString(data.resolve("management/audit.jsonl"));
        assertTrue(audit, audit.contains("\"configurationConflicts\":[\"org.commonweal.inference maxBatch: the operator's 8"));
        assertTrue(node.output(), node.output().contains("event=configuration-conflict bundle=" + INFERENCE + " to=0.1.2"));
    }

    /**
     * Issue #5, points 2, 3 and 8: the inference implementation is replaced while clients keep sending completions. No
     * request fails (the old implementation serves on as the standby until the new one took the weights over and warmed
     * up, then finishes what it accepted), the refresh set is the implementation alone, the model answers the same
     * after, and the figures are printed.
     */
    @Test
    public void gc_theInferenceImplementationIsSwappedUnderLoadWithoutAFailedRequest() throws Exception {
        String before = seededReply();
        String plan = cw(0, "upgrade", INFERENCE + "@0.1.1", "--plan", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue("only the implementation is refreshed, not the API, the HTTP bundle or the culture packs:\n" + plan,
                plan.contains("refresh (1): " + INFERENCE + " 0.1.0"));
        swapUnderLoad(INFERENCE, "0.1.1");
        assertEquals("the same model answers the same after the swap", before, seededReply());
    }

    /**
     * The kernels upgraded under the same load: the model-file API imports only the kernel types (a bundle of their
     * own), so the refresh set is the kernels and the inference implementation, never the API, the HTTP endpoints or
     * the culture packs, and the swap is the implementation's, as above.
     */
    @Test
    public void gd_theKernelsAreUpgradedUnderLoadWithoutAFailedRequest() throws Exception {
        String before = seededReply();
        String plan = cw(0, "upgrade", KERNELS + "@0.1.1", "--plan", "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        String refresh = plan.lines().filter(l -> l.contains("refresh (")).findFirst().orElse("");
        assertTrue("the kernels and their one caller are refreshed:\n" + plan, refresh.contains("refresh (2): ")
                && refresh.contains(KERNELS + " 0.1.0") && refresh.contains(INFERENCE + " 0.1.1"));
        swapUnderLoad(KERNELS, "0.1.1");
        assertEquals("the same model answers the same after the upgrade", before, seededReply());
    }

    /**
     * Upgrades {@code bundle} to {@code version} through the admin API while clients send completions (6 keep the 2
     * cores saturated; {@code -Dhotupgrade.clients=2} shows the swap without the load's own gaps); prints the figures
     * and checks what every swap of the inference implementation must hold.
     */
    private static void swapUnderLoad(String bundle, String version) throws Exception {
        long drainsBefore = count(node.output(), "event=drained");
        long replacedBefore = count(node.output(), "event=standby-replaced");
        byte[] body = ("{\"bundle\":\"" + bundle + "@" + version + "\",\"apply\":true}").getBytes(StandardCharsets.UTF_8);
        List<CompletionLoad.Call> calls;
        long started = System.nanoTime();
        long upgradeStart;
        long upgradeEnd;
        HttpResponse<String> response;
        int clients = Integer.getInteger("hotupgrade.clients", 6);
        try (CompletionLoad load = new CompletionLoad(port, clients, 8, "commonweal-demo:sw-ke")) {
            Thread.sleep(4_000);
            upgradeStart = System.nanoTime();
            response = post("/admin/upgrade", body, signed(operatorKey, "/admin/upgrade", body, System.currentTimeMillis()));
            upgradeEnd = System.nanoTime();
            Thread.sleep(4_000);
            load.close();
            calls = load.calls();
        }
        long ended = System.nanoTime();
        assertEquals(response.body(), 200, response.statusCode());
        JsonObject outcome = Json.createReader(new StringReader(response.body())).readObject();
        assertEquals(response.body(), "upgraded", outcome.getString("result"));
        assertEquals(version, version(bundle));

        List<CompletionLoad.Call> failed = calls.stream().filter(c -> c.failure() != null).toList();
        List<CompletionLoad.Call> warm = CompletionLoad.sentBetween(calls, started + 1_000_000_000L, upgradeStart);
        List<CompletionLoad.Call> during = CompletionLoad.overlapping(calls, upgradeStart, upgradeEnd);
        List<CompletionLoad.Call> after = CompletionLoad.sentBetween(calls, upgradeEnd, ended);
        long healthyAt = upgradeStart + outcome.getJsonNumber("healthyMillis").longValue() * 1_000_000;
        long pause = CompletionLoad.longestSilence(calls, upgradeStart, healthyAt);
        long pauseWithProbe = CompletionLoad.longestSilence(calls, upgradeStart, upgradeEnd);
        long usualPause = CompletionLoad.longestSilence(calls, started + 1_000_000_000L, upgradeStart);
        String reload = node.output().lines().filter(l -> l.contains("serving model 'commonweal-demo'")).reduce((a, b) -> b)
                .orElse("");
        String drained = node.output().lines().filter(l -> l.contains("event=drained")).reduce((a, b) -> b).orElse("");
        List<CompletionLoad.Call> waited = calls.stream().filter(c -> c.waitedMillis() > 0).toList();
        long longestWait = waited.stream().mapToLong(CompletionLoad.Call::waitedMillis).max().orElse(0);
        System.out.printf("BENCHMARK %s upgraded under load (%d clients, max_tokens 8, 1 in 3 streamed, 1 in 4 to an"
                + " adapter): %d requests, %d"
                + " failed (%d streamed)%n  latency ms p50/p99: before %d/%d (%d requests), during %d/%d (%d), after %d/%d (%d)%n"
                + "  client-visible pause (longest time without a reply ending): %d ms from the upgrade request to healthy,"
                + " %d ms to the end of the leak probe (System.gc()), %d ms at most before it%n"
                + "  requests that waited for the new implementation: %d, longest wait %d ms (node's X-Commonweal-Waited-Ms)%n"
                + "  upgrade request -> healthy: %d ms (admin API answered after %d ms, leak probe %s)%n  old revision: %s%n"
                + "  new revision: %s%n%s%n", bundle, clients, calls.size(), failed.size(),
                calls.stream().filter(CompletionLoad.Call::streamed).count(), CompletionLoad.percentile(warm, 50),
                CompletionLoad.percentile(warm, 99), warm.size(), CompletionLoad.percentile(during, 50),
                CompletionLoad.percentile(during, 99), during.size(), CompletionLoad.percentile(after, 50),
                CompletionLoad.percentile(after, 99), after.size(), pause, pauseWithProbe, usualPause, waited.size(),
                longestWait, outcome.getJsonNumber("healthyMillis").longValue(), (upgradeEnd - upgradeStart) / 1_000_000,
                outcome.getString("leakProbe"), drained.strip(), reload.strip(), response.body());
        assertTrue("failed requests: " + failed.stream().limit(5).toList(), failed.isEmpty());
        assertTrue("every client had requests in flight during the swap: " + during.size(), during.size() >= clients);
        assertTrue("after the swap the new revision serves: " + after.size() + " requests", after.size() > 20);
        // A generous bound (the target is 50 ms): a pause this long means requests waited for a timeout somewhere.
        assertTrue("client-visible pause " + pause + " ms", pause < 2_000);
        // The old revision must be collected (0.1-0.3 s). If not, the node's heap dump says what holds it.
        String probe = outcome.getString("leakProbe");
        if (!probe.startsWith("collected")) {
            fail(probe + "\n" + node.heapDumpAndExplain(Path.of("target/hot-upgrade-pin.hprof").toAbsolutePath()));
        }
        assertTrue("the old revision drained: " + node.output(), count(node.output(), "event=drained") > drainsBefore);
        assertTrue("the new revision took the weights over: " + reload, reload.contains("handed over"));
        assertTrue("the old revision served as the standby until the new one, warmed up, replaced it: " + node.output(),
                count(node.output(), "event=standby-replaced") > replacedBefore);
    }

    private static long count(String output, String event) {
        return output.lines().filter(l -> l.contains(event)).count();
    }

    /** A seeded completion's text: the same model file, prompt and seed give the same text. */
    private static String seededReply() throws Exception {
        HttpResponse<String> reply = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(nodeUrl()
                + "/v1/completions")).timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Hello\", \"max_tokens\": 12, \"seed\": 42}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(reply.body(), 200, reply.statusCode());
        return Json.createReader(new StringReader(reply.body())).readObject().getJsonArray("choices").getJsonObject(0)
                .getString("text");
    }

    @Test
    public void h_upgradesSurviveARestartAndCanStillBeRolledBack() throws Exception {
        node.terminate();
        assertEquals(node.output(), 0, node.exitCode(60));
        node = CwProcess.start("node", "--dist", dist.toString(), "--port", Integer.toString(port), "--data", data.toString());
        CwNodeIT.awaitHealthy(node, port);
        assertTrue(node.output(), node.output().contains("upgraded earlier with cw upgrade: " + LEAKY + " 2.0.0"));
        assertEquals("2.0.0", version(LEAKY));
        assertEquals("2.0.0", version(FRAGMENT));
        assertEquals("rolled back to the distribution's version before the restart", "1.0.0", version(GREETER));
        assertEquals("0.1.1", version(SOLO));
        assertTrue(transfer().contains("committed in block"));
        String rolledBack = cw(0, "rollback", LEAKY, "--node", nodeUrl(), "--key", operatorKeyFile.toString());
        assertTrue(rolledBack, rolledBack.contains(LEAKY + " 1.0.0 runs again"));
        assertEquals("1.0.0", version(LEAKY));
    }

    private static String nodeUrl() {
        return "http://127.0.0.1:" + port;
    }

    private static String cw(int expectedExit, String... arguments) throws Exception {
        try (CwProcess cw = CwProcess.start(arguments)) {
            int exit = cw.exitCode(120);
            assertEquals(cw.output(), expectedExit, exit);
            return cw.output();
        }
    }

    private static JsonObject bundle(String symbolicName) throws Exception {
        JsonObject info = Json.createReader(new StringReader(CwNodeIT.get(port, "/api/node").body())).readObject();
        for (JsonValue value : info.getJsonArray("bundles")) {
            if (value.asJsonObject().getString("symbolicName").equals(symbolicName)) {
                return value.asJsonObject();
            }
        }
        throw new AssertionError("no bundle " + symbolicName + " in /api/node");
    }

    private static String version(String symbolicName) throws Exception {
        return bundle(symbolicName).getString("version");
    }

    private static String state(String symbolicName) throws Exception {
        return bundle(symbolicName).getString("state");
    }

    private static String metrics() throws Exception {
        return CwNodeIT.get(port, "/metrics").body();
    }

    private static Map<String, String> signed(PrivateKey key, String path, byte[] body, long time) {
        String text = "commonweal-admin/v1\nPOST\n" + path + "\n" + time + "\n" + HexFormat.of().formatHex(Sha256.hash(body));
        return Map.of("Commonweal-Key", key.publicKey().hex(), "Commonweal-Timestamp", Long.toString(time),
                "Commonweal-Signature", HexFormat.of().formatHex(key.sign(text.getBytes(StandardCharsets.UTF_8))));
    }

    private static HttpResponse<String> post(String path, byte[] body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(nodeUrl() + path)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(request::header);
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String mavenId(String spec) {
        String[] parts = spec.split("@");
        return parts[0] + ":" + parts[0] + ":" + parts[1];
    }

    /** A bundle of this test's classes, built by bnd. */
    private static Path bundle(Path folder, String symbolicName, String version, String activator, Map<String, String> headers)
            throws Exception {
        try (Builder builder = new Builder()) {
            builder.addClasspath(new File("target/test-classes"));
            builder.setProperty("Bundle-SymbolicName", symbolicName);
            builder.setProperty("Bundle-Version", version);
            if (activator != null) {
                builder.setProperty("Bundle-Activator", activator);
            }
            builder.setProperty("-noimportjava", "true");
            builder.setProperty("-reproducible", "true");
            headers.forEach(builder::setProperty);
            Jar jar = builder.build();
            assertTrue(builder.getErrors().toString(), builder.getErrors().isEmpty());
            Path file = folder.resolve(symbolicName + "-" + version + ".jar");
            jar.write(file.toFile());
            return file;
        }
    }

    /** The build's jar of {@code bsn} as another version, with some of its text resources edited. */
    private static LocalRepository.Publication revised(Path folder, String bsn, String version,
            Map<String, java.util.function.UnaryOperator<String>> edits) throws Exception {
        return RevisedBundles.revised(findJar(DevDistribution.directory().resolve("bundles/org/commonweal/" + bsn),
                bsn + "-0.1.0-SNAPSHOT.jar"), folder, bsn, version, edits);
    }

    private static Path findJar(Path root, String name) throws Exception {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.getFileName().toString().equals(name)).findFirst().orElseThrow();
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }
}
