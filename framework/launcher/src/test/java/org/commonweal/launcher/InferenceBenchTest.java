package org.commonweal.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.transformer.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * The benchmark's shape on the tiny demo model with a few tokens: a table, every figure in the JSON of the
 * last line (mapped weights measured in a new JVM), and the synthetic model written once then reused. The figures themselves mean nothing here
 * (no warm-up, C1's code), so only their presence is checked.
 */
class InferenceBenchTest {

    @TempDir
    Path cache;

    @Test
    void printsATableAndTheFiguresAsJsonOnTheLastLine() throws IOException {
        String first = run();
        assertTrue(first.contains("wrote " + cache.resolve("demo-q8_0-seed1.gguf")), first);
        String output = run();
        assertTrue(output.contains("reusing " + cache.resolve("demo-q8_0-seed1.gguf")), output);

        String[] lines = output.strip().split("\n");
        JsonObject json = Json.createReader(new StringReader(lines[lines.length - 1])).readObject();
        assertEquals("inference", json.getString("benchmark"));
        assertEquals("demo-q8_0", json.getString("synthetic"));
        assertEquals("Q8_0", json.getString("weightTypes"));
        assertTrue(json.getJsonNumber("bytesPerToken").longValue() > 0, json.toString());
        for (String threads : List.of("1", "2")) {
            JsonObject run = json.getJsonObject("threads").getJsonObject(threads);
            for (String key : List.of("readGBs", "fmaPeakGflops", "ppTokensPerSecond", "ppGflops", "ppPctFmaPeak",
                    "tgTokensPerSecond", "tgRooflineTokensPerSecond", "tgPctRoofline")) {
                assertTrue(run.getJsonNumber(key).doubleValue() > 0, threads + " threads, " + key + ": " + run);
            }
        }
        JsonObject streams = json.getJsonObject("streams");
        assertEquals(2, streams.getInt("threads"));
        for (String n : List.of("1", "4")) {
            assertTrue(streams.getJsonObject(n).getJsonNumber("tokensPerSecond").doubleValue() > 0, streams.toString());
            assertTrue(streams.getJsonObject(n).getJsonNumber("pctRoofline").doubleValue() > 0, streams.toString());
        }
        JsonObject loadings = json.getJsonObject("decodeByLoading");
        assertTrue(loadings.getJsonObject("allocated").getJsonNumber("2").doubleValue() > 0, loadings.toString());
        assertTrue(loadings.getJsonObject("mapped").getJsonNumber("1").doubleValue() > 0, loadings.toString());
        assertTrue(loadings.getJsonObject("mapped").getJsonNumber("2").doubleValue() > 0, loadings.toString());
        JsonObject adapters = json.getJsonObject("adapters");
        for (String distinct : new String[] {"0", "1", "4"}) {
            assertTrue(adapters.getJsonObject(distinct).getJsonNumber("tokensPerSecond").doubleValue() > 0, adapters.toString());
        }
        assertEquals(1.0, adapters.getJsonObject("0").getJsonNumber("ofBase").doubleValue(), 1e-9);
    }

    private String run() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        InferenceBench.run(new InferenceBench.Options(null, SyntheticModel.parse("demo-q8_0"), cache, List.of(1, 2),
                List.of(GgufFile.Loading.ALLOCATED, GgufFile.Loading.MAPPED), 8, 4, List.of(1, 4), 1, 0, 4L << 20, false,
                true, out, out));
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
