package org.commonweal.launcher;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RuntimeSettingsTest {

    @Test
    void frameworkPropertiesComeFromTheOnePlace() {
        assertEquals("jdk.incubator.vector",
                RuntimeSettings.frameworkProperties().get("org.osgi.framework.system.packages.extra"));
        assertEquals("127.0.0.1", RuntimeSettings.frameworkProperties().get("org.apache.felix.http.host"));
    }

    @Test
    void thisTestJvmRunsWithTheRuntimeFlags() {
        // surefire's argLine is @framework/jvm.options: the same check the launcher makes at start.
        assertDoesNotThrow(RuntimeSettings::checkJvm);
    }
}
