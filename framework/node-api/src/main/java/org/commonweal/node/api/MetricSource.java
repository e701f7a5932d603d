package org.commonweal.node.api;

import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Figures a bundle publishes at {@code GET /metrics} (Prometheus text format), e.g. its request counts. Register one as
 * a service; the node reads it at every scrape, so {@link #samples()} must be quick and must not throw.
 */
@ConsumerType
public interface MetricSource {

    /** The current samples. */
    List<Sample> samples();

    /**
     * One sample.
     *
     * @param name   a Prometheus metric name ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}), e.g. {@code commonweal_inference_requests_total}
     * @param type   {@code counter} or {@code gauge}
     * @param help   one line saying what it counts
     * @param labels label names to values (names as metric names, without ':')
     * @param value  the value
     */
    record Sample(String name, String type, String help, Map<String, String> labels, double value) {
        public Sample {
            labels = Map.copyOf(labels);
        }
    }
}
