package org.commonweal.benefit.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.NationCode;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.BlockRule;
import org.commonweal.ledger.PayloadType;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proof of benefit on the node's chain: from the configuration {@code org.commonweal.benefit} (the chain
 * parameters, the same on every node) it registers the benefit payload types, the {@code benefit} block rule and the
 * {@link BenefitParameters} for other bundles to read. Without nations in the configuration (or without one at all)
 * it registers nothing: proof of benefit is off, and the node is healthy without it.
 */
@Component(immediate = true, configurationPid = "org.commonweal.benefit", configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {})
public final class BenefitComponent {

    private static final Logger LOG = LoggerFactory.getLogger(BenefitComponent.class);

    /** The configuration (property names with '.' for '_'). */
    public @interface Config {
        /** Each nation as {@code <code>:<registry key, 64 hex>:<payment key, 64 hex>}. */
        String[] nations() default {};

        /** Grant approvers' keys (64 hex each); none: the nations' registry keys. */
        String[] approvers() default {};

        long allowance_tokensPerDay() default 100_000;

        long emission_initialPerBlock() default 5_000_000_000L;

        long emission_halvingInterval() default 210_000;

        long emission_supplyCap() default 2_100_000_000_000_000L;

        long stake_minimum() default 1_000;

        /** Benefit units per token by receipt category, each {@code <category>=<weight>}. */
        String[] categoryWeights() default { "0=1" };

        long local_perReceipt() default 10;

        long local_dailyCap() default 1_000;

        long activationHeight() default 1;

        /** Claimed receipts audited by re-execution, in parts per million (0: no audits). */
        long audit_sampleRate() default 20_000;

        long audit_revealBlocks() default 10;

        long audit_attestBlocks() default 20;

        long audit_disputeBlocks() default 10;

        /** The share of a faulty node's stake burned, in parts per million. */
        long audit_slashShare() default 100_000;

        long audit_unbondingBlocks() default 100;
    }

    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @Activate
    public BenefitComponent(BundleContext context, Config config) {
        if (config.nations().length == 0) {
            LOG.info("proof of benefit is off: the configuration org.commonweal.benefit names no nations");
            return;
        }
        BenefitParameters parameters = parameters(config);
        BenefitTypes types = new BenefitTypes(parameters);
        for (PayloadType type : types.payloadTypes()) {
            registrations.add(context.registerService(PayloadType.class, type, null));
        }
        registrations.add(context.registerService(BlockRule.class, new BenefitRule(parameters, types), null));
        registrations.add(context.registerService(BenefitParameters.class, parameters, null));
        LOG.info("proof of benefit from block {}: nations {}, allowance {} tokens a day, emission {} per block halving every"
                + " {} blocks, cap {}; {}", parameters.activationHeight(), parameters.nations().stream().map(n -> n.code().code())
                        .toList(), parameters.allowanceTokens(), parameters.initialEmission(), parameters.halvingInterval(),
                parameters.supplyCap(), parameters.audit());
    }

    @Deactivate
    void deactivate() {
        registrations.forEach(ServiceRegistration::unregister);
        registrations.clear();
    }

    static BenefitParameters parameters(Config config) {
        List<BenefitParameters.Nation> nations = new ArrayList<>();
        for (String nation : config.nations()) {
            String[] parts = nation.trim().split(":");
            if (parts.length != 3) {
                throw new IllegalArgumentException("org.commonweal.benefit nations entry '" + nation + "' is not"
                        + " <code>:<registry key hex>:<payment key hex>");
            }
            nations.add(new BenefitParameters.Nation(new NationCode(parts[0]), PublicKey.fromHex(parts[1]),
                    PublicKey.fromHex(parts[2])));
        }
        List<PublicKey> approvers = new ArrayList<>();
        for (String approver : config.approvers()) {
            approvers.add(PublicKey.fromHex(approver.trim()));
        }
        Map<Integer, Long> weights = new TreeMap<>();
        for (String weight : config.categoryWeights()) {
            String[] parts = weight.trim().split("=");
            if (parts.length != 2) {
                throw new IllegalArgumentException("org.commonweal.benefit categoryWeights entry '" + weight + "' is not"
                        + " <category 0..255>=<weight>");
            }
            weights.put(Integer.parseInt(parts[0].trim()), Long.parseLong(parts[1].trim()));
        }
        return new BenefitParameters(nations, approvers, config.allowance_tokensPerDay(), config.emission_initialPerBlock(),
                config.emission_halvingInterval(), config.emission_supplyCap(), config.stake_minimum(), weights,
                config.local_perReceipt(), config.local_dailyCap(), config.activationHeight(), new BenefitParameters.Audit(
                        config.audit_sampleRate(), config.audit_revealBlocks(), config.audit_attestBlocks(),
                        config.audit_disputeBlocks(), config.audit_slashShare(), config.audit_unbondingBlocks()));
    }
}
