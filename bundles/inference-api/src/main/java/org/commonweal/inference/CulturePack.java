package org.commonweal.inference;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A culture pack: a LoRA adapter with the language, values and provenance a nation ships with it, as
 * declared by the pack bundle's descriptor ({@code culture-pack.json}). The inference bundle registers one
 * as an OSGi service, in the pack bundle's name, while that bundle is active.
 *
 * @param name the adapter's name in requests ({@code base-model:name}); lower case letters, digits, '-'
 * @param languages BCP 47 tags, the first the main one
 * @param baseModelSha256 the SHA-256 of the only base model file the adapter fits
 * @param loraSha256 the SHA-256 of the adapter's GGUF file inside the bundle
 * @param loraScale the scale its deltas are applied with (1 as llama.cpp's {@code --lora})
 * @param systemPrompt used when a chat request has no system message ("" for none)
 * @param policy what to refuse or redirect, as data
 * @param locale formatting conventions (e.g. {@code decimalSeparator}, {@code dateFormat}, {@code currency})
 * @param trainingData every source the adapter was trained on
 * @param synthetic true when the weights are random (a sample pack): its replies are nonsense
 * @param descriptorSha256 the SHA-256 of the descriptor file, as the bundle carries it
 */
public record CulturePack(String name, String title, String bundle, String version, List<String> languages,
        String baseModelSha256, String loraResource, String loraSha256, float loraScale, String systemPrompt,
        List<PolicyRule> policy, Map<String, String> locale, List<TrainingSource> trainingData, boolean synthetic,
        String descriptorSha256) {

    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern BCP47 = Pattern.compile("[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public CulturePack {
        require(NAME.matcher(name).matches(), "name '" + name + "' must be lower case letters, digits and '-'");
        require(!languages.isEmpty(), "languages must name at least one BCP 47 tag");
        for (String language : languages) {
            require(BCP47.matcher(language).matches(), "language '" + language + "' is not a BCP 47 tag");
        }
        require(SHA256.matcher(baseModelSha256).matches(), "baseModel.sha256 must be 64 lower-case hex digits");
        require(SHA256.matcher(loraSha256).matches(), "lora.sha256 must be 64 lower-case hex digits");
        require(Float.isFinite(loraScale), "lora.scale must be a finite number");
        require(!trainingData.isEmpty() || synthetic, "trainingData must list the adapter's sources"
                + " (a pack with random weights says \"synthetic\": true)");
        languages = List.copyOf(languages);
        policy = List.copyOf(policy);
        locale = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(locale));
        trainingData = List.copyOf(trainingData);
    }

    /** The manifest header of a culture pack bundle: the descriptor's path inside the bundle. */
    public static final String HEADER = "Commonweal-Culture-Pack";

    /**
     * Reads a descriptor ({@code culture-pack.json}) of bundle {@code bundle} {@code version}; fails naming the
     * field that is missing or wrong.
     */
    public static CulturePack parse(byte[] descriptor, String bundle, String version) {
        return CulturePackJson.parse(descriptor, bundle, version);
    }

    /** The SHA-256 of the training-data manifest: what receipts and provenance name. */
    public String trainingManifestSha256() {
        return CulturePackJson.trainingManifestSha256(trainingData);
    }

    private static void require(boolean ok, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(problem);
        }
    }

    /**
     * A content rule: a user message containing any of {@code words} (whole words, case-insensitive) gets
     * {@code message} as the reply instead of a generation; {@code action} is {@code refuse} or
     * {@code redirect} (the message then points elsewhere).
     */
    public record PolicyRule(String action, String topic, List<String> words, String message) {

        public PolicyRule {
            require(action.equals("refuse") || action.equals("redirect"), "policy action '" + action
                    + "' must be refuse or redirect");
            require(!words.isEmpty(), "policy rule '" + topic + "' lists no words");
            require(!message.isBlank(), "policy rule '" + topic + "' has no message");
            words = List.copyOf(words);
        }
    }

    /** One source of training data: what it is, its SHA-256, its licence and size in bytes. */
    public record TrainingSource(String name, String sha256, String licence, long bytes) {

        public TrainingSource {
            require(SHA256.matcher(sha256).matches(), "training source '" + name + "' needs a sha256 of 64 hex digits");
            require(!licence.isBlank(), "training source '" + name + "' needs a licence");
            require(bytes >= 0, "training source '" + name + "' has a negative size");
        }
    }
}
