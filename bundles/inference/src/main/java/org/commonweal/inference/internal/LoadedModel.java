package org.commonweal.inference.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeSet;
import java.util.function.LongConsumer;

import org.commonweal.inference.Generation;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.ModelInfo;
import org.commonweal.inference.OverloadedException;
import org.commonweal.inference.chat.ChatTemplate;
import org.commonweal.inference.chat.UnsupportedChatTemplateException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.ModelFileHandover;
import org.commonweal.inference.gguf.TensorInfo;
import org.commonweal.inference.tokenizer.Tokenizer;
import org.commonweal.inference.transformer.ModelConfig;
import org.commonweal.inference.transformer.PackedWeights;
import org.commonweal.inference.transformer.SyntheticModel;
import org.commonweal.inference.transformer.Transformer;
import org.commonweal.inference.transformer.Weights;
import org.commonweal.kernels.KernelPool;

/** A GGUF model loaded for serving: its file, tokenizer, chat template and scheduler. */
final class LoadedModel implements LanguageModel, AutoCloseable {

    private final Path path;
    private final GgufFile file;
    private final boolean handedOver;
    private final PackedWeights packed;
    private final ModelInfo info;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final UnsupportedChatTemplateException noChatTemplate;
    private final Scheduler scheduler;
    private final AttachedAdapters adapters;

    private LoadedModel(Path path, GgufFile file, boolean handedOver, PackedWeights packed, ModelInfo info, Tokenizer tokenizer,
            ChatTemplate chatTemplate, UnsupportedChatTemplateException noChatTemplate, Scheduler scheduler,
            AttachedAdapters adapters) {
        this.adapters = adapters;
        this.path = path;
        this.file = file;
        this.handedOver = handedOver;
        this.packed = packed;
        this.info = info;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.noChatTemplate = noChatTemplate;
        this.scheduler = scheduler;
    }

    /**
     * Opens and checks {@code path} (mapped), or takes it over, already open, from the implementation that ran
     * before this one ({@link ModelFileHandover}), then packs its matrices for the kernels ({@link PackedWeights}):
     * the types the kernels repack always go to off-heap memory; {@code loading} says whether the others are copied
     * there too ({@code ALLOCATED}) or read from the mapped file ({@code MAPPED}). {@code progress} hears the file
     * bytes packed so far.
     */
    static LoadedModel load(Path path, GgufFile.Loading loading, KernelPool pool, Scheduler.Limits limits,
            LongConsumer progress) throws IOException {
        var handed = ModelFileHandover.take(path, GgufFile.Loading.MAPPED);
        String sha256 = handed.isPresent() ? handed.get().sha256() : sha256(path);
        GgufFile file = handed.isPresent() ? handed.get().file() : GgufFile.open(path, GgufFile.Loading.MAPPED, bytes -> { });
        try {
            ModelConfig config = ModelConfig.fromGguf(file);
            Weights weights = Weights.fromGguf(file, config);
            // The leaver's packing, if it is of these weights by these kernels: no work, no second copy in memory.
            PackedWeights packed = handed.flatMap(h -> PackedWeights.adopt(h.prepared(), weights))
                    .orElseGet(() -> PackedWeights.of(weights, loading == GgufFile.Loading.ALLOCATED, progress));
            Transformer transformer = new Transformer(config, weights, packed);
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            String id = path.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
            ChatTemplate template = null;
            UnsupportedChatTemplateException noTemplate = null;
            try {
                template = chatTemplate(file, tokenizer, id);
            } catch (UnsupportedChatTemplateException e) {
                noTemplate = e;
            }
            boolean demo = file.bool(SyntheticModel.RANDOM_WEIGHTS_KEY, false);
            long parameters = 0;
            TreeSet<String> types = new TreeSet<>();
            for (TensorInfo t : file.tensors()) {
                parameters += t.elements();
                if (t.dims().length == 2) {
                    types.add(t.type().name());
                }
            }
            String description = file.findString("general.name").orElse(id)
                    + (demo && !file.findString("general.name").orElse("").contains("random") ? " (random weights: its text is nonsense)" : "");
            Scheduler scheduler = new Scheduler(id, transformer, tokenizer, pool, limits);
            ModelInfo info = new ModelInfo(id, config.architecture(), parameters, String.join(", ", types),
                    scheduler.contextLength(), sha256, demo, description);
            return new LoadedModel(path, file, handed.isPresent(), packed, info, tokenizer, template, noTemplate, scheduler,
                    new AttachedAdapters(id, config, transformer.weights()));
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static ChatTemplate chatTemplate(GgufFile file, Tokenizer tokenizer, String id)
            throws IOException, UnsupportedChatTemplateException {
        String bos = tokenizer.bos().isPresent() ? tokenizer.text(tokenizer.bos().getAsInt()) : "";
        String eos = tokenizer.eos().isPresent() ? tokenizer.text(tokenizer.eos().getAsInt()) : "";
        if (!file.has("tokenizer.chat_template")) {
            throw new UnsupportedChatTemplateException("model '" + id + "' has no chat template"
                    + " (tokenizer.chat_template); use /v1/completions with a prompt you format yourself");
        }
        return ChatTemplate.detect(file.string("tokenizer.chat_template"), bos, eos);
    }

    static String sha256(Path path) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(path), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public ChatTemplate chatTemplate() throws UnsupportedChatTemplateException {
        if (chatTemplate == null) {
            throw noChatTemplate;
        }
        return chatTemplate;
    }

    @Override
    public java.util.List<org.commonweal.inference.CulturePack> adapters() {
        return adapters.packs();
    }

    /** Attaches a culture pack's adapter, whose LoRA file is {@code file}; fails if it does not fit. */
    void attach(org.commonweal.inference.CulturePack pack, Path file) throws IOException {
        adapters.attach(pack, file);
    }

    void detach(String adapter) {
        adapters.detach(adapter);
    }

    @Override
    public Generation generate(GenerationRequest request, GenerationListener listener) throws OverloadedException {
        return submit(request, listener, true);
    }

    private Generation submit(GenerationRequest request, GenerationListener listener, boolean counted)
            throws OverloadedException {
        AttachedAdapters.Handle adapter = request.adapter() == null ? null : adapters.acquire(request.adapter());
        try {
            return scheduler.submit(request, listener, adapter, adapters, counted);
        } catch (OverloadedException | RuntimeException e) {
            if (adapter != null) {
                adapters.release(adapter);
            }
            throw e;
        }
    }

    @Override
    public java.util.Optional<org.commonweal.inference.RequestCounts> requests() {
        return java.util.Optional.of(scheduler.counts());
    }

    /**
     * Runs {@code request} (base model, or its adapter) like a client's, but left out of the request figures: the
     * warm-up of a new implementation.
     */
    java.util.concurrent.CompletableFuture<org.commonweal.inference.Completion> warmUp(GenerationRequest request)
            throws OverloadedException {
        var done = new java.util.concurrent.CompletableFuture<org.commonweal.inference.Completion>();
        submit(request, GenerationListener.completing(done), false);
        return done;
    }

    /** Takes no new request from now on (see {@link Scheduler#stopAccepting}). */
    void stopAccepting() {
        scheduler.stopAccepting();
    }

    /** Lets the accepted requests end, up to {@code deadlineNanos}, then stops; true if none had to be cut short. */
    boolean drain(long deadlineNanos) {
        return scheduler.awaitDrained(deadlineNanos);
    }

    /** Whether the file came open from the implementation that ran before. */
    boolean handedOver() {
        return handedOver;
    }

    /**
     * Leaves the open file and the packed weights (read-only) for the next implementation, for at most {@code keep}, while this
     * one may still finish what it accepted on them: it must then only {@link #unloadKeepingWeights()}.
     */
    void leaveWeights(java.time.Duration keep) {
        ModelFileHandover.leave(path, file, info.sha256(), packed.matrices(), keep);
    }

    /** Stops the scheduler and frees the adapters, not the weights (left to the next implementation). */
    void unloadKeepingWeights() {
        scheduler.close();
        adapters.close();
    }

    @Override
    public void close() {
        scheduler.close();
        adapters.close();
        file.close();
    }
}
