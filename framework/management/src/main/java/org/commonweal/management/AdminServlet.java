package org.commonweal.management;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The admin API, on the node's HTTP server (which binds 127.0.0.1 in the dev distribution): every request signed by an
 * operator's key (see {@link AdminAuthenticator}) and, unless {@code admin.allowRemote} is set, from a loopback
 * address.
 * <ul>
 * <li>{@code POST /admin/upgrade} {@code {"bundle": "bsn[@version]", "force": false, "apply": true}}: 200 with the
 * {@link Outcome} when planned or upgraded, 409 when refused, 500 when the node was rolled back or failed</li>
 * <li>{@code POST /admin/rollback} {@code {"bundle": "bsn"}}</li>
 * <li>{@code GET /admin/upgrades}: the last outcomes, newest first</li>
 * <li>{@code GET /admin/config}: every configuration value with its layer (default, distribution, operator)</li>
 * </ul>
 */
@Component(service = Servlet.class, configurationPid = UpgradeAgent.PID,
        property = "osgi.http.whiteboard.servlet.pattern=/admin/*")
public final class AdminServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AdminServlet.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 64 * 1024;

    /** Configuration {@value UpgradeAgent#PID} (shared with the agent). */
    public @interface Config {
        /** Operators allowed to use the admin API: hex Ed25519 public keys, or name=hex. */
        String[] operators() default {};

        /** Accept admin requests from addresses other than loopback (off by default). */
        boolean admin_allowRemote() default false;
    }

    private final transient UpgradeAgent agent;
    private final transient AdminAuthenticator authenticator;
    private final boolean allowRemote;

    @Activate
    public AdminServlet(@Reference(name = "agent") UpgradeAgent agent, Config config) {
        this.agent = agent;
        this.authenticator = new AdminAuthenticator(config.operators());
        this.allowRemote = config.admin_allowRemote();
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!allowRemote && !InetAddress.ofLiteral(request.getRemoteAddr()).isLoopbackAddress()) {
            error(response, 403, "the admin API answers only on this machine (loopback); " + request.getRemoteAddr()
                    + " is not. Fix: run cw upgrade on the node's machine (e.g. over ssh), or set " + UpgradeAgent.PID
                    + " admin.allowRemote=true behind your own TLS proxy");
            return;
        }
        byte[] body = request.getInputStream().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            error(response, 413, "the request body is over " + MAX_BODY + " bytes");
            return;
        }
        String path = request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
        AdminAuthenticator.Result auth = authenticator.check(request.getMethod(), path,
                request.getHeader(AdminAuthenticator.KEY_HEADER), request.getHeader(AdminAuthenticator.TIMESTAMP_HEADER),
                request.getHeader(AdminAuthenticator.SIGNATURE_HEADER), body, System.currentTimeMillis());
        if (auth.operator().isEmpty()) {
            LOG.warn("event=admin-refused method={} path={} remote={} reason=\"{}\"", request.getMethod(), path,
                    request.getRemoteAddr(), auth.refusal());
            error(response, 401, auth.refusal());
            return;
        }
        String operator = auth.operator().get();
        String route = request.getPathInfo() == null ? "" : request.getPathInfo();
        try {
            switch (request.getMethod() + " " + route) {
                case "POST /upgrade" -> {
                    JsonNode json = JSON.readTree(body);
                    String bundle = json.path("bundle").asText("");
                    if (bundle.isBlank()) {
                        error(response, 400, "\"bundle\" is required: the symbolic name, optionally @version");
                        return;
                    }
                    outcome(response, agent.upgrade(operator, bundle, json.path("force").asBoolean(false),
                            json.path("apply").asBoolean(true)));
                }
                case "POST /rollback" -> {
                    String bundle = JSON.readTree(body).path("bundle").asText("");
                    if (bundle.isBlank()) {
                        error(response, 400, "\"bundle\" is required: the symbolic name");
                        return;
                    }
                    outcome(response, agent.rollback(operator, bundle));
                }
                case "GET /upgrades" -> write(response, 200, agent.history());
                case "GET /config" -> write(response, 200, agent.configuration());
                default -> error(response, 404, "no admin resource " + request.getMethod() + " " + path
                        + "; there are POST /admin/upgrade, POST /admin/rollback, GET /admin/upgrades and GET /admin/config");
            }
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            error(response, 400, "the body is not JSON: " + e.getOriginalMessage());
        }
    }

    private static void outcome(HttpServletResponse response, Outcome outcome) throws IOException {
        int status = switch (outcome.result()) {
            case "planned", "upgraded", "rolled-back-on-request" -> 200;
            case "refused" -> 409;
            default -> 500;
        };
        write(response, status, outcome);
    }

    private static void error(HttpServletResponse response, int status, String message) throws IOException {
        write(response, status, Map.of("error", message));
    }

    private static void write(HttpServletResponse response, int status, Object body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        JSON.writeValue(response.getOutputStream(), body);
    }
}
