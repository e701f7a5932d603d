package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.commonweal.launcher.Distribution;
import org.junit.Test;

/**
 * What makes this project's bundles byte-identical from build to build: no build time in the
 * manifest (bnd -reproducible) and every entry stamped with project.build.outputTimestamp.
 * (The README shows the full check: build twice and compare SHA-256.)
 */
public class ReproducibleBundlesIT {

    private static final Instant OUTPUT_TIMESTAMP = Instant.parse(System.getProperty("commonweal.itest.outputTimestamp"));

    @Test
    public void ourBundlesCarryNoBuildTime() throws Exception {
        List<Path> ours = new ArrayList<>();
        for (Distribution.BundleArtifact bundle : DevDistribution.load().bundles()) {
            if (bundle.id().startsWith("org.commonweal:")) {
                ours.add(bundle.jar());
            }
        }
        assertFalse("the dev distribution has this project's bundles", ours.isEmpty());
        for (Path jar : ours) {
            try (JarFile file = new JarFile(jar.toFile())) {
                assertTrue(jar + " is a bundle", file.getManifest().getMainAttributes().getValue("Bundle-SymbolicName") != null);
                assertEquals(jar + ": no Bnd-LastModified", null,
                        file.getManifest().getMainAttributes().getValue("Bnd-LastModified"));
                for (JarEntry entry : Collections.list(file.entries())) {
                    // Zip stores local time; the build and this test run in the same time zone, so it reads back exact.
                    assertEquals(jar + "!" + entry.getName(), OUTPUT_TIMESTAMP, entry.getLastModifiedTime().toInstant());
                }
            }
        }
    }
}
