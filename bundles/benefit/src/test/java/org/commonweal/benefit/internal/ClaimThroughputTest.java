package org.commonweal.benefit.internal;

import static org.commonweal.benefit.internal.BenefitHarness.KE;
import static org.commonweal.benefit.internal.BenefitHarness.KE_REGISTRY;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.Receipt;
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
        BenefitHarness chain = new BenefitHarness(BenefitHarness.parameters(Long.MAX_VALUE / 4, 1_000, 1_000_000,
                Long.MAX_VALUE), Map.of(node.publicKey(), 10_000L));
        chain.registerNode(KE_REGISTRY, KE, node, 500);
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
        double seconds = (System.nanoTime() - start) / 1e9;
        int receipts = claims.size() * BenefitPayloads.MAX_RECEIPTS_PER_CLAIM;
        assertEquals(1_000, BenefitState.rewards(chain.state, node.publicKey()));
        System.out.printf("claims: %d receipts in %d claims verified and applied in %.2f s: %.0f receipts/s on one thread"
                + "; %d bytes per receipt on the chain (%d-byte receipt, claims of %d)%n",
                receipts, claims.size(), seconds, receipts / seconds, bytes[0] / receipts, Receipt.BYTES,
                BenefitPayloads.MAX_RECEIPTS_PER_CLAIM);
    }
}
