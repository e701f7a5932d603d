package org.commonweal.inference.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.commonweal.inference.transformer.SyntheticModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in demo model, so that a node on a fresh machine serves something: a tiny Llama with random
 * weights (its text is nonsense, and {@code /v1/models} says so), written once into the models folder.
 */
final class DemoModel {

    static final String FILE = "commonweal-demo.gguf";
    private static final String SPEC = "demo-q8_0";
    private static final long SEED = 20261125;
    private static final Logger LOG = LoggerFactory.getLogger(DemoModel.class);

    private DemoModel() {
    }

    /** The demo model's file in {@code directory}, written first if absent. */
    static Path ensure(Path directory) throws IOException {
        Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            Files.createDirectories(directory);
            SyntheticModel.parse(SPEC).write(file, SEED, bytes -> { });
            LOG.info("wrote the demo model (random weights, {}) to {}: put real GGUF models in {} or use cw node --model",
                    SPEC, file, directory);
        }
        return file;
    }
}
