package org.commonweal.repo;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import jakarta.json.JsonStructure;
import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonGenerator;

/** Pretty-printed JSON bytes, the same for the same structure (key order is the builder's). */
final class JsonBytes {

    private static final JsonProvider PROVIDER = JsonProvider.provider();

    private JsonBytes() {
    }

    static byte[] bytes(JsonStructure json) {
        StringWriter out = new StringWriter();
        try (var writer = PROVIDER.createWriterFactory(Map.of(JsonGenerator.PRETTY_PRINTING, true)).createWriter(out)) {
            writer.write(json);
        }
        return (out.toString().strip() + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
