package org.commonweal.inference.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.commonweal.inference.RequestCounts;
import org.commonweal.node.api.MetricSource;

/** The served models' request figures at {@code GET /metrics} (the same counts as {@code /v1/models}' meta). */
final class InferenceMetrics implements MetricSource {

    private final Supplier<List<LoadedModel>> models;

    InferenceMetrics(Supplier<List<LoadedModel>> models) {
        this.models = models;
    }

    @Override
    public List<Sample> samples() {
        List<Sample> samples = new ArrayList<>();
        List<LoadedModel> served = models.get();
        samples.add(new Sample("commonweal_inference_models", "gauge", "Models served", Map.of(), served.size()));
        for (LoadedModel model : served) {
            String id = model.info().id();
            RequestCounts counts = model.requests().orElseThrow();
            samples.add(new Sample("commonweal_inference_requests", "gauge", "Requests being generated or waiting, by model",
                    Map.of("model", id, "state", "running"), counts.running()));
            samples.add(new Sample("commonweal_inference_requests", "gauge", "Requests being generated or waiting, by model",
                    Map.of("model", id, "state", "waiting"), counts.waiting()));
            for (var outcome : Map.of("completed", counts.completed(), "cancelled", counts.cancelled(), "failed",
                    counts.failed()).entrySet()) {
                samples.add(new Sample("commonweal_inference_requests_total", "counter", "Requests ended since the model"
                        + " was loaded, by model and outcome", Map.of("model", id, "outcome", outcome.getKey()),
                        outcome.getValue()));
            }
        }
        return samples;
    }
}
