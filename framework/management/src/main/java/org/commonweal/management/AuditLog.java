package org.commonweal.management;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code <data>/management/audit.jsonl}: one JSON object per line for every step of every upgrade and rollback (time,
 * who, action, bundle, versions, the publisher key, the step, its result, details). Opened for appending only, each
 * line forced to disk before the step goes on; nothing here ever rewrites or truncates it.
 */
final class AuditLog implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final FileChannel channel;

    AuditLog(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    Path file() {
        return file;
    }

    /** Appends one record and forces it to disk. {@code fields} in order; nulls are left out. */
    synchronized void write(String actor, String action, String step, String result, Map<String, ?> fields) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("time", Instant.now().toString());
        record.put("actor", actor);
        record.put("action", action);
        record.put("step", step);
        record.put("result", result);
        fields.forEach((k, v) -> {
            if (v != null) {
                record.put(k, v);
            }
        });
        try {
            byte[] line = (JSON.writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            // An upgrade that cannot be audited must not go on.
            throw new UncheckedIOException("the audit log " + file + " cannot be written (" + e + "). Fix: free disk space"
                    + " or restore write access to " + file.getParent(), e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}
