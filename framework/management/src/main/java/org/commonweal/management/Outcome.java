package org.commonweal.management;

import java.util.List;

/**
 * What an upgrade, a plan or a rollback came to: the admin API's answer, the shell's and the CLI's report.
 *
 * @param action        upgrade, plan or rollback
 * @param bundle        the bundle's symbolic name
 * @param from          the version that ran before
 * @param to            the version asked for (a rollback: the previous version)
 * @param result        planned, upgraded, rolled-back (health failed and the previous jar runs again), refused (nothing
 *                      changed), failed (the previous jar could not be restored either: see message)
 * @param message       one paragraph for a person: the cause and the fix when it is not a success
 * @param plan          the plan (null when refused before one was made)
 * @param steps         each step with its time since the request
 * @param healthyMillis from the request to the node healthy on the new version (-1 if never)
 * @param leakProbe     collected, leaked (with what holds it when known) or skipped
 */
public record Outcome(String action, String bundle, String from, String to, String result, String message, Plan plan,
        List<Step> steps, long healthyMillis, String leakProbe) {

    /** The plan shown before anything changes. */
    public record Plan(String bundle, String from, String to, String sha256, String mavenId, String publisher,
            String publisherKey, String repository, List<String> update, List<String> refresh, List<String> dependents,
            List<String> beyondDependents, boolean forced, List<String> operatorValuesKept,
            List<String> configurationConflicts) {
    }

    public record Step(String name, long millis, String detail) {
    }

    /** For the shell and the CLI: the plan, the steps and the result. */
    public String describe() {
        StringBuilder out = new StringBuilder();
        if (plan != null) {
            out.append("plan: ").append(plan.bundle()).append(' ').append(plan.from()).append(" -> ").append(plan.to());
            if (plan.mavenId() != null) {
                out.append("\n  artifact ").append(plan.mavenId()).append(" sha256 ").append(plan.sha256())
                        .append("\n  published by ").append(plan.publisher()).append(" (").append(plan.publisherKey()).append(')');
            } else {
                out.append("\n  the jar that ran before, sha256 ").append(plan.sha256());
            }
            out.append("\n  from ").append(plan.repository())
                    .append("\n  update: ").append(String.join(", ", plan.update()))
                    .append("\n  refresh (").append(plan.refresh().size()).append("): ").append(String.join(", ", plan.refresh()));
            if (!plan.beyondDependents().isEmpty()) {
                out.append("\n  beyond its dependents: ").append(String.join(", ", plan.beyondDependents()))
                        .append(plan.forced() ? " (forced)" : "");
            }
            if (!plan.operatorValuesKept().isEmpty()) {
                out.append("\n  operator configuration kept: ").append(String.join(", ", plan.operatorValuesKept()));
            }
            for (String conflict : plan.configurationConflicts()) {
                out.append("\n  configuration conflict: ").append(conflict);
            }
            out.append('\n');
        }
        for (Step step : steps) {
            out.append(String.format("  %6d ms  %s%s%n", step.millis(), step.name(),
                    step.detail() == null || step.detail().isEmpty() ? "" : ": " + step.detail()));
        }
        out.append(result).append(": ").append(message).append('\n');
        if (healthyMillis >= 0) {
            out.append("  healthy ").append(healthyMillis).append(" ms after the request\n");
        }
        if (leakProbe != null) {
            out.append("  leak probe: ").append(leakProbe).append('\n');
        }
        return out.toString();
    }
}
