package org.commonweal.inference.http;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.commonweal.inference.chat.ChatMessage;
import org.commonweal.inference.sampling.SamplingParams;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A {@code /v1/chat/completions} or {@code /v1/completions} request, parsed and checked: every field with
 * the wrong type or an out-of-range value, and every field this server does not know, is refused naming
 * the field.
 *
 * @param messages the chat messages (chat completions), or null
 * @param prompt the prompt text (completions), or null
 * @param maxTokens the most tokens to generate, {@code Integer.MAX_VALUE} when not given (the context bounds it)
 * @param seedGiven whether the client chose the seed: the reply is then reproducible
 */
record CompletionRequest(String model, List<ChatMessage> messages, String prompt, boolean stream, boolean includeUsage,
        int maxTokens, SamplingParams sampling, boolean seedGiven, List<String> stop) {

    private static final SecureRandom SEEDS = new SecureRandom();

    /** Fields of OpenAI's API that change nothing here and are accepted. */
    private static final Set<String> IGNORED = Set.of("user", "metadata", "store", "service_tier", "parallel_tool_calls",
            "logit_bias", "modalities", "prediction", "reasoning_effort", "web_search_options", "cache_prompt");
    private static final Set<String> COMMON = Set.of("model", "stream", "stream_options", "max_tokens", "temperature",
            "top_p", "top_k", "min_p", "frequency_penalty", "presence_penalty", "repeat_penalty", "repeat_last_n",
            "seed", "stop", "n", "logprobs", "top_logprobs", "response_format", "tools", "tool_choice", "functions",
            "function_call", "echo", "best_of", "suffix");

    static CompletionRequest parse(JsonNode body, boolean chat) throws ApiError {
        if (body == null || !body.isObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            String name = it.next().getKey();
            boolean known = COMMON.contains(name) || IGNORED.contains(name)
                    || (chat ? Set.of("messages", "max_completion_tokens").contains(name) : name.equals("prompt"));
            if (!known) {
                throw ApiError.invalid(name, "unrecognized request argument supplied: " + name);
            }
        }
        unsupported(body, "tools", "tool calls are not supported by this server");
        unsupported(body, "functions", "function calls are not supported by this server");
        unsupported(body, "suffix", "suffix (insertion) is not supported by this server");
        if (body.has("n") && !body.get("n").isNull() && integer(body, "n", 1, 1, 1) != 1) {
            throw ApiError.invalid("n", "n must be 1: this server returns one choice per request");
        }
        if (bool(body, "logprobs", false) || body.hasNonNull("top_logprobs")) {
            throw ApiError.invalid("logprobs", "logprobs are not supported by this server");
        }
        if (bool(body, "echo", false)) {
            throw ApiError.invalid("echo", "echo is not supported by this server");
        }
        if (body.hasNonNull("best_of") && integer(body, "best_of", 1, 1, 1) != 1) {
            throw ApiError.invalid("best_of", "best_of must be 1");
        }
        JsonNode format = body.get("response_format");
        if (format != null && !format.isNull() && !"text".equals(format.path("type").asText())) {
            throw ApiError.invalid("response_format", "only response_format {\"type\": \"text\"} is supported");
        }
        String model = body.hasNonNull("model") ? string(body, "model") : null;
        List<ChatMessage> messages = chat ? messages(body) : null;
        String prompt = chat ? null : prompt(body);
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!options.isObject()) {
                throw ApiError.invalid("stream_options", "stream_options must be an object");
            }
            includeUsage = bool(options, "include_usage", false);
        }
        int maxTokens = Integer.MAX_VALUE;
        for (String name : chat ? List.of("max_completion_tokens", "max_tokens") : List.of("max_tokens")) {
            if (body.hasNonNull(name)) {
                maxTokens = integer(body, name, 0, Integer.MAX_VALUE, 0);
            }
        }
        boolean seedGiven = body.hasNonNull("seed");
        long seed = seedGiven ? longValue(body, "seed") : SEEDS.nextLong() & Long.MAX_VALUE;
        SamplingParams defaults = SamplingParams.defaults(seed);
        SamplingParams sampling;
        try {
            sampling = new SamplingParams(number(body, "temperature", defaults.temperature()),
                    integer(body, "top_k", 0, Integer.MAX_VALUE, defaults.topK()),
                    number(body, "top_p", defaults.topP()), number(body, "min_p", defaults.minP()),
                    number(body, "repeat_penalty", defaults.repeatPenalty()),
                    integer(body, "repeat_last_n", 0, Integer.MAX_VALUE, defaults.repeatLastN()),
                    number(body, "frequency_penalty", defaults.frequencyPenalty()),
                    number(body, "presence_penalty", defaults.presencePenalty()), seed);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(null, e.getMessage());
        }
        return new CompletionRequest(model, messages, prompt, stream, includeUsage, maxTokens, sampling, seedGiven,
                stops(body));
    }

    private static void unsupported(JsonNode body, String name, String message) throws ApiError {
        JsonNode value = body.get(name);
        if (value != null && !value.isNull() && !(value.isArray() && value.isEmpty())) {
            throw ApiError.invalid(name, message);
        }
    }

    private static List<ChatMessage> messages(JsonNode body) throws ApiError {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("messages", "messages must be a non-empty array of {\"role\", \"content\"} objects");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw ApiError.invalid(where, where + " must be an object with a string role");
            }
            String role = m.get("role").asText();
            if (role.equals("developer")) {
                role = "system"; // OpenAI's newer name for the system role
            }
            String content = content(m.get("content"), where);
            try {
                out.add(new ChatMessage(role, content));
            } catch (IllegalArgumentException e) {
                throw ApiError.invalid(where + ".role", where + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** A message's content: a string, or an array of text parts (other part types are refused). */
    private static String content(JsonNode content, String where) throws ApiError {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.invalid(where + ".content", where + ": only text content parts are supported, not "
                            + part.path("type").asText("?"));
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw ApiError.invalid(where + ".content", where + ".content must be a string or an array of text parts");
    }

    private static String prompt(JsonNode body) throws ApiError {
        JsonNode prompt = body.get("prompt");
        if (prompt != null && prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            return prompt.get(0).asText();
        }
        if (prompt == null || !prompt.isTextual()) {
            throw ApiError.invalid("prompt", "prompt must be a string (or an array holding one string)");
        }
        return prompt.asText();
    }

    private static List<String> stops(JsonNode body) throws ApiError {
        JsonNode stop = body.get("stop");
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        if (stop.isTextual()) {
            return stop.asText().isEmpty() ? List.of() : List.of(stop.asText());
        }
        if (!stop.isArray() || stop.size() > 4) {
            throw ApiError.invalid("stop", "stop must be a string or an array of up to 4 strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : stop) {
            if (!s.isTextual()) {
                throw ApiError.invalid("stop", "stop must be a string or an array of up to 4 strings");
            }
            if (!s.asText().isEmpty()) {
                out.add(s.asText());
            }
        }
        return out;
    }

    private static String string(JsonNode body, String name) throws ApiError {
        JsonNode v = body.get(name);
        if (!v.isTextual()) {
            throw ApiError.invalid(name, name + " must be a string, not " + v.getNodeType().name().toLowerCase());
        }
        return v.asText();
    }

    private static boolean bool(JsonNode body, String name, boolean otherwise) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid(name, name + " must be true or false, not " + v);
        }
        return v.asBoolean();
    }

    private static float number(JsonNode body, String name, float otherwise) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw ApiError.invalid(name, name + " must be a number, not " + v);
        }
        return (float) v.asDouble();
    }

    private static int integer(JsonNode body, String name, int min, int max, int otherwise) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isIntegralNumber()) {
            throw ApiError.invalid(name, name + " must be an integer, not " + v);
        }
        if (!v.canConvertToLong() || v.asLong() < min) {
            throw ApiError.invalid(name, name + " must be at least " + min + ", not " + v);
        }
        return (int) Math.min(max, v.asLong());
    }

    private static long longValue(JsonNode body, String name) throws ApiError {
        JsonNode v = body.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiError.invalid(name, name + " must be a 64-bit integer, not " + v);
        }
        return v.asLong();
    }
}
