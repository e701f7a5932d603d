package org.commonweal.management;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.commonweal.node.api.MetricSource.Sample;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {

    @Test
    void familiesGetOneHelpAndTypeLabelsAreSortedAndEscaped() {
        String text = PrometheusText.format(List.of(
                new Sample("requests_total", "counter", "Requests\nserved", Map.of("model", "a\"b", "code", "200"), 3),
                new Sample("requests_total", "counter", "ignored", Map.of("model", "c\\d", "code", "500"), 1.5),
                new Sample("up", "gauge", "Up", Map.of(), 1)));
        assertEquals("""
                # HELP requests_total Requests\\nserved
                # TYPE requests_total counter
                requests_total{code="200",model="a\\"b"} 3
                requests_total{code="500",model="c\\\\d"} 1.5
                # HELP up Up
                # TYPE up gauge
                up 1
                """, text);
    }

    @Test
    void invalidNamesTypesAndLabelsAreLeftOut() {
        assertEquals("", PrometheusText.format(List.of(
                new Sample("bad name", "gauge", "x", Map.of(), 1),
                new Sample("ok", "histogram", "x", Map.of(), 1),
                new Sample("ok2", "gauge", "x", Map.of("bad-label", "v"), 1))));
    }

    @Test
    void specialValuesUseTheFormatsSpelling() {
        String text = PrometheusText.format(List.of(new Sample("a", "gauge", "h", Map.of(), Double.NaN),
                new Sample("b", "gauge", "h", Map.of(), Double.POSITIVE_INFINITY)));
        assertEquals("# HELP a h\n# TYPE a gauge\na NaN\n# HELP b h\n# TYPE b gauge\nb +Inf\n", text);
    }
}
