package org.commonweal.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import javax.inject.Inject;

import org.commonweal.storage.BlockLog;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleWiring;

/** The storage bundle (Chronicle Queue embedded) inside the real framework, booted from the dev distribution. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StorageIT {

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] configuration() {
        return DevDistribution.paxExamOptions(DevDistribution.workFolder("storage"), DevDistribution.freePort());
    }

    @Test
    public void blockLogAppendsReadsAndReopensInsideFelix() throws Exception {
        Bundle storage = List.of(context.getBundles()).stream()
                .filter(b -> "org.commonweal.storage".equals(b.getSymbolicName())).findFirst().orElseThrow();
        assertEquals(Bundle.ACTIVE, storage.getState());
        // This test's BlockLog is the bundle's, not a copy on some class path.
        assertEquals(storage, FrameworkUtil.getBundle(BlockLog.class));

        Path dir = Files.createTempDirectory(Path.of(context.getProperty("commonweal.data.dir")), "blocklog-itest-");
        SplittableRandom random = new SplittableRandom(7);
        List<byte[]> blocks = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            byte[] block = new byte[random.nextInt(2_048)];
            random.nextBytes(block);
            blocks.add(block);
        }
        try (BlockLog log = BlockLog.open(dir)) {
            for (int i = 0; i < blocks.size(); i++) {
                assertEquals(i, log.append(blocks.get(i)));
            }
            for (int i = 0; i < blocks.size(); i++) {
                assertArrayEquals(blocks.get(i), log.read(i));
            }
        }
        try (BlockLog log = BlockLog.open(dir)) {
            assertEquals(blocks.size(), log.size());
            assertArrayEquals(blocks.get(1234), log.read(1234));
        }
        assertEquals(Bundle.ACTIVE, storage.getState());
    }

    @Test
    public void theBundleExportsOnlyItsApi() {
        Bundle storage = List.of(context.getBundles()).stream()
                .filter(b -> "org.commonweal.storage".equals(b.getSymbolicName())).findFirst().orElseThrow();
        List<String> exported = new ArrayList<>();
        for (BundleCapability capability : storage.adapt(BundleWiring.class).getCapabilities("osgi.wiring.package")) {
            exported.add((String) capability.getAttributes().get("osgi.wiring.package"));
        }
        assertEquals(List.of("org.commonweal.storage"), exported);
    }
}
