package org.commonweal.node;

import java.io.IOException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** {@code GET /api/node}: node id, distribution, uptime and every bundle with its state and SHA-256. */
@Component(service = Servlet.class, property = "osgi.http.whiteboard.servlet.pattern=/api/node")
public final class NodeInfoServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private final transient NodeStatus status;

    @Activate
    public NodeInfoServlet(@Reference(name = "status") NodeStatus status) {
        this.status = status;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        JsonResponses.write(response, HttpServletResponse.SC_OK, status.info());
    }
}
