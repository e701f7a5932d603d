package org.commonweal.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.resource.Resource;

class ResolutionTest {

    static Resource framework;

    @TempDir
    Path temp;
    final List<Path> jars = new ArrayList<>();

    @BeforeAll
    static void framework() throws Exception {
        framework = FrameworkResource.of(Map.of("org.osgi.framework.system.packages.extra", "jdk.incubator.vector"));
    }

    void add(TestBundles bundle) throws Exception {
        jars.add(bundle.writeTo(temp.resolve("jars")));
    }

    RepositoryIndex index() throws Exception {
        Path repo = temp.resolve("repo");
        LocalRepository.at(repo).publish(jars.stream().map(j -> new LocalRepository.Publication(j, null)).toList(),
                RepositoryTest.AUTHOR);
        return new RepositoryVerifier(null).verifyIndex(new RepositorySource.Folder(repo)).index();
    }

    Resolution resolve(Resolution.Need... needs) throws Exception {
        return Resolution.resolve("test", index(), framework, List.of(needs));
    }

    void api(String version) throws Exception {
        add(TestBundles.bundle("org.example.api", version).exports("org.example.api;version=\"" + version + "\""));
    }

    void impl() throws Exception {
        add(TestBundles.bundle("org.example.impl", "1.2.0")
                .imports("org.example.api;version=\"[1.0.0,2.0.0)\",org.osgi.framework;version=\"[1.10,2)\"")
                .requires("osgi.ee;filter:=\"(&(osgi.ee=JavaSE)(version=25))\""));
    }

    static List<String> names(Resolution resolution) {
        return resolution.artifacts().stream().map(Artifact::name).toList();
    }

    @Test
    void theFrameworkProvidesCorePackagesTheJavaEeAndTheVectorApi() {
        assertTrue(framework.getCapabilities("osgi.wiring.package").stream()
                .anyMatch(c -> "org.osgi.framework".equals(c.getAttributes().get("osgi.wiring.package"))));
        assertTrue(framework.getCapabilities("osgi.wiring.package").stream()
                .anyMatch(c -> "jdk.incubator.vector".equals(c.getAttributes().get("osgi.wiring.package"))));
        assertTrue(framework.getCapabilities("osgi.ee").stream().anyMatch(c -> "JavaSE".equals(c.getAttributes().get("osgi.ee"))));
    }

    @Test
    void pullsInWhatTheNamedBundlesNeedPreferringTheHighestFittingVersion() throws Exception {
        api("1.0.0");
        api("1.5.0");
        api("2.0.0");
        impl();
        add(TestBundles.bundle("org.example.unrelated", "1.0.0"));
        Resolution resolution = resolve(Resolution.Need.bundle("org.example:org.example.impl:1.2.0"));
        assertEquals(List.of("org.example.impl 1.2.0", "org.example.api 1.5.0"), names(resolution));
        assertEquals(List.of(new Resolution.Reason("bundle org.example.impl 1.2.0", "package org.example.api [1.0.0,2.0.0)")),
                resolution.reasons(resolution.find("org.example.api").orElseThrow()));
        assertEquals(List.of(new Resolution.Reason("distribution test", "bundle org.example:org.example.impl:1.2.0")),
                resolution.reasons(resolution.find("org.example.impl").orElseThrow()));
    }

    @Test
    void aCapabilityNeedIsMetByWhicheverBundleProvidesIt() throws Exception {
        add(TestBundles.bundle("org.example.engine.bft", "1.0.0").provides("commonweal.engine;commonweal.engine=consensus;kind=bft"));
        add(TestBundles.bundle("org.example.engine.solo", "1.0.0").provides("commonweal.engine;commonweal.engine=consensus;kind=solo"));
        Resolution resolution = resolve(Resolution.Need.of("commonweal.engine", "(&(commonweal.engine=consensus)(kind=bft))",
                "a BFT consensus engine"));
        assertEquals(List.of("org.example.engine.bft 1.0.0"), names(resolution));
        assertEquals("a BFT consensus engine", resolution.reasons(resolution.artifacts().get(0)).get(0).requirement());
    }

    @Test
    void aMissingRequirementIsNamedFirstWithWhoNeedsItAndEachRejectedCandidate() throws Exception {
        api("0.9.0");
        api("2.0.0");
        impl();
        add(TestBundles.bundle("org.example.app", "1.0.0").header("Require-Bundle", "org.example.impl"));
        RepositoryException e = assertThrows(RepositoryException.class,
                () -> resolve(Resolution.Need.bundle("org.example:org.example.app:1.0.0")));
        assertEquals("""
                distribution test cannot be assembled: a requirement that nothing in the repository satisfies.
                  bundle org.example.impl 1.2.0 needs package org.example.api [1.0.0,2.0.0): nothing provides it.
                    Needed by: bundle org.example.impl 1.2.0 <- bundle org.example.app 1.0.0 <- distribution test
                    Candidates:
                      bundle org.example.api 0.9.0 provides osgi.wiring.package org.example.api 0.9.0: version 0.9.0 is outside [1.0.0,2.0.0)
                      bundle org.example.api 2.0.0 provides osgi.wiring.package org.example.api 2.0.0: version 2.0.0 is outside [1.0.0,2.0.0)
                  Fix: publish a bundle that provides it (cw repo publish), use a repository that has it, or change the\
                 feature so that nothing needs it.""", e.getMessage());
    }

    @Test
    void aBundleForANewerJavaIsExplainedByTheExecutionEnvironment() throws Exception {
        add(TestBundles.bundle("org.example.future", "1.0.0").requires("osgi.ee;filter:=\"(&(osgi.ee=JavaSE)(version=99))\""));
        RepositoryException e = assertThrows(RepositoryException.class,
                () -> resolve(Resolution.Need.bundle("org.example:org.example.future:1.0.0")));
        assertTrue(e.getMessage().contains("bundle org.example.future 1.0.0 needs execution environment JavaSE 99: nothing"
                + " provides it."), e.getMessage());
        assertTrue(e.getMessage().contains("the framework provides JavaSE up to version 25.0.0 (this JVM): JavaSE 99 needs a"
                + " newer Java"), e.getMessage());
    }

    @Test
    void aNeedNothingMeetsIsTheRootCause() throws Exception {
        api("1.0.0");
        RepositoryException e = assertThrows(RepositoryException.class,
                () -> resolve(Resolution.Need.bundle("org.example:org.example.api:1.0.0"),
                        Resolution.Need.of("commonweal.adapter", "(&(commonweal.adapter=language)(language=sw))",
                                "an adapter for Swahili")));
        assertTrue(e.getMessage().startsWith("""
                distribution test cannot be assembled: a requirement that nothing in the repository satisfies.
                  distribution test needs an adapter for Swahili: nothing provides it.
                    Candidates: none in the repository or the framework."""), e.getMessage());
    }

    @Test
    void conflictingVersionsThroughUsesAreReportedAsAUsesConflict() throws Exception {
        add(TestBundles.bundle("org.example.common", "1.0.0").exports("org.example.common;version=\"1.0.0\""));
        add(TestBundles.bundle("org.example.common2", "2.0.0").exports("org.example.common;version=\"2.0.0\""));
        add(TestBundles.bundle("org.example.a", "1.0.0").exports("org.example.a;version=\"1.0.0\";uses:=\"org.example.common\"")
                .imports("org.example.common;version=\"[1,2)\""));
        add(TestBundles.bundle("org.example.b", "1.0.0")
                .imports("org.example.a;version=\"[1,2)\",org.example.common;version=\"[2,3)\""));
        RepositoryException e = assertThrows(RepositoryException.class,
                () -> resolve(Resolution.Need.bundle("org.example:org.example.b:1.0.0")));
        assertTrue(e.getMessage().startsWith("distribution test cannot be assembled: a uses conflict: bundle org.example.b"
                + " would see package org.example.common from two bundles at once, org.example.common2 and org.example.common,"
                + " through two chains of imports (below). Fix: make the bundles agree on one version range of"
                + " org.example.common, or name the provider they should share in the feature.\n  Resolver: Uses constraint"
                + " violation."), e.getMessage());
    }
}
