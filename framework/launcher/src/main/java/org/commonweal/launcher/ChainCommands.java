package org.commonweal.launcher;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;

import org.commonweal.crypto.InclusionProof;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Account;
import org.commonweal.ledger.AccountProof;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cw tx} and {@code cw account}: the chain API from the command line. Transactions are signed
 * here, with a local key file; nothing secret is sent to the node. Accounts are shown only after their
 * Merkle proof has been checked here against the header the node returned.
 */
final class ChainCommands {

    private ChainCommands() {
    }

    /** Where the node is. */
    static final class NodeOption {
        @Option(names = "--node", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
                description = "The node's HTTP address (default: ${DEFAULT-VALUE}).")
        URI node;
    }

    /** A key file and its passphrase. */
    static final class KeyOption {
        @Option(names = "--key", paramLabel = "FILE", required = true,
                description = "The sender's Ed25519 key (PKCS#8 PEM, e.g. a node's data/node.key).")
        Path key;

        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "A file holding the key's passphrase, if the key is encrypted.")
        Path passphraseFile;

        PrivateKey read() throws LaunchException {
            try {
                char[] passphrase = passphraseFile == null ? null : Files.readString(passphraseFile).strip().toCharArray();
                return KeyFiles.read(key, passphrase);
            } catch (IOException | RuntimeException e) {
                throw new LaunchException("cannot read the key " + key + ": " + e.getMessage()
                        + (passphraseFile == null ? " (if it is encrypted, give --passphrase-file)" : ""));
            }
        }
    }

    @Command(name = "tx", mixinStandardHelpOptions = true, description = "Sign and submit transactions; look them up.",
            subcommands = { TransferCommand.class, Show.class })
    static final class Tx {
    }

    @Command(name = "transfer", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Move coins from the key's account to another, signed here; prints the transaction's status.")
    static final class TransferCommand implements Callable<Integer> {

        @ArgGroup(exclusive = false, multiplicity = "1")
        SigningOptions tx;

        @Option(names = "--to", paramLabel = "KEY", required = true, description = "The recipient's public key (64 hex digits).")
        String to;

        @Option(names = "--amount", required = true, description = "Coins to move (at least 1).")
        long amount;

        @Override
        public Integer call() throws LaunchException {
            PrivateKey sender = tx.key.read();
            PublicKey recipient;
            try {
                recipient = PublicKey.fromHex(to);
            } catch (IllegalArgumentException e) {
                throw new LaunchException("--to: " + e.getMessage());
            }
            if (amount < 1) {
                throw new LaunchException("--amount is at least 1, not " + amount);
            }
            tx.submit(sender, 1, Transfer.TYPE, new Transfer(recipient, amount).encode(), sender.publicKey() + " -> "
                    + recipient + ": " + amount);
            return 0;
        }
    }

    /** Signing, fee, nonce, waiting and the node: what every command that signs a transaction takes. */
    static final class SigningOptions {
        @ArgGroup(exclusive = false, multiplicity = "1")
        KeyOption key;

        @Option(names = "--fee", description = "Fee for the block's proposer (default: 1 for a transfer, 0 for a benefit"
                + " transaction, which a registry key without coins can sign).")
        Long fee;

        @Option(names = "--nonce", description = "The signer's nonce (default: the next one, asked of the node).")
        Long nonce;

        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "30",
                description = "Wait up to this long for the transaction to be committed (0: do not wait; default: ${DEFAULT-VALUE}).")
        long wait;

        @ArgGroup(exclusive = false)
        NodeOption node = new NodeOption();

        /** Signs with {@code signer} (the fee {@code defaultFee} unless given) and submits; see {@link ChainCommands#submit}. */
        void submit(PrivateKey signer, long defaultFee, int type, byte[] payload, String what) throws LaunchException {
            ChainCommands.submit(node.node, signer, nonce, fee == null ? defaultFee : fee, wait, type, payload, what);
        }
    }

    /**
     * Signs a transaction of {@code type} with {@code sender}'s key here (the key never leaves the machine), submits
     * it, waits up to {@code wait} seconds for its commit and prints where it is; a refusal is an error naming the
     * node's reason.
     */
    static void submit(URI node, PrivateKey sender, Long nonce, long fee, long wait, int type, byte[] payload, String what)
            throws LaunchException {
        if (fee < 0 || wait < 0) {
            throw new LaunchException("--fee and --wait are at least 0, not " + fee + " and " + wait);
        }
        Client client = new Client(node);
        int chainId = client.get("/api/chain").getInt("chainId");
        long next = nonce != null ? nonce : client.nonce(sender.publicKey());
        Transaction tx = TransactionCodec.sign(sender, chainId, next, fee, type, payload);
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(node.resolve("/api/chain/transactions?wait=" + wait))
                .header("Content-Type", "application/octet-stream")
                .timeout(Duration.ofSeconds(wait + 10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(TransactionCodec.encode(tx))).build());
        JsonObject body = Client.json(response.body());
        if (response.statusCode() >= 400) {
            throw new LaunchException("the node refused transaction " + HexFormat.of().formatHex(tx.id()) + ": "
                    + body.getString("message", response.body()));
        }
        System.out.println("transaction " + body.getString("id"));
        System.out.println("  " + what + " (fee " + fee + ", nonce " + next + ")");
        System.out.println(body.containsKey("height")
                ? "  committed in block " + body.getJsonNumber("height").longValue() + " at index " + body.getInt("index")
                : "  " + body.getString("outcome").toLowerCase() + ", not committed yet"
                        + (wait > 0 ? " after " + wait + " s" : "") + ": cw tx show " + body.getString("id"));
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a transaction: pending, or where it was committed.")
    static final class Show implements Callable<Integer> {

        @Parameters(paramLabel = "ID", description = "The transaction id (64 hex digits).")
        String id;

        @ArgGroup(exclusive = false)
        NodeOption node = new NodeOption();

        @Override
        public Integer call() throws LaunchException {
            if (!id.matches("[0-9a-fA-F]{64}")) {
                throw new LaunchException("a transaction id is 64 hex digits, not '" + id + "'");
            }
            System.out.println(new Client(node.node).getText("/api/chain/transactions/" + id.toLowerCase()));
            return 0;
        }
    }

    @Command(name = "account", mixinStandardHelpOptions = true,
            description = "An account's balance and nonce, after checking its Merkle proof against the state root of the node's head.")
    static final class AccountCommand implements Callable<Integer> {

        @Parameters(paramLabel = "KEY", arity = "0..1", description = "The account's public key (64 hex digits).")
        String publicKey;

        @Option(names = "--key", paramLabel = "FILE", description = "Or: the account of this key file's public key.")
        Path keyFile;

        @Option(names = "--passphrase-file", paramLabel = "FILE", description = "The key file's passphrase, if encrypted.")
        Path passphraseFile;

        @ArgGroup(exclusive = false)
        NodeOption node = new NodeOption();

        @Override
        public Integer call() throws LaunchException {
            PublicKey key;
            if ((publicKey == null) == (keyFile == null)) {
                throw new LaunchException("name the account by its public key or by --key FILE (one of them)");
            }
            if (keyFile != null) {
                KeyOption option = new KeyOption();
                option.key = keyFile;
                option.passphraseFile = passphraseFile;
                key = option.read().publicKey();
            } else {
                try {
                    key = PublicKey.fromHex(publicKey);
                } catch (IllegalArgumentException e) {
                    throw new LaunchException(e.getMessage());
                }
            }
            Client client = new Client(node.node);
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(node.node.resolve("/api/chain/accounts/" + key.hex())).build());
            if (response.statusCode() == 404) {
                System.out.println("account " + key + ": balance 0, nonce 0 (it has never received anything)");
                return 0;
            }
            JsonObject body = client.check(response);
            try {
                JsonObject head = body.getJsonObject("head");
                BlockHeader header = BlockHeader.decode(java.nio.ByteBuffer.wrap(HexFormat.of().parseHex(head.getString("encoded"))));
                Account account = new Account(body.getJsonNumber("balance").longValueExact(), body.getJsonNumber("nonce").longValueExact());
                InclusionProof inclusion = InclusionProof.decode(HexFormat.of().parseHex(body.getJsonObject("proof").getString("encoded")));
                JsonObject roots = body.getJsonObject("proof").getJsonObject("roots");
                AccountProof proof = roots == null ? new AccountProof(key, account, inclusion)
                        : new AccountProof(key, account, inclusion, new org.commonweal.ledger.StateRoots(
                                HexFormat.of().parseHex(roots.getString("accountsRoot")),
                                roots.getJsonNumber("entryCount").intValueExact(),
                                HexFormat.of().parseHex(roots.getString("entriesRoot"))));
                if (!proof.verifies(header.stateRoot(), header.accountCount())) {
                    throw new LaunchException("the node's proof for account " + key + " does not verify against the state"
                            + " root of its block " + header.height() + ": do not trust this node's answer");
                }
                System.out.println("account " + key + ": balance " + account.balance() + ", nonce " + account.nonce());
                System.out.println("  proof verified against state root " + HexFormat.of().formatHex(header.stateRoot())
                        + " of block " + header.height() + " (" + HexFormat.of().formatHex(header.hash()) + ")");
                return 0;
            } catch (Rejection | RuntimeException e) {
                throw new LaunchException("the node's answer for account " + key + " is not a valid proven account: " + e.getMessage());
            }
        }
    }

    /** A small JSON client of the chain API with errors in words. */
    static final class Client {
        private final URI node;
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        Client(URI node) {
            this.node = node;
        }

        HttpResponse<String> send(HttpRequest request) throws LaunchException {
            try {
                return http.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new LaunchException("cannot reach the node at " + node + " (" + e + "); start one with ./cw node,"
                        + " or give its address with --node URL");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchException("interrupted");
            }
        }

        JsonObject check(HttpResponse<String> response) throws LaunchException {
            if (response.statusCode() == 404 && !response.body().contains("\"error\"")) {
                throw new LaunchException("the node at " + node + " has no chain API (its distribution has no chain)");
            }
            JsonObject body = json(response.body());
            if (response.statusCode() >= 400) {
                throw new LaunchException("the node answered " + response.statusCode() + ": " + body.getString("message", response.body()));
            }
            return body;
        }

        JsonObject get(String path) throws LaunchException {
            return check(send(HttpRequest.newBuilder(node.resolve(path)).build()));
        }

        String getText(String path) throws LaunchException {
            HttpResponse<String> response = send(HttpRequest.newBuilder(node.resolve(path)).build());
            check(response);
            return response.body();
        }

        long nonce(PublicKey key) throws LaunchException {
            HttpResponse<String> response = send(HttpRequest.newBuilder(node.resolve("/api/chain/accounts/" + key.hex())).build());
            return response.statusCode() == 404 && response.body().contains("\"error\"") ? 0
                    : check(response).getJsonNumber("nonce").longValueExact();
        }

        static JsonObject json(String text) throws LaunchException {
            try (JsonReader reader = Json.createReader(new StringReader(text))) {
                return reader.readObject();
            } catch (RuntimeException e) {
                throw new LaunchException("the node's answer is not JSON: " + text.substring(0, Math.min(200, text.length())));
            }
        }
    }
}
