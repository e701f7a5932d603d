package org.commonweal.launcher;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;

import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cw upgrade} and {@code cw rollback}: the node's admin API, each request signed with an operator's key. */
final class UpgradeCommands {

    private UpgradeCommands() {
    }

    @Command(name = "upgrade", mixinStandardHelpOptions = true, sortOptions = false,
            description = { "Upgrade one bundle of a running node from the node's own repositories: the node verifies it"
                    + " against its trust roots, shows the plan (the bundle updated, the refresh set), applies it,"
                    + " health-checks and rolls back by itself when the node is not healthy.",
                    "Exit 0 when upgraded (or planned with --plan), 1 otherwise." })
    static final class Upgrade implements Callable<Integer> {

        @Parameters(paramLabel = "BUNDLE[@VERSION]", description = "The bundle's symbolic name; without a version, the"
                + " highest the repositories offer.")
        String bundle;

        @ArgGroup(exclusive = false, multiplicity = "1")
        ChainCommands.KeyOption key;

        @ArgGroup(exclusive = false)
        ChainCommands.NodeOption node = new ChainCommands.NodeOption();

        @Option(names = "--force", description = "Apply a plan whose refresh set reaches beyond the bundles that depend on"
                + " the upgraded one.")
        boolean force;

        @Option(names = "--plan", description = "Show the plan only; change nothing.")
        boolean planOnly;

        @Override
        public Integer call() throws LaunchException {
            long start = System.nanoTime();
            PrivateKey operator = key.read();
            JsonObject plan = AdminClient.post(node.node, operator, "/admin/upgrade", Json.createObjectBuilder()
                    .add("bundle", bundle).add("force", force).add("apply", false).build());
            print(plan);
            if (!"planned".equals(plan.getString("result", "")) || planOnly) {
                return "planned".equals(plan.getString("result", "")) ? 0 : 1;
            }
            System.out.println("applying...");
            JsonObject outcome = AdminClient.post(node.node, operator, "/admin/upgrade", Json.createObjectBuilder()
                    .add("bundle", bundle + (bundle.contains("@") ? "" : "@" + plan.getString("to"))).add("force", force)
                    .add("apply", true).build());
            printSteps(outcome);
            if ("upgraded".equals(outcome.getString("result", ""))) {
                System.out.printf("healthy %d ms after cw upgrade started%n", (System.nanoTime() - start) / 1_000_000);
                return 0;
            }
            return 1;
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Return a bundle of a running node to the version that ran before its last upgrade.")
    static final class Rollback implements Callable<Integer> {

        @Parameters(paramLabel = "BUNDLE", description = "The bundle's symbolic name.")
        String bundle;

        @ArgGroup(exclusive = false, multiplicity = "1")
        ChainCommands.KeyOption key;

        @ArgGroup(exclusive = false)
        ChainCommands.NodeOption node = new ChainCommands.NodeOption();

        @Override
        public Integer call() throws LaunchException {
            JsonObject outcome = AdminClient.post(node.node, key.read(), "/admin/rollback",
                    Json.createObjectBuilder().add("bundle", bundle).build());
            print(outcome);
            return "rolled-back-on-request".equals(outcome.getString("result", "")) ? 0 : 1;
        }
    }

    @Command(name = "config", mixinStandardHelpOptions = true, description = "A running node's configuration.",
            subcommands = ConfigShow.class)
    static final class Config {
    }

    @Command(name = "show", mixinStandardHelpOptions = true, sortOptions = false,
            description = { "Every configuration value of a running node with its layer: default (the bundle's own),"
                    + " distribution (the feature), operator (<data>/config/operator.json, which wins over the"
                    + " distribution) or command line." })
    static final class ConfigShow implements Callable<Integer> {

        @ArgGroup(exclusive = false, multiplicity = "1")
        ChainCommands.KeyOption key;

        @ArgGroup(exclusive = false)
        ChainCommands.NodeOption node = new ChainCommands.NodeOption();

        @Override
        public Integer call() throws LaunchException {
            JsonValue values = AdminClient.request(node.node, key.read(), "GET", "/admin/config", null);
            String pid = null;
            for (JsonValue value : values.asJsonArray()) {
                JsonObject v = value.asJsonObject();
                if (!v.getString("pid").equals(pid)) {
                    pid = v.getString("pid");
                    System.out.println(pid);
                }
                String note = text(v, "note");
                System.out.printf("  %-28s = %-24s %s%s%n", v.getString("key"), text(v, "value"), v.getString("source"),
                        note.isEmpty() ? "" : " (" + (v.getString("source").equals("operator") ? "overrides " + note
                                .replaceFirst("^distribution value ", "the distribution's ") : note) + ")");
            }
            return 0;
        }
    }

    private static void print(JsonObject outcome) {
        JsonValue plan = outcome.get("plan");
        if (plan instanceof JsonObject p) {
            System.out.println("plan: " + p.getString("bundle") + " " + text(p, "from") + " -> " + text(p, "to"));
            if (p.get("mavenId") instanceof JsonString) {
                System.out.println("  artifact " + text(p, "mavenId") + " sha256 " + text(p, "sha256"));
                System.out.println("  published by " + text(p, "publisher") + " (" + text(p, "publisherKey") + ")");
            }
            System.out.println("  from " + text(p, "repository"));
            System.out.println("  update: " + String.join(", ", strings(p, "update")));
            System.out.println("  refresh (" + strings(p, "refresh").length + "): " + String.join(", ", strings(p, "refresh")));
            if (strings(p, "beyondDependents").length > 0) {
                System.out.println("  beyond its dependents: " + String.join(", ", strings(p, "beyondDependents")));
            }
            if (strings(p, "operatorValuesKept").length > 0) {
                System.out.println("  operator configuration kept: " + String.join(", ", strings(p, "operatorValuesKept")));
            }
            for (String conflict : strings(p, "configurationConflicts")) {
                System.out.println("  configuration conflict: " + conflict);
            }
        }
        printSteps(outcome);
    }

    private static void printSteps(JsonObject outcome) {
        if (outcome.get("steps") instanceof jakarta.json.JsonArray steps) {
            for (JsonValue value : steps) {
                JsonObject step = value.asJsonObject();
                String detail = text(step, "detail");
                System.out.printf("  %6d ms  %s%s%n", step.getJsonNumber("millis").longValue(), step.getString("name"),
                        detail.isEmpty() ? "" : ": " + detail);
            }
        }
        String result = outcome.getString("result", "?");
        boolean ok = result.equals("planned") || result.equals("upgraded") || result.equals("rolled-back-on-request");
        (ok ? System.out : System.err).println((ok ? "" : "error: ") + result + ": " + text(outcome, "message"));
        if (outcome.get("leakProbe") instanceof JsonString leak) {
            System.out.println("  leak probe: " + leak.getString());
        }
    }

    private static String text(JsonObject object, String name) {
        return object.get(name) instanceof JsonString s ? s.getString() : "";
    }

    private static String[] strings(JsonObject object, String name) {
        return object.get(name) instanceof jakarta.json.JsonArray array
                ? array.getValuesAs(JsonString.class).stream().map(JsonString::getString).toArray(String[]::new)
                : new String[0];
    }

    /** Signed requests to the admin API (the management bundle's AdminAuthenticator checks them: keep the two in step). */
    static final class AdminClient {

        private AdminClient() {
        }

        static String signedText(String method, String pathAndQuery, long timestampMillis, byte[] body) {
            return "commonweal-admin/v1\n" + method + "\n" + pathAndQuery + "\n" + timestampMillis + "\n"
                    + HexFormat.of().formatHex(Sha256.hash(body));
        }

        static JsonObject post(URI node, PrivateKey key, String path, JsonObject body) throws LaunchException {
            return request(node, key, "POST", path, body).asJsonObject();
        }

        /** A signed request; {@code body} null for a GET. The answer is JSON; an {@code error} object is thrown. */
        static JsonValue request(URI node, PrivateKey key, String method, String path, JsonObject body) throws LaunchException {
            byte[] bytes = body == null ? new byte[0] : body.toString().getBytes(StandardCharsets.UTF_8);
            long now = System.currentTimeMillis();
            byte[] signature = key.sign(signedText(method, path, now, bytes).getBytes(StandardCharsets.UTF_8));
            URI uri = node.resolve(path);
            try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
                        .header("Content-Type", "application/json")
                        .header("Commonweal-Key", key.publicKey().hex())
                        .header("Commonweal-Timestamp", Long.toString(now))
                        .header("Commonweal-Signature", HexFormat.of().formatHex(signature))
                        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());
                JsonValue json;
                try {
                    json = Json.createReader(new StringReader(response.body())).readValue();
                } catch (RuntimeException e) {
                    throw new LaunchException("the node at " + node + " answered " + response.statusCode() + " to " + path
                            + " with something that is not the admin API's JSON (" + response.body().lines().findFirst()
                                    .orElse("") + "). Fix: check --node; the node needs bundle org.commonweal.management");
                }
                if (json instanceof JsonObject object && object.containsKey("error")) {
                    throw new LaunchException("the node at " + node + " refused the request (" + response.statusCode() + "): "
                            + object.getString("error"));
                }
                return json;
            } catch (IOException e) {
                throw new LaunchException("cannot reach the node at " + node + " (" + e + "). Fix: start it (cw node), or"
                        + " give its address with --node URL");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchException("interrupted");
            }
        }
    }
}
