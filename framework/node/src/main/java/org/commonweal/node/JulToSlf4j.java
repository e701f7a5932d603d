package org.commonweal.node;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Routes java.util.logging into SLF4J while the node runs, so that the JDK's and libraries' JUL
 * output lands in the one log with everything else.
 */
@Component(immediate = true, service = {})
public final class JulToSlf4j {

    @Activate
    void activate() {
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
    }

    @Deactivate
    void deactivate() {
        SLF4JBridgeHandler.uninstall();
    }
}
