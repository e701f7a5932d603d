package org.commonweal.itests;

import static org.junit.Assert.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.commonweal.repo.LocalRepository;

import aQute.bnd.osgi.EmbeddedResource;
import aQute.bnd.osgi.Jar;

/** A bundle of the build as a new version: the same code, a new manifest version, and optional edits of its resources. */
final class RevisedBundles {

    private RevisedBundles() {
    }

    /**
     * {@code jar} (bundle {@code bsn}) as {@code version}, written into {@code folder}, each resource of {@code edits}
     * changed by its function (which must change it); ready to publish as {@code org.commonweal:bsn:version}.
     */
    static LocalRepository.Publication revised(Path jar, Path folder, String bsn, String version,
            Map<String, UnaryOperator<String>> edits) throws Exception {
        Path revised = folder.resolve(bsn + "-" + version + ".jar");
        try (Jar bundle = new Jar(jar.toFile())) {
            java.util.jar.Manifest manifest = bundle.getManifest();
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            bundle.setManifest(manifest);
            for (var edit : edits.entrySet()) {
                String text = new String(bundle.getResource(edit.getKey()).openInputStream().readAllBytes(),
                        StandardCharsets.UTF_8);
                String edited = edit.getValue().apply(text);
                assertNotEquals("the edit of " + edit.getKey() + " changes it", text, edited);
                bundle.putResource(edit.getKey(), new EmbeddedResource(edited.getBytes(StandardCharsets.UTF_8), 0L));
            }
            bundle.write(revised.toFile());
        }
        return new LocalRepository.Publication(revised, "org.commonweal:" + bsn + ":" + version);
    }
}
