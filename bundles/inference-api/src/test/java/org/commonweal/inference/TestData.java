package org.commonweal.inference;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The shared reference data ({@code shared/testdata}: llama.cpp's tokenizer vectors, tiny GGUF models with
 * llama.cpp's outputs), looked for in the working directory and every folder above it. CI has it beside
 * the clone; a fresh clone does not, and tests that need it are skipped saying so.
 */
public final class TestData {

    private TestData() {
    }

    public static Optional<Path> find(String folder) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared/testdata").resolve(folder);
            if (Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** {@code shared/testdata/<folder>/<file>}, or the test is skipped with the reason. */
    public static Path require(String folder, String file) {
        Optional<Path> dir = find(folder);
        assumeTrue(dir.isPresent(), "skipped: no shared/testdata/" + folder + " folder in or above "
                + Path.of("").toAbsolutePath() + " (CI has the reference data beside the clone)");
        Path path = dir.get().resolve(file);
        assumeTrue(Files.isRegularFile(path), "skipped: " + path + " is absent");
        return path;
    }
}
