package org.commonweal.consensus.bft.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The handshake and the record layer over real loopback sockets, one connection at a time. */
class SecureChannelTest {

    private static final int CHAIN = 7;
    private static final int MAX = 1 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final List<PrivateKey> KEYS = List.of(key(1), key(2));
    private static final ValidatorSet VALIDATORS = new ValidatorSet(KEYS.stream().map(PrivateKey::publicKey).toList());

    private ServerSocket server;

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[9] = 42;
        return Ed25519.fromSeed(seed);
    }

    private static SecureChannel.Identity identity(int chain, int index, UnaryOperator<byte[]> sign) {
        return new SecureChannel.Identity(chain, index, VALIDATORS.key(index), sign, Noise.generatePrivate(RANDOM));
    }

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void close() throws IOException {
        server.close();
    }

    /** Validator 0 dials validator 1: [dialer's channel, acceptor's channel], or the first side's exception. */
    private SecureChannel[] connect(SecureChannel.Identity dialer, SecureChannel.Identity acceptor) throws Exception {
        CompletableFuture<SecureChannel> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                Socket socket = server.accept();
                socket.setSoTimeout(5_000);
                return SecureChannel.accept(socket, acceptor, VALIDATORS, i -> i < acceptor.index(), "it must dial", MAX);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 2_000);
        socket.setSoTimeout(5_000);
        SecureChannel dialed;
        try {
            dialed = SecureChannel.initiate(socket, dialer, VALIDATORS, 1, MAX);
        } catch (IOException e) {
            socket.close();
            accepted.handle((c, x) -> c).get(5, TimeUnit.SECONDS);
            throw e;
        }
        try {
            return new SecureChannel[] {dialed, accepted.get(5, TimeUnit.SECONDS)};
        } catch (ExecutionException e) {
            dialed.close();
            throw (Exception) e.getCause().getCause();
        }
    }

    @Test
    void messagesOfEverySizeCrossBothWays() throws Exception {
        SecureChannel[] pair = connect(identity(CHAIN, 0, KEYS.get(0)::sign), identity(CHAIN, 1, KEYS.get(1)::sign));
        assertEquals(1, pair[0].peer());
        assertEquals(0, pair[1].peer());
        Random random = new Random(3);
        for (int size : new int[] {1, 100, SecureChannel.MAX_RECORD_PLAINTEXT - 4, SecureChannel.MAX_RECORD_PLAINTEXT - 3,
            SecureChannel.MAX_RECORD_PLAINTEXT, 3 * SecureChannel.MAX_RECORD_PLAINTEXT + 17, MAX}) {
            byte[] message = new byte[size];
            random.nextBytes(message);
            pair[0].write(message);
            pair[0].writeKeepalive();
            pair[0].flush();
            assertArrayEquals(message, pair[1].read(), size + " bytes");
            assertNull(pair[1].read(), "a keepalive");
            pair[1].write(message);
            pair[1].flush();
            assertArrayEquals(message, pair[0].read(), size + " bytes back");
        }
        pair[0].close();
        pair[1].close();
    }

    @Test
    void aMessageOverTheLimitEndsTheConnectionBeforeItIsRead() throws Exception {
        // the acceptor admits 1 MiB; the dialer's limit is higher
        SecureChannel[] pair = connectWithLimits(2 * MAX);
        pair[0].write(new byte[MAX + 1]);
        pair[0].flush();
        SecureChannel.ViolationException e = assertThrows(SecureChannel.ViolationException.class, pair[1]::read);
        assertEquals(SecureChannel.ViolationException.Kind.OVERSIZED, e.kind);
        assertTrue(e.getMessage().contains((MAX + 1) + " bytes"), e.getMessage());
        pair[0].close();
        pair[1].close();
    }

    private SecureChannel[] connectWithLimits(int dialerMax) throws Exception {
        CompletableFuture<SecureChannel> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return SecureChannel.accept(server.accept(), identity(CHAIN, 1, KEYS.get(1)::sign), VALIDATORS, i -> i < 1, "",
                        MAX);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        SecureChannel dialed = SecureChannel.initiate(socket, identity(CHAIN, 0, KEYS.get(0)::sign), VALIDATORS, 1, dialerMax);
        return new SecureChannel[] {dialed, accepted.get(5, TimeUnit.SECONDS)};
    }

    @Test
    void aDialerThatCannotSignForItsKeyIsRefused() {
        PrivateKey impostor = key(99);
        Exception e = assertThrows(SecureChannel.RefusedException.class,
                () -> connect(identity(CHAIN, 0, impostor::sign), identity(CHAIN, 1, KEYS.get(1)::sign)));
        assertTrue(e.getMessage().contains("signature over the handshake does not verify"), e.getMessage());
    }

    @Test
    void anAcceptorThatCannotSignForItsKeyIsRefused() {
        PrivateKey impostor = key(99);
        Exception e = assertThrows(SecureChannel.RefusedException.class,
                () -> connect(identity(CHAIN, 0, KEYS.get(0)::sign), identity(CHAIN, 1, impostor::sign)));
        assertTrue(e.getMessage().contains("signature over the handshake does not verify"), e.getMessage());
    }

    @Test
    void aValidatorOfAnotherChainIsRefused() {
        Exception e = assertThrows(SecureChannel.RefusedException.class,
                () -> connect(identity(CHAIN, 0, KEYS.get(0)::sign), identity(CHAIN + 1, 1, KEYS.get(1)::sign)));
        assertTrue(e.getMessage().contains("another chain id"), e.getMessage());
    }

    @Test
    void aStrangerSendingJunkIsRefusedBeforeAnythingIsAllocated() throws Exception {
        CompletableFuture<Exception> failure = CompletableFuture.supplyAsync(() -> {
            try {
                SecureChannel.accept(server.accept(), identity(CHAIN, 1, KEYS.get(1)::sign), VALIDATORS, i -> true, "", MAX);
                return null;
            } catch (IOException e) {
                return e;
            }
        });
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeShort(65535);
            out.flush();
            Exception e = failure.get(5, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("handshake message 1 has 65535 bytes, not 32"), e.getMessage());
        }
    }

    /** Prints the time of a handshake over loopback (both sides, one after the other on two threads). */
    @Test
    void handshakeTime() throws Exception {
        int rounds = 100;
        for (int i = 0; i < 20; i++) { // warm up
            for (SecureChannel c : connect(identity(CHAIN, 0, KEYS.get(0)::sign), identity(CHAIN, 1, KEYS.get(1)::sign))) {
                c.close();
            }
        }
        long started = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            for (SecureChannel c : connect(identity(CHAIN, 0, KEYS.get(0)::sign), identity(CHAIN, 1, KEYS.get(1)::sign))) {
                c.close();
            }
        }
        double millis = (System.nanoTime() - started) / 1e6 / rounds;
        System.out.printf("bft-net: handshake (TCP connect, Noise XX, 2 Ed25519 signatures and verifications) %.2f ms%n", millis);
        assertTrue(millis < 1_000);
    }
}
