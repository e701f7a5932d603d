package org.commonweal.launcher;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The node's HTTP address: checked free before the node starts, and polled until it is healthy. */
public record HttpEndpoint(String host, int port) {

    static final String HOST_PROPERTY = "org.apache.felix.http.host";
    static final String PORT_PROPERTY = "org.osgi.service.http.port";

    public URI uri(String path) {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return URI.create("http://" + h + ":" + port + path);
    }

    /** Fails with the fix if nothing could listen on this address now (in use, or not an address of this machine). */
    void checkFree() throws LaunchException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            throw new LaunchException("port " + port + " on " + host + " is already in use (" + e.getMessage() + "). Fix:"
                    + " start the node with --port N on a free port, or stop the program that holds it"
                    + " (ss -ltnp 'sport = :" + port + "' names it)");
        } catch (IOException | IllegalArgumentException e) {
            throw new LaunchException("cannot listen on " + host + ":" + port + " (" + e.getMessage() + "). Fix: set"
                    + " " + HOST_PROPERTY + " to an address of this machine, and " + PORT_PROPERTY + " (or --port) to 1-65535");
        }
    }

    /** A GET's status and body; status -1 when nothing answered. */
    record Reply(int status, String body) {
    }

    Reply get(HttpClient client, String path) {
        try {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(5))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.body());
        } catch (IOException e) {
            return new Reply(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(-1, "interrupted");
        }
    }
}
