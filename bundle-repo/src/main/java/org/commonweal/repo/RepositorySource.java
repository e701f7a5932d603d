package org.commonweal.repo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/** Where a repository's files come from: a folder, or an HTTP server such as {@code cw repo serve}. */
public sealed interface RepositorySource {

    /** The bytes of a file, by its path relative to the index; {@link NoSuchFileException} if there is none. */
    byte[] read(String path) throws IOException;

    /** The folder or the URL, as messages name it. */
    String describe();

    /** A folder, or an {@code http(s)://} URL; a string that is neither is a folder. */
    static RepositorySource of(String location) {
        if (location.startsWith("http://") || location.startsWith("https://")) {
            return new Http(URI.create(location.endsWith("/") ? location : location + "/"));
        }
        return new Folder(Path.of(location));
    }

    record Folder(Path directory) implements RepositorySource {

        @Override
        public byte[] read(String path) throws IOException {
            Path file = directory.resolve(path).normalize();
            if (!file.startsWith(directory.normalize())) {
                throw new NoSuchFileException(path, null, "outside the repository");
            }
            return Files.readAllBytes(file);
        }

        @Override
        public String describe() {
            return directory.toString();
        }
    }

    record Http(URI base) implements RepositorySource {

        private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();

        @Override
        public byte[] read(String path) throws IOException {
            URI uri = base.resolve(path);
            try {
                HttpResponse<byte[]> response = CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                if (response.statusCode() == 404) {
                    throw new NoSuchFileException(uri.toString());
                }
                if (response.statusCode() != 200) {
                    throw new IOException("GET " + uri + " answered " + response.statusCode());
                }
                return response.body();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while fetching " + uri, e);
            }
        }

        @Override
        public String describe() {
            return base.toString();
        }
    }
}
