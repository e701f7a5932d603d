package org.commonweal.benefit.internal;

import java.io.IOException;
import java.util.HexFormat;
import java.util.function.UnaryOperator;

import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.StateView;

/**
 * The serving node's side of receipts: it issues a receipt of a request it served (signed with the node key, the
 * request kept in {@link ServedRequests}) and accepts it back countersigned, checking everything the chain will check
 * of the person (signature, attestation, nation) so that a receipt it accepts is one its claim can carry.
 */
final class ReceiptDesk {

    /** Why a countersigned receipt is not accepted: an HTTP status, a code as the chain's reasons, and a sentence. */
    static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final String code;

        Refusal(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    private final int chainId;
    private final PublicKey node;
    private final UnaryOperator<byte[]> sign;
    private final ServedRequests store;

    /** {@code sign} signs with the node key (the node identity service). */
    ReceiptDesk(int chainId, PublicKey node, UnaryOperator<byte[]> sign, ServedRequests store) {
        this.chainId = chainId;
        this.node = node;
        this.sign = sign;
        this.store = store;
    }

    /**
     * The receipt of a request served now for an attested person, signed by the node; the request is kept to be
     * revealed if audited. Only attested persons get one: anyone else's would earn nothing, and would take the place of
     * requests the node must keep.
     *
     * @param adapterDigest the adapter file's SHA-256, or null for the base model
     * @throws IllegalArgumentException if the person's key is not attested in {@code state}
     */
    Receipt issue(PublicKey person, byte[] modelDigest, byte[] adapterDigest, long seed, RevealedRequest request,
            long timeMillis, StateView state) {
        if (BenefitState.personNation(state, person).isEmpty()) {
            throw new IllegalArgumentException(notAttested(person));
        }
        Receipt unsigned = Receipt.unsigned(chainId, node, person, modelDigest, adapterDigest == null ? new byte[32]
                : adapterDigest, request.commitment(), seed, request.outputHash(), request.prompt().length,
                request.output().length, timeMillis, 0);
        Receipt receipt = unsigned.withNodeSignature(sign.apply(unsigned.nodeSigningBytes()));
        store.issued(receipt, request);
        return receipt;
    }

    /**
     * Accepts a receipt this node issued, countersigned by its person, to claim it. Idempotent: the same receipt
     * again is accepted again (nothing changes).
     */
    Receipt accept(byte[] encoded, StateView state) throws Refusal, IOException {
        Receipt receipt;
        try {
            receipt = Receipt.decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, "MALFORMED", "not a receipt: " + e.getMessage() + " (post the hex of the "
                    + Receipt.BYTES + "-byte receipt the reply carried, with your countersignature in its last 64 bytes)");
        }
        String id = HexFormat.of().formatHex(receipt.id());
        if (receipt.chainId() != chainId || !receipt.node().equals(node)) {
            throw new Refusal(400, "UNAUTHORIZED", "receipt " + id + " is of node " + receipt.node() + " on chain "
                    + receipt.chainId() + "; this is node " + node + " on chain " + chainId + ": send it to the node that"
                    + " served it");
        }
        if (!receipt.signaturesValid()) {
            throw new Refusal(400, "BAD_SIGNATURE", "receipt " + id + " is not as this node signed it, or not countersigned"
                    + " by person " + receipt.person() + ": sign \"commonweal/receipt/countersign/v1\" || the first "
                    + Receipt.BODY_BYTES + " bytes || the node's signature with that person's key");
        }
        NationCode nation = BenefitState.personNation(state, receipt.person()).orElseThrow(() -> new Refusal(403,
                "NOT_REGISTERED", notAttested(receipt.person())));
        var registered = BenefitState.node(state, node);
        if (registered.isPresent() && !registered.get().nation().equals(nation)) {
            throw new Refusal(403, "WRONG_NATION", "person " + receipt.person() + " belongs to nation " + nation
                    + "; this node serves nation " + registered.get().nation() + ": use a node of your nation");
        }
        ServedRequests.Entry issued = store.entry(id).orElseThrow(() -> new Refusal(404, "UNKNOWN_RECEIPT", "receipt "
                + id + " was not issued by this node, or no longer kept (" + store.size() + " kept): it cannot be claimed"));
        if (issued.stage() != ServedRequests.Stage.ISSUED) {
            return receipt; // accepted before
        }
        store.countersigned(receipt);
        return receipt;
    }

    private static String notAttested(PublicKey person) {
        return "person key " + person + " is not attested by any nation's registry on this chain, so its receipts earn"
                + " nothing: ask your nation's registry to attest the key (cw benefit attest-person), then use it";
    }
}
