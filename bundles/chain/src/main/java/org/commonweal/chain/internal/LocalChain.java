package org.commonweal.chain.internal;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.commonweal.chain.Chain;
import org.commonweal.chain.TransactionStatus;
import org.commonweal.consensus.CommitCertificate;
import org.commonweal.consensus.EngineContext;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;
import org.commonweal.ledger.Account;
import org.commonweal.ledger.AccountLedger;
import org.commonweal.ledger.AccountView;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.PayloadTypes;
import org.commonweal.ledger.ProvenAccount;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain of one node: the {@link AccountLedger}, the {@link Mempool} and the {@link ChainStore}, kept
 * consistent. Opening recovers: the newest whole snapshot, then every later block of the log replayed
 * and checked against its stored header, so the node resumes at its last committed block with the
 * identical state root. Blocks reach it only through an engine's {@link EngineContext#commit}, which
 * is atomic: durable in the log first, then the state, the indexes, the mempool and the subscribers.
 */
final class LocalChain implements Chain, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalChain.class);

    /** Where a committed transaction is. */
    private record Location(long height, int index) {
    }

    private final ChainSettings settings;
    private final ChainStore store;
    private final AccountLedger ledger;
    private final Mempool mempool;
    private final LongSupplier clock;
    private final Object commitLock = new Object();
    /** Notified when a transaction is admitted (engines waiting for work) and when a block commits. */
    private final Object changed = new Object();
    private final Map<ByteBuffer, Location> transactions = new HashMap<>();
    private final Map<ByteBuffer, Long> blocks = new HashMap<>();
    private final List<Consumer<Block>> listeners = new CopyOnWriteArrayList<>();
    /** The most recently committed or read blocks, decoded: transaction lookups read their block. */
    private final Map<Long, Block> recentBlocks = new java.util.LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Block> eldest) {
            return size() > 64;
        }
    };
    private volatile String engine;
    private volatile Runnable afterCommit = () -> { };

    private LocalChain(ChainSettings settings, ChainStore store, AccountLedger ledger, SignatureBatch signatures,
            LongSupplier clock) {
        this.settings = settings;
        this.store = store;
        this.ledger = ledger;
        this.mempool = new Mempool(settings.mempoolLimits(), signatures);
        this.clock = clock;
    }

    /** Opens (creating at genesis, or recovering) the chain kept in {@code directory}. */
    static LocalChain open(Path directory, ChainSettings settings, PayloadTypes types, SignatureBatch signatures,
            LongSupplier clock) {
        long started = System.nanoTime();
        ChainStore store = ChainStore.open(directory);
        try {
            Block genesis = settings.genesis();
            AccountLedger ledger;
            long replayed = 0;
            String from = "genesis";
            if (store.size() == 0) {
                store.append(genesis, null);
                ledger = AccountLedger.genesis(genesis, settings.genesisBalances(), types, signatures);
            } else {
                BlockHeader stored = read(store, 0).block().header();
                if (!stored.equals(genesis.header())) {
                    throw new IllegalStateException("the chain in " + directory + " has another genesis (chain "
                            + stored.chainId() + ", genesis " + hex(stored.hash()) + ") than this configuration (chain "
                            + settings.chainId() + ", genesis " + hex(genesis.header().hash()) + "); use another data"
                            + " directory for another chain, or restore the configuration this one was made with");
                }
                ledger = fromSnapshot(store, types, signatures);
                if (ledger == null) {
                    ledger = AccountLedger.genesis(genesis, settings.genesisBalances(), types, signatures);
                } else {
                    from = "the snapshot at height " + ledger.head().height();
                }
                for (long height = ledger.head().height() + 1; height < store.size(); height++) {
                    ChainStore.Entry entry = read(store, height);
                    try {
                        ledger.execute(entry.block(), true); // our own log: validated before it was appended
                    } catch (Rejection e) {
                        throw new IllegalStateException("stored block " + height + " in " + directory + " does not"
                                + " replay (" + e.getMessage() + "): the block log is damaged or was written by"
                                + " different code; restore the data directory from a backup or resynchronise", e);
                    }
                    ledger.commit(entry.block().header().hash());
                    replayed++;
                }
            }
            LocalChain chain = new LocalChain(settings, store, ledger, signatures, clock);
            for (long height = 0; height < store.size(); height++) {
                chain.index(read(store, height).block());
            }
            LOG.info("chain {} at height {} ({}), state root {}: replayed {} blocks from {} in {} ms", settings.chainId(),
                    ledger.head().height(), directory, hex(ledger.head().stateRoot()), replayed, from,
                    (System.nanoTime() - started) / 1_000_000);
            return chain;
        } catch (RuntimeException | Error e) {
            store.close();
            throw e;
        }
    }

    private static AccountLedger fromSnapshot(ChainStore store, PayloadTypes types, SignatureBatch signatures) {
        ChainStore.Snapshot snapshot = store.newestSnapshot(store.size());
        while (snapshot != null) {
            try {
                AccountLedger restored = AccountLedger.restore(snapshot.state(), types, signatures);
                if (restored.head().equals(read(store, snapshot.height()).block().header())) {
                    return restored;
                }
                LOG.warn("the snapshot at height {} is not the state of stored block {}; skipping it", snapshot.height(),
                        snapshot.height());
            } catch (Rejection e) {
                LOG.warn("the snapshot at height {} does not restore ({}); skipping it", snapshot.height(), e.getMessage());
            }
            snapshot = store.newestSnapshot(snapshot.height());
        }
        return null;
    }

    private static ChainStore.Entry read(ChainStore store, long height) {
        try {
            return store.read(height);
        } catch (Rejection e) {
            throw new IllegalStateException("stored block " + height + " in " + store.directory() + " is damaged ("
                    + e.getMessage() + "); restore the data directory from a backup or resynchronise", e);
        }
    }

    private void index(Block block) {
        long height = block.header().height();
        blocks.put(ByteBuffer.wrap(block.header().hash()), height);
        List<Transaction> txs = block.transactions();
        for (int i = 0; i < txs.size(); i++) {
            transactions.put(ByteBuffer.wrap(txs.get(i).id()), new Location(height, i));
        }
    }

    /** Called (on the committing thread) after every commit: the engine schedule's hook. */
    void afterCommit(Runnable hook) {
        this.afterCommit = hook;
    }

    /** The payload types for blocks from the next one on. */
    void payloadTypes(PayloadTypes types) {
        synchronized (commitLock) {
            ledger.payloadTypes(types);
        }
    }

    void engine(String name) {
        this.engine = name;
    }

    /** A context for an engine that may commit up to {@code lastHeight}; it stops working once closed. */
    EngineSession session(long lastHeight) {
        return new EngineSession(lastHeight);
    }

    /** The context an engine is given; refuses everything once its engine has been stopped. */
    final class EngineSession implements EngineContext {

        private final long lastHeight;
        private volatile boolean open = true;

        private EngineSession(long lastHeight) {
            this.lastHeight = lastHeight;
        }

        void close() {
            open = false;
        }

        @Override
        public int chainId() {
            return LocalChain.this.chainId();
        }

        @Override
        public BlockHeader head() {
            return LocalChain.this.head();
        }

        @Override
        public long lastHeight() {
            return lastHeight;
        }

        @Override
        public boolean awaitTransactions(long timeoutMillis) throws InterruptedException {
            synchronized (changed) {
                if (!mempool.hasReady(ledger)) {
                    changed.wait(timeoutMillis);
                }
            }
            return mempool.hasReady(ledger);
        }

        @Override
        public List<Transaction> candidates(BlockHeader parent, int max) {
            return candidates(parent, max, sender -> 0);
        }

        @Override
        public List<Transaction> candidates(BlockHeader parent, int max,
                java.util.function.ToLongFunction<PublicKey> firstNonce) {
            AccountView state;
            synchronized (commitLock) {
                state = ledger.stateAfter(parent).orElseThrow(() -> new IllegalArgumentException("block "
                        + parent.height() + " is neither the head nor validated: no candidates for it"));
            }
            return mempool.select(state, Math.min(max, settings.maxBlockTransactions()), firstNonce);
        }

        @Override
        public Block propose(BlockHeader parent, List<Transaction> candidates, PublicKey proposer, long timeMillis) {
            synchronized (commitLock) {
                return ledger.propose(parent, candidates, proposer, timeMillis, settings.maxBlockTransactions());
            }
        }

        @Override
        public void validate(Block block) throws Rejection {
            synchronized (commitLock) {
                ledger.execute(block, inMempool(block));
            }
        }

        @Override
        public void commit(Block block, CommitCertificate certificate) throws Rejection {
            if (!open) {
                throw new IllegalStateException("this engine was stopped; it can no longer commit");
            }
            LocalChain.this.commit(block, certificate, lastHeight);
        }

        @Override
        public Optional<CommittedBlock> committed(long height) {
            return block(height).map(b -> new CommittedBlock(b, certificate(height)));
        }
    }

    private void commit(Block block, CommitCertificate certificate, long lastHeight) throws Rejection {
        BlockHeader header = block.header();
        if (header.height() > lastHeight) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block " + header.height() + " lies beyond this engine's"
                    + " last height " + lastHeight + " (the schedule hands over there)");
        }
        if (certificate.height() != header.height() || !Arrays.equals(certificate.blockHash(), header.hash())
                || certificate.votes().isEmpty() || !certificate.signaturesValid(settings.chainId())) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "the commit certificate of block " + header.height()
                    + " is not a valid signed certificate of that block");
        }
        synchronized (commitLock) {
            if (!Arrays.equals(header.previousHash(), ledger.head().hash())) {
                throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block " + header.height() + " is not a child of"
                        + " the head (" + ledger.head().height() + ")");
            }
            ledger.execute(block, inMempool(block));
            store.append(block, certificate); // if this throws, the block is not committed: the head stays
            ledger.commit(header.hash());
            synchronized (this) {
                index(block);
                recentBlocks.put(header.height(), block);
            }
            mempool.committed(block.transactions().stream().map(Transaction::sender).distinct().toList(), ledger,
                    clock.getAsLong());
            if (header.height() % settings.snapshotInterval() == 0) {
                store.writeSnapshot(header.height(), ledger.snapshot(), settings.snapshotsKept());
            }
        }
        synchronized (changed) {
            changed.notifyAll();
        }
        for (Consumer<Block> listener : listeners) {
            try {
                listener.accept(block);
            } catch (RuntimeException e) {
                LOG.warn("a block listener failed on block {}: {}", header.height(), e.toString());
            }
        }
        afterCommit.run();
    }

    /**
     * Whether every transaction of {@code block} waits in the mempool, where its signature was verified on
     * admission (identical bytes, as the id says): then the block's signatures need no second check.
     */
    private boolean inMempool(Block block) {
        for (Transaction tx : block.transactions()) {
            if (mempool.get(tx.id()) == null) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int chainId() {
        return settings.chainId();
    }

    @Override
    public BlockHeader head() {
        return ledger.head();
    }

    @Override
    public List<Mempool.Admission> submit(List<Transaction> txs) {
        List<Mempool.Admission> admissions = mempool.submit(txs, ledger, clock.getAsLong());
        if (admissions.stream().anyMatch(a -> a.outcome() == Mempool.Outcome.ACCEPTED
                || a.outcome() == Mempool.Outcome.REPLACED_LOWER_FEE)) {
            synchronized (changed) {
                changed.notifyAll();
            }
        }
        return admissions;
    }

    @Override
    public Optional<Block> block(long height) {
        if (height < 0 || height > ledger.head().height()) {
            return Optional.empty();
        }
        synchronized (this) {
            Block cached = recentBlocks.get(height);
            if (cached != null) {
                return Optional.of(cached);
            }
        }
        Block block = read(store, height).block();
        synchronized (this) {
            recentBlocks.put(height, block);
        }
        return Optional.of(block);
    }

    @Override
    public synchronized Optional<Long> height(byte[] blockHash) {
        return Optional.ofNullable(blocks.get(ByteBuffer.wrap(blockHash.clone())));
    }

    @Override
    public Optional<TransactionStatus> transaction(byte[] id) {
        Optional<TransactionStatus> committed = committed(id);
        if (committed.isPresent()) {
            return committed;
        }
        Transaction pending = mempool.get(id);
        if (pending != null) {
            return Optional.of(TransactionStatus.pending(pending));
        }
        // A block may have committed it between the two looks: the index takes it before the mempool lets it go.
        return committed(id);
    }

    private Optional<TransactionStatus> committed(byte[] id) {
        Location location;
        synchronized (this) {
            location = transactions.get(ByteBuffer.wrap(id.clone()));
        }
        if (location == null) {
            return Optional.empty();
        }
        Transaction tx = block(location.height()).orElseThrow().transactions().get(location.index());
        return Optional.of(new TransactionStatus(tx, true, location.height(), location.index()));
    }

    @Override
    public Optional<TransactionStatus> awaitCommitted(byte[] id, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            Optional<TransactionStatus> status = transaction(id);
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (status.isEmpty() || status.get().committed() || left <= 0) {
                return status;
            }
            synchronized (changed) {
                changed.wait(Math.min(left, 100)); // bounded: a commit between check and wait is not missed for long
            }
        }
    }

    @Override
    public Account account(PublicKey key) {
        return ledger.account(key);
    }

    @Override
    public Optional<ProvenAccount> prove(PublicKey key) {
        return ledger.prove(key);
    }

    @Override
    public Optional<org.commonweal.ledger.ProvenEntry> proveEntry(String namespace, byte[] key) {
        return ledger.proveEntry(namespace, key);
    }

    @Override
    public org.commonweal.ledger.StateView state() {
        return ledger.committedState();
    }

    @Override
    public AutoCloseable subscribe(Consumer<Block> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public int pendingTransactions() {
        return mempool.size();
    }

    @Override
    public Optional<String> engine() {
        return Optional.ofNullable(engine);
    }

    @Override
    public Optional<CommitCertificate> certificate(long height) {
        if (height < 1 || height > ledger.head().height()) {
            return Optional.empty();
        }
        return Optional.of(read(store, height).certificate());
    }

    @Override
    public void close() {
        synchronized (commitLock) {
            store.close();
        }
    }

    static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
