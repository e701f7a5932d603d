package org.commonweal.launcher;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;

import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cw benefit <transaction>}: the benefit transactions a person at a keyboard makes, signed here with a local
 * key (like {@code cw tx transfer}): a registry registers nodes and attests persons; a node stakes, unstakes, claims
 * receipts, publishes its audit key, reveals a sampled request to its auditor and disputes a false accusation; an
 * auditor who re-ran a request by other means attests it; a nation's payment key sells coins for the treasury;
 * approvers vote grants and governance changes; a person moves local currency.
 */
final class BenefitTxCommands {

    private BenefitTxCommands() {
    }

    /** A command that signs one transaction. */
    abstract static class Signed implements Callable<Integer> {
        @ArgGroup(exclusive = false, multiplicity = "1")
        ChainCommands.SigningOptions tx;

        /** Signs (by default without fee) and submits. */
        void submit(PrivateKey signer, int type, byte[] payload, String what) throws LaunchException {
            tx.submit(signer, 0, type, payload, what);
        }
    }

    /** A command on an amount of coins. */
    abstract static class OnAmount extends Signed {
        @Option(names = "--amount", required = true, description = "Coins (at least 1).")
        long amount;

        /** Signs and submits the payload made of the amount. */
        int submit(int type, java.util.function.LongFunction<byte[]> payload, String verb) throws LaunchException {
            if (amount < 1) {
                throw new LaunchException("--amount is at least 1, not " + amount);
            }
            PrivateKey key = tx.key.read();
            submit(key, type, payload.apply(amount), verb + " " + amount + " for " + key.publicKey());
            return 0;
        }
    }

    /** A command on the audit of one receipt. */
    abstract static class OnReceipt extends Signed {
        @Option(names = "--receipt", paramLabel = "ID", required = true, description = "The receipt id, 64 hex digits.")
        String receipt;

        byte[] receiptId() throws LaunchException {
            return hex32(receipt, "--receipt");
        }
    }

    @Command(name = "register-node", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a nation's registry (--key is its registry key): register a node key to the nation.")
    static final class RegisterNode extends Signed {
        @Option(names = "--nation", required = true, description = "The nation's code, e.g. ke.")
        String nation;

        @Option(names = "--node-key", paramLabel = "KEY", required = true, description = "The node's public key, 64 hex digits.")
        String node;

        @Override
        public Integer call() throws LaunchException {
            NationCode code = nation(nation);
            PublicKey key = publicKey(node, "--node-key");
            submit(tx.key.read(), BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(code, key).encode(),
                    "register node " + key + " to nation " + code);
            return 0;
        }
    }

    @Command(name = "attest-person", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a nation's registry (--key is its registry key): attest a person's key, with the person tag"
                    + " the registry derives from its own records (one person, one key; nothing personal on the chain).")
    static final class AttestPerson extends Signed {
        @Option(names = "--nation", required = true, description = "The nation's code, e.g. ke.")
        String nation;

        @Option(names = "--person", paramLabel = "KEY", required = true, description = "The person's public key, 64 hex digits.")
        String person;

        @Option(names = "--tag", paramLabel = "HEX", required = true,
                description = "The person tag, 64 hex digits (e.g. a keyed hash of an identity number, kept by the registry).")
        String tag;

        @Override
        public Integer call() throws LaunchException {
            NationCode code = nation(nation);
            PublicKey key = publicKey(person, "--person");
            submit(tx.key.read(), BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(code, key,
                    hex32(tag, "--tag")).encode(), "attest person " + key + " of nation " + code);
            return 0;
        }
    }

    @Command(name = "countersign", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"As a person (--key is your person key): countersign a receipt the node's OpenAI endpoint"
                    + " returned (field commonweal_receipt.receipt, or the X-Commonweal-Receipt header) and give it back"
                    + " to the node, which claims it; your key never leaves this machine."})
    static final class Countersign implements Callable<Integer> {
        @ArgGroup(exclusive = false, multiplicity = "1")
        ChainCommands.KeyOption key;

        @ArgGroup(exclusive = false)
        ChainCommands.NodeOption node = new ChainCommands.NodeOption();

        @Option(names = "--receipt", paramLabel = "HEX", required = true, description = "The receipt as the node gave it, in hex.")
        String receipt;

        @Override
        public Integer call() throws LaunchException {
            Receipt issued;
            try {
                issued = Receipt.decode(HexFormat.of().parseHex(receipt.strip()));
            } catch (IllegalArgumentException e) {
                throw new LaunchException("--receipt is not a receipt in hex (" + e.getMessage() + "); give the"
                        + " commonweal_receipt.receipt field of the node's reply");
            }
            PrivateKey person = key.read();
            if (!issued.person().equals(person.publicKey())) {
                throw new LaunchException("the receipt is for person " + issued.person() + ", not for the key in " + key.key
                        + " (" + person.publicKey() + ")");
            }
            String body = Json.createObjectBuilder().add("receipt",
                    HexFormat.of().formatHex(issued.countersignedBy(person).encode())).build().toString();
            ChainCommands.Client client = new ChainCommands.Client(node.node);
            client.check(client.send(java.net.http.HttpRequest.newBuilder(node.node.resolve("/api/benefit/receipts"))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build()));
            System.out.println("countersigned receipt " + HexFormat.of().formatHex(issued.id()) + " and gave it to "
                    + node.node);
            return 0;
        }
    }

    @Command(name = "sale", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a nation's payment key (--key): release coins to a buyer against a payment the nation"
                    + " received; all of the payment is credited to the nation's public-benefit treasury.")
    static final class Sale extends Signed {
        @Option(names = "--nation", required = true, description = "The nation's code, e.g. ke.")
        String nation;

        @Option(names = "--buyer", paramLabel = "KEY", required = true, description = "The buyer's public key, 64 hex digits.")
        String buyer;

        @Option(names = "--coins", required = true, description = "Coins released to the buyer (at least 1).")
        long coins;

        @Option(names = "--payment", required = true, description = "The payment received, credited to the treasury (at least 1).")
        long payment;

        @Option(names = "--reference", paramLabel = "HEX", required = true,
                description = "The payment's reference, 64 hex digits (e.g. a hash of the bank's record): one payment, one sale.")
        String reference;

        @Override
        public Integer call() throws LaunchException {
            NationCode code = nation(nation);
            PublicKey key = publicKey(buyer, "--buyer");
            if (coins < 1 || payment < 1) {
                throw new LaunchException("--coins and --payment are at least 1, not " + coins + " and " + payment);
            }
            submit(tx.key.read(), BenefitPayloads.SALE, new BenefitPayloads.Sale(code, key, coins, payment,
                    hex32(reference, "--reference")).encode(), "sell " + coins + " coins to " + key + " for a payment of "
                    + payment + " to the treasury of nation " + code);
            return 0;
        }
    }

    @Command(name = "grant-vote", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As an approver (--key): vote to pay a grant from a nation's treasury; it is paid once two thirds"
                    + " of the approvers voted for the same grant (same nation, grantee, amount and purpose).")
    static final class GrantVote extends OnAmount {
        @Option(names = "--nation", required = true, description = "The nation whose treasury pays, e.g. ke.")
        String nation;

        @Option(names = "--grantee", paramLabel = "KEY", required = true, description = "Who is paid, 64 hex digits.")
        String grantee;

        @Option(names = "--purpose", required = true,
                description = "What the grant pays for, in words; its SHA-256 goes on the chain (every voter gives the same words).")
        String purpose;

        @Override
        public Integer call() throws LaunchException {
            NationCode code = nation(nation);
            PublicKey key = publicKey(grantee, "--grantee");
            byte[] hash = org.commonweal.crypto.Sha256.hash(purpose.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return submit(BenefitPayloads.GRANT, a -> new BenefitPayloads.GrantVote(code, key, a, hash).encode(),
                    "vote to grant " + key + " '" + purpose + "' from the treasury of nation " + code + ":");
        }
    }

    @Command(name = "local-transfer", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a person (--key): move local currency of a nation to another key.")
    static final class LocalTransfer extends OnAmount {
        @Option(names = "--nation", required = true, description = "The currency's nation, e.g. ke.")
        String nation;

        @Option(names = "--to", paramLabel = "KEY", required = true, description = "The recipient's public key, 64 hex digits.")
        String to;

        @Override
        public Integer call() throws LaunchException {
            NationCode code = nation(nation);
            PublicKey key = publicKey(to, "--to");
            return submit(BenefitPayloads.LOCAL_TRANSFER, a -> new BenefitPayloads.LocalTransfer(code, key, a).encode(),
                    "move local currency of nation " + code + " to " + key + ":");
        }
    }

    @Command(name = "govern", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"As an approver (--key): vote for a governance change; it applies once two thirds of the"
                    + " approvers voted for the same change (same --proposal number).",
                    "Either --nation with --registry-key and --payment-key (replace a nation's keys), or --category with"
                    + " --weight (benefit units per token of a receipt category; 0: it earns nothing)."})
    static final class Govern extends Signed {
        @Option(names = "--proposal", required = true, description = "The proposal's number, the same in every vote.")
        long proposal;

        @Option(names = "--nation", description = "The nation whose keys change, e.g. ke.")
        String nation;

        @Option(names = "--registry-key", paramLabel = "KEY", description = "The nation's new registry key, 64 hex digits.")
        String registryKey;

        @Option(names = "--payment-key", paramLabel = "KEY", description = "The nation's new payment key, 64 hex digits.")
        String paymentKey;

        @Option(names = "--category", description = "The receipt category, 0..255.")
        Integer category;

        @Option(names = "--weight", description = "The category's new weight (benefit units per token).")
        Long weight;

        @Override
        public Integer call() throws LaunchException {
            BenefitPayloads.GovernanceVote vote;
            String what;
            if (nation != null && registryKey != null && paymentKey != null && category == null && weight == null) {
                NationCode code = nation(nation);
                vote = BenefitPayloads.GovernanceVote.nationKeys(proposal, code, publicKey(registryKey, "--registry-key"),
                        publicKey(paymentKey, "--payment-key"));
                what = "replace the keys of nation " + code;
            } else if (category != null && weight != null && nation == null && registryKey == null && paymentKey == null) {
                if (category < 0 || category > 255 || weight < 0) {
                    throw new LaunchException("--category is 0..255 and --weight at least 0, not " + category + " and "
                            + weight);
                }
                vote = BenefitPayloads.GovernanceVote.categoryWeight(proposal, category, weight);
                what = "set the weight of category " + category + " to " + weight;
            } else {
                throw new LaunchException("give either --nation, --registry-key and --payment-key, or --category and"
                        + " --weight");
            }
            submit(tx.key.read(), BenefitPayloads.GOVERN, vote.encode(), "vote (proposal " + proposal + ") to " + what);
            return 0;
        }
    }

    @Command(name = "stake", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a registered node (--key is its node key): lock coins as stake.")
    static final class Stake extends OnAmount {
        @Override
        public Integer call() throws LaunchException {
            return submit(BenefitPayloads.STAKE, a -> new BenefitPayloads.Stake(a).encode(), "stake");
        }
    }

    @Command(name = "unstake", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a registered node: withdraw stake; it is paid back after the chain's unbonding delay (and"
                    + " stays slashable until then).")
    static final class Unstake extends OnAmount {
        @Override
        public Integer call() throws LaunchException {
            return submit(BenefitPayloads.UNSTAKE, a -> new BenefitPayloads.Unstake(a).encode(), "unstake");
        }
    }

    @Command(name = "claim", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a node: claim countersigned receipts (up to " + BenefitPayloads.MAX_RECEIPTS_PER_CLAIM
                    + " per transaction).")
    static final class Claim extends Signed {
        @Option(names = "--receipts", paramLabel = "FILE", required = true,
                description = "A file of receipts, one encoded receipt (" + Receipt.BYTES + " bytes as hex) per line.")
        Path file;

        @Override
        public Integer call() throws LaunchException {
            List<Receipt> receipts = new ArrayList<>();
            List<String> lines = lines(file);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                try {
                    receipts.add(Receipt.decode(HexFormat.of().parseHex(line)));
                } catch (IllegalArgumentException e) {
                    throw new LaunchException(file + " line " + (i + 1) + " is not a receipt: " + e.getMessage());
                }
            }
            if (receipts.isEmpty() || receipts.size() > BenefitPayloads.MAX_RECEIPTS_PER_CLAIM) {
                throw new LaunchException(file + " holds " + receipts.size() + " receipts; a claim holds 1.."
                        + BenefitPayloads.MAX_RECEIPTS_PER_CLAIM + " (split the file)");
            }
            submit(tx.key.read(), BenefitPayloads.CLAIM, new BenefitPayloads.Claim(receipts).encode(), "claim "
                    + receipts.size() + " receipts");
            return 0;
        }
    }

    @Command(name = "audit-key", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As a node: publish the audit key derived from the node key (a node serving models does this by"
                    + " itself once staked).")
    static final class AuditKey extends Signed {
        @Override
        public Integer call() throws LaunchException {
            PrivateKey key = tx.key.read();
            byte[] auditKey = RevealCipher.publicKey(RevealCipher.auditSecret(key.sign(RevealCipher.AUDIT_KEY_MESSAGE)));
            submit(key, BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(auditKey).encode(), "audit key "
                    + HexFormat.of().formatHex(auditKey) + " of " + key.publicKey());
            return 0;
        }
    }

    @Command(name = "reveal", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As the node that served a sampled receipt: reveal the request to its auditor, sealed to the"
                    + " auditor's audit key (never public). Keeps the reveal's secret in a file: disclosing it is how to"
                    + " dispute a false accusation.")
    static final class Reveal extends OnReceipt {
        @Option(names = "--request", paramLabel = "FILE", required = true,
                description = "The request as served, JSON: prompt and output (token ids), temperature, topK, topP, minP,"
                        + " repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, maxTokens, stop, adapter.")
        Path request;

        @Option(names = "--secret-out", paramLabel = "FILE",
                description = "Where to keep the reveal's secret (default: reveal-<receipt id>.secret).")
        Path secretOut;

        @Override
        public Integer call() throws LaunchException {
            byte[] id = receiptId();
            RevealedRequest revealed = request(request);
            ChainCommands.Client client = new ChainCommands.Client(tx.node.node);
            JsonObject audit = client.get("/api/benefit/audits/" + receipt);
            if (!"SAMPLED".equals(audit.getString("phase"))) {
                throw new LaunchException("the audit of receipt " + receipt + " is " + audit.getString("phase")
                        + "; a reveal is for a SAMPLED one");
            }
            if (!audit.getString("outputHash").equals(HexFormat.of().formatHex(revealed.outputHash()))) {
                throw new LaunchException("the output in " + request + " does not hash to the receipt's output hash "
                        + audit.getString("outputHash") + ": reveal the request exactly as served");
            }
            JsonObject auditor = client.get("/api/benefit/nodes/" + audit.getString("auditor"));
            if (!(auditor.get("auditKey") instanceof JsonString auditKey)) {
                throw new LaunchException("auditor " + audit.getString("auditor") + " has no audit key");
            }
            byte[] secret = new byte[RevealCipher.KEY_BYTES];
            new SecureRandom().nextBytes(secret);
            Path out = secretOut != null ? secretOut : Path.of("reveal-" + receipt + ".secret");
            try {
                Files.writeString(out, HexFormat.of().formatHex(secret) + "\n");
            } catch (IOException e) {
                throw new LaunchException("cannot write the reveal's secret to " + out + ": " + e.getMessage());
            }
            byte[] sealed = RevealCipher.seal(HexFormat.of().parseHex(auditKey.getString()), id, revealed.encode(), secret);
            submit(tx.key.read(), BenefitPayloads.REVEAL, new BenefitPayloads.Reveal(id, sealed).encode(), "reveal of "
                    + receipt + " to " + audit.getString("auditor") + " (" + sealed.length + " sealed bytes; secret in "
                    + out + ")");
            return 0;
        }
    }

    @Command(name = "attest", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As the auditor or referee of an audit: attest the output hash you computed by re-running it"
                    + " (a node serving models does this by itself).")
    static final class Attest extends OnReceipt {
        @Option(names = "--hash", paramLabel = "HEX", required = true,
                description = "The output hash your re-execution gave (64 hex digits); the verdict follows from it.")
        String hash;

        @Override
        public Integer call() throws LaunchException {
            byte[] id = receiptId();
            byte[] computed = hex32(hash, "--hash");
            JsonObject audit = new ChainCommands.Client(tx.node.node).get("/api/benefit/audits/" + receipt);
            boolean match = Arrays.equals(computed, HexFormat.of().parseHex(audit.getString("outputHash")));
            BenefitPayloads.Verdict verdict = match ? BenefitPayloads.Verdict.MATCH : BenefitPayloads.Verdict.MISMATCH;
            submit(tx.key.read(), BenefitPayloads.ATTEST, new BenefitPayloads.Attestation(id, verdict, computed).encode(),
                    verdict + " for receipt " + receipt);
            return 0;
        }
    }

    @Command(name = "dispute", mixinStandardHelpOptions = true, sortOptions = false,
            description = "As an accused node: dispute a mismatch by disclosing the reveal's secret. The reveal becomes"
                    + " public; a referee re-runs it; the one who was wrong is slashed.")
    static final class Dispute extends OnReceipt {
        @Option(names = "--secret", paramLabel = "FILE", required = true,
                description = "The file cw benefit reveal kept the reveal's secret in.")
        Path secret;

        @Override
        public Integer call() throws LaunchException {
            byte[] id = receiptId();
            byte[] disclosed = hex32(String.join("", lines(secret)).strip(), secret.toString());
            submit(tx.key.read(), BenefitPayloads.DISPUTE, new BenefitPayloads.Dispute(id, disclosed).encode(),
                    "dispute of the audit of " + receipt);
            return 0;
        }
    }

    /** A revealed request from its JSON form. */
    static RevealedRequest request(Path file) throws LaunchException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new LaunchException("cannot read " + file + ": " + e.getMessage());
        }
        try (JsonReader reader = Json.createReader(new StringReader(text))) {
            JsonObject json = reader.readObject();
            return new RevealedRequest(ints(json, "prompt"), (float) json.getJsonNumber("temperature").doubleValue(),
                    json.getInt("topK", 0), (float) number(json, "topP", 1), (float) number(json, "minP", 0),
                    (float) number(json, "repeatPenalty", 1), json.getInt("repeatLastN", 0),
                    (float) number(json, "frequencyPenalty", 0), (float) number(json, "presencePenalty", 0),
                    json.getInt("maxTokens"), json.containsKey("stop") ? json.getJsonArray("stop").getValuesAs(JsonString.class)
                            .stream().map(JsonString::getString).toList() : List.of(), json.getString("adapter", ""),
                    ints(json, "output"));
        } catch (RuntimeException e) {
            throw new LaunchException(file + " is not a request as served (" + e.getMessage() + "): give prompt and output"
                    + " as arrays of token ids, temperature and maxTokens, and the other sampling parameters if not default");
        }
    }

    private static double number(JsonObject json, String name, double otherwise) {
        return json.containsKey(name) ? json.getJsonNumber(name).doubleValue() : otherwise;
    }

    private static int[] ints(JsonObject json, String name) {
        return json.getJsonArray(name).getValuesAs(jakarta.json.JsonNumber.class).stream().mapToInt(n -> n.intValueExact())
                .toArray();
    }

    private static List<String> lines(Path file) throws LaunchException {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new LaunchException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static NationCode nation(String code) throws LaunchException {
        try {
            return new NationCode(code);
        } catch (IllegalArgumentException e) {
            throw new LaunchException("--nation: " + e.getMessage());
        }
    }

    private static PublicKey publicKey(String hex, String option) throws LaunchException {
        try {
            return PublicKey.fromHex(hex);
        } catch (IllegalArgumentException e) {
            throw new LaunchException(option + ": " + e.getMessage());
        }
    }

    private static byte[] hex32(String hex, String option) throws LaunchException {
        try {
            byte[] bytes = HexFormat.of().parseHex(hex.strip());
            if (bytes.length == 32) {
                return bytes;
            }
        } catch (IllegalArgumentException e) {
            // fall through to the message
        }
        throw new LaunchException(option + " is 64 hex digits (32 bytes), not '" + hex + "'");
    }

}
