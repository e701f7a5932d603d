package org.commonweal.inference.http;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.commonweal.inference.CulturePack;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.ModelInfo;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/provenance}: the digests of everything that shapes this node's answers, so anyone can
 * check what a nation's node runs: every model file, every installed culture pack (its bundle, LoRA file,
 * descriptor and training-data manifest, and every training source with its SHA-256, licence and size).
 */
final class ProvenanceServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private final transient OpenAiServlet api;

    /** {@code api}: whose wait for the models service this servlet shares. */
    ProvenanceServlet(OpenAiServlet api) {
        this.api = api;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        LanguageModels models;
        try {
            models = api.service(null, api.deadline());
        } catch (ApiError e) {
            OpenAiServlet.error(response, e);
            return;
        }
        ObjectNode body = OpenAiServlet.JSON.createObjectNode();
        ArrayNode modelList = body.putArray("models");
        List<CulturePack> packs = new ArrayList<>(models.unmatchedPacks());
        for (LanguageModel m : models.models()) {
            ModelInfo info = m.info();
            ObjectNode node = modelList.addObject().put("id", info.id()).put("sha256", info.sha256())
                    .put("architecture", info.architecture()).put("parameters", info.parameters())
                    .put("weight_types", info.weightTypes()).put("random_weights", info.demo());
            ArrayNode adapters = node.putArray("adapters");
            for (CulturePack pack : m.adapters()) {
                adapters.add(pack.name());
                if (packs.stream().noneMatch(p -> p.name().equals(pack.name()))) {
                    packs.add(pack);
                }
            }
        }
        ArrayNode adapterList = body.putArray("adapters");
        for (CulturePack pack : packs) {
            ObjectNode node = adapterList.addObject().put("name", pack.name()).put("title", pack.title())
                    .put("bundle", pack.bundle()).put("version", pack.version())
                    .put("base_model_sha256", pack.baseModelSha256()).put("lora_sha256", pack.loraSha256())
                    .put("descriptor_sha256", pack.descriptorSha256())
                    .put("training_manifest_sha256", pack.trainingManifestSha256()).put("synthetic", pack.synthetic());
            ArrayNode languages = node.putArray("languages");
            pack.languages().forEach(languages::add);
            ArrayNode sources = node.putArray("training_data");
            for (CulturePack.TrainingSource source : pack.trainingData()) {
                sources.addObject().put("name", source.name()).put("sha256", source.sha256())
                        .put("licence", source.licence()).put("bytes", source.bytes());
            }
        }
        response.setStatus(200);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        OpenAiServlet.JSON.writerWithDefaultPrettyPrinter().writeValue(response.getOutputStream(), body);
    }
}
