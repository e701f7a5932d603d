package org.commonweal.benefit.internal;

import java.util.HexFormat;
import java.util.function.Supplier;

import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.PublicKey;
import org.commonweal.inference.receipts.IssuedReceipt;
import org.commonweal.inference.receipts.ReceiptIssuer;
import org.commonweal.inference.receipts.ServedRequest;
import org.commonweal.inference.sampling.SamplingParams;
import org.commonweal.ledger.StateView;

/**
 * The {@link ReceiptIssuer} the OpenAI endpoint uses: turns what it served into the {@link RevealedRequest} an auditor
 * re-runs (so the receipt's commitment and output hash are exactly what re-execution checks) and issues the receipt.
 * The only class here that sees the inference API's receipts package (imported optionally): loaded only when it is there.
 */
final class EndpointIssuer implements ReceiptIssuer {

    private final ReceiptDesk desk;
    private final Supplier<StateView> state;

    /** {@code state}: the chain's committed state, where the person must be attested. */
    EndpointIssuer(ReceiptDesk desk, Supplier<StateView> state) {
        this.desk = desk;
        this.state = state;
    }

    @Override
    public IssuedReceipt issue(ServedRequest served) {
        PublicKey person = PublicKey.fromHex(served.person());
        SamplingParams s = served.sampling();
        RevealedRequest request = new RevealedRequest(served.prompt(), s.temperature(), s.topK(), s.topP(), s.minP(),
                s.repeatPenalty(), s.repeatLastN(), s.frequencyPenalty(), s.presencePenalty(), served.maxTokens(),
                served.stop(), served.adapter(), served.output());
        Receipt receipt = desk.issue(person, HexFormat.of().parseHex(served.modelSha256()),
                served.adapterSha256() == null ? null : HexFormat.of().parseHex(served.adapterSha256()), s.seed(), request,
                System.currentTimeMillis(), state.get());
        return new IssuedReceipt(HexFormat.of().formatHex(receipt.id()), HexFormat.of().formatHex(receipt.encode()));
    }

    @Override
    public String countersignPath() {
        return ServingNode.RECEIPTS_PATH;
    }
}
