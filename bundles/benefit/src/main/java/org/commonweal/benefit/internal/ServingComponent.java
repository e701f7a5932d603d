package org.commonweal.benefit.internal;

import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitParameters;
import org.commonweal.chain.Chain;
import org.commonweal.node.api.NodeIdentity;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs this node as a server of proof of benefit ({@link ServingNode}: receipts from the OpenAI endpoint, claims,
 * reveals) while proof of benefit runs, i.e. while {@link BenefitParameters} is registered: an optional, dynamic
 * reference, so that a node without proof of benefit is healthy and serves exactly as without this bundle.
 */
@Component(immediate = true, service = {}, configurationPid = "org.commonweal.benefit.serving",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class ServingComponent {

    private static final Logger LOG = LoggerFactory.getLogger(ServingComponent.class);

    /** The configuration (property names with '.' for '_'). */
    public @interface Config {
        /** Countersigned receipts that make a claim at once (1..40). */
        int claim_receipts() default BenefitPayloads.MAX_RECEIPTS_PER_CLAIM;

        /** The longest a countersigned receipt waits before it is claimed with the others pending (ms). */
        long claim_delay_ms() default 60_000;

        /** Served requests kept to be revealed (the oldest go first). */
        int requests_max() default 10_000;
    }

    private final BundleContext context;
    private final Config config;
    private final Chain chain;
    private final NodeIdentity identity;
    private ServingNode serving;
    /** The parameters {@link #serving} runs with (a replacement is bound before the old one is unbound). */
    private BenefitParameters bound;

    @Activate
    public ServingComponent(BundleContext context, Config config, @Reference(name = "chain") Chain chain,
            @Reference(name = "identity") NodeIdentity identity) {
        this.context = context;
        this.config = config;
        this.chain = chain;
        this.identity = identity;
    }

    @Reference(name = "parameters", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    synchronized void bindParameters(BenefitParameters parameters) {
        stop();
        bound = parameters;
        try {
            serving = new ServingNode(context, config, chain, identity, parameters);
        } catch (Exception e) {
            LOG.error("this node cannot serve proof of benefit (no receipts from the OpenAI endpoint): {}", e.getMessage(),
                    e);
        }
    }

    synchronized void unbindParameters(BenefitParameters parameters) {
        if (parameters == bound) {
            stop();
        }
    }

    @Deactivate
    synchronized void deactivate() {
        stop();
    }

    private void stop() {
        if (serving != null) {
            try {
                serving.close();
            } catch (Exception e) {
                LOG.warn("stopping the serving side of proof of benefit failed", e);
            }
            serving = null;
        }
        bound = null;
    }
}
