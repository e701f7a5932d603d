package org.commonweal.benefit.internal;

import static org.commonweal.benefit.internal.BenefitHarness.BR;
import static org.commonweal.benefit.internal.BenefitHarness.BR_PAYMENT;
import static org.commonweal.benefit.internal.BenefitHarness.BR_REGISTRY;
import static org.commonweal.benefit.internal.BenefitHarness.IN_REGISTRY;
import static org.commonweal.benefit.internal.BenefitHarness.KE;
import static org.commonweal.benefit.internal.BenefitHarness.KE_PAYMENT;
import static org.commonweal.benefit.internal.BenefitHarness.KE_REGISTRY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.BlockContext;
import org.commonweal.ledger.LedgerState;
import org.commonweal.ledger.PayloadType;
import org.commonweal.ledger.PayloadTypes;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.StateChanges;
import org.commonweal.ledger.Transaction;
import org.junit.jupiter.api.Test;

/**
 * The treasury invariant under random sales and grant votes (a property test by seeds: {@code -Dtreasury.seeds=N}
 * runs more, {@code -Dtreasury.seed=S} replays one): after every block, for every nation, proceeds = granted +
 * unallocated, proceeds is the sum of the sales that applied, granted the sum of the grants paid; and a block that
 * breaks it is refused.
 */
class TreasuryPropertyTest {

    private static final List<PrivateKey> VOTERS = List.of(KE_REGISTRY, BR_REGISTRY, IN_REGISTRY,
            BenefitHarness.key("not-an-approver"));

    @Test
    void theTreasuryBalancesAfterEveryBlockOfRandomSalesAndGrants() throws Rejection {
        long only = Long.getLong("treasury.seed", -1);
        int seeds = Integer.getInteger("treasury.seeds", 100);
        long paid = 0;
        for (long seed = only >= 0 ? only : 0; seed < (only >= 0 ? only + 1 : seeds); seed++) {
            paid += run(seed);
        }
        assertTrue(only >= 0 || paid > 0, "the random votes paid some grants");
    }

    /** Runs one seed; returns how much grants took. */
    private static long run(long seed) throws Rejection {
        Random random = new Random(seed);
        BenefitHarness chain = new BenefitHarness(BenefitHarness.parameters(1_000, 1_000, 100, 50_000_000), Map.of());
        Map<NationCode, Long> sold = new HashMap<>();
        Map<NationCode, Long> granted = new HashMap<>();
        List<BenefitPayloads.GrantVote> grants = new ArrayList<>();
        for (int block = 0; block < 30; block++) {
            int count = random.nextInt(6);
            chain.height++;
            chain.time += 1_000;
            chain.state.beginBlock(new BlockContext(BenefitHarness.CHAIN, chain.height, chain.time,
                    BenefitHarness.PROPOSER.publicKey(), new byte[32]));
            for (int i = 0; i < count; i++) {
                Transaction tx;
                NationCode nation = random.nextBoolean() ? KE : BR;
                if (random.nextInt(3) == 0) {
                    long payment = 1 + random.nextInt(1_000);
                    byte[] reference = random.nextInt(10) == 0 && block > 0 ? Sha256.hash(new byte[] {(byte) random.nextInt(3)})
                            : Sha256.hash(ByteBuffer.allocate(16).putLong(seed).putInt(block).putInt(i).array());
                    PrivateKey signer = random.nextInt(10) == 0 ? KE_REGISTRY : nation == KE ? KE_PAYMENT : BR_PAYMENT;
                    tx = chain.tx(signer, BenefitPayloads.SALE, new BenefitPayloads.Sale(nation, BenefitHarness.key("buyer")
                            .publicKey(), 1 + random.nextInt(100), payment, reference).encode());
                    try {
                        chain.state.apply(tx, BenefitHarness.PROPOSER.publicKey(), false);
                        sold.merge(nation, payment, Long::sum);
                    } catch (Rejection refused) {
                        assertTrue(refused.reason() == Rejection.Reason.UNAUTHORIZED
                                || refused.reason() == Rejection.Reason.DUPLICATE, refused.getMessage());
                    }
                } else {
                    BenefitPayloads.GrantVote grant = grants.isEmpty() || random.nextInt(3) == 0
                            ? new BenefitPayloads.GrantVote(nation, BenefitHarness.key("lab" + random.nextInt(5)).publicKey(),
                                    1 + random.nextInt(1_500), Sha256.hash(ByteBuffer.allocate(8).putLong(random.nextLong())
                                            .array()))
                            : grants.get(random.nextInt(grants.size()));
                    grants.add(grant);
                    PrivateKey voter = VOTERS.get(random.nextInt(VOTERS.size()));
                    tx = chain.tx(voter, BenefitPayloads.GRANT, grant.encode());
                    boolean paidBefore = BenefitState.grant(chain.state, grant.grantId()).map(BenefitState.Grant::paid)
                            .orElse(false);
                    try {
                        chain.state.apply(tx, BenefitHarness.PROPOSER.publicKey(), false);
                        if (!paidBefore && BenefitState.grant(chain.state, grant.grantId()).orElseThrow().paid()) {
                            granted.merge(grant.nation(), grant.amount(), Long::sum);
                        }
                    } catch (Rejection refused) {
                        assertTrue(List.of(Rejection.Reason.UNAUTHORIZED, Rejection.Reason.DUPLICATE,
                                Rejection.Reason.LIMIT_REACHED).contains(refused.reason()), refused.getMessage());
                    }
                }
            }
            chain.state.endBlock(); // checks the invariant
            for (NationCode nation : List.of(KE, BR)) {
                BenefitState.Treasury treasury = BenefitState.treasury(chain.state, nation);
                String where = "seed " + seed + ", block " + block + ", nation " + nation;
                assertTrue(treasury.balanced(), where);
                assertEquals((long) sold.getOrDefault(nation, 0L), treasury.proceeds(), where);
                assertEquals((long) granted.getOrDefault(nation, 0L), treasury.granted(), where);
            }
        }
        return granted.values().stream().mapToLong(Long::longValue).sum();
    }

    @Test
    void aBlockThatUnbalancesTheTreasuryIsRefused() throws Rejection {
        BenefitParameters parameters = BenefitHarness.parameters(1_000, 1_000, 100, Long.MAX_VALUE);
        BenefitTypes types = new BenefitTypes(parameters);
        PayloadType skim = new PayloadType() {
            public int id() {
                return 250;
            }

            public String name() {
                return "skim";
            }

            public void execute(Transaction tx, StateChanges changes) throws Rejection {
                // takes from unallocated without recording a grant
                changes.put(BenefitState.TREASURY, KE.bytes(), ByteBuffer.allocate(24).putLong(700).putLong(0).putLong(600)
                        .array());
            }
        };
        List<PayloadType> all = new ArrayList<>(types.payloadTypes());
        all.add(skim);
        LedgerState state = LedgerState.genesis(BenefitHarness.CHAIN, Map.of(KE_REGISTRY.publicKey(), 10L));
        state.payloadTypes(PayloadTypes.standardPlus(all).withBlockRules(List.of(new BenefitRule(parameters, types))));
        state.beginBlock(new BlockContext(BenefitHarness.CHAIN, 1, 1, BenefitHarness.PROPOSER.publicKey(), new byte[32]));
        state.apply(org.commonweal.ledger.TransactionCodec.sign(KE_REGISTRY, BenefitHarness.CHAIN, 0, 0, 250, new byte[0]),
                BenefitHarness.PROPOSER.publicKey(), false);
        Rejection refused = assertThrows(Rejection.class, state::endBlock);
        assertEquals(Rejection.Reason.INVARIANT_VIOLATED, refused.reason());
        assertTrue(refused.getMessage().contains("proceeds 700 != granted 0 + unallocated 600"), refused.getMessage());
    }
}
