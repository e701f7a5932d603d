package org.commonweal.consensus.bft.network;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

import org.commonweal.consensus.bft.engine.Transport;
import org.commonweal.consensus.bft.protocol.Codec;
import org.commonweal.consensus.bft.protocol.Messages.Message;
import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validator network of one validator: TCP connections to every other validator, authenticated by node keys
 * and encrypted ({@link SecureChannel}: Noise XX, each side's Ed25519 signature over the handshake).
 * <ul>
 * <li><b>One connection per pair</b>: the validator with the lower index dials, the higher one accepts; a new
 * authenticated connection from a validator replaces the one it had (it restarted, or the old one is half-open).
 * The dialer reconnects after {@link Limits#backoffMinMillis()}, doubling up to {@link Limits#backoffMaxMillis()}
 * (with jitter) while the peer cannot be reached or refused.</li>
 * <li><b>Never blocking the caller</b>: {@link #send} and {@link #broadcast} encode the message once and queue it
 * for each peer; per peer, a writer thread drains its queue into the connection and a reader thread hands what
 * arrives to the registered inbox (which must be thread-safe and quick: it is called from every peer's reader).
 * Threads are virtual: two per connection, one dialer per higher peer, one acceptor.</li>
 * <li><b>Back-pressure</b>: a peer's queue holds at most {@link Limits#queueMessages()} messages and
 * {@link Limits#queueBytes()} bytes; when it is full the oldest message is dropped (and counted): consensus
 * messages are superseded quickly and the protocol recovers lost ones through its timeouts and block requests.
 * The queue outlives connections, so what was queued while a peer was away is sent when it comes back.</li>
 * <li><b>Limits</b>: a message over {@link Limits#maxMessageBytes()} is neither sent nor accepted (the connection
 * of a peer that sends one is dropped, naming it); the default admits the largest message {@link Codec} accepts.
 * Handshakes must finish within {@link Limits#handshakeTimeoutMillis()} and at most 32 run at once (8 from one
 * address); a connection silent for three keepalive intervals is dropped (each side sends a keepalive when it had
 * nothing to send for {@link Limits#keepaliveMillis()}), so a peer that vanished without closing is noticed.</li>
 * </ul>
 */
public final class TcpTransport implements Transport, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);
    /** Handshakes in progress at once, in all and from one address (a validator needs one at a time). */
    private static final int MAX_CONCURRENT_HANDSHAKES = 32;
    private static final int MAX_HANDSHAKES_PER_SOURCE = 8;

    /** Sizes and times; {@link #defaults()} for validators. */
    public record Limits(int maxMessageBytes, int queueMessages, long queueBytes, int connectTimeoutMillis,
            int handshakeTimeoutMillis, int keepaliveMillis, long backoffMinMillis, long backoffMaxMillis) {

        public Limits {
            if (maxMessageBytes < 1 || queueMessages < 1 || queueBytes < 1 || connectTimeoutMillis < 1
                    || handshakeTimeoutMillis < 1 || keepaliveMillis < 1 || backoffMinMillis < 1
                    || backoffMaxMillis < backoffMinMillis) {
                throw new IllegalArgumentException("network limits must be positive (and backoff max >= min): " + this);
            }
        }

        /**
         * Messages up to the largest a valid proposal can be (a 64 MiB payload with its certificates); 4096
         * messages or 256 MiB queued per peer; 3 s to connect, 5 s to shake hands; a keepalive after 5 s of quiet;
         * reconnect after 100 ms, backing off to 5 s.
         */
        public static Limits defaults() {
            return new Limits(Codec.MAX_PAYLOAD_BYTES + (1 << 20), 4096, 256L << 20, 3_000, 5_000, 5_000, 100, 5_000);
        }

        public Limits withMaxMessageBytes(int max) {
            return new Limits(max, queueMessages, queueBytes, connectTimeoutMillis, handshakeTimeoutMillis, keepaliveMillis,
                    backoffMinMillis, backoffMaxMillis);
        }

        public Limits withQueue(int messages, long bytes) {
            return new Limits(maxMessageBytes, messages, bytes, connectTimeoutMillis, handshakeTimeoutMillis, keepaliveMillis,
                    backoffMinMillis, backoffMaxMillis);
        }

        public Limits withTimes(int keepaliveMillis, long backoffMinMillis, long backoffMaxMillis) {
            return new Limits(maxMessageBytes, queueMessages, queueBytes, connectTimeoutMillis, handshakeTimeoutMillis,
                    keepaliveMillis, backoffMinMillis, backoffMaxMillis);
        }
    }

    /**
     * The chain and its validators (from the genesis configuration: every validator lists the same keys and
     * addresses, in the same order), which of them this node is, and where it listens ({@code listen}: null for its
     * own entry of {@code addresses}; a wildcard address behind NAT).
     */
    public record Settings(int chainId, ValidatorSet validators, List<InetSocketAddress> addresses, int me,
            InetSocketAddress listen, Limits limits) {

        public Settings {
            addresses = List.copyOf(addresses);
            Objects.requireNonNull(limits, "limits");
            if (addresses.size() != validators.size()) {
                throw new IllegalArgumentException("the validator set has " + validators.size() + " validators but "
                        + addresses.size() + " addresses are given: one each, in the same order");
            }
            if (me < 0 || me >= validators.size()) {
                throw new IllegalArgumentException("validator " + me + " is not in a set of " + validators.size());
            }
        }

        public Settings(int chainId, ValidatorSet validators, List<InetSocketAddress> addresses, int me, Limits limits) {
            this(chainId, validators, addresses, me, null, limits);
        }
    }

    /** Counters since start. */
    public record Stats(long sent, long received, long dropped, long tooLargeToSend, long connections,
            long refused, long violations) {
    }

    private final Settings settings;
    private final Limits limits;
    private final int me;
    private final SecureChannel.Identity identity;
    private final ServerSocket server;
    private final Peer[] peers;
    private final Semaphore handshakes = new Semaphore(MAX_CONCURRENT_HANDSHAKES);
    private final Map<InetAddress, AtomicInteger> handshakesBySource = new ConcurrentHashMap<>();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> warned = new ConcurrentHashMap<>();
    private volatile BiConsumer<Integer, Message> inbox;
    private volatile boolean running = true;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong tooLargeToSend = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong violations = new AtomicLong();

    private TcpTransport(Settings settings, UnaryOperator<byte[]> sign, ServerSocket server) {
        this.settings = settings;
        this.limits = settings.limits();
        this.me = settings.me();
        this.identity = new SecureChannel.Identity(settings.chainId(), me, settings.validators().key(me), sign,
                Noise.generatePrivate(new SecureRandom()));
        this.server = server;
        this.peers = new Peer[settings.validators().size()];
        for (int i = 0; i < peers.length; i++) {
            peers[i] = i == me ? null : new Peer(i, settings.addresses().get(i));
        }
    }

    /**
     * Listens, and dials every validator with a higher index. {@code sign}: this validator's node key (its
     * Ed25519 signature; it must be the validator set's key at {@link Settings#me()}). Messages that arrive while
     * no inbox is registered are dropped (the protocol recovers them through its timeouts).
     */
    public static TcpTransport start(Settings settings, UnaryOperator<byte[]> sign) throws IOException {
        return start(settings, sign, null);
    }

    /** {@link #start(Settings, UnaryOperator)} with {@code inbox} registered before any connection is made. */
    public static TcpTransport start(Settings settings, UnaryOperator<byte[]> sign, BiConsumer<Integer, Message> inbox)
            throws IOException {
        byte[] probe = "commonweal/bft-net/key-check".getBytes(StandardCharsets.US_ASCII);
        if (!Ed25519.verify(settings.validators().key(settings.me()), probe, sign.apply(probe))) {
            throw new IllegalArgumentException("this node's key is not validator " + settings.me() + "'s key "
                    + settings.validators().key(settings.me()).hex() + " in the validator set: the other validators would refuse"
                    + " it; check the node key and the validator list of the genesis configuration");
        }
        InetSocketAddress listen = resolved(settings.listen() != null ? settings.listen() : settings.addresses().get(settings.me()));
        if (listen.isUnresolved()) {
            throw new IOException("validator " + settings.me() + " cannot listen on " + describe(listen) + ": the host name does"
                    + " not resolve here; give a listen address of this machine");
        }
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true); // a restarted validator takes its port back at once
            server.bind(listen, 64);
        } catch (IOException e) {
            server.close();
            throw new IOException("validator " + settings.me() + " cannot listen on " + listen + " (" + e.getMessage()
                    + "): is another node running with this configuration, or is the address not this machine's?", e);
        }
        TcpTransport transport = new TcpTransport(settings, sign, server);
        transport.inbox = inbox;
        transport.begin();
        return transport;
    }

    private void begin() {
        spawn("bft-net-" + me + "-accept", this::acceptLoop);
        for (Peer peer : peers) {
            if (peer != null && peer.index > me) {
                spawn("bft-net-" + me + "-dial-" + peer.index, peer::dialLoop);
            }
        }
        LOG.info("validator {} listens for validators on {} (chain {}, {} validators)", me,
                describe((InetSocketAddress) server.getLocalSocketAddress()),
                settings.chainId(), peers.length);
    }

    /** The port it listens on. */
    public int port() {
        return server.getLocalPort();
    }

    @Override
    public void register(int validator, BiConsumer<Integer, Message> inbox) {
        checkMe(validator);
        this.inbox = inbox;
    }

    @Override
    public void unregister(int validator) {
        checkMe(validator);
        this.inbox = null;
    }

    @Override
    public void send(int from, int to, Message message) {
        checkMe(from);
        if (to == me) {
            return;
        }
        if (to < 0 || to >= peers.length) {
            throw new IllegalArgumentException("no validator " + to + " in a set of " + peers.length);
        }
        byte[] bytes = encode(message);
        if (bytes != null) {
            peers[to].offer(bytes);
        }
    }

    @Override
    public void broadcast(int from, Message message) {
        checkMe(from);
        byte[] bytes = encode(message);
        if (bytes != null) {
            for (Peer peer : peers) {
                if (peer != null) {
                    peer.offer(bytes);
                }
            }
        }
    }

    /** Whether an authenticated connection to {@code validator} is up. */
    public boolean connected(int validator) {
        Peer peer = peers[validator];
        Connection connection = peer == null ? null : peer.connection;
        return connection != null && !connection.closed.get();
    }

    public Stats stats() {
        return new Stats(sent.get(), received.get(), dropped.get(), tooLargeToSend.get(), connections.get(), refused.get(),
                violations.get());
    }

    /** Stops listening, closes every connection and waits for its threads; queued messages are discarded. */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Peer peer : peers) {
            if (peer != null) {
                Connection connection = peer.connection;
                if (connection != null) {
                    connection.close("this validator stops", false);
                }
            }
        }
        threads.forEach(Thread::interrupt);
        for (Thread thread : List.copyOf(threads)) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        LOG.info("validator {} left the validator network", me);
    }

    private void checkMe(int validator) {
        if (validator != me) {
            throw new IllegalArgumentException("this transport is validator " + me + "'s, not validator " + validator + "'s");
        }
    }

    private byte[] encode(Message message) {
        byte[] bytes = Codec.encode(message);
        if (bytes.length > limits.maxMessageBytes()) {
            tooLargeToSend.incrementAndGet();
            LOG.warn("validator {} does not send a {} of {} bytes: over the network limit of {} bytes", me,
                    message.getClass().getSimpleName(), bytes.length, limits.maxMessageBytes());
            return null;
        }
        return bytes;
    }

    private void spawn(String name, Runnable task) {
        Thread thread = Thread.ofVirtual().name(name).unstarted(() -> {
            try {
                task.run();
            } finally {
                threads.remove(Thread.currentThread());
            }
        });
        threads.add(thread);
        thread.start();
    }

    private void acceptLoop() {
        while (running) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (running) {
                    LOG.warn("validator {} stops accepting connections: {}", me, e.toString());
                }
                return;
            }
            InetAddress source = socket.getInetAddress();
            AtomicInteger fromSource = handshakesBySource.computeIfAbsent(source, a -> new AtomicInteger());
            if (fromSource.incrementAndGet() > MAX_HANDSHAKES_PER_SOURCE || !handshakes.tryAcquire()) {
                releaseSource(source, fromSource);
                LOG.debug("validator {}: too many handshakes at once; closing {}", me, socket.getRemoteSocketAddress());
                closeQuietly(socket);
                continue;
            }
            spawn("bft-net-" + me + "-handshake", () -> {
                try {
                    acceptOne(socket);
                } finally {
                    handshakes.release();
                    releaseSource(source, fromSource);
                }
            });
        }
    }

    private void releaseSource(InetAddress source, AtomicInteger count) {
        if (count.decrementAndGet() <= 0) {
            handshakesBySource.remove(source, count);
        }
    }

    private void acceptOne(Socket socket) {
        String from = String.valueOf(socket.getRemoteSocketAddress());
        long started = System.nanoTime();
        try {
            socket.setTcpNoDelay(true);
            socket.setKeepAlive(true);
            socket.setSoTimeout(limits.handshakeTimeoutMillis());
            SecureChannel channel;
            Thread deadline = handshakeDeadline(socket);
            try {
                channel = SecureChannel.accept(socket, identity, settings.validators(), i -> i < me,
                        "only validators with lower indexes than " + me + " dial it (is its validator list in another order?)",
                        limits.maxMessageBytes());
            } finally {
                deadline.interrupt();
            }
            socket.setSoTimeout(3 * limits.keepaliveMillis());
            peers[channel.peer()].attach(channel, "accepted from " + from, System.nanoTime() - started);
        } catch (SecureChannel.RefusedException e) {
            refused.incrementAndGet();
            if (firstInAWhile(e.getMessage())) {
                LOG.warn("validator {} refused a connection from {}: {}", me, from, e.getMessage());
            } else {
                LOG.debug("validator {} refused a connection from {} again: {}", me, from, e.getMessage());
            }
            closeQuietly(socket);
        } catch (IOException e) {
            LOG.debug("validator {}: a handshake from {} failed: {}", me, from, e.toString());
            closeQuietly(socket);
        }
    }

    /**
     * Closes {@code socket} unless interrupted within the handshake timeout: the timeout of each read alone would let
     * a peer hold a handshake open for minutes by trickling bytes.
     */
    private Thread handshakeDeadline(Socket socket) {
        return Thread.ofVirtual().name("bft-net-" + me + "-deadline").start(() -> {
            try {
                Thread.sleep(limits.handshakeTimeoutMillis());
                closeQuietly(socket);
            } catch (InterruptedException e) {
                // the handshake ended in time
            }
        });
    }

    /** A fresh lookup of an address given by name (null-safe for addresses given by number). */
    private static InetSocketAddress resolved(InetSocketAddress address) {
        return address.isUnresolved() ? new InetSocketAddress(address.getHostString(), address.getPort()) : address;
    }

    static String describe(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    /** Whether {@code problem} was not logged in the last minute (a refused peer retries every few seconds). */
    private boolean firstInAWhile(String problem) {
        long now = System.nanoTime();
        if (warned.size() > 1_000) {
            warned.clear();
        }
        Long last = warned.put(problem, now);
        return last == null || now - last > TimeUnit.MINUTES.toNanos(1);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** Another validator: its queue, its connection (if up) and, for higher indexes, the dialer. */
    private final class Peer {
        final int index;
        final InetSocketAddress address;
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        final ArrayDeque<byte[]> queue = new ArrayDeque<>();
        long queuedBytes;
        boolean dropping;
        volatile Connection connection;

        Peer(int index, InetSocketAddress address) {
            this.index = index;
            this.address = address;
        }

        String name() {
            return "validator " + index + " (" + describe(address) + ")";
        }

        void offer(byte[] bytes) {
            int droppedNow = 0;
            boolean report = false;
            lock.lock();
            try {
                while (!queue.isEmpty() && (queue.size() >= limits.queueMessages()
                        || queuedBytes + bytes.length > limits.queueBytes())) {
                    queuedBytes -= queue.pollFirst().length;
                    droppedNow++;
                }
                queue.addLast(bytes);
                queuedBytes += bytes.length;
                changed.signalAll();
                if (droppedNow > 0 && !dropping) {
                    dropping = true; // reported once until the queue drains
                    report = true;
                }
            } finally {
                lock.unlock();
            }
            if (droppedNow > 0) {
                dropped.addAndGet(droppedNow);
                if (report) {
                    LOG.warn("validator {}: the queue to {} is full ({} messages or {} bytes): dropping the oldest until it"
                            + " drains ({}); the protocol recovers through timeouts", me, name(), limits.queueMessages(),
                            limits.queueBytes(), connected(index) ? "it reads too slowly" : "it is not connected");
                }
            }
        }

        /** The next message for {@code connection}, waiting up to {@code millis}; null if none or if it closed. */
        byte[] take(Connection connection, long millis) throws InterruptedException {
            lock.lock();
            try {
                long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
                while (queue.isEmpty() && !connection.closed.get()) {
                    if (nanos <= 0) {
                        return null;
                    }
                    nanos = changed.awaitNanos(nanos);
                }
                return connection.closed.get() ? null : poll();
            } finally {
                lock.unlock();
            }
        }

        /** The next message if there is one (holding the lock). */
        private byte[] poll() {
            byte[] bytes = queue.pollFirst();
            if (bytes != null) {
                queuedBytes -= bytes.length;
            }
            if (queue.isEmpty()) {
                dropping = false;
            }
            return bytes;
        }

        byte[] pollNow() {
            lock.lock();
            try {
                return poll();
            } finally {
                lock.unlock();
            }
        }

        void attach(SecureChannel channel, String how, long handshakeNanos) {
            Connection fresh = new Connection(this, channel);
            Connection old;
            lock.lock();
            try {
                if (!running) {
                    channel.close();
                    return;
                }
                old = connection;
                connection = fresh;
            } finally {
                lock.unlock();
            }
            if (old != null) {
                old.close("replaced by a new connection", false);
            }
            connections.incrementAndGet();
            fresh.start();
            LOG.info("validator {} is connected to {}: {}, handshake {} ms", me, name(), how,
                    TimeUnit.NANOSECONDS.toMillis(handshakeNanos));
        }

        void detach(Connection closed) {
            lock.lock();
            try {
                if (connection == closed) {
                    connection = null;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void dialLoop() {
            long backoff = limits.backoffMinMillis();
            int failures = 0;
            String lastProblem = null;
            while (running) {
                Socket socket = new Socket();
                long started = System.nanoTime();
                Connection connection = null;
                try {
                    socket.setTcpNoDelay(true);
                    socket.setKeepAlive(true);
                    InetSocketAddress target = resolved(address); // names are looked up again at each attempt
                    if (target.isUnresolved()) {
                        throw new IOException("the host name " + address.getHostString() + " does not resolve");
                    }
                    socket.connect(target, limits.connectTimeoutMillis());
                    socket.setSoTimeout(limits.handshakeTimeoutMillis());
                    SecureChannel channel;
                    Thread deadline = handshakeDeadline(socket);
                    try {
                        channel = SecureChannel.initiate(socket, identity, settings.validators(), index, limits.maxMessageBytes());
                    } finally {
                        deadline.interrupt();
                    }
                    socket.setSoTimeout(3 * limits.keepaliveMillis());
                    attach(channel, failures == 0 ? "dialed" : "dialed after " + failures + " failed attempts",
                            System.nanoTime() - started);
                    connection = this.connection;
                    failures = 0;
                    lastProblem = null;
                } catch (SecureChannel.RefusedException e) {
                    closeQuietly(socket);
                    refused.incrementAndGet();
                    failures++;
                    if (firstInAWhile(e.getMessage())) {
                        LOG.warn("validator {} refused {}: {}", me, name(), e.getMessage());
                    }
                    lastProblem = e.getMessage();
                } catch (IOException e) {
                    closeQuietly(socket);
                    failures++;
                    String problem = e instanceof SocketTimeoutException ? "no answer in time" : e.getMessage();
                    if (running && lastProblem == null) {
                        LOG.info("validator {} cannot reach {} ({}); retrying, backing off up to {} ms", me, name(), problem,
                                limits.backoffMaxMillis());
                    }
                    lastProblem = String.valueOf(problem);
                }
                try {
                    boolean lasted = false;
                    if (connection != null) {
                        connection.done.await();
                        // a connection that lasted starts a new series of attempts; one that ends at once (the peer
                        // refuses us after the handshake) backs off like a failure
                        lasted = System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(limits.backoffMaxMillis());
                        if (lasted) {
                            backoff = limits.backoffMinMillis();
                        }
                    }
                    if (running) {
                        Thread.sleep(backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
                    }
                    if (!lasted) {
                        backoff = Math.min(backoff * 2, limits.backoffMaxMillis());
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** An authenticated connection to a peer: a reader thread and a writer thread. */
    private final class Connection {
        final Peer peer;
        final SecureChannel channel;
        final AtomicBoolean closed = new AtomicBoolean();
        final CountDownLatch done = new CountDownLatch(1);

        Connection(Peer peer, SecureChannel channel) {
            this.peer = peer;
            this.channel = channel;
        }

        void start() {
            spawn("bft-net-" + me + "-read-" + peer.index, this::readLoop);
            spawn("bft-net-" + me + "-write-" + peer.index, this::writeLoop);
        }

        void close(String reason, boolean warn) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            channel.close();
            peer.detach(this);
            done.countDown();
            if (warn) {
                LOG.warn("validator {} dropped its connection to {}: {}", me, peer.name(), reason);
            } else {
                LOG.info("validator {} lost its connection to {}: {}", me, peer.name(), reason);
            }
        }

        private void readLoop() {
            try {
                while (!closed.get()) {
                    byte[] bytes = channel.read();
                    if (bytes == null) {
                        continue; // keepalive
                    }
                    Message message;
                    try {
                        message = Codec.decode(bytes);
                    } catch (IllegalArgumentException e) {
                        throw new SecureChannel.ViolationException(SecureChannel.ViolationException.Kind.MALFORMED,
                                "it sent a malformed consensus message (" + e.getMessage() + ")");
                    }
                    received.incrementAndGet();
                    BiConsumer<Integer, Message> target = inbox;
                    if (target != null) {
                        try {
                            target.accept(peer.index, message);
                        } catch (RuntimeException e) {
                            LOG.error("validator {}: the inbox failed on a message from {}", me, peer.name(), e);
                        }
                    }
                }
            } catch (SecureChannel.ViolationException e) {
                violations.incrementAndGet();
                close(e.getMessage() + " [" + e.kind + "]", true);
            } catch (SocketTimeoutException e) {
                close("silent for " + 3 * limits.keepaliveMillis() + " ms", false);
            } catch (IOException e) {
                close(closed.get() ? "closed" : e instanceof java.io.EOFException ? "closed by the peer" : e.toString(), false);
            }
        }

        private void writeLoop() {
            try {
                while (!closed.get()) {
                    byte[] bytes = peer.take(this, limits.keepaliveMillis());
                    if (closed.get()) {
                        return;
                    }
                    if (bytes == null) {
                        channel.writeKeepalive();
                    } else {
                        int batch = 0;
                        while (bytes != null) {
                            channel.write(bytes);
                            sent.incrementAndGet();
                            if (++batch == 1024) {
                                break; // let the socket see some of it
                            }
                            bytes = peer.pollNow();
                        }
                    }
                    channel.flush();
                }
            } catch (InterruptedException e) {
                close("interrupted", false);
            } catch (IOException e) {
                close(closed.get() ? "closed" : "cannot write: " + e, false);
            }
        }
    }
}
