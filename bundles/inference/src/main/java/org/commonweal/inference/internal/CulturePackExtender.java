package org.commonweal.inference.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Hashtable;

import org.commonweal.inference.CulturePack;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.util.tracker.BundleTracker;
import org.osgi.util.tracker.BundleTrackerCustomizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The culture pack extender: a pack is a bundle without code whose manifest names its descriptor
 * ({@code Commonweal-Culture-Pack: adapter/culture-pack.json}). While such a bundle is active, this checks
 * its descriptor and its LoRA file (present, SHA-256 as declared), copies the LoRA file to
 * {@code <data>/adapters/<sha256>.gguf} (so it can be memory-mapped; the same file serves every version
 * that carries it) and registers a {@link CulturePack} service in the pack bundle's name: the service goes
 * when the bundle stops or is uninstalled. A pack that fails a check is logged with the reason and not
 * registered.
 */
@Component(immediate = true, service = CulturePackExtender.class) // for ModelsComponent only: it starts after the packs are registered
public final class CulturePackExtender implements BundleTrackerCustomizer<ServiceRegistration<CulturePack>> {

    private static final Logger LOG = LoggerFactory.getLogger(CulturePackExtender.class);
    /** The service property holding the LoRA file's path on disk. */
    static final String FILE_PROPERTY = "commonweal.adapter.file";

    private final Path directory;
    private final BundleTracker<ServiceRegistration<CulturePack>> tracker;

    @Activate
    public CulturePackExtender(BundleContext context) {
        String data = context.getProperty("commonweal.data.dir");
        this.directory = Path.of(data == null ? "data" : data, "adapters");
        this.tracker = new BundleTracker<>(context, Bundle.ACTIVE, this);
        tracker.open();
    }

    @Deactivate
    void deactivate() {
        tracker.close();
    }

    @Override
    public ServiceRegistration<CulturePack> addingBundle(Bundle bundle, BundleEvent event) {
        String descriptorPath = bundle.getHeaders("").get(CulturePack.HEADER);
        if (descriptorPath == null) {
            return null;
        }
        String who = bundle.getSymbolicName() + " " + bundle.getVersion();
        try {
            byte[] descriptor = read(bundle, descriptorPath, who);
            CulturePack pack = CulturePack.parse(descriptor, bundle.getSymbolicName(), bundle.getVersion().toString());
            Path file = extract(bundle, pack, who);
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put("name", pack.name());
            properties.put("languages", pack.languages().toArray(String[]::new));
            properties.put("baseModel.sha256", pack.baseModelSha256());
            properties.put(FILE_PROPERTY, file.toString());
            ServiceRegistration<CulturePack> registration = bundle.getBundleContext()
                    .registerService(CulturePack.class, pack, properties);
            LOG.info("culture pack '{}' ({}, {}) from {} is installed", pack.name(), pack.title(), pack.languages(), who);
            return registration;
        } catch (IOException | RuntimeException e) {
            LOG.error("culture pack bundle {} is not used: {}", who, e.getMessage());
            return null;
        }
    }

    private static byte[] read(Bundle bundle, String path, String who) throws IOException {
        URL entry = bundle.getEntry(path);
        if (entry == null) {
            throw new IOException("its manifest names " + path + " but the bundle has no such entry");
        }
        try (InputStream in = entry.openStream()) {
            return in.readAllBytes();
        }
    }

    /** Copies the pack's LoRA file out of the bundle (once per content), checking its SHA-256 on the way. */
    private Path extract(Bundle bundle, CulturePack pack, String who) throws IOException {
        Path target = directory.resolve(pack.loraSha256() + ".gguf");
        if (Files.isRegularFile(target) && LoadedModel.sha256(target).equals(pack.loraSha256())) {
            return target;
        }
        URL entry = bundle.getEntry(pack.loraResource());
        if (entry == null) {
            throw new IOException("its descriptor names the LoRA file " + pack.loraResource() + ", which the bundle lacks");
        }
        Files.createDirectories(directory);
        Path partial = Files.createTempFile(directory, pack.name(), ".partial");
        try {
            try (InputStream in = entry.openStream()) {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            }
            String actual = LoadedModel.sha256(partial);
            if (!actual.equals(pack.loraSha256())) {
                throw new IOException("its LoRA file " + pack.loraResource() + " has SHA-256 " + actual
                        + " but the descriptor declares " + pack.loraSha256() + "; the bundle is corrupt or tampered");
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    @Override
    public void modifiedBundle(Bundle bundle, BundleEvent event, ServiceRegistration<CulturePack> registration) {
    }

    @Override
    public void removedBundle(Bundle bundle, BundleEvent event, ServiceRegistration<CulturePack> registration) {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // unregistered with the bundle's stop
        }
        LOG.info("culture pack bundle {} {} is gone", bundle.getSymbolicName(), bundle.getVersion());
    }
}
