package org.commonweal.inference.http;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import org.commonweal.inference.receipts.ReceiptIssuer;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.util.tracker.ServiceTracker;

import jakarta.servlet.Servlet;

/**
 * Registers the OpenAI-compatible API and {@code /api/provenance} as HTTP Whiteboard servlets over whichever
 * {@code LanguageModels} service runs. They do not depend on it (no DS reference): they stay registered while the
 * inference implementation is replaced, and a request waits up to {@code handover.wait.ms} for the next one. Proof
 * of benefit's {@link ReceiptIssuer} is looked up the same way, per request and never waited for: without it the
 * endpoints serve exactly as they would on a node without proof of benefit.
 */
@Component(immediate = true, configurationPid = "org.commonweal.inference.http",
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
public final class InferenceEndpoints {

    /** The configuration (property names with '.' for '_'). */
    public @interface Config {
        /**
         * How long a request waits for the models service (while the implementation is replaced, or a model
         * loads) before it is answered 503.
         */
        long handover_wait_ms() default 10_000;
    }

    private final AwaitedModels models;
    /** Proof of benefit's receipt issuer, when it runs: looked up per request, never waited for. */
    private final ServiceTracker<ReceiptIssuer, ReceiptIssuer> receipts;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @Activate
    public InferenceEndpoints(BundleContext context, Config config) {
        models = new AwaitedModels(context);
        long waitMillis = Math.max(0, config.handover_wait_ms());
        Hashtable<String, Object> api = new Hashtable<>();
        api.put("osgi.http.whiteboard.servlet.pattern", new String[] {"/v1/*", "/tokenize", "/detokenize"});
        api.put("osgi.http.whiteboard.servlet.name", "openai-api");
        receipts = new ServiceTracker<>(context, ReceiptIssuer.class, null);
        receipts.open();
        OpenAiServlet openAi = new OpenAiServlet(models, waitMillis, receipts::getService);
        registrations.add(context.registerService(Servlet.class, openAi, api));
        Hashtable<String, Object> provenance = new Hashtable<>();
        provenance.put("osgi.http.whiteboard.servlet.pattern", "/api/provenance");
        provenance.put("osgi.http.whiteboard.servlet.name", "provenance");
        registrations.add(context.registerService(Servlet.class, new ProvenanceServlet(openAi), provenance));
    }

    @Deactivate
    void deactivate() {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
        }
        models.close();
        receipts.close();
    }
}
