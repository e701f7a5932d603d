package org.commonweal.management;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo commands: {@code cw:upgrade BSN[@VERSION] [--force|--plan]}, {@code cw:rollback BSN}, {@code cw:upgrades}. The
 * shell is the node's own console, so its user is trusted as the operator "shell" (written so to the audit log).
 */
@Component(service = UpgradeCommands.class, property = {
        "osgi.command.scope=cw",
        "osgi.command.function=upgrade",
        "osgi.command.function=rollback",
        "osgi.command.function=upgrades" })
public final class UpgradeCommands {

    private static final String ACTOR = "shell (node console)";
    private final UpgradeAgent agent;

    @Activate
    public UpgradeCommands(@Reference(name = "agent") UpgradeAgent agent) {
        this.agent = agent;
    }

    public String upgrade(String bundle) {
        return agent.upgrade(ACTOR, bundle, false, true).describe();
    }

    /** {@code option}: --force (allow a refresh beyond the dependents) or --plan (show the plan only). */
    public String upgrade(String option, String bundle) {
        return switch (option) {
            case "--force" -> agent.upgrade(ACTOR, bundle, true, true).describe();
            case "--plan" -> agent.upgrade(ACTOR, bundle, false, false).describe();
            default -> "unknown option " + option + ": cw:upgrade [--force|--plan] BUNDLE[@VERSION]";
        };
    }

    public String rollback(String bundle) {
        return agent.rollback(ACTOR, bundle).describe();
    }

    public String upgrades() {
        StringBuilder out = new StringBuilder();
        agent.history().forEach(o -> out.append(o.action()).append(' ').append(o.bundle()).append(' ').append(o.from())
                .append(" -> ").append(o.to()).append(": ").append(o.result()).append('\n'));
        return out.isEmpty() ? "no upgrades since the node started\n" : out.toString();
    }
}
