package org.commonweal.repo;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.commonweal.crypto.Sha256;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * {@code cw repo serve}: a repository folder over HTTP, read-only. GET and HEAD of the index, its signature and the
 * artifacts; a strong ETag (the file's SHA-256) with {@code If-None-Match} answered 304; one byte range per request
 * ({@code Range: bytes=a-b}, {@code a-}, {@code -n}) answered 206, or 416 if it lies outside the file. Nothing
 * outside the folder is served and nothing is ever written. The server is only a transport: clients verify
 * signatures and hashes themselves.
 */
public final class RepositoryServer implements AutoCloseable {

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    private record Tag(long size, long modified, String etag) {
    }

    private final Path root;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<Path, Tag> etags = new ConcurrentHashMap<>();

    private RepositoryServer(Path root, HttpServer server) {
        this.root = root.toAbsolutePath().normalize();
        this.server = server;
    }

    /** Serves {@code root} on {@code host:port} (port 0: any free port) until {@link #close()}. */
    public static RepositoryServer start(Path root, String host, int port) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 64);
        RepositoryServer server = new RepositoryServer(root, http);
        http.createContext("/", server::handle);
        http.setExecutor(server.executor);
        http.start();
        return server;
    }

    public URI uri() {
        InetSocketAddress address = server.getAddress();
        return URI.create("http://" + address.getHostString() + ":" + address.getPort() + "/");
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "read-only repository: GET and HEAD only\n");
                return;
            }
            String path = exchange.getRequestURI().getPath();
            Path file = root.resolve(path.substring(1)).normalize();
            if (path.endsWith("/") || !file.startsWith(root) || !Files.isRegularFile(file) || isHidden(file)) {
                send(exchange, 404, "no such file: " + path + "\n");
                return;
            }
            Tag tag = tag(file);
            var headers = exchange.getResponseHeaders();
            headers.set("ETag", tag.etag());
            headers.set("Accept-Ranges", "bytes");
            headers.set("Content-Type", path.endsWith(".xml") ? "application/xml" : path.endsWith(".jar")
                    ? "application/vnd.osgi.bundle" : "application/octet-stream");
            String ifNoneMatch = exchange.getRequestHeaders().getFirst("If-None-Match");
            if (ifNoneMatch != null && (ifNoneMatch.equals("*") || ifNoneMatch.contains(tag.etag()))) {
                exchange.sendResponseHeaders(304, -1);
                return;
            }
            long start = 0;
            long end = tag.size() - 1;
            int status = 200;
            String range = exchange.getRequestHeaders().getFirst("Range");
            String ifRange = exchange.getRequestHeaders().getFirst("If-Range");
            if (range != null && (ifRange == null || ifRange.equals(tag.etag()))) {
                Matcher m = RANGE.matcher(range.strip());
                if (m.matches() && !(m.group(1).isEmpty() && m.group(2).isEmpty())) {
                    if (m.group(1).isEmpty()) {
                        start = Math.max(0, tag.size() - Long.parseLong(m.group(2)));
                    } else {
                        start = Long.parseLong(m.group(1));
                        if (!m.group(2).isEmpty()) {
                            end = Math.min(end, Long.parseLong(m.group(2)));
                        }
                    }
                    if (start >= tag.size() || start > end) {
                        headers.set("Content-Range", "bytes */" + tag.size());
                        send(exchange, 416, "range " + range + " is outside the file's " + tag.size() + " bytes\n");
                        return;
                    }
                    status = 206;
                    headers.set("Content-Range", "bytes " + start + "-" + end + "/" + tag.size());
                }
            }
            long length = end - start + 1;
            if (method.equals("HEAD")) {
                headers.set("Content-Length", Long.toString(length));
                exchange.sendResponseHeaders(status, -1);
                return;
            }
            exchange.sendResponseHeaders(status, length == 0 ? -1 : length);
            try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r"); OutputStream out = exchange.getResponseBody()) {
                in.seek(start);
                byte[] buffer = new byte[64 * 1024];
                for (long left = length; left > 0;) {
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                    if (n < 0) {
                        break;
                    }
                    out.write(buffer, 0, n);
                    left -= n;
                }
            }
        }
    }

    private static boolean isHidden(Path file) {
        return file.getFileName().toString().startsWith(".");
    }

    private Tag tag(Path file) throws IOException {
        long size = Files.size(file);
        long modified = Files.getLastModifiedTime(file).toMillis();
        Tag known = etags.get(file);
        if (known != null && known.size() == size && known.modified() == modified) {
            return known;
        }
        Tag tag = new Tag(size, modified, "\"" + HexFormat.of().formatHex(Sha256.hash(Files.readAllBytes(file))) + "\"");
        etags.put(file, tag);
        return tag;
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
