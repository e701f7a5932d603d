package org.commonweal.benefit.internal;

import static org.commonweal.benefit.internal.BenefitHarness.KE;
import static org.commonweal.benefit.internal.BenefitHarness.KE_REGISTRY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.junit.jupiter.api.Test;

/**
 * The figures of issue #6 point 10, printed by every build: claim throughput (receipts verified and applied per
 * second, one thread, both signatures of every receipt checked) and the chain's bytes per served request.
 * {@code -Dclaims.receipts=N} measures more.
 */
class ClaimThroughputTest {

    @Test
    void claimThroughputAndBytesPerReceipt() throws Rejection {
        int total = Integer.getInteger("claims.receipts", 4_000);
        PrivateKey node = BenefitHarness.key("busy-node");
        PrivateKey auditor = BenefitHarness.key("busy-auditor");
        BenefitParameters base = BenefitHarness.parameters(Long.MAX_VALUE / 4, 1_000, 1_000_000, Long.MAX_VALUE);
        // with audits at the default sample rate: claims wait to be sampled, and the next block samples them
        BenefitParameters.Audit defaults = BenefitParameters.Audit.DEFAULTS;
        long rate = Long.getLong("claims.sampleRate", defaults.sampleRate());
        BenefitParameters.Audit audit = rate == defaults.sampleRate() ? defaults : new BenefitParameters.Audit(rate,
                defaults.revealBlocks(), defaults.attestBlocks(), defaults.disputeBlocks(), defaults.slashShare(),
                defaults.unbondingBlocks());
        BenefitHarness chain = new BenefitHarness(new BenefitParameters(base.nations(), base.approvers(),
                base.allowanceTokens(), base.initialEmission(), base.halvingInterval(), base.supplyCap(), base.minStake(),
                base.categoryWeights(), base.localPerReceipt(), base.localDailyCap(), 1, audit), Map.of(node.publicKey(),
                        10_000L, auditor.publicKey(), 10_000L));
        chain.registerNode(KE_REGISTRY, KE, node, 500);
        chain.registerNode(KE_REGISTRY, KE, auditor, 500);
        chain.block(chain.tx(auditor, BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(AuditTest.auditKey(auditor))
                .encode()));
        List<PrivateKey> persons = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            persons.add(BenefitHarness.key("person-" + i));
        }
        for (int i = 0; i < persons.size(); i += 50) {
            List<java.util.function.Supplier<Transaction>> attest = new ArrayList<>();
            for (PrivateKey person : persons.subList(i, i + 50)) {
                attest.add(() -> chain.tx(KE_REGISTRY, BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(KE,
                        person.publicKey(), org.commonweal.crypto.Sha256.hash(person.publicKey().bytes())).encode()));
            }
            chain.blockOf(attest);
        }
        List<List<Receipt>> claims = new ArrayList<>();
        for (int c = 0; c < total / BenefitPayloads.MAX_RECEIPTS_PER_CLAIM; c++) {
            List<Receipt> receipts = new ArrayList<>();
            for (int r = 0; r < BenefitPayloads.MAX_RECEIPTS_PER_CLAIM; r++) {
                receipts.add(chain.receipt(node, persons.get((c * 40 + r) % persons.size()), 200, 0));
            }
            claims.add(receipts);
        }
        List<java.util.function.Supplier<Transaction>> txs = new ArrayList<>();
        long[] bytes = new long[1];
        for (List<Receipt> receipts : claims) {
            txs.add(() -> {
                Transaction tx = chain.claim(node, receipts.toArray(Receipt[]::new));
                bytes[0] += org.commonweal.ledger.TransactionCodec.encode(tx).length;
                return tx;
            });
        }
        long start = System.nanoTime();
        chain.blockOf(txs);
        double claimSeconds = (System.nanoTime() - start) / 1e9;
        chain.block();
        double seconds = (System.nanoTime() - start) / 1e9;
        int receipts = claims.size() * BenefitPayloads.MAX_RECEIPTS_PER_CLAIM;
        assertEquals(1_000, rate == 0 ? BenefitState.rewards(chain.state, node.publicKey())
                : BenefitState.heldRewards(chain.state, node.publicKey()));
        int sampled = BenefitState.auditsOf(chain.state, auditor.publicKey(), Integer.MAX_VALUE).size();
        double expected = receipts * rate / (double) BenefitParameters.MILLION;
        assertTrue(Math.abs(sampled - expected) <= 4 * Math.sqrt(expected) + 1, sampled + " of " + receipts + " sampled at "
                + rate + " ppm");

        // what an audit adds to the chain: a reveal (a typical request: 100 prompt and 200 output tokens) and an attestation
        Receipt first = claims.get(0).get(0);
        RevealedRequest typical = new RevealedRequest(new int[100], 0.8f, 40, 0.95f, 0.05f, 1, 64, 0, 0, 200, List.of(), "",
                new int[200]);
        byte[] sealed = RevealCipher.seal(AuditTest.auditKey(auditor), first.id(), typical.encode(), new byte[32]);
        int reveal = org.commonweal.ledger.TransactionCodec.encode(chain.tx(node, BenefitPayloads.REVEAL,
                new BenefitPayloads.Reveal(first.id(), sealed).encode())).length;
        int attestation = org.commonweal.ledger.TransactionCodec.encode(chain.tx(auditor, BenefitPayloads.ATTEST,
                new BenefitPayloads.Attestation(first.id(), BenefitPayloads.Verdict.MATCH, first.outputHash()).encode()))
                .length;
        double auditBytes = (reveal + attestation) * audit.sampleRate() / (double) BenefitParameters.MILLION;
        System.out.printf("claims: %d receipts in %d claims verified and applied in %.2f s, sampled (%d audits) by the"
                + " next block in %.2f s: %.0f receipts/s on one thread; %d bytes per receipt on the chain (%d-byte"
                + " receipt, claims of %d); an audit adds a %d-byte reveal and a %d-byte attestation: %.1f bytes per"
                + " served request at the %.0f%% sample rate%n", receipts, claims.size(), claimSeconds, sampled,
                seconds - claimSeconds, receipts / seconds, bytes[0] / receipts, Receipt.BYTES,
                BenefitPayloads.MAX_RECEIPTS_PER_CLAIM, reveal, attestation, auditBytes, audit.sampleRate() / 10_000.0);
    }
}
