package org.commonweal.repo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoryServerTest {

    @TempDir
    Path temp;

    final HttpClient client = HttpClient.newHttpClient();

    HttpResponse<byte[]> get(URI uri, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri);
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    Path repository() throws Exception {
        Path repo = temp.resolve("repo");
        Path jar = TestBundles.bundle("org.example.api", "1.0.0").exports("org.example.api;version=\"1.0.0\"")
                .writeTo(temp.resolve("jars"));
        LocalRepository.at(repo).publish(List.of(new LocalRepository.Publication(jar, null)), RepositoryTest.AUTHOR);
        return repo;
    }

    @Test
    void servesTheIndexAndArtifactsReadOnlyWithETagsAndRanges() throws Exception {
        Path repo = repository();
        byte[] index = Files.readAllBytes(repo.resolve("index.xml"));
        try (RepositoryServer server = RepositoryServer.start(repo, "127.0.0.1", 0)) {
            HttpResponse<byte[]> whole = get(server.uri().resolve("index.xml"));
            assertEquals(200, whole.statusCode());
            assertArrayEquals(index, whole.body());
            String etag = whole.headers().firstValue("ETag").orElseThrow();
            assertEquals(304, get(server.uri().resolve("index.xml"), "If-None-Match", etag).statusCode());

            HttpResponse<byte[]> range = get(server.uri().resolve("index.xml"), "Range", "bytes=10-19");
            assertEquals(206, range.statusCode());
            assertArrayEquals(Arrays.copyOfRange(index, 10, 20), range.body());
            assertEquals("bytes 10-19/" + index.length, range.headers().firstValue("Content-Range").orElseThrow());
            HttpResponse<byte[]> tail = get(server.uri().resolve("index.xml"), "Range", "bytes=-5");
            assertArrayEquals(Arrays.copyOfRange(index, index.length - 5, index.length), tail.body());
            assertEquals(416, get(server.uri().resolve("index.xml"), "Range", "bytes=" + index.length + "-").statusCode());

            assertEquals(404, get(server.uri().resolve("nothing.jar")).statusCode());
            assertEquals(404, get(URI.create(server.uri() + "bundles/../../jars/org.example.api-1.0.0.jar")).statusCode());
            assertEquals(405, client.send(HttpRequest.newBuilder(server.uri().resolve("index.xml"))
                    .PUT(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
            assertEquals(200, get(server.uri().resolve("bundles/org.example.api/org.example.api-1.0.0.jar")).statusCode());
        }
    }

    @Test
    void aMirrorOverHttpVerifiesLikeItsSource() throws Exception {
        Path repo = repository();
        Path mirror = temp.resolve("mirror");
        try (RepositoryServer server = RepositoryServer.start(repo, "127.0.0.1", 0)) {
            assertEquals(1, RepositoryMirror.mirror(RepositorySource.of(server.uri().toString()), mirror,
                    RepositoryTest.trusting(RepositoryTest.AUTHOR, "*")));
        }
        assertArrayEquals(Files.readAllBytes(repo.resolve("index.xml")), Files.readAllBytes(mirror.resolve("index.xml")));
        assertArrayEquals(Files.readAllBytes(repo.resolve("index.xml.sig")), Files.readAllBytes(mirror.resolve("index.xml.sig")));
        RepositoryVerifier verifier = new RepositoryVerifier(null);
        var verified = verifier.verifyIndex(new RepositorySource.Folder(mirror));
        verifier.readVerified(verified, verified.index().artifacts().get(0));
    }

    @Test
    void aMirrorOfATamperedRepositoryWritesNothing() throws Exception {
        Path repo = repository();
        Path jar = repo.resolve("bundles/org.example.api/org.example.api-1.0.0.jar");
        byte[] bytes = Files.readAllBytes(jar);
        bytes[bytes.length - 30] ^= 1;
        Files.write(jar, bytes);
        Path mirror = temp.resolve("mirror");
        RepositoryException e = assertThrows(RepositoryException.class,
                () -> RepositoryMirror.mirror(new RepositorySource.Folder(repo), mirror, null));
        assertTrue(e.getMessage().startsWith("artifact org.example.api 1.0.0"), e.getMessage());
        assertTrue(Files.notExists(mirror.resolve("index.xml")));
    }
}
