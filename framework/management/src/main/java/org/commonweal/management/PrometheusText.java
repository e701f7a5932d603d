package org.commonweal.management;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.commonweal.node.api.MetricSource;

/**
 * The Prometheus text exposition format (version 0.0.4): for each metric family one {@code # HELP} and one
 * {@code # TYPE} line, then its samples {@code name{label="value",...} value}. Written here rather than with a client
 * library: gauges and counters read at scrape time are all the node exposes, and this is 60 lines against several
 * bundles in every node.
 */
final class PrometheusText {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    private PrometheusText() {
    }

    /** The samples grouped by name (first help and type win), invalid names and types left out. */
    static String format(List<MetricSource.Sample> samples) {
        Map<String, List<MetricSource.Sample>> families = new LinkedHashMap<>();
        for (MetricSource.Sample sample : samples) {
            if (NAME.matcher(sample.name()).matches() && (sample.type().equals("counter") || sample.type().equals("gauge"))
                    && sample.labels().keySet().stream().allMatch(l -> LABEL.matcher(l).matches())) {
                families.computeIfAbsent(sample.name(), k -> new java.util.ArrayList<>()).add(sample);
            }
        }
        StringBuilder out = new StringBuilder();
        families.forEach((name, family) -> {
            out.append("# HELP ").append(name).append(' ').append(escapeHelp(family.getFirst().help())).append('\n');
            out.append("# TYPE ").append(name).append(' ').append(family.getFirst().type()).append('\n');
            for (MetricSource.Sample sample : family) {
                out.append(name);
                if (!sample.labels().isEmpty()) {
                    out.append('{');
                    boolean first = true;
                    for (Map.Entry<String, String> label : new TreeMap<>(sample.labels()).entrySet()) {
                        out.append(first ? "" : ",").append(label.getKey()).append("=\"")
                                .append(escapeValue(label.getValue())).append('"');
                        first = false;
                    }
                    out.append('}');
                }
                out.append(' ').append(value(sample.value())).append('\n');
            }
        });
        return out.toString();
    }

    private static String value(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : Double.toString(value);
    }

    private static String escapeHelp(String text) {
        return text.replace("\\", "\\\\").replace("\n", "\\n");
    }

    private static String escapeValue(String text) {
        return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
