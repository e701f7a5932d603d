package org.commonweal.benefit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.BlockContext;
import org.commonweal.ledger.LedgerState;
import org.commonweal.ledger.PayloadType;
import org.commonweal.ledger.PayloadTypes;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;

/** A ledger state with proof of benefit, blocks made by hand at chosen times, and keys for every role. */
final class BenefitHarness {

    static final int CHAIN = 77;
    static final long DAY = 86_400_000L;
    static final long T0 = 20_000 * DAY; // a day number far from 0
    static final NationCode KE = new NationCode("ke");
    static final NationCode BR = new NationCode("br");
    static final PrivateKey KE_REGISTRY = key("ke-registry");
    static final PrivateKey KE_PAYMENT = key("ke-payment");
    static final PrivateKey BR_REGISTRY = key("br-registry");
    static final PrivateKey BR_PAYMENT = key("br-payment");
    static final PrivateKey IN_REGISTRY = key("in-registry");
    static final PrivateKey PROPOSER = key("proposer");

    final BenefitParameters parameters;
    final LedgerState state;
    long height;
    long time = T0;

    BenefitHarness(BenefitParameters parameters, Map<PublicKey, Long> balances) {
        this.parameters = parameters;
        Map<PublicKey, Long> genesis = new HashMap<>(balances);
        genesis.putIfAbsent(KE_REGISTRY.publicKey(), 1_000_000L);
        this.state = LedgerState.genesis(CHAIN, genesis);
        BenefitTypes types = new BenefitTypes(parameters);
        List<PayloadType> payloadTypes = new ArrayList<>(types.payloadTypes());
        state.payloadTypes(PayloadTypes.standardPlus(payloadTypes).withBlockRules(List.of(new BenefitRule(parameters, types))));
    }

    BenefitHarness() {
        this(parameters(100_000, 1_000, 10, Long.MAX_VALUE), Map.of());
    }

    static BenefitParameters parameters(long allowance, long emission, long halving, long cap) {
        return new BenefitParameters(List.of(new BenefitParameters.Nation(KE, KE_REGISTRY.publicKey(), KE_PAYMENT.publicKey()),
                new BenefitParameters.Nation(BR, BR_REGISTRY.publicKey(), BR_PAYMENT.publicKey()),
                new BenefitParameters.Nation(new NationCode("in"), IN_REGISTRY.publicKey(), IN_REGISTRY.publicKey())),
                List.of(), allowance, emission, halving, cap, 100, Map.of(0, 1L, 2, 3L), 10, 25, 1);
    }

    static PrivateKey key(String name) {
        return Ed25519.fromSeed(Sha256.hash(name.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    Transaction tx(PrivateKey signer, int type, byte[] payload) {
        return TransactionCodec.sign(signer, CHAIN, state.account(signer.publicKey()).nonce(), 0, type, payload);
    }

    /** Runs one block at {@code time} holding these transactions (each must apply). */
    void block(Transaction... txs) throws Rejection {
        begin();
        for (Transaction tx : txs) {
            state.apply(tx, PROPOSER.publicKey(), false);
        }
        state.endBlock();
    }

    /** Runs one block applying {@code build}'s transactions as they are made (for nonces in sequence). */
    void blockOf(List<java.util.function.Supplier<Transaction>> build) throws Rejection {
        begin();
        for (var supplier : build) {
            state.apply(supplier.get(), PROPOSER.publicKey(), false);
        }
        state.endBlock();
    }

    private void begin() {
        height++;
        time += 1_000;
        // a distinct previous hash per height, as a chain has: audits sample with it
        state.beginBlock(new BlockContext(CHAIN, height, time, PROPOSER.publicKey(), Sha256.hash(ByteBuffer.allocate(8)
                .putLong(height - 1).array())));
    }

    /** The reason {@code tx} is refused in the next block (which then holds nothing). */
    Rejection.Reason refused(Transaction tx) throws Rejection {
        begin();
        LedgerState copy = state.copy();
        Rejection rejection = assertThrows(Rejection.class, () -> copy.apply(tx, PROPOSER.publicKey(), false));
        state.endBlock();
        return rejection.reason();
    }

    void attest(PrivateKey registry, NationCode nation, PublicKey person) throws Rejection {
        block(tx(registry, BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(nation, person,
                Sha256.hash(person.bytes())).encode()));
    }

    /** Registers {@code node} to {@code nation} and stakes {@code stake} from its balance. */
    void registerNode(PrivateKey registry, NationCode nation, PrivateKey node, long stake) throws Rejection {
        block(tx(registry, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(nation, node.publicKey()).encode()));
        block(tx(node, BenefitPayloads.STAKE, new BenefitPayloads.Stake(stake).encode()));
    }

    static int counter;

    /** A receipt served now by {@code node} for {@code person}, signed and countersigned. */
    Receipt receipt(PrivateKey node, PrivateKey person, int tokens, int category) {
        return receiptAt(node, person, tokens, category, time);
    }

    static Receipt receiptAt(PrivateKey node, PrivateKey person, int tokens, int category, long time) {
        byte[] n = ByteBuffer.allocate(32).putInt(counter++).array();
        return Receipt.unsigned(CHAIN, node.publicKey(), person.publicKey(), Sha256.hash(new byte[] {1}), new byte[32],
                Receipt.requestCommitment(n, new byte[] {2}), 42, Sha256.hash(n), tokens / 2, tokens - tokens / 2, time,
                category).signedBy(node).countersignedBy(person);
    }

    Transaction claim(PrivateKey node, Receipt... receipts) {
        return tx(node, BenefitPayloads.CLAIM, new BenefitPayloads.Claim(List.of(receipts)).encode());
    }

    static void assertReason(Rejection.Reason expected, Rejection.Reason actual) {
        assertEquals(expected, actual);
    }
}
