package org.commonweal.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cw assemble}: a self-contained, verified, reproducible distribution from a feature and a signed repository. */
@Command(name = "assemble", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Resolve a distribution's feature (its bundles and the requirements of its commonweal-assembly extension) against"
                + " a signed repository with the OSGi resolver, verify every signature and hash against the feature's"
                + " trust roots, write the lock file (feature.lock.json beside the feature) and a runnable distribution:"
                + " OUT/NAME/ and OUT/NAME.tar.gz (launcher, bundles, feature, index, lock file, CycloneDX SBOM).",
        "With a lock file present, exactly the locked bundles are used and nothing is resolved, unless --update.",
        "Assembling twice gives byte-identical archives." })
final class AssembleCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIST", description = "The distribution folder (e.g. distributions/dev) or a name under"
            + " distributions/.")
    String distribution;

    @Option(names = "--repo", paramLabel = "URL|DIR", description = "The repository (default: the feature's first).")
    String repository;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write (default: DIST/target/assembly).")
    Path out;

    @Option(names = "--update", description = "Resolve again even if a lock file exists, and rewrite it.")
    boolean update;

    static Path distributionFolder(String distribution) {
        Path asFolder = Path.of(distribution);
        if (Files.isDirectory(asFolder)) {
            return asFolder;
        }
        return Cw.home().resolve("distributions").resolve(distribution);
    }

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        Assembler.Result result = Assembler.assemble(new Assembler.Options(distributionFolder(distribution), repository, out,
                update, Assembler.launcherJars()));
        System.out.printf("%s %d bundles (%s), every signature and hash verified against %s%n",
                result.resolved() ? "resolved" : "locked", result.artifacts().size(),
                result.resolved() ? "lock file written" : "from the lock file, nothing resolved",
                result.index().source().describe());
        System.out.printf("wrote %s and %s (%d ms)%n", result.folder(), result.archive(), (System.nanoTime() - start) / 1_000_000);
        System.out.println("run it: " + result.folder().resolve("bin").resolve("cw-node"));
        return 0;
    }
}
