package org.commonweal.chain.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

import org.commonweal.consensus.bft.engine.Transport;
import org.commonweal.consensus.bft.network.TcpTransport;

/**
 * {@link BftClusterTest}'s flow over the validator network: four validators in one JVM, each with its own chain,
 * BFT engine and {@link TcpTransport} on a loopback port (Noise-encrypted connections authenticated by the
 * validators' node keys). They commit the same blocks; one is stopped with its transport (its peers see the
 * connections close) and restarted from its data on the same port, is reconnected, and catches up.
 */
class BftTcpClusterTest extends BftClusterTest {

    private final List<InetSocketAddress> addresses = freeAddresses(4);
    private final TcpTransport[] transports = new TcpTransport[4];

    private static List<InetSocketAddress> freeAddresses(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sockets.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            }
            List<InetSocketAddress> free = sockets.stream()
                    .map(s -> new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort())).toList();
            for (ServerSocket s : sockets) {
                s.close();
            }
            return free;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    Transport transport(int i) throws IOException {
        transports[i] = TcpTransport.start(new TcpTransport.Settings(CHAIN, validators, addresses, i,
                TcpTransport.Limits.defaults().withTimes(1_000, 50, 500)), VALIDATORS.get(i)::sign);
        return transports[i];
    }

    @Override
    void closeTransport(int i) {
        if (transports[i] != null) {
            transports[i].close();
            transports[i] = null;
        }
    }

    @Override
    void checkTransports() {
        for (int i = 0; i < 4; i++) {
            TcpTransport.Stats stats = transports[i].stats();
            assertEquals(0, stats.refused() + stats.violations(), "validator " + i + ": " + stats);
            assertTrue(stats.sent() > 0 && stats.received() > 0, "validator " + i + ": " + stats);
        }
    }
}
