package org.commonweal.node;

import java.io.IOException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** {@code GET /health}: 200 when the node is healthy (see {@link NodeStatus}), else 503 with what is not. */
@Component(service = Servlet.class, property = "osgi.http.whiteboard.servlet.pattern=/health")
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private final transient NodeStatus status;

    @Activate
    public HealthServlet(@Reference(name = "status") NodeStatus status) {
        this.status = status;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        NodeStatus.Health health = status.health();
        JsonResponses.write(response, health.healthy() ? HttpServletResponse.SC_OK
                : HttpServletResponse.SC_SERVICE_UNAVAILABLE, health);
    }
}
