package org.commonweal.kernels.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * The benchmark's shape, on tiny sizes: every type measured, and --json's last line is the figures. The
 * figures themselves mean nothing here (a 1 MiB matvec with 100 ms of warm-up runs in C1's code and can
 * round to 0.0 GB/s), so only their presence is checked.
 */
class KernelBenchTest {

    @Test
    void printsATableAndTheFiguresAsJsonOnTheLastLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        KernelBench.run(new KernelBench.Options(List.of(1, 2), true, out, 1L << 20, 4, 1L << 20, 1000, 100));

        String[] lines = bytes.toString(StandardCharsets.UTF_8).strip().split("\n");
        JsonObject json = Json.createReader(new StringReader(lines[lines.length - 1])).readObject();
        assertTrue(json.getString("benchmark").equals("kernels"), lines[lines.length - 1]);
        for (String threads : List.of("1", "2")) {
            JsonObject run = json.getJsonObject("threads").getJsonObject(threads);
            // Figures are rounded to 0.1: on these tiny sizes and a busy machine a real figure can print as 0.0.
            assertTrue(run.getJsonNumber("triadGBs").doubleValue() >= 0, run.toString());
            for (var type : KernelBench.TYPES) {
                JsonObject figures = run.getJsonObject("types").getJsonObject(type.name());
                assertTrue(figures.getJsonNumber("matvecGBs").doubleValue() >= 0, type + ": " + figures);
                assertTrue(figures.getJsonNumber("triadGBs").doubleValue() > 0, type + ": " + figures);
                assertTrue(figures.getJsonNumber("baselineMatvecGBs").doubleValue() >= 0, type + ": " + figures);
                assertTrue(figures.getJsonNumber("matmulGflops").doubleValue() >= 0, type + ": " + figures);
                assertTrue(figures.getJsonNumber("baselineMatmulGflops").doubleValue() >= 0, type + ": " + figures);
            }
            assertTrue(run.getJsonObject("mapped").getJsonObject("F32").getJsonNumber("mappedMatvecGBs").doubleValue() >= 0,
                    run.toString());
        }
    }
}
