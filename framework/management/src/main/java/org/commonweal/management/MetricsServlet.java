package org.commonweal.management;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.commonweal.node.api.MetricSource;
import org.commonweal.node.api.NodeHealth;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /metrics}, Prometheus text format: bundle states, node health, upgrades and rollbacks by result, the last
 * upgrade's time to healthy, class loader leaks found, and every {@link MetricSource} service's samples (a bundle's
 * request figures). Read-only and unauthenticated, like Prometheus scrapes; it shares the node's HTTP address
 * (127.0.0.1 in the dev distribution).
 */
@Component(service = Servlet.class, property = "osgi.http.whiteboard.servlet.pattern=/metrics")
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServlet.class);

    private final transient BundleContext context;
    private final transient UpgradeAgent agent;
    private final transient List<MetricSource> sources = new CopyOnWriteArrayList<>();
    private transient volatile NodeHealth health;

    @Activate
    public MetricsServlet(BundleContext context, @Reference(name = "agent") UpgradeAgent agent) {
        this.context = context;
        this.agent = agent;
    }

    @Reference(name = "source", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addSource(MetricSource source) {
        sources.add(source);
    }

    void removeSource(MetricSource source) {
        sources.remove(source);
    }

    @Reference(name = "health", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setHealth(NodeHealth health) {
        this.health = health;
    }

    void unsetHealth(NodeHealth health) {
        if (this.health == health) {
            this.health = null;
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain; version=0.0.4; charset=utf-8");
        response.getOutputStream().write(PrometheusText.format(samples()).getBytes(StandardCharsets.UTF_8));
    }

    List<MetricSource.Sample> samples() {
        List<MetricSource.Sample> samples = new ArrayList<>();
        Map<String, Integer> byState = new TreeMap<>();
        for (String state : List.of("INSTALLED", "RESOLVED", "STARTING", "STOPPING", "ACTIVE")) {
            byState.put(state, 0);
        }
        for (Bundle bundle : context.getBundles()) {
            String state = state(bundle.getState());
            byState.merge(state, 1, Integer::sum);
            samples.add(new MetricSource.Sample("commonweal_bundle_info", "gauge", "Installed bundles (1 each), by symbolic"
                    + " name, version and state", Map.of("bundle", String.valueOf(bundle.getSymbolicName()), "version",
                            bundle.getVersion().toString(), "state", state), 1));
        }
        byState.forEach((state, count) -> samples.add(new MetricSource.Sample("commonweal_bundles", "gauge",
                "Installed bundles by state", Map.of("state", state), count)));
        NodeHealth check = health;
        samples.add(new MetricSource.Sample("commonweal_node_healthy", "gauge", "1 when GET /health answers 200",
                Map.of(), check != null && check.problems().isEmpty() ? 1 : 0));
        for (String action : List.of("upgrade", "rollback", "plan")) {
            for (String result : List.of("upgraded", "planned", "rolled-back", "rolled-back-on-request", "refused", "failed")) {
                long count = agent.counts().getOrDefault(action + " " + result, 0L);
                if (count > 0 || (action.equals("upgrade") && !result.equals("planned") && !result.startsWith("rolled-back-on"))) {
                    samples.add(new MetricSource.Sample("commonweal_upgrades_total", "counter", "Upgrade, plan and rollback"
                            + " requests since the node started, by result", Map.of("action", action, "result", result), count));
                }
            }
        }
        samples.add(new MetricSource.Sample("commonweal_upgrade_last_healthy_seconds", "gauge", "Time from the last"
                + " successful upgrade request to a healthy node (-1: none yet)", Map.of(),
                agent.lastHealthyMillis() < 0 ? -1 : agent.lastHealthyMillis() / 1000.0));
        samples.add(new MetricSource.Sample("commonweal_classloader_leaks_total", "counter", "Old bundle revisions whose"
                + " class loader was still reachable after an upgrade (see the leak probe)", Map.of(),
                agent.counts().getOrDefault("leak-probe leaked", 0L)));
        for (MetricSource source : sources) {
            try {
                samples.addAll(source.samples());
            } catch (RuntimeException e) {
                LOG.warn("event=metric-source-failed source={} error=\"{}\"", source.getClass().getName(), e.toString());
            }
        }
        return samples;
    }

    private static String state(int state) {
        return switch (state) {
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "UNINSTALLED";
        };
    }
}
