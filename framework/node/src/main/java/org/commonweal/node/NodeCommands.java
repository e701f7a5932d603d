package org.commonweal.node;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The Gogo shell commands {@code cw:bundles} and {@code cw:health}: the same facts as the HTTP API. */
@Component(service = NodeCommands.class, property = {
        "osgi.command.scope=cw",
        "osgi.command.function=bundles",
        "osgi.command.function=health" })
public final class NodeCommands {

    private final NodeStatus status;

    @Activate
    public NodeCommands(@Reference(name = "status") NodeStatus status) {
        this.status = status;
    }

    /** Every bundle: id, state, symbolic name, version and SHA-256. */
    public String bundles() {
        NodeStatus.NodeInfo info = status.info();
        StringBuilder out = new StringBuilder();
        out.append("node ").append(info.nodeId()).append("  distribution ").append(info.distribution().name())
                .append(' ').append(info.distribution().version()).append('\n');
        out.append(String.format("%4s  %-8s  %-45s  %-18s  %s%n", "id", "state", "symbolic name", "version", "sha-256"));
        for (NodeStatus.BundleInfo bundle : info.bundles()) {
            out.append(String.format("%4d  %-8s  %-45s  %-18s  %s%n", bundle.id(), bundle.state(), bundle.symbolicName(),
                    bundle.version(), bundle.sha256() == null ? "-" : bundle.sha256()));
        }
        return out.toString();
    }

    /** UP or DOWN, with every problem and every health check. */
    public String health() {
        NodeStatus.Health health = status.health();
        StringBuilder out = new StringBuilder(health.healthy() ? "UP\n" : "DOWN\n");
        health.problems().forEach(problem -> out.append("  problem: ").append(problem).append('\n'));
        health.checks().forEach(check -> out.append("  check ").append(check.name()).append(": ")
                .append(check.healthy() ? "ok" : "FAILING").append(" - ").append(check.detail()).append('\n'));
        return out.toString();
    }
}
