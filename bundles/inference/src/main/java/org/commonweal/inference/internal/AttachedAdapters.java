package org.commonweal.inference.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.inference.CulturePack;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.transformer.LoraAdapter;
import org.commonweal.inference.transformer.ModelConfig;
import org.commonweal.inference.transformer.Weights;

/**
 * The adapters attached to one base model. An adapter's file stays mapped while any generation uses it:
 * detaching one (its pack bundle stopped) refuses new requests at once and closes the file when the last
 * generation using it ends.
 */
final class AttachedAdapters implements AutoCloseable {

    /** An attached adapter and the generations using it. */
    static final class Handle {
        final CulturePack pack;
        final LoraAdapter lora;
        private final GgufFile file;
        private int users;
        private boolean detached;

        private Handle(CulturePack pack, LoraAdapter lora, GgufFile file) {
            this.pack = pack;
            this.lora = lora;
            this.file = file;
        }
    }

    private final String model;
    private final ModelConfig config;
    private final Weights weights;
    private final Map<String, Handle> byName = new LinkedHashMap<>();

    AttachedAdapters(String model, ModelConfig config, Weights weights) {
        this.model = model;
        this.config = config;
        this.weights = weights;
    }

    /** Maps the pack's LoRA file and checks it against the base model. */
    synchronized void attach(CulturePack pack, Path file) throws IOException {
        GgufFile gguf = GgufFile.open(file);
        try {
            LoraAdapter lora = LoraAdapter.fromGguf(gguf, config, weights, pack.loraScale());
            Handle previous = byName.put(pack.name(), new Handle(pack, lora, gguf));
            if (previous != null) {
                retire(previous);
            }
        } catch (IOException | RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    synchronized void detach(String name) {
        Handle handle = byName.remove(name);
        if (handle != null) {
            retire(handle);
        }
    }

    private void retire(Handle handle) {
        handle.detached = true;
        if (handle.users == 0) {
            handle.file.close();
        }
    }

    /** The adapter for a new generation; fails naming what is installed if there is none of that name. */
    synchronized Handle acquire(String name) {
        Handle handle = byName.get(name);
        if (handle == null) {
            throw new IllegalArgumentException("model '" + model + "' has no adapter '" + name + "'; installed: "
                    + (byName.isEmpty() ? "none" : List.copyOf(byName.keySet())));
        }
        handle.users++;
        return handle;
    }

    synchronized void release(Handle handle) {
        handle.users--;
        if (handle.detached && handle.users == 0) {
            handle.file.close();
        }
    }

    synchronized List<CulturePack> packs() {
        List<CulturePack> packs = new ArrayList<>();
        for (Handle h : byName.values()) {
            packs.add(h.pack);
        }
        return packs;
    }

    @Override
    public synchronized void close() {
        for (Handle h : byName.values()) {
            h.file.close();
        }
        byName.clear();
    }
}
