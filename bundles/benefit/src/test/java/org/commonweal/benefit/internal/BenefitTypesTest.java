package org.commonweal.benefit.internal;

import static org.commonweal.benefit.internal.BenefitHarness.BR;
import static org.commonweal.benefit.internal.BenefitHarness.BR_REGISTRY;
import static org.commonweal.benefit.internal.BenefitHarness.DAY;
import static org.commonweal.benefit.internal.BenefitHarness.KE;
import static org.commonweal.benefit.internal.BenefitHarness.KE_PAYMENT;
import static org.commonweal.benefit.internal.BenefitHarness.KE_REGISTRY;
import static org.commonweal.benefit.internal.BenefitHarness.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Rejection.Reason;
import org.junit.jupiter.api.Test;

/** Every benefit type: what it does, and every Sybil attempt refused with its reason. */
class BenefitTypesTest {

    private static final PrivateKey NODE = key("node-a");
    private static final PrivateKey NODE_B = key("node-b");
    private static final PrivateKey BR_NODE = key("node-br");
    private static final PrivateKey ALICE = key("alice");
    private static final PrivateKey BOB = key("bob");
    private static final PrivateKey CARLOS = key("carlos");
    private static final PrivateKey MALLORY = key("mallory");

    private static BenefitHarness served() throws Rejection {
        return served(BenefitHarness.parameters(100_000, 1_000, 1_000, Long.MAX_VALUE));
    }

    /** Nodes A and B registered to ke and staked; Alice and Bob attested by ke, Carlos by br; a staked br node. */
    private static BenefitHarness served(org.commonweal.benefit.BenefitParameters parameters) throws Rejection {
        BenefitHarness chain = new BenefitHarness(parameters, Map.of(NODE.publicKey(), 10_000L, NODE_B.publicKey(), 10_000L,
                BR_NODE.publicKey(), 10_000L, MALLORY.publicKey(), 10_000L, BR_REGISTRY.publicKey(), 10_000L));
        chain.registerNode(KE_REGISTRY, KE, NODE, 500);
        chain.registerNode(KE_REGISTRY, KE, NODE_B, 500);
        chain.registerNode(BR_REGISTRY, BR, BR_NODE, 500);
        chain.attest(KE_REGISTRY, KE, ALICE.publicKey());
        chain.attest(KE_REGISTRY, KE, BOB.publicKey());
        chain.attest(BR_REGISTRY, BR, CARLOS.publicKey());
        return chain;
    }

    @Test
    void aClaimOfACountersignedReceiptRewardsTheNodeWithTheBlocksEmission() throws Rejection {
        BenefitHarness chain = served();
        long before = chain.state.account(NODE.publicKey()).balance();
        chain.block(chain.claim(NODE, chain.receipt(NODE, ALICE, 300, 0)));
        assertEquals(1_000, BenefitState.rewards(chain.state, NODE.publicKey()));
        assertEquals(before + 1_000, chain.state.account(NODE.publicKey()).balance());
        assertEquals(1_000, BenefitState.minted(chain.state));
        assertEquals(500, BenefitState.node(chain.state, NODE.publicKey()).orElseThrow().stake());
        assertEquals(1_500, chain.state.account(BenefitState.STAKE_ACCOUNT).balance());
        long day = chain.time / DAY;
        assertEquals(100_000 - 300, BenefitState.allowanceLeft(chain.state, chain.parameters, ALICE.publicKey(), day));
        assertEquals(10, BenefitState.localBalance(chain.state, KE, ALICE.publicKey()), "local currency minted per receipt");
        assertTrue(chain.state.entries(BenefitState.BLOCK, new byte[0], 10).isEmpty(), "the block's tally is cleared");
        // a block without claims emits nothing
        chain.block();
        assertEquals(1_000, BenefitState.minted(chain.state));
    }

    @Test
    void personAttestationIsTheRegistrysAndOneKeyPerPerson() throws Rejection {
        BenefitHarness chain = served();
        byte[] aliceTag = Sha256.hash(ALICE.publicKey().bytes());
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(MALLORY, BenefitPayloads.PERSON,
                new BenefitPayloads.PersonAttestation(KE, MALLORY.publicKey(), Sha256.hash(new byte[] {9})).encode())));
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(BR_REGISTRY, BenefitPayloads.PERSON,
                new BenefitPayloads.PersonAttestation(KE, MALLORY.publicKey(), Sha256.hash(new byte[] {9})).encode())),
                "another nation's registry cannot attest for ke");
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.PERSON,
                new BenefitPayloads.PersonAttestation(KE, ALICE.publicKey(), Sha256.hash(new byte[] {8})).encode())),
                "a key attested twice");
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.PERSON,
                new BenefitPayloads.PersonAttestation(KE, MALLORY.publicKey(), aliceTag).encode())),
                "a second key for one person");
        assertEquals(Reason.NOT_REGISTERED, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.PERSON,
                new BenefitPayloads.PersonAttestation(new NationCode("xx"), MALLORY.publicKey(), aliceTag).encode())));
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(MALLORY, BenefitPayloads.NODE,
                new BenefitPayloads.NodeRegistration(KE, MALLORY.publicKey()).encode())), "a node registering itself");
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.NODE,
                new BenefitPayloads.NodeRegistration(KE, NODE.publicKey()).encode())));
        assertEquals(Reason.NOT_REGISTERED, chain.refused(chain.tx(MALLORY, BenefitPayloads.STAKE,
                new BenefitPayloads.Stake(100).encode())));
    }

    @Test
    void sybilClaimsAreRefusedWithTheirReasons() throws Rejection {
        BenefitHarness chain = served();
        // an unattested person key
        assertEquals(Reason.NOT_REGISTERED, chain.refused(chain.claim(NODE, chain.receipt(NODE, MALLORY, 100, 0))));
        // a person of another nation
        assertEquals(Reason.WRONG_NATION, chain.refused(chain.claim(NODE, chain.receipt(NODE, CARLOS, 100, 0))));
        // another node's receipt
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.claim(NODE, chain.receipt(NODE_B, ALICE, 100, 0))));
        // a node that is not registered, or not staked
        assertEquals(Reason.NOT_REGISTERED, chain.refused(chain.claim(MALLORY, chain.receipt(MALLORY, ALICE, 100, 0))));
        // a countersignature that is not the person's
        Receipt forged = chain.receipt(NODE, ALICE, 100, 0);
        forged = forged.withPersonSignature(MALLORY.sign(forged.personSigningBytes()));
        assertEquals(Reason.BAD_SIGNATURE, chain.refused(chain.claim(NODE, forged)));
        // one receipt twice in a claim
        Receipt receipt = chain.receipt(NODE, ALICE, 100, 0);
        assertEquals(Reason.DUPLICATE, chain.refused(chain.claim(NODE, receipt, receipt)));
        // a replay in a later block (a double claim), also by another node re-signing nothing
        chain.block(chain.claim(NODE, receipt));
        assertEquals(Reason.DUPLICATE, chain.refused(chain.claim(NODE, receipt)));
        // a receipt from the day before yesterday, and one from the future
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.claim(NODE,
                BenefitHarness.receiptAt(NODE, ALICE, 100, 0, chain.time - 2 * DAY))));
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.claim(NODE,
                BenefitHarness.receiptAt(NODE, ALICE, 100, 0, chain.time + DAY))));
        // at the mempool's door the coming block's time is unknown: a receipt stamped after the last block passes there
        chain.state.check(chain.claim(NODE, BenefitHarness.receiptAt(NODE, ALICE, 100, 0, chain.time + DAY)), false);
        // a receipt for another chain
        Receipt other = Receipt.unsigned(BenefitHarness.CHAIN + 1, NODE.publicKey(), ALICE.publicKey(), new byte[32],
                new byte[32], new byte[32], 1, new byte[32], 1, 1, chain.time, 0).signedBy(NODE).countersignedBy(ALICE);
        assertEquals(Reason.WRONG_CHAIN, chain.refused(chain.claim(NODE, other)));
        // the refused claims minted nothing
        assertEquals(1_000, BenefitState.minted(chain.state));
    }

    @Test
    void replayMarkersArePrunedOnlyOnceTheirReceiptsAreTooOldToClaim() throws Rejection {
        BenefitHarness chain = served();
        Receipt receipt = chain.receipt(NODE, ALICE, 10, 0);
        chain.block(chain.claim(NODE, receipt));
        assertEquals(1, chain.state.entries(BenefitState.CLAIMED, new byte[0], 10).size());
        chain.time += DAY; // the next day: still claimable by day, so the marker stays
        chain.block();
        assertEquals(1, chain.state.entries(BenefitState.CLAIMED, new byte[0], 10).size());
        assertEquals(Reason.DUPLICATE, chain.refused(chain.claim(NODE, receipt)));
        chain.time += DAY; // two days on: the receipt is stale, its marker goes
        chain.block();
        assertEquals(0, chain.state.entries(BenefitState.CLAIMED, new byte[0], 10).size());
        assertEquals(0, chain.state.entries(BenefitState.DAY, new byte[0], 10).size());
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.claim(NODE, receipt)));
    }

    @Test
    void theDailyAllowanceIsServedFreeAndServiceBeyondItEarnsNothing() throws Rejection {
        BenefitHarness chain = served(BenefitHarness.parameters(1_000, 3_000, 1_000, Long.MAX_VALUE));
        long day = (chain.time + 1_000) / DAY;
        // Alice's three receipts of 600 tokens count 1,000 (her allowance); Bob's 500 count 500: shares 2:1
        chain.blockOf(List.of(() -> chain.claim(NODE, chain.receipt(NODE, ALICE, 600, 0), chain.receipt(NODE, ALICE, 600, 0),
                chain.receipt(NODE, ALICE, 600, 0)), () -> chain.claim(NODE_B, chain.receipt(NODE_B, BOB, 500, 0))));
        assertEquals(2_000, BenefitState.rewards(chain.state, NODE.publicKey()));
        assertEquals(1_000, BenefitState.rewards(chain.state, NODE_B.publicKey()));
        assertEquals(0, BenefitState.allowanceLeft(chain.state, chain.parameters, ALICE.publicKey(), day));
        assertEquals(1_800, BenefitState.dayUsage(chain.state, ALICE.publicKey(), day).tokens(), "use is visible");
        // exhausted: a further receipt is accepted (claimed, so not replayable) but earns nothing
        chain.block(chain.claim(NODE, chain.receipt(NODE, ALICE, 100, 0)));
        assertEquals(2_000, BenefitState.rewards(chain.state, NODE.publicKey()));
        // the next day the allowance is whole again
        chain.time += DAY;
        chain.block(chain.claim(NODE, chain.receipt(NODE, ALICE, 100, 0)));
        assertEquals(5_000, BenefitState.rewards(chain.state, NODE.publicKey()));
        assertEquals(900, BenefitState.allowanceLeft(chain.state, chain.parameters, ALICE.publicKey(), chain.time / DAY));
    }

    @Test
    void categoryWeightsShareTheEmissionAndUnweightedServiceEarnsNothing() throws Rejection {
        BenefitHarness chain = served(BenefitHarness.parameters(100_000, 4_000, 1_000, Long.MAX_VALUE));
        // category 2 weighs 3, category 0 weighs 1, category 7 is not a benefit category
        chain.blockOf(List.of(() -> chain.claim(NODE, chain.receipt(NODE, ALICE, 100, 2)),
                () -> chain.claim(NODE_B, chain.receipt(NODE_B, BOB, 100, 0), chain.receipt(NODE_B, BOB, 100, 7))));
        assertEquals(3_000, BenefitState.rewards(chain.state, NODE.publicKey()));
        assertEquals(1_000, BenefitState.rewards(chain.state, NODE_B.publicKey()));
        assertEquals(10, BenefitState.localBalance(chain.state, KE, BOB.publicKey()), "no local currency for category 7");
    }

    @Test
    void emissionHalvesOnScheduleAndStopsAtTheSupplyCap() throws Rejection {
        // 1,000 a block halving every 10 blocks from activation (block 1); cap 8,000
        BenefitHarness chain = served(BenefitHarness.parameters(Long.MAX_VALUE / 2, 1_000, 10, 8_000));
        long expected = 0;
        for (int i = 0; i < 120; i++) {
            long height = chain.height + 1;
            long scheduled = 1_000L >> ((height - 1) / 10);
            assertEquals(scheduled, chain.parameters.emissionAt(height));
            long minted = BenefitState.minted(chain.state);
            long emitted = Math.min(scheduled, 8_000 - minted);
            chain.block(chain.claim(NODE, chain.receipt(NODE, ALICE, 10, 0)));
            expected += emitted;
            assertEquals(expected, BenefitState.minted(chain.state), "block " + height);
            assertTrue(BenefitState.minted(chain.state) <= 8_000);
        }
        assertEquals(8_000, BenefitState.minted(chain.state), "the cap is reached and never passed");
        assertEquals(0, chain.parameters.emissionAt(1 + 63 * 10), "no emission after 63 halvings");
    }

    @Test
    void localCurrencyIsMintedPerReceiptCappedPerDayAndTransferable() throws Rejection {
        BenefitHarness chain = served();
        // 10 per receipt, 25 a day: the third receipt mints 5, the fourth nothing
        chain.blockOf(List.of(() -> chain.claim(NODE, chain.receipt(NODE, ALICE, 10, 0), chain.receipt(NODE, ALICE, 10, 0),
                chain.receipt(NODE, ALICE, 10, 0), chain.receipt(NODE, ALICE, 10, 0))));
        assertEquals(25, BenefitState.localBalance(chain.state, KE, ALICE.publicKey()));
        chain.block(chain.tx(ALICE, BenefitPayloads.LOCAL_TRANSFER,
                new BenefitPayloads.LocalTransfer(KE, CARLOS.publicKey(), 20).encode()));
        assertEquals(5, BenefitState.localBalance(chain.state, KE, ALICE.publicKey()));
        assertEquals(20, BenefitState.localBalance(chain.state, KE, CARLOS.publicKey()));
        assertEquals(Reason.INSUFFICIENT_FUNDS, chain.refused(chain.tx(ALICE, BenefitPayloads.LOCAL_TRANSFER,
                new BenefitPayloads.LocalTransfer(KE, CARLOS.publicKey(), 6).encode())));
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(ALICE, BenefitPayloads.LOCAL_TRANSFER,
                new BenefitPayloads.LocalTransfer(KE, ALICE.publicKey(), 1).encode())));
    }

    @Test
    void salesFundTheTreasuryAndTwoThirdsOfTheApproversPayAGrant() throws Rejection {
        BenefitHarness chain = served();
        PrivateKey buyer = key("buyer");
        byte[] reference = Sha256.hash(new byte[] {1});
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.SALE,
                new BenefitPayloads.Sale(KE, buyer.publicKey(), 5_000, 700, reference).encode())), "not the payment key");
        chain.block(chain.tx(KE_PAYMENT, BenefitPayloads.SALE, new BenefitPayloads.Sale(KE, buyer.publicKey(), 5_000, 700,
                reference).encode()));
        assertEquals(5_000, chain.state.account(buyer.publicKey()).balance());
        assertEquals(new BenefitState.Treasury(700, 0, 700), BenefitState.treasury(chain.state, KE));
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(KE_PAYMENT, BenefitPayloads.SALE,
                new BenefitPayloads.Sale(KE, buyer.publicKey(), 5_000, 700, reference).encode())), "one payment, one sale");

        // approvers: the three registry keys (ke, br, in); two of three approve
        BenefitPayloads.GrantVote grant = new BenefitPayloads.GrantVote(KE, key("cancer-lab").publicKey(), 600,
                Sha256.hash("a cancer screening model".getBytes()));
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(MALLORY, BenefitPayloads.GRANT, grant.encode())));
        chain.block(chain.tx(KE_REGISTRY, BenefitPayloads.GRANT, grant.encode()));
        assertEquals(1, BenefitState.grant(chain.state, grant.grantId()).orElseThrow().votes());
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.GRANT, grant.encode())));
        assertEquals(new BenefitState.Treasury(700, 0, 700), BenefitState.treasury(chain.state, KE), "one vote pays nothing");
        chain.block(chain.tx(BR_REGISTRY, BenefitPayloads.GRANT, grant.encode()));
        assertTrue(BenefitState.grant(chain.state, grant.grantId()).orElseThrow().paid());
        assertEquals(new BenefitState.Treasury(700, 600, 100), BenefitState.treasury(chain.state, KE));
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(BenefitHarness.IN_REGISTRY, BenefitPayloads.GRANT,
                grant.encode())), "a paid grant takes no more votes");

        // a grant larger than what is unallocated waits
        BenefitPayloads.GrantVote big = new BenefitPayloads.GrantVote(KE, key("lab").publicKey(), 101, Sha256.hash(new byte[3]));
        chain.block(chain.tx(KE_REGISTRY, BenefitPayloads.GRANT, big.encode()));
        assertEquals(Reason.LIMIT_REACHED, chain.refused(chain.tx(BR_REGISTRY, BenefitPayloads.GRANT, big.encode())));
    }

    @Test
    void twoThirdsOfTheApproversReplaceANationsKeysAndSetACategorysWeight() throws Rejection {
        BenefitHarness chain = served();
        PrivateKey newRegistry = key("ke-registry-2");
        PrivateKey newPayment = key("ke-payment-2");
        BenefitPayloads.GovernanceVote rotate = BenefitPayloads.GovernanceVote.nationKeys(1, KE, newRegistry.publicKey(),
                newPayment.publicKey());
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(MALLORY, BenefitPayloads.GOVERN, rotate.encode())));
        chain.block(chain.tx(KE_REGISTRY, BenefitPayloads.GOVERN, rotate.encode()));
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.GOVERN, rotate.encode())),
                "one vote per approver");
        assertEquals(KE_REGISTRY.publicKey(), BenefitState.nation(chain.state, KE).orElseThrow().registryKey(),
                "one vote of three changes nothing");
        chain.block(chain.tx(BR_REGISTRY, BenefitPayloads.GOVERN, rotate.encode()));
        assertTrue(BenefitState.governanceChange(chain.state, rotate.changeId()).orElseThrow().applied());
        assertEquals(newRegistry.publicKey(), BenefitState.nation(chain.state, KE).orElseThrow().registryKey());
        assertEquals(newPayment.publicKey(), BenefitState.nation(chain.state, KE).orElseThrow().paymentKey());
        PrivateKey dora = key("dora");
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.PERSON,
                new BenefitPayloads.PersonAttestation(KE, dora.publicKey(), Sha256.hash(dora.publicKey().bytes())).encode())),
                "the old registry key attests no one any more");
        chain.attest(newRegistry, KE, dora.publicKey());
        assertEquals(Reason.DUPLICATE, chain.refused(chain.tx(BenefitHarness.IN_REGISTRY, BenefitPayloads.GOVERN,
                rotate.encode())), "an applied change takes no more votes");
        assertEquals(Reason.NOT_REGISTERED, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.GOVERN,
                BenefitPayloads.GovernanceVote.nationKeys(2, new NationCode("zz"), newRegistry.publicKey(),
                        newPayment.publicKey()).encode())), "an unknown nation");

        // category 7 earns nothing by the chain parameters; governance gives it weight 2
        BenefitPayloads.GovernanceVote weigh = BenefitPayloads.GovernanceVote.categoryWeight(1, 7, 2);
        chain.block(chain.tx(KE_REGISTRY, BenefitPayloads.GOVERN, weigh.encode()),
                chain.tx(BR_REGISTRY, BenefitPayloads.GOVERN, weigh.encode()));
        assertEquals(2, BenefitState.weight(chain.state, chain.parameters, 7));
        chain.block(chain.claim(NODE, chain.receipt(NODE, ALICE, 100, 7)));
        assertEquals(1_000, BenefitState.rewards(chain.state, NODE.publicKey()), "category 7 now earns");
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.GOVERN,
                new byte[] {9, 0, 0, 0, 0, 0, 0, 0, 1})), "an unknown kind of change");
    }

    @Test
    void salesStopAtTheSupplyCap() throws Rejection {
        BenefitHarness chain = served(BenefitHarness.parameters(100_000, 1_000, 10, 10_000));
        assertEquals(Reason.LIMIT_REACHED, chain.refused(chain.tx(KE_PAYMENT, BenefitPayloads.SALE,
                new BenefitPayloads.Sale(KE, ALICE.publicKey(), 10_001, 1, Sha256.hash(new byte[] {5})).encode())));
    }

    @Test
    void benefitWaitsForItsActivationHeight() throws Rejection {
        var p = BenefitHarness.parameters(100_000, 1_000, 10, Long.MAX_VALUE);
        var late = new org.commonweal.benefit.BenefitParameters(p.nations(), p.approvers(), p.allowanceTokens(),
                p.initialEmission(), p.halvingInterval(), p.supplyCap(), p.minStake(), p.categoryWeights(), p.localPerReceipt(),
                p.localDailyCap(), 5);
        BenefitHarness chain = new BenefitHarness(late, Map.of());
        byte[] root = chain.state.root();
        chain.block();
        org.junit.jupiter.api.Assertions.assertArrayEquals(root, chain.state.root(), "nothing changes before activation");
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(KE_REGISTRY, BenefitPayloads.NODE,
                new BenefitPayloads.NodeRegistration(KE, NODE.publicKey()).encode())));
        chain.block();
        chain.block();
        assertTrue(BenefitState.nation(chain.state, KE).isEmpty());
        chain.block(); // block 5
        assertTrue(BenefitState.nation(chain.state, KE).isPresent(), "the nations are written at activation");
    }
}
