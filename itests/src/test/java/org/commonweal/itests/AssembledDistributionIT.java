package org.commonweal.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * {@code ./cw assemble dev} from the build's signed repository (bundle-repo/target/repository): a lock file, a runnable
 * folder and an archive that is byte-identical when assembled again (then from the lock file); the assembled folder
 * boots, unpacked from its archive, on its own launch script; {@code cw explain} and {@code cw repo verify} on the same repository.
 */
public class AssembledDistributionIT {

    @Test
    public void assemblesTwiceIdenticallyAndTheResultBootsHealthy() throws Exception {
        int bundles = DevDistribution.load().bundles().size();
        Path first = DevDistribution.workFolder("assemble-1");
        Path second = DevDistribution.workFolder("assemble-2");
        try (CwProcess assemble = CwProcess.start("assemble", "dev", "--update", "--out", first.toString())) {
            assertEquals(assemble.output(), 0, assemble.exitCode(120));
            assertTrue(assemble.output(), assemble.output().contains("resolved " + bundles + " bundles (lock file written)"));
        }
        try (CwProcess assemble = CwProcess.start("assemble", "dev", "--out", second.toString())) {
            assertEquals(assemble.output(), 0, assemble.exitCode(120));
            assertTrue(assemble.output(), assemble.output().contains("locked " + bundles + " bundles (from the lock file, nothing"
                    + " resolved)"));
        }
        assertArrayEquals("assembling twice gives the same archive", Files.readAllBytes(first.resolve("dev.tar.gz")),
                Files.readAllBytes(second.resolve("dev.tar.gz")));
        // The archive is the distribution: unpack it and run that, not the folder it was made from.
        Path unpacked = DevDistribution.workFolder("unpacked");
        Process tar = new ProcessBuilder("tar", "xzf", first.resolve("dev.tar.gz").toString(), "-C", unpacked.toString())
                .inheritIO().start();
        assertEquals(0, tar.waitFor());
        Path folder = unpacked.resolve("dev");
        for (String file : List.of("feature.json", "feature.lock.json", "sbom.cdx.json", "repository/index.xml",
                "repository/index.xml.sig", "jvm.options", "bin/cw-node")) {
            assertTrue(file, Files.isRegularFile(folder.resolve(file)));
        }
        JsonObject sbom = Json.createReader(new StringReader(Files.readString(folder.resolve("sbom.cdx.json")))).readObject();
        assertEquals("CycloneDX", sbom.getString("bomFormat"));
        assertEquals(bundles, sbom.getJsonArray("components").size());

        int port = DevDistribution.freePort();
        List<String> command = List.of(folder.resolve("bin/cw-node").toString(), "--port", Integer.toString(port), "--data",
                DevDistribution.workFolder("assembled-data").toString());
        try (CwProcess node = CwProcess.run(Map.of("JAVA_HOME", System.getProperty("java.home")), command)) {
            assertEquals(200, CwNodeIT.awaitHealthy(node, port).statusCode());
            JsonObject info = Json.createReader(new StringReader(CwNodeIT.get(port, "/api/node").body())).readObject();
            assertEquals("dev", info.getJsonObject("distribution").getString("name"));
            assertEquals("the framework and every bundle", bundles + 1, info.getJsonArray("bundles").size());
            node.terminate();
            assertEquals(node.output(), 0, node.exitCode(60));
        }
    }

    @Test
    public void explainSaysWhoNeedsABundleAndVerifyChecksTheWholeRepository() throws Exception {
        try (CwProcess explain = CwProcess.start("explain", "dev", "org.commonweal.crypto")) {
            assertEquals(explain.output(), 0, explain.exitCode(120));
            assertTrue(explain.output(), explain.output().contains("is in dev because:"));
            assertTrue(explain.output(), explain.output().contains("distribution dev needs bundle org.commonweal:org.commonweal.crypto:"));
            assertTrue(explain.output(), explain.output().contains("needs package org.commonweal.crypto"));
        }
        try (CwProcess explain = CwProcess.start("explain", "dev", "org.commonweal.consensus.solo")) {
            assertEquals(explain.output(), 0, explain.exitCode(120));
            assertTrue(explain.output(), explain.output().contains("distribution dev needs a consensus engine"));
        }
        try (CwProcess verify = CwProcess.start("repo", "verify")) {
            assertEquals(verify.output(), 0, verify.exitCode(120));
            // the dev distribution's bundles, org.commonweal.repo and the BFT engine
            assertTrue(verify.output(), verify.output().contains((DevDistribution.load().bundles().size() + 2) + " artifacts"));
        }
    }
}
