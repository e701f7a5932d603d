package org.commonweal.consensus.bft.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.commonweal.consensus.bft.protocol.Id;
import org.commonweal.consensus.bft.protocol.Messages;
import org.commonweal.consensus.bft.protocol.Messages.Message;
import org.commonweal.consensus.bft.protocol.Messages.Vote;
import org.commonweal.consensus.bft.protocol.QuorumCert;
import org.commonweal.consensus.bft.protocol.Signed;
import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Transports of four validators on loopback, over real sockets on ports picked at random. */
class TcpTransportTest {

    private static final int CHAIN = 5;
    private static final List<PrivateKey> KEYS = List.of(key(1), key(2), key(3), key(4));
    private static final ValidatorSet VALIDATORS = new ValidatorSet(KEYS.stream().map(PrivateKey::publicKey).toList());
    private static final TcpTransport.Limits LIMITS = TcpTransport.Limits.defaults().withTimes(1_000, 50, 400);

    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<InetSocketAddress> addresses = freeAddresses(4);

    /** What each validator received: (from, message). */
    private record Received(int from, Message message) {
    }

    @SuppressWarnings("unchecked")
    private final BlockingQueue<Received>[] inboxes = new BlockingQueue[] {new LinkedBlockingQueue<>(),
        new LinkedBlockingQueue<>(), new LinkedBlockingQueue<>(), new LinkedBlockingQueue<>()};

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[7] = 13;
        return Ed25519.fromSeed(seed);
    }

    private static List<InetSocketAddress> freeAddresses(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sockets.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            }
            List<InetSocketAddress> addresses = sockets.stream()
                    .map(s -> new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort())).toList();
            for (ServerSocket s : sockets) {
                s.close();
            }
            return addresses;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private TcpTransport start(int me, TcpTransport.Limits limits) throws IOException {
        return start(me, VALIDATORS, addresses, KEYS.get(me), limits);
    }

    private TcpTransport start(int me, ValidatorSet validators, List<InetSocketAddress> addresses, PrivateKey key,
            TcpTransport.Limits limits) throws IOException {
        TcpTransport transport = TcpTransport.start(new TcpTransport.Settings(CHAIN, validators, addresses, me, limits), key::sign,
                (from, message) -> inboxes[me].add(new Received(from, message)));
        open.add(transport);
        return transport;
    }

    private static Vote vote(int from, long round) {
        return new Vote(round, new Id(new byte[32]), new Signed(from, 0, new byte[64]));
    }

    private static Messages.Proposal proposal(int author, long round, int payloadBytes) {
        Messages.Block block = new Messages.Block(round, author, QuorumCert.genesis(new Id(new byte[32])), null,
                new byte[payloadBytes]);
        return new Messages.Proposal(block, new byte[64]);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    private static void awaitMesh(TcpTransport... transports) throws InterruptedException {
        await(() -> {
            for (int i = 0; i < transports.length; i++) {
                for (int j = 0; j < transports.length; j++) {
                    if (i != j && !transports[i].connected(j)) {
                        return false;
                    }
                }
            }
            return true;
        }, "every validator is connected to every other");
    }

    /** The next message validator {@code at} receives. */
    private Received next(int at) throws InterruptedException {
        Received received = inboxes[at].poll(20, TimeUnit.SECONDS);
        if (received == null) {
            throw new AssertionError("validator " + at + " received nothing");
        }
        return received;
    }

    /**
     * Waits until validator {@code at} has received every vote in {@code expected} ("from:round"); other messages
     * are skipped.
     */
    private void awaitVotes(int at, String... expected) throws InterruptedException {
        Set<String> missing = new HashSet<>(List.of(expected));
        while (!missing.isEmpty()) {
            Received r = next(at);
            if (r.message instanceof Vote v) {
                missing.remove(r.from + ":" + v.round());
            }
        }
    }

    @Test
    void fourTransportsExchangeMessagesBothWays() throws Exception {
        TcpTransport[] t = new TcpTransport[4];
        for (int i = 0; i < 4; i++) {
            t[i] = start(i, LIMITS);
        }
        awaitMesh(t);
        for (int from = 0; from < 4; from++) {
            for (int to = 0; to < 4; to++) {
                t[from].send(from, to, vote(from, 10 * from + to)); // to == from: not delivered
            }
            t[from].broadcast(from, vote(from, 1000 + from));
        }
        for (int at = 0; at < 4; at++) {
            Set<String> got = new HashSet<>();
            for (int k = 0; k < 6; k++) {
                Received r = next(at);
                Vote v = assertInstanceOf(Vote.class, r.message);
                assertEquals(r.from, v.vote().validator(), "the sender is the authenticated peer");
                got.add(r.from + ":" + v.round());
            }
            Set<String> expected = new HashSet<>();
            for (int from = 0; from < 4; from++) {
                if (from != at) {
                    expected.add(from + ":" + (10 * from + at));
                    expected.add(from + ":" + (1000 + from));
                }
            }
            assertEquals(expected, got, "validator " + at);
            assertNull(inboxes[at].poll(100, TimeUnit.MILLISECONDS), "nothing more, nothing to itself");
        }
        assertThrows(IllegalArgumentException.class, () -> t[0].send(1, 2, vote(1, 0)), "a transport speaks for its own validator");
    }

    @Test
    void aPeerWithTheWrongKeyIsRefused() throws Exception {
        PrivateKey impostor = key(66);
        TcpTransport one = start(1, LIMITS);
        TcpTransport two = start(2, LIMITS);
        // Impostors of validators 0 (it dials 1 and 2) and 3 (1 and 2 dial it), each with its own key in place of
        // the real one in the validator set it was given.
        List<PrivateKey> as0 = List.of(impostor, KEYS.get(1), KEYS.get(2), KEYS.get(3));
        List<PrivateKey> as3 = List.of(KEYS.get(0), KEYS.get(1), KEYS.get(2), impostor);
        TcpTransport fake0 = start(0, new ValidatorSet(as0.stream().map(PrivateKey::publicKey).toList()), addresses, impostor, LIMITS);
        TcpTransport fake3 = start(3, new ValidatorSet(as3.stream().map(PrivateKey::publicKey).toList()), addresses, impostor, LIMITS);

        await(() -> one.connected(2) && two.connected(1), "validators 1 and 2 are connected");
        await(() -> one.stats().refused() >= 2 && two.stats().refused() >= 2,
                "validators 1 and 2 refused both impostors (as dialer and as acceptor)");
        fake0.broadcast(0, vote(0, 1));
        fake3.broadcast(3, vote(3, 1));
        one.send(1, 2, vote(1, 2));
        Received r = next(2);
        assertEquals(1, r.from, "only validator 1 reaches validator 2");
        assertFalse(one.connected(0) || one.connected(3) || two.connected(0) || two.connected(3));
        assertNull(inboxes[1].poll(300, TimeUnit.MILLISECONDS), "nothing from the impostors");
        assertNull(inboxes[2].poll(10, TimeUnit.MILLISECONDS), "nothing from the impostors");
    }

    @Test
    void aNodeKeyOutsideTheValidatorSetCannotStart() {
        Exception e = assertThrows(IllegalArgumentException.class, () -> start(0, VALIDATORS, addresses, key(66), LIMITS));
        assertTrue(e.getMessage().contains("not validator 0's key"), e.getMessage());
    }

    @Test
    void tamperedAndReplayedRecordsEndTheConnection() throws Exception {
        // Validator 0 reaches validator 1 through a proxy that flips a bit of the first record after the handshake on
        // the first connection, replays that record on the second, and is honest from the third on.
        try (Proxy proxy = new Proxy(addresses.get(1), (connection, fromDialer, record, body) -> {
            if (fromDialer && record == 2 && connection == 1) {
                body[body.length / 2] ^= 0x10;
            }
            return fromDialer && record == 2 && connection == 2 ? List.of(body, body) : List.of(body);
        })) {
            List<InetSocketAddress> viaProxy = new ArrayList<>(addresses);
            viaProxy.set(1, proxy.address());
            TcpTransport zero = start(0, VALIDATORS, viaProxy, KEYS.get(0), LIMITS);
            TcpTransport one = start(1, LIMITS);
            await(() -> zero.connected(1) && one.connected(0), "0 and 1 are connected");
            zero.send(0, 1, vote(0, 1));
            await(() -> one.stats().violations() >= 1, "validator 1 noticed the flipped bit");
            await(() -> zero.connected(1) && one.connected(0) && proxy.connections.get() >= 2, "0 reconnected");
            zero.send(0, 1, vote(0, 2));
            await(() -> one.stats().violations() >= 2, "validator 1 noticed the replayed record");
            await(() -> zero.connected(1) && one.connected(0) && proxy.connections.get() >= 3, "0 reconnected");
            zero.send(0, 1, vote(0, 3));
            awaitVotes(1, "0:3"); // messages flow again on the honest third connection
            assertEquals(2, one.stats().violations());
        }
    }

    @Test
    void anOversizedMessageIsRefused() throws Exception {
        TcpTransport zero = start(0, LIMITS);
        TcpTransport one = start(1, LIMITS.withMaxMessageBytes(4096));
        await(() -> zero.connected(1) && one.connected(0), "0 and 1 are connected");

        zero.send(0, 1, proposal(0, 1, 10_000)); // validator 0 admits it, 1 does not
        await(() -> one.stats().violations() == 1, "validator 1 dropped the connection of the peer that sent too much");
        await(() -> zero.connected(1) && one.connected(0) && zero.stats().connections() >= 2, "0 reconnected");
        zero.send(0, 1, vote(0, 2));
        Received r = next(1);
        assertEquals(2, ((Vote) r.message).round(), "the oversized proposal was never delivered; what follows is");

        one.send(1, 0, proposal(1, 3, 10_000)); // over validator 1's own limit: not sent at all
        one.send(1, 0, vote(1, 4));
        assertEquals(1, one.stats().tooLargeToSend());
        assertEquals(4, ((Vote) next(0).message).round());
    }

    @Test
    void anAuthenticatedPeerThatClaimsAHugeMessageOrSendsJunkIsDropped() throws Exception {
        TcpTransport one = start(1, LIMITS);
        SecureChannel.Identity zero = new SecureChannel.Identity(CHAIN, 0, VALIDATORS.key(0), KEYS.get(0)::sign,
                Noise.generatePrivate(new java.security.SecureRandom()));
        for (byte[] record : new byte[][] {
            {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3}, // "a message of 2 GiB follows"
            {0, 0, 0, 3, 99, 0, 0}, // a 3-byte message that is no consensus message
            {0, 0, 0, 5, 1}}) { // a 5-byte message: the keepalive after it is read as its last 4 bytes
            long before = one.stats().violations();
            Socket socket = new Socket();
            socket.connect(addresses.get(1), 1_000);
            SecureChannel channel = SecureChannel.initiate(socket, zero, VALIDATORS, 1, Integer.MAX_VALUE);
            channel.writeRecord(record);
            channel.writeKeepalive();
            channel.flush();
            await(() -> one.stats().violations() == before + 1, "validator 1 dropped the connection");
            socket.setSoTimeout(5_000);
            assertThrows(IOException.class, () -> {
                while (true) {
                    channel.read(); // keepalives, then the end
                }
            });
            channel.close();
        }
        assertEquals(0, one.stats().received());
    }

    @Test
    void aRestartedPeerIsReconnectedAndMessagesFlowAgain() throws Exception {
        TcpTransport[] t = new TcpTransport[4];
        for (int i = 0; i < 4; i++) {
            t[i] = start(i, LIMITS);
        }
        awaitMesh(t);
        t[2].close();
        await(() -> !t[0].connected(2) && !t[3].connected(2), "0 and 3 noticed that 2 left");
        t[0].send(0, 2, vote(0, 77)); // queued while 2 is away: sent when it is back

        t[2] = start(2, LIMITS); // same port, new static key, empty queues
        awaitMesh(t);
        awaitVotes(2, "0:77");
        for (int i = 0; i < 4; i++) {
            if (i != 2) {
                t[i].send(i, 2, vote(i, 100 + i));
                t[2].send(2, i, vote(2, 200 + i));
            }
        }
        awaitVotes(2, "0:100", "1:101", "3:103");
        for (int i = 0; i < 4; i++) {
            if (i != 2) {
                awaitVotes(i, "2:" + (200 + i));
            }
        }
    }

    @Test
    void aFullQueueDropsTheOldestMessages() throws Exception {
        TcpTransport zero = start(0, LIMITS.withQueue(10, 1 << 20)); // validator 1 is not up yet
        for (int round = 0; round < 25; round++) {
            zero.send(0, 1, vote(0, round));
        }
        assertEquals(15, zero.stats().dropped());
        start(1, LIMITS);
        for (int round = 15; round < 25; round++) {
            assertEquals(round, ((Vote) next(1).message).round(), "the newest ten, in order");
        }
        assertNull(inboxes[1].poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    void aPeerThatNeverAnswersTheHandshakeIsRedialed() throws Exception {
        // A "validator 1" that accepts TCP connections and says nothing: the handshake times out and 0 dials again.
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(addresses.get(1));
            silent.setSoTimeout(100);
            TcpTransport zero = start(0, new TcpTransport.Limits(1 << 20, 16, 1 << 20, 1_000, 300, 100, 50, 100));
            List<Socket> accepted = new ArrayList<>();
            await(() -> {
                try {
                    accepted.add(silent.accept());
                } catch (IOException e) {
                    // not yet
                }
                return accepted.size() >= 2;
            }, "validator 0 gave up on the silent peer and dialed again");
            assertFalse(zero.connected(1));
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    @Test
    void aHandshakeTrickledByteByByteIsCutOffAtItsDeadline() throws Exception {
        start(1, new TcpTransport.Limits(1 << 20, 16, 1 << 20, 1_000, 300, 1_000, 50, 100));
        try (Socket socket = new Socket()) {
            socket.connect(addresses.get(1), 1_000);
            long started = System.nanoTime();
            OutputStream out = socket.getOutputStream();
            out.write(0);
            out.write(32); // a valid length for message 1, whose 32 bytes come one every 100 ms (3.2 s in all)
            try {
                for (int i = 0; i < 32; i++) {
                    Thread.sleep(100);
                    out.write(i);
                    out.flush();
                }
                socket.setSoTimeout(5_000);
                assertEquals(-1, socket.getInputStream().read(), "closed by the listener");
            } catch (IOException e) {
                // closed by the listener: a write failed
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(millis < 2_500, "cut off after " + millis + " ms, not at the 300 ms deadline");
        }
    }

    @Test
    void aConnectionThatFallsSilentIsDroppedAndRedialed() throws Exception {
        // The first connection goes dark after the handshake (a half-open connection: nothing arrives, nothing
        // closes): both sides give up after three keepalive intervals, and 0 dials again.
        TcpTransport.Limits quick = LIMITS.withTimes(200, 50, 200);
        try (Proxy proxy = new Proxy(addresses.get(1),
                (connection, fromDialer, record, body) -> connection == 1 && record >= 2 ? List.of() : List.of(body))) {
            List<InetSocketAddress> viaProxy = new ArrayList<>(addresses);
            viaProxy.set(1, proxy.address());
            TcpTransport zero = start(0, VALIDATORS, viaProxy, KEYS.get(0), quick);
            TcpTransport one = start(1, quick);
            await(() -> zero.connected(1) && one.connected(0), "0 and 1 are connected");
            await(() -> proxy.connections.get() >= 2 && zero.connected(1) && one.connected(0), "the silent connection was replaced");
            assertTrue(zero.stats().connections() >= 2 && one.stats().connections() >= 2);
            zero.send(0, 1, vote(0, 9));
            awaitVotes(1, "0:9");
        }
    }

    /** Prints what two transports carry on loopback: votes per second and MB/s of 1 MB proposals. */
    @Test
    void throughputOnLoopback() throws Exception {
        TcpTransport zero = start(0, LIMITS.withQueue(100_000, 1L << 30));
        TcpTransport one = start(1, LIMITS);
        await(() -> zero.connected(1) && one.connected(0), "0 and 1 are connected");
        int votes = 100_000;
        long started = System.nanoTime();
        for (int round = 0; round < votes; round++) {
            zero.send(0, 1, vote(0, round));
        }
        for (int k = 0; k < votes; k++) {
            next(1);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        int proposals = 100;
        int size = 1 << 20;
        long started2 = System.nanoTime();
        for (int round = 0; round < proposals; round++) {
            zero.send(0, 1, proposal(0, round, size));
        }
        for (int k = 0; k < proposals; k++) {
            next(1);
        }
        double seconds2 = (System.nanoTime() - started2) / 1e9;
        assertEquals(0, zero.stats().dropped());
        System.out.printf("bft-net: %,.0f votes/s (%d bytes each) and %.0f MB/s in 1 MiB proposals, validator 0 to 1 on"
                + " loopback%n", votes / seconds, org.commonweal.consensus.bft.protocol.Codec.encode(vote(0, 0)).length,
                proposals * (double) size / 1e6 / seconds2);
    }

    /** What a proxy forwards of record {@code record} of a connection, in one direction: nothing, it, or more. */
    private interface Rule {
        List<byte[]> forward(int connection, boolean fromDialer, int record, byte[] body);
    }

    /** A TCP proxy between a dialer and a validator that reads the u16-framed records and forwards what its rule says. */
    private static final class Proxy implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        final AtomicInteger connections = new AtomicInteger();
        final List<Socket> sockets = new ArrayList<>();
        final Rule rule;

        Proxy(InetSocketAddress target, Rule rule) throws IOException {
            this.rule = rule;
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket dialer = server.accept();
                        Socket validator = new Socket();
                        try {
                            validator.connect(target, 1_000);
                        } catch (IOException e) {
                            dialer.close(); // the target is not up yet: the dialer retries
                            continue;
                        }
                        dialer.setTcpNoDelay(true);
                        validator.setTcpNoDelay(true);
                        synchronized (sockets) {
                            sockets.add(dialer);
                            sockets.add(validator);
                        }
                        int number = connections.incrementAndGet();
                        Thread.ofVirtual().start(() -> relay(dialer, validator, number, true));
                        Thread.ofVirtual().start(() -> relay(validator, dialer, number, false));
                    } catch (IOException e) {
                        // closed
                    }
                }
            });
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
        }

        private void relay(Socket from, Socket to, int connection, boolean fromDialer) {
            try {
                DataInputStream in = new DataInputStream(from.getInputStream());
                DataOutputStream out = new DataOutputStream(to.getOutputStream());
                for (int record = 0; ; record++) {
                    int length = in.readUnsignedShort();
                    byte[] body = in.readNBytes(length);
                    if (body.length < length) {
                        break;
                    }
                    for (byte[] forwarded : rule.forward(connection, fromDialer, record, body)) {
                        out.writeShort(forwarded.length);
                        out.write(forwarded);
                    }
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            }
            try {
                from.close();
                to.close();
            } catch (IOException e) {
                // closing anyway
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (sockets) {
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
    }
}
