package org.commonweal.inference.internal;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.commonweal.inference.Completion;
import org.commonweal.inference.Generation;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.ModelInfo;
import org.commonweal.inference.OverloadedException;
import org.commonweal.inference.chat.UnsupportedChatTemplateException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The OpenAI-compatible API, and llama.cpp's tokenizer endpoints:
 * <pre>
 * GET  /v1/models               the loaded models
 * POST /v1/chat/completions     chat, streamed (Server-Sent Events) or not
 * POST /v1/completions          plain text continuation, streamed or not
 * POST /tokenize                {"content", "add_special", "model"} → {"tokens"}
 * POST /detokenize              {"tokens", "model"} → {"content"}
 * </pre>
 * Errors have OpenAI's shape {@code {"error": {"message", "type", "param", "code"}}}: 400 for an invalid
 * request or a prompt beyond the context, 404 for an unknown model, 429 with {@code Retry-After} when the
 * model's queue is full. A client that disconnects cancels its generation. Every reply carries its sampling
 * seed in {@code X-Commonweal-Seed}: with the model, prompt and parameters it reproduces the reply.
 */
final class OpenAiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY_BYTES = 8 << 20;
    /** How often a waiting non-streamed request checks that its client is still there. */
    private static final long KEEP_ALIVE_MILLIS = 2_000;

    private final transient ModelsComponent models;

    OpenAiServlet(ModelsComponent models) {
        this.models = models;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = path(request);
        try {
            if (path.equals("/v1/models")) {
                write(response, 200, modelList());
            } else if (path.startsWith("/v1/models/")) {
                write(response, 200, model(model(path.substring("/v1/models/".length()))));
            } else {
                throw ApiError.notFound("not_found", "no endpoint GET " + path + "; see GET /v1/models, POST"
                        + " /v1/chat/completions, /v1/completions, /tokenize, /detokenize");
            }
        } catch (ApiError e) {
            error(response, e);
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = path(request);
        try {
            JsonNode body = body(request);
            switch (path) {
                case "/v1/chat/completions" -> complete(CompletionRequest.parse(body, true), response);
                case "/v1/completions" -> complete(CompletionRequest.parse(body, false), response);
                case "/tokenize" -> tokenize(body, response);
                case "/detokenize" -> detokenize(body, response);
                default -> throw ApiError.notFound("not_found", "no endpoint POST " + path);
            }
        } catch (ApiError e) {
            error(response, e);
        }
    }

    private static String path(HttpServletRequest request) {
        String servletPath = request.getServletPath() == null ? "" : request.getServletPath();
        String info = request.getPathInfo() == null ? "" : request.getPathInfo();
        String path = servletPath + info;
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private static JsonNode body(HttpServletRequest request) throws ApiError, IOException {
        String type = request.getContentType();
        if (type != null && !type.startsWith("application/json")) {
            throw ApiError.status(415, "invalid_request_error", "send the request as application/json, not '" + type + "'");
        }
        byte[] bytes = request.getInputStream().readNBytes(MAX_BODY_BYTES + 1);
        if (bytes.length > MAX_BODY_BYTES) {
            throw ApiError.status(413, "invalid_request_error", "the request body is larger than "
                    + (MAX_BODY_BYTES >> 20) + " MiB");
        }
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw ApiError.invalid(null, "the request body must be a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ApiError.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    // ---------------------------------------------------------------------------------- models

    private LanguageModel model(String id) throws ApiError {
        List<LanguageModel> loaded = models.models();
        String loading = models.loading();
        if (id == null) {
            if (loaded.isEmpty()) {
                throw loading.isEmpty()
                        ? ApiError.status(503, "server_error", "this node serves no model; see /health for why")
                        : ApiError.loading("no model is loaded yet (loading " + loading + ")");
            }
            return loaded.get(0);
        }
        var found = models.find(id);
        if (found.isEmpty() && loading.startsWith(id + ".")) {
            throw ApiError.loading("the model '" + id + "' is loading (" + loading + "); try again shortly");
        }
        return found.orElseThrow(() -> ApiError.notFound("model_not_found", "the model '" + id
                + "' does not exist on this node; loaded: " + loaded.stream().map(m -> m.info().id()).toList()));
    }

    private ObjectNode modelList() {
        ObjectNode list = JSON.createObjectNode().put("object", "list");
        ArrayNode data = list.putArray("data");
        for (LanguageModel m : models.models()) {
            data.add(model(m));
        }
        return list;
    }

    private static ObjectNode model(LanguageModel model) {
        ModelInfo info = model.info();
        ObjectNode node = JSON.createObjectNode().put("id", info.id()).put("object", "model").put("created", 0)
                .put("owned_by", info.demo() ? "commonweal (demo, random weights)" : "commonweal");
        node.putObject("meta").put("architecture", info.architecture()).put("parameters", info.parameters())
                .put("weight_types", info.weightTypes()).put("context_length", info.contextLength())
                .put("sha256", info.sha256()).put("demo", info.demo()).put("description", info.description());
        if (model instanceof LoadedModel loaded) {
            Scheduler.Counts c = loaded.requests();
            node.with("meta").putObject("requests").put("running", c.running()).put("waiting", c.waiting())
                    .put("completed", c.completed()).put("cancelled", c.cancelled()).put("failed", c.failed());
        }
        return node;
    }

    // ---------------------------------------------------------------------------------- completions

    private void complete(CompletionRequest r, HttpServletResponse response) throws ApiError, IOException {
        LanguageModel model = model(r.model());
        String text;
        if (r.messages() != null) {
            try {
                text = model.chatTemplate().apply(r.messages(), true);
            } catch (UnsupportedChatTemplateException e) {
                throw ApiError.invalid("messages", e.getMessage());
            }
        } else {
            text = r.prompt();
        }
        int[] prompt = model.tokenizer().encode(text, true, r.messages() != null);
        prompt = withoutDoubleBos(model, prompt);
        int maxTokens = Math.min(r.maxTokens(), Math.max(0, model.info().contextLength() - prompt.length));
        GenerationRequest generation = new GenerationRequest(prompt, r.sampling(), maxTokens, r.stop(), false);
        Events events = new Events();
        Generation running;
        try {
            running = model.generate(generation, events);
        } catch (OverloadedException e) {
            throw ApiError.overloaded(e.getMessage(), e.retryAfterSeconds());
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(r.messages() != null ? "messages" : "prompt", e.getMessage());
        }
        String id = (r.messages() != null ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        response.setHeader("X-Commonweal-Seed", Long.toString(r.sampling().seed()));
        try {
            if (r.stream()) {
                stream(r, model, id, created, events, response);
            } else {
                whole(r, model, id, created, events, response);
            }
        } catch (IOException e) {
            running.cancel(); // the client went away
        } catch (InterruptedException e) {
            running.cancel();
            Thread.currentThread().interrupt();
        } finally {
            running.cancel(); // a no-op once finished
        }
    }

    /** Chat templates of models whose tokenizer adds BOS may start with BOS too; one is enough. */
    private static int[] withoutDoubleBos(LanguageModel model, int[] prompt) {
        var bos = model.tokenizer().bos();
        if (prompt.length >= 2 && bos.isPresent() && prompt[0] == bos.getAsInt() && prompt[1] == bos.getAsInt()) {
            return java.util.Arrays.copyOfRange(prompt, 1, prompt.length);
        }
        return prompt;
    }

    private void whole(CompletionRequest r, LanguageModel model, String id, long created, Events events,
            HttpServletResponse response) throws IOException, InterruptedException, ApiError {
        boolean committed = false;
        while (true) {
            Object event = events.queue.poll(KEEP_ALIVE_MILLIS, TimeUnit.MILLISECONDS);
            if (event == null) {
                // JSON allows leading whitespace: a space tells a vanished client apart from a slow model.
                if (!committed) {
                    response.setStatus(200);
                    response.setContentType("application/json");
                    response.setCharacterEncoding("UTF-8");
                    committed = true;
                }
                response.getOutputStream().write(' ');
                response.flushBuffer();
            } else if (event instanceof Completion done) {
                ObjectNode body = envelope(r, model, id, created, false);
                ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
                if (r.messages() != null) {
                    choice.putObject("message").put("role", "assistant").put("content", done.text());
                } else {
                    choice.put("text", done.text());
                }
                choice.putNull("logprobs");
                choice.put("finish_reason", finishReason(done));
                usage(body, done);
                if (committed) {
                    JSON.writeValue(response.getOutputStream(), body);
                } else {
                    write(response, 200, body);
                }
                return;
            } else if (event instanceof Exception e) {
                if (committed) {
                    JSON.writeValue(response.getOutputStream(), errorBody(ApiError.status(500, "server_error",
                            "generation failed: " + e.getMessage())));
                    return;
                }
                throw ApiError.status(500, "server_error", "generation failed: " + e.getMessage());
            }
        }
    }

    private void stream(CompletionRequest r, LanguageModel model, String id, long created, Events events,
            HttpServletResponse response) throws IOException, InterruptedException {
        response.setStatus(200);
        response.setContentType("text/event-stream");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        PrintWriter out = response.getWriter();
        boolean chat = r.messages() != null;
        if (chat) {
            ObjectNode first = chunk(r, model, id, created);
            first.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                    .putObject("delta").put("role", "assistant").put("content", "");
            send(out, first);
        }
        while (true) {
            Object event = events.queue.poll(KEEP_ALIVE_MILLIS, TimeUnit.MILLISECONDS);
            if (event == null) {
                out.write(": keep-alive\n\n");
                flush(out);
            } else if (event instanceof String text) {
                ObjectNode chunk = chunk(r, model, id, created);
                ObjectNode choice = chunk.withArray("choices").addObject().put("index", 0);
                if (chat) {
                    choice.putObject("delta").put("content", text);
                } else {
                    choice.put("text", text);
                }
                choice.putNull("finish_reason");
                send(out, chunk);
            } else if (event instanceof Completion done) {
                ObjectNode last = chunk(r, model, id, created);
                ObjectNode choice = last.withArray("choices").addObject().put("index", 0);
                if (chat) {
                    choice.putObject("delta");
                } else {
                    choice.put("text", "");
                }
                choice.put("finish_reason", finishReason(done));
                send(out, last);
                if (r.includeUsage()) {
                    ObjectNode usage = chunk(r, model, id, created);
                    usage.putArray("choices");
                    usage(usage, done);
                    send(out, usage);
                }
                out.write("data: [DONE]\n\n");
                flush(out);
                return;
            } else if (event instanceof Exception e) {
                send(out, errorBody(ApiError.status(500, "server_error", "generation failed: " + e.getMessage())));
                return;
            }
        }
    }

    private static String finishReason(Completion done) {
        return done.finishReason().equals("cancelled") ? "stop" : done.finishReason();
    }

    private static ObjectNode envelope(CompletionRequest r, LanguageModel model, String id, long created, boolean chunk) {
        String object = r.messages() != null ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", created)
                .put("model", model.info().id()).put("system_fingerprint", "commonweal-" + model.info().sha256().substring(0, 12));
    }

    private static ObjectNode chunk(CompletionRequest r, LanguageModel model, String id, long created) {
        ObjectNode node = envelope(r, model, id, created, true);
        node.putArray("choices");
        return node;
    }

    private static void usage(ObjectNode body, Completion done) {
        body.putObject("usage").put("prompt_tokens", done.promptTokens()).put("completion_tokens", done.completionTokens())
                .put("total_tokens", done.promptTokens() + done.completionTokens());
    }

    private static void send(PrintWriter out, JsonNode node) throws IOException {
        out.write("data: ");
        out.write(JSON.writeValueAsString(node));
        out.write("\n\n");
        flush(out);
    }

    private static void flush(PrintWriter out) throws IOException {
        out.flush();
        if (out.checkError()) {
            throw new IOException("the client closed the stream");
        }
    }

    /** The generation's events, handed from the scheduler thread to the request's thread. */
    private static final class Events implements GenerationListener {
        final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();

        @Override
        public void text(String delta) {
            queue.add(delta);
        }

        @Override
        public void finished(Completion completion) {
            queue.add(completion);
        }

        @Override
        public void failed(Exception cause) {
            queue.add(cause);
        }
    }

    // ---------------------------------------------------------------------------------- tokenizer

    private void tokenize(JsonNode body, HttpServletResponse response) throws ApiError, IOException {
        LanguageModel model = model(optionalString(body, "model"));
        JsonNode content = body.get("content");
        if (content == null || !content.isTextual()) {
            throw ApiError.invalid("content", "content must be a string");
        }
        JsonNode addSpecial = body.get("add_special");
        if (addSpecial != null && !addSpecial.isBoolean()) {
            throw ApiError.invalid("add_special", "add_special must be true or false");
        }
        JsonNode parseSpecial = body.get("parse_special");
        if (parseSpecial != null && !parseSpecial.isBoolean()) {
            throw ApiError.invalid("parse_special", "parse_special must be true or false");
        }
        int[] tokens = model.tokenizer().encode(content.asText(), addSpecial != null && addSpecial.asBoolean(),
                parseSpecial == null || parseSpecial.asBoolean());
        ObjectNode out = JSON.createObjectNode();
        ArrayNode array = out.putArray("tokens");
        for (int t : tokens) {
            array.add(t);
        }
        write(response, 200, out);
    }

    private void detokenize(JsonNode body, HttpServletResponse response) throws ApiError, IOException {
        LanguageModel model = model(optionalString(body, "model"));
        JsonNode tokens = body.get("tokens");
        if (tokens == null || !tokens.isArray()) {
            throw ApiError.invalid("tokens", "tokens must be an array of token ids");
        }
        int vocabulary = model.tokenizer().vocabularySize();
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= vocabulary) {
                throw ApiError.invalid("tokens", "tokens[" + i + "] is " + t + "; token ids are integers 0.."
                        + (vocabulary - 1) + " for model '" + model.info().id() + "'");
            }
            ids[i] = t.asInt();
        }
        write(response, 200, JSON.createObjectNode().put("content", model.tokenizer().decode(ids, true)));
    }

    private static String optionalString(JsonNode body, String name) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.invalid(name, name + " must be a string");
        }
        return v.asText();
    }

    // ---------------------------------------------------------------------------------- output

    private static ObjectNode errorBody(ApiError e) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error").put("message", e.getMessage()).put("type", e.type);
        error.put("param", e.param);
        error.put("code", e.code);
        return body;
    }

    private static void error(HttpServletResponse response, ApiError e) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        if (e.retryAfterSeconds > 0) {
            response.setHeader("Retry-After", Integer.toString(e.retryAfterSeconds));
        }
        write(response, e.status, errorBody(e));
    }

    private static void write(HttpServletResponse response, int status, JsonNode body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        JSON.writeValue(response.getOutputStream(), body);
    }
}
