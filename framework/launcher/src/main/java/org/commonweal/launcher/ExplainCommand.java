package org.commonweal.launcher;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.commonweal.repo.Artifact;
import org.commonweal.repo.FrameworkResource;
import org.commonweal.repo.LockFile;
import org.commonweal.repo.RepositoryVerifier;
import org.commonweal.repo.Resolution;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cw explain}: why a bundle is in a distribution (which requirement of which bundle, or the feature, it meets). */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Say why BUNDLE is in the distribution: the feature names it, or which bundles need it and for what.",
        "Resolves as cw assemble does (within the lock file's bundles when there is one)." })
final class ExplainCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIST", description = "The distribution folder or name.")
    String distribution;

    @Parameters(index = "1", paramLabel = "BUNDLE", description = "A symbolic name (org.commonweal.crypto) or Maven id.")
    String bundle;

    @Option(names = "--repo", paramLabel = "URL|DIR", description = "The repository (default: the feature's first).")
    String repository;

    @Override
    public Integer call() throws Exception {
        Assembler.Source source = Assembler.source(AssembleCommand.distributionFolder(distribution));
        RepositoryVerifier.VerifiedIndex verified = new RepositoryVerifier(source.trust())
                .verifyIndex(Assembler.repository(source, repository));
        var index = verified.index();
        if (Files.isRegularFile(source.lockFile())) {
            // Explain the locked distribution: resolve within exactly its bundles.
            List<Artifact> locked = LockFile.read(source.lockFile()).select(index, source.lockFile());
            var restricted = org.commonweal.repo.RepositoryIndex.empty();
            for (Artifact artifact : locked) {
                restricted = restricted.with(artifact);
            }
            index = restricted;
        }
        Resolution resolution = Resolution.resolve(source.name(), index,
                FrameworkResource.of(Assembler.frameworkProperties(source)), source.needs());
        Artifact artifact = resolution.artifacts().stream()
                .filter(a -> a.symbolicName().equals(bundle) || a.mavenId().equals(bundle)).findFirst()
                .orElseThrow(() -> new LaunchException("bundle " + bundle + " is not in distribution " + source.name()
                        + ": nothing in it needs " + bundle + ". Its bundles: " + names(resolution.artifacts())));
        System.out.println(artifact.name() + " (" + artifact.mavenId() + ", sha256 " + artifact.sha256() + ") is in "
                + source.name() + " because:");
        for (Resolution.Reason reason : resolution.reasons(artifact)) {
            System.out.println("  " + reason.requirer() + " needs " + reason.requirement());
        }
        return 0;
    }

    private static String names(List<Artifact> artifacts) {
        List<String> names = new ArrayList<>();
        artifacts.forEach(a -> names.add(a.symbolicName()));
        return String.join(", ", names);
    }
}
