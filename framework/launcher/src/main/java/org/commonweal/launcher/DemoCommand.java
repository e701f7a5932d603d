package org.commonweal.launcher;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.Callable;

import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;

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

    @Override
    public Integer call() throws Exception {
        PrivateKey client = LocalNetwork.key(dir.resolve("client.key"));
        System.out.printf("cw demo: %d BFT validators%n", count);
        try (LocalNetwork network = LocalNetwork.start(dir, count, port, CHAIN, Map.of(client.publicKey(), 1_000_000_000_000L),
                System.out)) {
            System.out.println("Sending transfers from the client key " + dir.resolve("client.key") + "; try: ./cw account --key "
                    + dir.resolve("client.key") + " --node http://127.0.0.1:" + port + ". Ctrl-C stops.");
            long nonce = network.json(0, "/api/chain/accounts/" + client.publicKey().hex()).getJsonNumber("nonce").longValue();
            long end = seconds > 0 ? System.currentTimeMillis() + seconds * 1000 : Long.MAX_VALUE;
            SecureRandom random = new SecureRandom();
            while (System.currentTimeMillis() < end) {
                int to = (int) (nonce / 20 % count); // each round's transfers go to one node; the network spreads them
                for (int n = 0; n < 20; n++) {
                    byte[] recipient = new byte[32];
                    random.nextBytes(recipient);
                    Transaction tx = TransactionCodec.sign(client, CHAIN, nonce, 1, Transfer.TYPE,
                            new Transfer(PublicKey.of(recipient), 1 + random.nextInt(1000)).encode());
                    if (network.post(to, tx)) {
                        nonce++;
                    }
                }
                Thread.sleep(2_000);
                StringBuilder line = new StringBuilder("  heights:");
                for (int i = 0; i < count; i++) {
                    try {
                        JsonObject chain = network.json(i, "/api/chain");
                        line.append(String.format(" node %d %d (%s)", i,
                                chain.getJsonObject("head").getJsonNumber("height").longValue(),
                                chain.isNull("engine") ? "waiting" : chain.getString("engine")));
                    } catch (IOException e) {
                        line.append(" node ").append(i).append(" down");
                    }
                }
                System.out.println(line.append("; transfers sent ").append(nonce));
            }
        }
        return 0;
    }
}
