package org.commonweal.benefit.internal;

import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.inference.Completion;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.sampling.SamplingParams;

/**
 * Re-execution on the node's models: the model whose file's SHA-256 is the receipt's model digest, the revealed prompt
 * tokens and parameters, the receipt's seed. The models are deterministic (the same tokens on every node, whatever the
 * batch), so an honest node's output comes back bit for bit. Loaded only when the inference package is there.
 */
final class ModelReexecution implements Reexecution {

    /** The longest a re-execution may take before the auditor gives up on it (its deadline is in blocks). */
    static final long TIMEOUT_SECONDS = 300;

    private final LanguageModels models;

    ModelReexecution(Object models) {
        this.models = (LanguageModels) models;
    }

    @Override
    public byte[] outputHash(Receipt receipt, RevealedRequest request) throws Exception {
        String digest = HexFormat.of().formatHex(receipt.modelDigest());
        LanguageModel model = models.models().stream().filter(m -> digest.equalsIgnoreCase(m.info().sha256())).findFirst()
                .orElseThrow(() -> new IllegalStateException("the audited receipt names model " + digest + ", which this"
                        + " node has not loaded (it serves " + models.models().stream().map(m -> m.info().id() + " "
                                + m.info().sha256()).toList() + "): add the model file to <data>/models to audit it"));
        SamplingParams sampling = new SamplingParams(request.temperature(), request.topK(), request.topP(), request.minP(),
                request.repeatPenalty(), request.repeatLastN(), request.frequencyPenalty(), request.presencePenalty(),
                receipt.seed());
        GenerationRequest generation = new GenerationRequest(request.prompt(), sampling, request.maxTokens(), request.stop(),
                false, request.adapter().isEmpty() ? null : request.adapter());
        CompletableFuture<Completion> done = new CompletableFuture<>();
        model.generate(generation, GenerationListener.completing(done));
        return RevealedRequest.outputHash(done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS).tokens());
    }
}
