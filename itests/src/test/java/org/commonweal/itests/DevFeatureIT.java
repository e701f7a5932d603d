package org.commonweal.itests;

import static org.junit.Assert.assertEquals;

import java.util.Set;

import org.junit.Test;

/**
 * distributions/dev/feature.json is the bundle list; distributions/dev/pom.xml only makes Maven fetch
 * the jars. This keeps the two in step: a jar the feature does not name fails here (a jar it names
 * but Maven did not fetch fails every other test, with the launcher's "names bundle ..." message).
 */
public class DevFeatureIT {

    @Test
    public void everyJarOfTheDistributionIsNamedByItsFeature() throws Exception {
        assertEquals("jars in distributions/dev/target/dist/bundles that feature.json does not name (add them to"
                + " the feature, or remove them from distributions/dev/pom.xml)", Set.of(),
                DevDistribution.load().unlistedJars());
    }
}
