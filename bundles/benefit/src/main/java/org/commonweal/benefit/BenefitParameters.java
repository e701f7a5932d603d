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
 */
public record BenefitParameters(List<Nation> nations, List<PublicKey> approvers, long allowanceTokens, long initialEmission,
        long halvingInterval, long supplyCap, long minStake, Map<Integer, Long> categoryWeights, long localPerReceipt,
        long localDailyCap, long activationHeight) {

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
