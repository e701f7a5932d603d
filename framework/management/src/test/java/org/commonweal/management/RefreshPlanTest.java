package org.commonweal.management;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;

class RefreshPlanTest {

    private static Bundle bundle(String name) {
        return (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] { Bundle.class },
                (proxy, method, args) -> switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "toString", "getSymbolicName" -> name;
                    default -> null;
                });
    }

    @Test
    void dependentsStayInsideWhateverElseTheClosureHoldsIsBeyond() {
        Bundle api = bundle("api");
        Bundle consumer = bundle("consumer");
        Bundle host = bundle("host");
        RefreshPlan plan = RefreshPlan.of(api, List.of(api, consumer, host), List.of(consumer));
        assertEquals(List.of(api, consumer, host), plan.refreshSet());
        assertEquals(List.of(consumer), plan.dependents());
        assertEquals(List.of(host), plan.beyond());
    }

    @Test
    void aBundleNothingImportsRefreshesAlone() {
        Bundle impl = bundle("impl");
        RefreshPlan plan = RefreshPlan.of(impl, List.of(impl), List.of());
        assertEquals(List.of(impl), plan.refreshSet());
        assertEquals(List.of(), plan.beyond());
    }
}
