package org.commonweal.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.resource.Requirement;
import org.osgi.resource.Resource;

class ResolutionReportTest {

    /** A requirement as a manifest declares it: just data. */
    private record Declared(String namespace, Map<String, String> directives) implements Requirement {
        @Override
        public String getNamespace() {
            return namespace;
        }

        @Override
        public Map<String, String> getDirectives() {
            return directives;
        }

        @Override
        public Map<String, Object> getAttributes() {
            return Map.of();
        }

        @Override
        public Resource getResource() {
            return null;
        }
    }

    private static String describe(String namespace, String filter) {
        return ResolutionReport.describe(new Declared(namespace, Map.of("filter", filter)));
    }

    @Test
    void packagesWithRangesReadAsAPersonWritesThem() {
        assertEquals("package org.nowhere [1.0.0,2.0.0)", describe("osgi.wiring.package",
                "(&(osgi.wiring.package=org.nowhere)(version>=1.0.0)(!(version>=2.0.0)))"));
        assertEquals("package org.open [1.2.0,)", describe("osgi.wiring.package",
                "(&(osgi.wiring.package=org.open)(version>=1.2.0))"));
        assertEquals("package org.any", describe("osgi.wiring.package", "(osgi.wiring.package=org.any)"));
    }

    @Test
    void otherNamespaces() {
        assertEquals("bundle org.host [1.0.0,2.0.0)", describe("osgi.wiring.bundle",
                "(&(osgi.wiring.bundle=org.host)(bundle-version>=1.0.0)(!(bundle-version>=2.0.0)))"));
        assertEquals("execution environment JavaSE 25", describe("osgi.ee", "(&(osgi.ee=JavaSE)(version=25))"));
        assertEquals("service org.example.Ledger", describe("osgi.service", "(objectClass=org.example.Ledger)"));
        assertEquals("extender osgi.component [1.5.0,2.0.0)", describe("osgi.extender",
                "(&(osgi.extender=osgi.component)(version>=1.5.0)(!(version>=2.0.0)))"));
        assertEquals("com.example.custom (x=y)", describe("com.example.custom", "(x=y)"));
    }
}
