package org.commonweal.inference;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;

/** The JSON form of a culture pack descriptor. */
final class CulturePackJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CulturePackJson() {
    }

    static CulturePack parse(byte[] descriptor, String bundle, String version) {
        JsonNode root;
        try {
            root = JSON.readTree(descriptor);
        } catch (IOException e) {
            throw new IllegalArgumentException("the culture pack descriptor of " + bundle + " is not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the culture pack descriptor of " + bundle + " must be a JSON object");
        }
        try {
            List<CulturePack.PolicyRule> policy = new ArrayList<>();
            for (JsonNode rule : array(root, "policy", false)) {
                policy.add(new CulturePack.PolicyRule(text(rule, "action"), rule.path("topic").asText(""),
                        strings(rule, "words"), text(rule, "message")));
            }
            Map<String, String> locale = new LinkedHashMap<>();
            JsonNode l = root.path("locale");
            for (Iterator<Map.Entry<String, JsonNode>> it = l.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                locale.put(e.getKey(), e.getValue().asText());
            }
            List<CulturePack.TrainingSource> training = new ArrayList<>();
            for (JsonNode source : array(root, "trainingData", false)) {
                training.add(new CulturePack.TrainingSource(text(source, "name"), text(source, "sha256"),
                        text(source, "licence"), source.path("bytes").asLong(-1)));
            }
            JsonNode lora = object(root, "lora");
            return new CulturePack(text(root, "name"), root.path("title").asText(text(root, "name")), bundle, version,
                    strings(root, "languages"), text(object(root, "baseModel"), "sha256"), text(lora, "resource"),
                    text(lora, "sha256"), (float) lora.path("scale").asDouble(1.0), root.path("systemPrompt").asText(""),
                    policy, locale, training, root.path("synthetic").asBoolean(false), sha256(descriptor));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the culture pack descriptor of " + bundle + ": " + e.getMessage(), e);
        }
    }

    static String trainingManifestSha256(List<CulturePack.TrainingSource> sources) {
        ArrayNode manifest = JSON.createArrayNode();
        for (CulturePack.TrainingSource s : sources) {
            manifest.addObject().put("name", s.name()).put("sha256", s.sha256()).put("licence", s.licence())
                    .put("bytes", s.bytes());
        }
        return sha256(manifest.toString().getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static JsonNode object(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isObject()) {
            throw new IllegalArgumentException("'" + field + "' must be an object");
        }
        return value;
    }

    private static JsonNode array(JsonNode node, String field, boolean required) {
        JsonNode value = node.get(field);
        if (value == null && !required) {
            return JSON.createArrayNode();
        }
        if (value == null || !value.isArray()) {
            throw new IllegalArgumentException("'" + field + "' must be an array");
        }
        return value;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw new IllegalArgumentException("'" + field + "' must be a non-empty string");
        }
        return value.asText();
    }

    private static List<String> strings(JsonNode node, String field) {
        List<String> out = new ArrayList<>();
        for (JsonNode value : array(node, field, true)) {
            if (!value.isTextual() || value.asText().isBlank()) {
                throw new IllegalArgumentException("'" + field + "' must hold non-empty strings");
            }
            out.add(value.asText());
        }
        return out;
    }
}
