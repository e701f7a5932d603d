package org.commonweal.inference.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import org.commonweal.inference.Completion;
import org.commonweal.inference.Generation;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.ModelClosedException;
import org.commonweal.inference.OverloadedException;
import org.commonweal.inference.RequestCounts;
import org.commonweal.inference.sampling.Sampler;
import org.commonweal.inference.sampling.StopStrings;
import org.commonweal.inference.tokenizer.TextStream;
import org.commonweal.inference.tokenizer.Tokenizer;
import org.commonweal.inference.transformer.KvCache;
import org.commonweal.inference.transformer.LoraAdapter;
import org.commonweal.inference.transformer.ModelConfig;
import org.commonweal.inference.transformer.Transformer;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.commonweal.node.api.BundleThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one model's generations with continuous batching: each step is one forward pass over every active
 * sequence's next token plus a chunk of a waiting prompt, so the weights are read once per step for the
 * whole batch, and a new request joins at the next step instead of waiting for the others to finish.
 * <p>
 * Memory is bounded: a sequence is admitted only when its KV cache (prompt + max tokens, within the
 * context) fits the budget; the queue of waiting requests is bounded, and a full queue refuses new ones
 * with {@link OverloadedException}. One thread drives the steps; the kernel pool splits each step's work.
 * <p>
 * Unloading drains ({@link #stopAccepting}, {@link #awaitDrained}): new requests are refused with
 * {@link ModelClosedException} (the caller retries them on the next implementation), and every accepted one runs to
 * its end, up to a deadline; past it, those that produced no text yet fail with {@link ModelClosedException} too,
 * and the others fail.
 */
final class Scheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    /** Limits of one model's scheduler. */
    /** @param contextLimit the most positions a sequence may have, below the model's own context length */
    record Limits(int maxBatch, int maxQueued, int prefillChunk, GgmlType kvType, long kvBudgetBytes, int contextLimit) {
    }

    private final String model;
    private final Transformer transformer;
    private final Tokenizer tokenizer;
    private final KernelPool pool;
    private final Limits limits;
    private final BlockingQueue<Sequence> queue;
    private final List<Sequence> active = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    /** Guards {@link #draining} with the queue's emptiness, and wakes the idle scheduler thread. */
    private final Object work = new Object();
    private boolean draining;
    private long kvBytesInUse;
    /** The running sequences' count, for other threads ({@link #active} belongs to the scheduler thread). */
    private volatile int runningCount;
    private final java.util.concurrent.atomic.LongAdder completed = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder cancelled = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder failed = new java.util.concurrent.atomic.LongAdder();

    Scheduler(String model, Transformer transformer, Tokenizer tokenizer, KernelPool pool, Limits limits) {
        this.model = model;
        this.transformer = transformer;
        this.tokenizer = tokenizer;
        this.pool = pool;
        this.limits = limits;
        this.queue = new ArrayBlockingQueue<>(limits.maxQueued());
        this.thread = BundleThreads.start("inference-" + model, this::run);
    }

    /** Queues a generation; one not {@code counted} (the warm-up after an upgrade) is left out of the request figures. */
    Generation submit(GenerationRequest request, GenerationListener listener, AttachedAdapters.Handle adapter,
            AttachedAdapters adapters, boolean counted) throws OverloadedException {
        ModelConfig c = transformer.config();
        int context = contextLength();
        int promptTokens = request.prompt().length;
        if (promptTokens >= context) {
            throw new IllegalArgumentException("the prompt has " + promptTokens + " tokens but model '" + model
                    + "' has a context of " + context + " tokens on this node, which must also hold the reply; shorten it");
        }
        for (int token : request.prompt()) {
            if (token < 0 || token >= c.vocabularySize()) {
                throw new IllegalArgumentException("token " + token + " is outside model '" + model
                        + "''s vocabulary of " + c.vocabularySize());
            }
        }
        int capacity = (int) Math.min(context, (long) promptTokens + Math.max(request.maxTokens(), 1));
        long bytes = KvCache.bytes(c, limits.kvType(), capacity);
        if (bytes > limits.kvBudgetBytes()) {
            throw new IllegalArgumentException("the request needs " + mib(bytes) + " MiB of KV cache for "
                    + capacity + " positions, more than the node's budget of " + mib(limits.kvBudgetBytes())
                    + " MiB; ask for fewer max_tokens or a shorter prompt");
        }
        Sequence sequence = new Sequence(request, listener, capacity, bytes, adapter, adapters, counted);
        synchronized (work) {
            if (draining || !running) {
                throw new ModelClosedException("model '" + model + "' is being unloaded; it takes no new request");
            }
            if (!queue.offer(sequence)) {
                throw new OverloadedException("model '" + model + "' has " + limits.maxQueued()
                        + " requests waiting already; try again shortly", 1);
            }
            work.notifyAll();
        }
        return sequence;
    }

    /** The context a sequence has here: the model's, or the configured limit if lower. */
    int contextLength() {
        return Math.min(transformer.config().contextLength(), limits.contextLimit());
    }

    /** Requests running, waiting, and ended so far by how they ended. */
    RequestCounts counts() {
        return new RequestCounts(runningCount, queue.size(), completed.sum(), cancelled.sum(), failed.sum());
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    private void run() {
        while (running) {
            try {
                admit();
                if (active.isEmpty()) {
                    synchronized (work) {
                        if (queue.isEmpty()) {
                            if (draining) {
                                break;
                            }
                            work.wait(100);
                        }
                    }
                    Sequence next = queue.poll();
                    if (next != null) {
                        start(next);
                    }
                    continue;
                }
                step();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                if (!running) {
                    break; // close() interrupted the step (the kernels report it so): the requests are failed below
                }
                LOG.error("model '{}': a step failed; failing its {} active requests", model, active.size(), e);
                for (Sequence s : List.copyOf(active)) {
                    fail(s, e instanceof Exception ex ? ex : new IllegalStateException(e));
                }
            }
        }
        for (Sequence s : List.copyOf(active)) {
            fail(s, s.output.isEmpty() ? closed("before it produced any text") : new IllegalStateException("model '"
                    + model + "' was unloaded in the middle of this generation (it did not finish within the drain time)"));
        }
        for (Sequence s; (s = queue.poll()) != null; ) {
            s.releaseAdapter();
            count(failed, s);
            s.listener.failed(closed("before it started"));
        }
    }

    /** Counts a request's end in {@code figure}, unless it is the warm-up's. */
    private static void count(java.util.concurrent.atomic.LongAdder figure, Sequence s) {
        if (s.counted) {
            figure.increment();
        }
    }

    private ModelClosedException closed(String when) {
        return new ModelClosedException("model '" + model + "' was unloaded " + when);
    }

    private void admit() {
        while (active.size() < limits.maxBatch()) {
            Sequence next = queue.peek();
            if (next == null || kvBytesInUse + next.kvBytes > limits.kvBudgetBytes() && !active.isEmpty()) {
                return;
            }
            start(queue.poll());
        }
    }

    private void start(Sequence s) {
        if (s.cancelled) {
            count(cancelled, s);
            s.releaseAdapter();
            s.listener.finished(new Completion("cancelled", s.request.prompt().length, new int[0], "",
                    s.request.sampling().seed()));
            return;
        }
        s.cache = new KvCache(transformer.config(), limits.kvType(), s.capacity);
        kvBytesInUse += s.kvBytes;
        active.add(s);
        runningCount = active.size();
        if (s.request.maxTokens() == 0) {
            finish(s, "length");
        }
    }

    /** One forward pass: every decoding sequence's next token, and one chunk of prompt. */
    private void step() {
        for (Sequence s : List.copyOf(active)) {
            if (s.cancelled) {
                finish(s, "cancelled");
            }
        }
        List<Transformer.Step> steps = new ArrayList<>();
        List<Sequence> stepped = new ArrayList<>();
        int prefillBudget = limits.prefillChunk();
        for (Sequence s : active) {
            if (s.prefilled == s.request.prompt().length) {
                steps.add(new Transformer.Step(s.cache, new int[] {s.next}, false, s.lora()));
                stepped.add(s);
            }
        }
        for (Sequence s : active) {
            int left = s.request.prompt().length - s.prefilled;
            if (left > 0 && prefillBudget > 0) {
                int n = Math.min(left, prefillBudget);
                steps.add(new Transformer.Step(s.cache, Arrays.copyOfRange(s.request.prompt(), s.prefilled, s.prefilled + n),
                        false, s.lora()));
                stepped.add(s);
                prefillBudget -= n;
            }
        }
        if (steps.isEmpty()) {
            return;
        }
        float[] logits = transformer.forward(steps, pool);
        int vocab = transformer.config().vocabularySize();
        for (int i = 0; i < stepped.size(); i++) {
            Sequence s = stepped.get(i);
            Transformer.Step st = steps.get(i);
            if (s.prefilled < s.request.prompt().length) {
                s.prefilled += st.tokens().length;
                if (s.prefilled < s.request.prompt().length) {
                    continue;
                }
            }
            int token = s.sampler.sample(logits, i * vocab, s.history, s.historyLength);
            accept(s, token);
        }
    }

    private void accept(Sequence s, int token) {
        s.append(token);
        if (tokenizer.isEndOfGeneration(token) && !s.request.ignoreEndOfGeneration()) {
            finish(s, "stop");
            return;
        }
        String text = s.stops.accept(s.text.append(tokenizer.bytes(token, false)));
        emit(s, text);
        if (s.stops.stopped()) {
            finish(s, "stop");
        } else if (s.generated == s.request.maxTokens() || s.cache.length() >= s.capacity) {
            // Max tokens reached, or the context is full: the token cannot be fed back.
            finish(s, "length");
        } else {
            s.next = token;
        }
    }

    private void emit(Sequence s, String text) {
        if (text.isEmpty()) {
            return;
        }
        s.output.append(text);
        try {
            s.listener.text(text);
        } catch (RuntimeException e) {
            LOG.debug("model '{}': a listener failed; cancelling its generation", model, e);
            s.cancelled = true;
        }
    }

    private void finish(Sequence s, String reason) {
        if (!reason.equals("cancelled") && !s.stops.stopped()) {
            emit(s, s.stops.accept(s.text.flush()));
            emit(s, s.stops.flush());
        }
        release(s);
        count(reason.equals("cancelled") ? cancelled : completed, s);
        int[] tokens = Arrays.copyOfRange(s.history, s.request.prompt().length, s.historyLength);
        try {
            s.listener.finished(new Completion(reason, s.request.prompt().length, tokens, s.output.toString(),
                    s.request.sampling().seed()));
        } catch (RuntimeException e) {
            LOG.debug("model '{}': a listener failed at the end of its generation", model, e);
        }
    }

    private void fail(Sequence s, Exception cause) {
        release(s);
        count(failed, s);
        try {
            s.listener.failed(cause);
        } catch (RuntimeException e) {
            LOG.debug("model '{}': a listener failed", model, e);
        }
    }

    private void release(Sequence s) {
        active.remove(s);
        runningCount = active.size();
        kvBytesInUse -= s.kvBytes;
        s.cache.close();
        s.releaseAdapter();
    }

    /** Refuses new requests from now on; those accepted keep running. */
    void stopAccepting() {
        synchronized (work) {
            draining = true;
            work.notifyAll();
        }
    }

    /**
     * Waits until every accepted request has ended, or until {@code deadlineNanos} ({@link System#nanoTime}); then
     * stops. True if all ended by themselves.
     */
    boolean awaitDrained(long deadlineNanos) {
        stopAccepting();
        try {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) {
                thread.join(java.time.Duration.ofNanos(left));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boolean drained = !thread.isAlive();
        close();
        return drained;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One request's state. */
    private final class Sequence implements Generation {
        final GenerationRequest request;
        final GenerationListener listener;
        final int capacity;
        final long kvBytes;
        final Sampler sampler;
        final StopStrings stops;
        final TextStream text = new TextStream();
        final StringBuilder output = new StringBuilder();
        final int[] history;
        int historyLength;
        KvCache cache;
        int prefilled;
        int generated;
        int next;
        volatile boolean cancelled;
        final boolean counted;

        final AttachedAdapters.Handle adapter;
        private final AttachedAdapters adapters;

        Sequence(GenerationRequest request, GenerationListener listener, int capacity, long kvBytes,
                AttachedAdapters.Handle adapter, AttachedAdapters adapters, boolean counted) {
            this.counted = counted;
            this.adapter = adapter;
            this.adapters = adapters;
            this.request = request;
            this.listener = listener;
            this.capacity = capacity;
            this.kvBytes = kvBytes;
            this.sampler = new Sampler(request.sampling(), transformer.config().vocabularySize());
            this.stops = new StopStrings(request.stop());
            this.history = Arrays.copyOf(request.prompt(), capacity + 1);
            this.historyLength = request.prompt().length;
        }

        LoraAdapter lora() {
            return adapter == null ? null : adapter.lora;
        }

        /** Lets go of the adapter (once). */
        void releaseAdapter() {
            if (adapter != null && !adapterReleased) {
                adapterReleased = true;
                adapters.release(adapter);
            }
        }

        private boolean adapterReleased;

        void append(int token) {
            history[historyLength++] = token;
            generated++;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }
}
