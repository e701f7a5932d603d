package org.commonweal.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.resource.Capability;
import org.osgi.resource.Resource;

import aQute.bnd.osgi.repository.XMLResourceParser;
import aQute.bnd.osgi.resource.CapReqBuilder;
import aQute.bnd.osgi.resource.ResourceUtils;
import biz.aQute.resolve.BndResolver;
import biz.aQute.resolve.GenericResolveContext;
import biz.aQute.resolve.ResolverLogger;

/**
 * bnd's resolver (biz.aQute.resolve, its own resolve context) over the same index, the same framework capabilities
 * and the same needs picks the same bundles as ours. Checked on the dev distribution's real bundles (built before
 * this module), naming only the node and the storage bundle and letting both resolvers find the rest.
 */
class BndResolverAgreesTest {

    @TempDir
    Path temp;

    @Test
    void sameBundlesAsBndOverTheDevDistributionsBundles() throws Exception {
        Path devBundles = Path.of(System.getProperty("commonweal.home", ".."), "distributions/dev/target/dist/bundles");
        if (!Files.isDirectory(devBundles)) {
            devBundles = Path.of("../distributions/dev/target/dist/bundles");
        }
        assumeTrue(Files.isDirectory(devBundles), "the dev distribution is built before this module");
        Path repo = temp.resolve("repo");
        LocalRepository.at(repo).publish(LocalRepository.mavenLayout(devBundles), RepositoryTest.AUTHOR);
        RepositoryIndex index = new RepositoryVerifier(null).verifyIndex(new RepositorySource.Folder(repo)).index();
        Resource framework = FrameworkResource.of(Map.of("org.osgi.framework.system.packages.extra", "jdk.incubator.vector"));
        List<Resolution.Need> needs = new ArrayList<>();
        for (String bsn : List.of("org.commonweal.node", "org.commonweal.storage", "org.apache.felix.scr")) {
            Artifact artifact = index.artifacts().stream().filter(a -> a.symbolicName().equals(bsn)).findFirst().orElseThrow();
            needs.add(Resolution.Need.bundle(artifact.mavenId()));
        }

        Set<String> ours = new TreeSet<>();
        Resolution.resolve("dev", index, framework, needs).artifacts().forEach(a -> ours.add(a.name()));

        // bnd: its own parse of the same index file, its own context.
        List<Resource> resources = XMLResourceParser.getResources(repo.resolve(RepositoryIndex.INDEX_FILE).toFile());
        GenericResolveContext context = new GenericResolveContext(new ResolverLogger(0));
        for (Capability capability : framework.getCapabilities(null)) {
            context.getSystem().addCapability(CapReqBuilder.clone(capability));
        }
        needs.forEach(need -> context.getInput().addRequirement(CapReqBuilder.clone(need.requirement())));
        context.addRepository(GenericResolveContext.createRepository(resources));
        context.done();
        Set<String> bnds = new TreeSet<>();
        for (Resource resource : new BndResolver(new ResolverLogger(0)).resolve(context).keySet()) {
            if (ResourceUtils.getContentCapability(resource) != null) {
                bnds.add(ResourceUtils.getIdentity(resource) + " " + ResourceUtils.getVersion(resource));
            }
        }
        assertEquals(bnds, ours);
        System.out.println("our resolver and bnd's agree on " + ours.size() + " bundles: " + ours);
    }
}
