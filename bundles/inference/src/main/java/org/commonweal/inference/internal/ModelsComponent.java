package org.commonweal.inference.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.commonweal.inference.CulturePack;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.OverloadedException;
import org.commonweal.inference.StandbyModels;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.sampling.SamplingParams;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.commonweal.node.api.BundleThreads;
import org.commonweal.node.api.HealthCheck;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * The node's models: loads every GGUF file the configuration {@code org.commonweal.inference} names (and
 * those given to {@code cw node --model}, framework property {@code commonweal.models}), in the background
 * so the node starts at once; registers them as the {@link LanguageModels} service (which the HTTP API of
 * {@code org.commonweal.inference.http} serves) and a {@link HealthCheck} that reports what is served, what is
 * loading, and every file that was refused, and why.
 * A bad model file is refused with the reason logged; it never takes the node down.
 * <p>
 * Stopping while the node runs (this bundle being upgraded) hands over without a pause: this implementation leaves
 * its weights for the next one and stays the {@link StandbyModels standby}, taking requests, until the next one has
 * taken the weights, warmed each model up ({@code handover.warmup.ms}) and
 * {@linkplain StandbyModels#replace replaced} it, or until {@code handover.standby.ms}; it then lets every accepted
 * generation finish, up to {@code drain.timeout.ms}, on a thread of its own. When the node stops (or
 * {@code handover.keep.ms} is 0) stopping withdraws the service, waits for the drain, then frees the weights.
 */
@Component(immediate = true, configurationPid = "org.commonweal.inference", configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {}, reference = @Reference(name = "extender", service = CulturePackExtender.class))
public final class ModelsComponent implements LanguageModels {

    private static final Logger LOG = LoggerFactory.getLogger(ModelsComponent.class);

    /** The configuration (property names with '.' for '_'). */
    public @interface Config {
        /** GGUF files, or folders whose {@code *.gguf} files are all served. */
        String[] models() default {};

        /** The models folder; default {@code <data dir>/models}. */
        String directory() default "";

        /** Without any model, write and serve the built-in demo model (random weights). */
        boolean demo() default false;

        /** {@code allocated} (copied into off-heap memory at load) or {@code mapped}. */
        String loading() default "allocated";

        /** Kernel threads; 0: one per processor. */
        int threads() default 0;

        /** Sequences decoded together in one step. */
        int maxBatch() default 16;

        /** Requests waiting beyond the batch before new ones get 429. */
        int maxQueued() default 64;

        /** Prompt tokens processed per step, beside the decoding sequences. */
        int prefillChunk() default 256;

        /** {@code f32} or {@code f16}. */
        String kvCache_type() default "f32";

        /** KV cache memory for all sequences of one model. */
        int kvCache_maxMegabytes() default 1024;

        /**
         * The context of a sequence (prompt and reply), below the model's own when that is larger: Llama 3.x
         * files declare 131,072 tokens, whose KV cache would not fit most budgets.
         */
        int contextLength() default 4096;

        /** The culture pack applied to requests that name none (when installed for the model). */
        String defaultAdapter() default "";

        /** How long stopping waits for accepted generations to finish before it cuts them short. */
        long drain_timeout_ms() default 5000;

        /**
         * How long the models' memory stays, once this implementation stops, for the next one to take over (an
         * upgrade): it then serves at once instead of reading the files again. 0: freed at once.
         */
        long handover_keep_ms() default 30_000;

        /**
         * How long a stopping implementation keeps serving, as the standby, for the next one to start (an upgrade);
         * 0: it stops taking requests at once, and they wait for the next one.
         */
        long handover_standby_ms() default 3_000;

        /**
         * How long the next implementation warms up each model (short generations, with and without an adapter) before
         * it replaces the standby: its code, and after a kernels upgrade the kernels', is new, so it runs slowly until
         * the JIT compiled it; at least one generation; 0: none.
         */
        long handover_warmup_ms() default 250;
    }

    private final List<LoadedModel> loaded = new CopyOnWriteArrayList<>();
    private final Map<Path, String> refused = new LinkedHashMap<>();
    private final KernelPool pool;
    private final Thread loader;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    /** "" once loading is over; not "" before it starts, so a request arriving meanwhile waits for the models. */
    private volatile String loading = "model files: listing";
    private volatile boolean stopped;
    /** Installed culture packs by name, with their LoRA files. */
    private final Map<String, InstalledPack> packs = new LinkedHashMap<>();
    private final String defaultAdapter;
    private final long drainMillis;
    private final java.time.Duration handoverKeep;
    private final java.time.Duration standbyMax;
    private final long warmupMillis;
    private final BundleContext context;
    private volatile ServiceRegistration<LanguageModels> service;

    private record InstalledPack(CulturePack pack, Path file) {
    }

    @Activate
    public ModelsComponent(BundleContext context, Config config) {
        defaultAdapter = config.defaultAdapter();
        drainMillis = Math.max(0, config.drain_timeout_ms());
        handoverKeep = java.time.Duration.ofMillis(Math.max(0, config.handover_keep_ms()));
        standbyMax = java.time.Duration.ofMillis(Math.max(0, config.handover_standby_ms()));
        warmupMillis = Math.max(0, config.handover_warmup_ms());
        int threads = config.threads() > 0 ? config.threads() : Runtime.getRuntime().availableProcessors();
        pool = new KernelPool(threads);
        GgufFile.Loading mode = loadingMode(config.loading());
        Scheduler.Limits limits = new Scheduler.Limits(positive(config.maxBatch(), "maxBatch"),
                positive(config.maxQueued(), "maxQueued"), positive(config.prefillChunk(), "prefillChunk"),
                kvType(config.kvCache_type()), (long) positive(config.kvCache_maxMegabytes(), "kvCache.maxMegabytes") << 20,
                positive(config.contextLength(), "contextLength"));
        Path dataDir = Path.of(context.getProperty("commonweal.data.dir") == null ? "data"
                : context.getProperty("commonweal.data.dir"));
        Path directory = config.directory().isEmpty() ? dataDir.resolve("models") : Path.of(config.directory());
        List<Path> sources = new ArrayList<>();
        for (String m : config.models()) {
            sources.add(Path.of(m));
        }
        String given = context.getProperty("commonweal.models");
        if (given != null && !given.isBlank()) {
            for (String m : given.split(java.io.File.pathSeparator)) {
                sources.add(Path.of(m));
            }
        }
        sources.add(directory);
        this.context = context;
        loader = BundleThreads.unstarted("inference-loader",
                () -> loadAll(sources, directory, config.demo(), mode, limits));
    }

    /**
     * Registers the services and starts loading, once Declarative Services has bound the culture packs installed now
     * (it binds them after the constructor, before this): a model is served with its packs attached from its first
     * request, including right after an upgrade of this bundle, whose packs the new revision's extender registers
     * before this component starts (the {@code extender} reference).
     */
    @Activate
    void start() {
        service = context.registerService(LanguageModels.class, this, serviceProperties());
        registrations.add(service);
        registrations.add(context.registerService(HealthCheck.class, new Health(), null));
        registrations.add(context.registerService(org.commonweal.node.api.MetricSource.class,
                new InferenceMetrics(() -> List.copyOf(loaded)), null));
        loader.start();
    }

    private void loadAll(List<Path> sources, Path directory, boolean demo, GgufFile.Loading mode, Scheduler.Limits limits) {
        List<Path> files = new ArrayList<>();
        for (Path source : sources) {
            files.addAll(ggufFiles(source, source.equals(directory)));
        }
        if (files.isEmpty() && demo) {
            try {
                files.add(DemoModel.ensure(directory));
            } catch (IOException | RuntimeException e) {
                LOG.error("could not write the demo model into {}: {}", directory, e.getMessage());
            }
        }
        if (files.isEmpty()) {
            LOG.warn("no model to serve: put GGUF files in {} or run cw node --model FILE", directory);
        }
        for (Path file : files) {
            if (stopped) {
                return;
            }
            String id = file.getFileName().toString();
            if (loaded.stream().anyMatch(m -> m.info().id().equals(id.replaceFirst("(?i)\\.gguf$", "")))) {
                refuse(file, "another model with the same name is already served");
                continue;
            }
            try {
                long size = Files.size(file);
                long started = System.nanoTime();
                loading = id + ": reading";
                LoadedModel model = LoadedModel.load(file, mode, pool, limits,
                        bytes -> loading = id + ": " + (100 * bytes / Math.max(size, 1)) + "% in memory");
                if (stopped) {
                    model.close();
                    return;
                }
                long attaching = System.nanoTime();
                synchronized (packs) {
                    for (InstalledPack p : packs.values()) {
                        attach(model, p);
                    }
                    loaded.add(model); // visible with its packs
                }
                announce();
                LOG.info("serving model '{}' ({}, {} parameters, {}, {} MiB {}) in {} ms ({} ms of them attaching {} culture"
                        + " packs){}", model.info().id(), model.info().architecture(), model.info().parameters(),
                        model.info().weightTypes(), size >> 20, mode.name().toLowerCase(Locale.ROOT),
                        (System.nanoTime() - started) / 1_000_000, (System.nanoTime() - attaching) / 1_000_000,
                        model.adapters().size(),
                        model.handedOver() ? "; its memory handed over by the implementation that ran before" : "");
            } catch (IOException | RuntimeException e) {
                refuse(file, e.getMessage());
            }
        }
        loading = "";
        announce();
        if (StandbyModels.current() != null && !stopped) {
            // An upgrade: the implementation before serves while this one warms up, then retires.
            long started = System.nanoTime();
            loaded.forEach(this::warmUp);
            if (StandbyModels.replace(this)) {
                LOG.info("event=standby-replaced warmup.millis={}", (System.nanoTime() - started) / 1_000_000);
            }
        }
    }

    /**
     * Short greedy generations on the model for {@code handover.warmup.ms}, so that its first requests do not run in the
     * interpreter (this revision's classes are new) while the standby could serve them at full speed; alternately on
     * the base model and one adapter (the LoRA code is the same for all). Not counted in the request figures.
     */
    private void warmUp(LoadedModel model) {
        if (warmupMillis == 0) {
            return;
        }
        try {
            int[] prompt = model.tokenizer().encode("Hello", true, false);
            if (prompt.length == 0) {
                prompt = new int[] {0};
            }
            String adapter = model.adapters().isEmpty() ? null : model.adapters().get(0).name();
            long until = System.nanoTime() + warmupMillis * 1_000_000;
            for (int i = 0; i == 0 || System.nanoTime() < until && !stopped; i++) {
                model.warmUp(new GenerationRequest(prompt, SamplingParams.greedy(), 8, List.of(), true,
                        i % 2 == 1 ? adapter : null)).get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException | OverloadedException
                | RuntimeException e) {
            LOG.warn("model '{}': the warm-up generation failed: {}", model.info().id(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The service's properties: the loaded models' ids (users waiting for a model hear of it by them). */
    private Hashtable<String, Object> serviceProperties() {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(MODELS_PROPERTY, loaded.stream().map(m -> m.info().id()).toArray(String[]::new));
        properties.put("commonweal.loading", loading);
        return properties;
    }

    private void announce() {
        try {
            service.setProperties(serviceProperties());
        } catch (IllegalStateException e) {
            // unregistered: stopping
        }
    }

    private void refuse(Path file, String reason) {
        synchronized (refused) {
            refused.put(file, reason);
        }
        LOG.error("model {} is not served: {}", file, reason);
    }

    /** The {@code .gguf} files of a folder (sorted), or the file itself; a missing default folder is no error. */
    private List<Path> ggufFiles(Path source, boolean optional) {
        if (Files.isRegularFile(source)) {
            return List.of(source);
        }
        if (!Files.isDirectory(source)) {
            if (!optional) {
                refuse(source, "no such file or folder");
            }
            return List.of();
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(source, "*.{gguf,GGUF}")) {
            dir.forEach(files::add);
        } catch (IOException e) {
            refuse(source, "cannot list the folder: " + e.getMessage());
        }
        files.sort(null);
        return files;
    }

    @Reference(service = CulturePack.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addCulturePack(CulturePack pack, Map<String, Object> properties) {
        InstalledPack installed = new InstalledPack(pack, Path.of((String) properties.get(CulturePackExtender.FILE_PROPERTY)));
        synchronized (packs) {
            InstalledPack previous = packs.put(pack.name(), installed);
            if (previous != null) {
                LOG.warn("culture pack '{}' of {} {} replaces the one of {} {}", pack.name(), pack.bundle(),
                        pack.version(), previous.pack().bundle(), previous.pack().version());
            }
            for (LoadedModel model : loaded) {
                attach(model, installed);
            }
        }
    }

    void removeCulturePack(CulturePack pack) {
        if (stopped) {
            return; // unbound after deactivation: the standby keeps serving the packs it has until it retires
        }
        synchronized (packs) {
            InstalledPack installed = packs.get(pack.name());
            if (installed != null && installed.pack() == pack) {
                packs.remove(pack.name());
                for (LoadedModel model : loaded) {
                    model.detach(pack.name());
                }
            }
        }
    }

    /** Attaches a pack to a model if the pack was made for that model's file. */
    private void attach(LoadedModel model, InstalledPack p) {
        if (!p.pack().baseModelSha256().equals(model.info().sha256())) {
            return;
        }
        try {
            model.attach(p.pack(), p.file());
            LOG.info("model '{}' serves adapter '{}' ({})", model.info().id(), p.pack().name(), p.pack().languages());
        } catch (IOException | RuntimeException e) {
            LOG.error("culture pack '{}' of {} does not fit model '{}': {}", p.pack().name(), p.pack().bundle(),
                    model.info().id(), e.getMessage());
        }
    }

    @Override
    public List<CulturePack> unmatchedPacks() {
        synchronized (packs) {
            return packs.values().stream().map(InstalledPack::pack)
                    .filter(p -> loaded.stream().noneMatch(m -> m.info().sha256().equals(p.baseModelSha256()))).toList();
        }
    }

    @Override
    public String defaultAdapter() {
        return defaultAdapter;
    }

    @Override
    public String loading() {
        return loading;
    }

    @Override
    public List<LanguageModel> models() {
        return List.copyOf(loaded);
    }

    private static GgufFile.Loading loadingMode(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "allocated" -> GgufFile.Loading.ALLOCATED;
            case "mapped" -> GgufFile.Loading.MAPPED;
            default -> throw new IllegalArgumentException("org.commonweal.inference loading is '" + value
                    + "'; use allocated or mapped");
        };
    }

    private static GgmlType kvType(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            default -> throw new IllegalArgumentException("org.commonweal.inference kvCache.type is '" + value
                    + "'; use f32 or f16");
        };
    }

    private static int positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException("org.commonweal.inference " + name + " must be positive, not " + value);
        }
        return value;
    }

    @Deactivate
    void deactivate() {
        stopped = true;
        long started = System.nanoTime();
        boolean handOver = !handoverKeep.isZero() && !frameworkStopping();
        boolean standby = handOver && !standbyMax.isZero() && !loaded.isEmpty();
        if (!standby) {
            unregister();
        }
        try {
            loader.join(30_000); // it stops after the file it reads (or the warm-up it runs)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<LoadedModel> serving = List.copyOf(loaded);
        long drainFor = drainMillis * 1_000_000;
        if (standby) {
            // Serve on until the next implementation does: offered before the service goes, so no request finds none.
            serving.forEach(m -> m.leaveWeights(handoverKeep.plus(standbyMax).plusMillis(drainMillis)));
            StandbyModels.offer(this, standbyMax, () -> {
                serving.forEach(LoadedModel::stopAccepting);
                drain(serving, System.nanoTime() + drainFor, started, true);
            });
            unregister();
            return;
        }
        // Every model at once: none takes a new request, and the ones accepted all finish in the same time.
        serving.forEach(LoadedModel::stopAccepting);
        if (!handOver) {
            // nothing is handed over, or the node stops: finish what was accepted, then free the weights
            drain(serving, started + drainFor, started, false);
            return;
        }
        // The weights (read-only) are left for the next implementation at once, so it serves while this one finishes
        // what it accepted, on another thread.
        serving.forEach(m -> m.leaveWeights(handoverKeep.plusMillis(drainMillis)));
        BundleThreads.start("inference-drain", () -> drain(serving, started + drainFor, started, true));
    }

    private void unregister() {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
        }
    }

    private boolean frameworkStopping() {
        try {
            return context.getBundle(0).getState() == org.osgi.framework.Bundle.STOPPING;
        } catch (IllegalStateException e) {
            return true; // this bundle's context is gone already
        }
    }

    /** Lets the accepted generations end (up to {@code deadline}), then frees what this implementation held. */
    private void drain(List<LoadedModel> serving, long deadline, long started, boolean weightsLeft) {
        try {
            List<String> cut = new ArrayList<>();
            for (LoadedModel m : serving) {
                if (!m.drain(deadline)) {
                    cut.add(m.info().id());
                }
                if (weightsLeft) {
                    m.unloadKeepingWeights();
                } else {
                    m.close();
                }
            }
            if (cut.isEmpty()) {
                LOG.info("event=drained models={} millis={}", serving.size(), (System.nanoTime() - started) / 1_000_000);
            } else {
                LOG.warn("event=drain-timeout models={}: generations still running after drain.timeout.ms={} were cut"
                        + " short", cut, drainMillis);
            }
        } catch (RuntimeException | Error e) {
            LOG.warn("event=drain-failed: {}", e.toString());
        } finally {
            pool.close();
        }
    }

    /** Healthy once loading is over; lists what is served and what was refused. */
    private final class Health implements HealthCheck {
        @Override
        public String name() {
            return "models";
        }

        @Override
        public Result check() {
            // Loading is healthy: the node serves everything else meanwhile (a large model takes a while).
            String now = loading;
            StringBuilder detail = new StringBuilder("serving ").append(loaded.stream().map(m -> m.info().id()).toList());
            if (!now.isEmpty()) {
                detail.append("; loading ").append(now);
            }
            synchronized (refused) {
                refused.forEach((file, reason) -> detail.append("; refused ").append(file).append(": ").append(reason));
            }
            for (CulturePack pack : unmatchedPacks()) {
                detail.append("; culture pack '").append(pack.name()).append("' fits no loaded model (it needs the base")
                        .append(" model with SHA-256 ").append(pack.baseModelSha256()).append(')');
            }
            return Result.healthy(detail.toString());
        }
    }
}
