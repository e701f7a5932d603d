package org.commonweal.benefit;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.commonweal.crypto.PublicKey;

/**
 * The chain parameters of proof of benefit. Every node of a chain must have the same (like its genesis):
 * they decide what every block does from {@code activationHeight} on. The nations are written into the
 * state at activation (where governance can later change them); the numbers are read from here.
 *
 * @param nations              each nation's code, registry key (attests persons and nodes) and payment key
 *                             (attests coin sales)
 * @param approvers            who votes on grants (two thirds of them approve one); empty: the nations'
 *                             registry keys, one vote per nation
 * @param allowanceTokens      tokens per person per day served free (universal basic AI); service beyond it earns nothing
 * @param initialEmission      coins emitted per block at activation, halved every {@code halvingInterval} blocks
 * @param halvingInterval      blocks between halvings
 * @param supplyCap            the most coins emission and sales may ever mint together
 * @param minStake             the stake a node needs to earn
 * @param categoryWeights      benefit units per token, by receipt category (0..255); a category not listed
 *                             earns nothing and mints no local currency
 * @param localPerReceipt      local currency a person mints per countersigned receipt in a weighted category
 * @param localDailyCap        the most local currency a person mints per day
 * @param activationHeight     the first block proof of benefit runs in
 * @param audit                verification by re-execution: sample rate, deadlines, slashing, unbonding
 */
public record BenefitParameters(List<Nation> nations, List<PublicKey> approvers, long allowanceTokens, long initialEmission,
        long halvingInterval, long supplyCap, long minStake, Map<Integer, Long> categoryWeights, long localPerReceipt,
        long localDailyCap, long activationHeight, Audit audit) {

    /** Parts per million: the unit of the sample rate and the slashed share. */
    public static final long MILLION = 1_000_000L;

    /**
     * Verification by re-execution. Every deadline counts blocks (never time): on an engine that makes no empty
     * blocks, a deadline passes only as blocks are made.
     *
     * @param sampleRate      claimed receipts sampled for audit, in parts per million (0: no audits, rewards paid in
     *                        the block that earns them)
     * @param revealBlocks    blocks after the sampling in which the serving node must post the reveal
     * @param attestBlocks    blocks after the reveal (or the dispute) in which the auditor (or the referee) attests
     * @param disputeBlocks   blocks after a mismatch in which the accused node may dispute it
     * @param slashShare      the share of a faulty node's (or false accuser's) stake burned, in parts per million
     * @param unbondingBlocks blocks an unstaked amount stays slashable before it is paid back (at least
     *                        {@link #holdBlocks()})
     */
    public record Audit(long sampleRate, long revealBlocks, long attestBlocks, long disputeBlocks, long slashShare,
            long unbondingBlocks) {

        /** No audits: rewards are paid at once, unstaking is immediate. */
        public static final Audit OFF = new Audit(0, 1, 1, 1, 0, 0);

        /** The defaults of a chain: 2% of receipts audited, 10% of the stake slashed per fault. */
        public static final Audit DEFAULTS = new Audit(20_000, 10, 20, 10, 100_000, 100);

        public Audit {
            if (sampleRate < 0 || sampleRate > MILLION || slashShare < 0 || slashShare > MILLION || revealBlocks < 1
                    || attestBlocks < 1 || disputeBlocks < 1 || revealBlocks > MILLION || attestBlocks > MILLION
                    || disputeBlocks > MILLION || unbondingBlocks < 0 || unbondingBlocks > 100 * MILLION) {
                throw new IllegalArgumentException("audit parameters out of range: the sample rate and slashed share are"
                        + " 0..1000000 parts per million, the reveal, attestation and dispute windows 1..1000000 blocks,"
                        + " the unbonding delay 0..10^8 blocks; not " + this);
            }
            if (unbondingBlocks < holdBlocks(sampleRate, revealBlocks, attestBlocks, disputeBlocks)) {
                throw new IllegalArgumentException("the unbonding delay (" + unbondingBlocks + " blocks) is shorter than"
                        + " the longest audit (" + holdBlocks(sampleRate, revealBlocks, attestBlocks, disputeBlocks)
                        + " blocks): a node could unstake before its fault is found; raise audit.unbondingBlocks");
            }
        }

        /**
         * How long rewards are held before they are paid: the longest an audit of a receipt claimed in a block can run
         * (sampled in the next block, then reveal, attestation, dispute and the referee's attestation, settled in the
         * block after the last deadline), 0 without audits. A fault voids what its node holds.
         */
        public long holdBlocks() {
            return holdBlocks(sampleRate, revealBlocks, attestBlocks, disputeBlocks);
        }

        private static long holdBlocks(long sampleRate, long revealBlocks, long attestBlocks, long disputeBlocks) {
            return sampleRate == 0 ? 0 : 2 + revealBlocks + attestBlocks + disputeBlocks + attestBlocks;
        }

        /** {@link #slashShare} parts per million of {@code amount}, rounded down. */
        public long slashOf(long amount) {
            return java.math.BigInteger.valueOf(amount).multiply(java.math.BigInteger.valueOf(slashShare))
                    .divide(java.math.BigInteger.valueOf(MILLION)).longValueExact();
        }
    }

    /** The parameters of a chain without audits (as before they existed). */
    public BenefitParameters(List<Nation> nations, List<PublicKey> approvers, long allowanceTokens, long initialEmission,
            long halvingInterval, long supplyCap, long minStake, Map<Integer, Long> categoryWeights, long localPerReceipt,
            long localDailyCap, long activationHeight) {
        this(nations, approvers, allowanceTokens, initialEmission, halvingInterval, supplyCap, minStake, categoryWeights,
                localPerReceipt, localDailyCap, activationHeight, Audit.OFF);
    }

    /** A nation: its code, registry key and payment key. */
    public record Nation(NationCode code, PublicKey registryKey, PublicKey paymentKey) {
    }

    public BenefitParameters {
        nations = List.copyOf(nations);
        approvers = List.copyOf(approvers);
        categoryWeights = java.util.Collections.unmodifiableMap(new TreeMap<>(categoryWeights));
        if (allowanceTokens < 0 || initialEmission < 0 || halvingInterval < 1 || supplyCap < 0 || minStake < 0
                || localPerReceipt < 0 || localDailyCap < 0 || activationHeight < 1) {
            throw new IllegalArgumentException("benefit parameters out of range: amounts are at least 0, the halving"
                    + " interval and activation height at least 1");
        }
        java.util.Objects.requireNonNull(audit, "audit parameters (Audit.OFF for none)");
        if (nations.stream().map(Nation::code).distinct().count() != nations.size()) {
            throw new IllegalArgumentException("two nations share a code in " + nations);
        }
        for (Map.Entry<Integer, Long> weight : categoryWeights.entrySet()) {
            if (weight.getKey() < 0 || weight.getKey() > 255 || weight.getValue() < 0 || weight.getValue() > 1_000_000) {
                throw new IllegalArgumentException("a category weight is category 0..255 = 0..1000000, not " + weight);
            }
        }
    }

    /** Who votes on grants: the approvers, or if none are set the nations' registry keys. */
    public List<PublicKey> grantApprovers() {
        return approvers.isEmpty() ? nations.stream().map(Nation::registryKey).distinct().toList() : approvers;
    }

    /** Whether {@code votes} of the approvers approve a grant: at least two thirds. */
    public boolean approved(int votes) {
        return 3L * votes >= 2L * grantApprovers().size();
    }

    public long weight(int category) {
        return categoryWeights.getOrDefault(category, 0L);
    }

    /** The emission schedule: coins per block at {@code height}, before the supply cap (0 before activation). */
    public long emissionAt(long height) {
        if (height < activationHeight) {
            return 0;
        }
        long halvings = (height - activationHeight) / halvingInterval;
        return halvings >= 63 ? 0 : initialEmission >> halvings;
    }
}
