package org.commonweal.launcher;

import java.util.Map;
import java.util.concurrent.Callable;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cw benefit}: proof of benefit from the command line, read from a node's benefit API (allowance, rewards,
 * treasury, grants). For a value proven against a block's state root, use the chain API's entries.
 */
final class BenefitCommands {

    private BenefitCommands() {
    }

    @Command(name = "benefit", mixinStandardHelpOptions = true,
            description = "Proof of benefit: parameters and emission; a person's allowance; a node's rewards; the treasury;"
                    + " an audit; and the benefit transactions, signed here with a local key.",
            subcommands = { Person.class, Node.class, Treasury.class, Grant.class, Audit.class,
                    BenefitTxCommands.RegisterNode.class, BenefitTxCommands.AttestPerson.class, BenefitTxCommands.Stake.class,
                    BenefitTxCommands.Unstake.class, BenefitTxCommands.Claim.class, BenefitTxCommands.AuditKey.class,
                    BenefitTxCommands.Reveal.class, BenefitTxCommands.Attest.class, BenefitTxCommands.Dispute.class,
                    BenefitTxCommands.Govern.class, BenefitTxCommands.Sale.class, BenefitTxCommands.GrantVote.class,
                    BenefitTxCommands.LocalTransfer.class, BenefitTxCommands.Countersign.class })
    static final class Benefit implements Callable<Integer> {
        @Mixin
        NodeMixin node;

        @Override
        public Integer call() throws LaunchException {
            return show(node, "/api/benefit");
        }
    }

    /** The node option as a mixin (every subcommand has it). */
    static final class NodeMixin {
        @Option(names = "--node", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
                description = "The node's HTTP address (default: ${DEFAULT-VALUE}).")
        java.net.URI node;
    }

    @Command(name = "person", mixinStandardHelpOptions = true,
            description = "A person key: its nation, the day's allowance used and left, its local currency.")
    static final class Person implements Callable<Integer> {
        @Mixin
        NodeMixin node;

        @Parameters(paramLabel = "KEY", description = "The person's public key, 64 hex digits.")
        String key;

        @Option(names = "--day", paramLabel = "N", description = "The day (days since 1970-01-01 UTC; default today).")
        Long day;

        @Override
        public Integer call() throws LaunchException {
            return show(node, "/api/benefit/persons/" + key + (day == null ? "" : "?day=" + day));
        }
    }

    @Command(name = "node", mixinStandardHelpOptions = true, description = "A node key: its nation, stake and rewards.")
    static final class Node implements Callable<Integer> {
        @Mixin
        NodeMixin node;

        @Parameters(paramLabel = "KEY", description = "The node's public key, 64 hex digits.")
        String key;

        @Override
        public Integer call() throws LaunchException {
            return show(node, "/api/benefit/nodes/" + key);
        }
    }

    @Command(name = "treasury", mixinStandardHelpOptions = true,
            description = "Each nation's treasury: proceeds of coin sales, granted, unallocated.")
    static final class Treasury implements Callable<Integer> {
        @Mixin
        NodeMixin node;

        @Override
        public Integer call() throws LaunchException {
            return show(node, "/api/benefit/treasury");
        }
    }

    /** Shows one resource of the benefit API by its id. */
    abstract static class ById implements Callable<Integer> {
        @Mixin
        NodeMixin node;

        @Parameters(paramLabel = "ID", description = "Its id, 64 hex digits.")
        String id;

        /** Where resources of this kind are, e.g. {@code /api/benefit/grants/}. */
        abstract String resources();

        @Override
        public Integer call() throws LaunchException {
            return show(node, resources() + id);
        }
    }

    @Command(name = "grant", mixinStandardHelpOptions = true, description = "A grant: its votes and whether it is paid.")
    static final class Grant extends ById {
        @Override
        String resources() {
            return "/api/benefit/grants/";
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true,
            description = "An open audit of a sampled receipt (ID: the receipt id): phase, deadline, node, auditor, referee.")
    static final class Audit extends ById {
        @Override
        String resources() {
            return "/api/benefit/audits/";
        }
    }

    private static int show(NodeMixin node, String path) throws LaunchException {
        ChainCommands.Client client = new ChainCommands.Client(node.node);
        var response = client.send(java.net.http.HttpRequest.newBuilder(node.node.resolve(path)).build());
        if (response.statusCode() == 404 && !response.body().contains("\"error\"")) {
            throw new LaunchException("the node at " + node.node + " has no benefit API: proof of benefit is not configured"
                    + " there (configuration org.commonweal.benefit)");
        }
        print("", client.check(response));
        return 0;
    }

    private static void print(String indent, JsonObject object) {
        for (Map.Entry<String, JsonValue> field : object.entrySet()) {
            JsonValue value = field.getValue();
            if (value instanceof JsonObject nested) {
                System.out.println(indent + field.getKey() + ":");
                print(indent + "  ", nested);
            } else if (value instanceof JsonArray array && !array.isEmpty() && array.get(0) instanceof JsonObject) {
                System.out.println(indent + field.getKey() + ":");
                for (JsonValue item : array) {
                    System.out.println(indent + "  -");
                    print(indent + "    ", item.asJsonObject());
                }
            } else {
                String text = value instanceof jakarta.json.JsonString s ? s.getString() : value.toString();
                System.out.println(indent + field.getKey() + ": " + text);
            }
        }
    }
}
