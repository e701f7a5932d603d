package org.commonweal.inference.http;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.commonweal.inference.Completion;
import org.commonweal.inference.CulturePack;
import org.commonweal.inference.Generation;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.ModelClosedException;
import org.commonweal.inference.ModelInfo;
import org.commonweal.inference.OverloadedException;
import org.commonweal.inference.chat.ChatMessage;
import org.commonweal.inference.chat.UnsupportedChatTemplateException;
import org.commonweal.inference.receipts.IssuedReceipt;
import org.commonweal.inference.receipts.ReceiptIssuer;
import org.commonweal.inference.receipts.ServedRequest;

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
 * <p>
 * Hand-over: the models come from whichever {@link LanguageModels} service runs ({@link AwaitedModels}). While the
 * implementation is replaced, or a model loads, a request waits for it up to the configured time (then 503). A
 * generation that the old implementation refused or gave up before it produced any text ({@link ModelClosedException})
 * is run again on the new one: nothing was sent yet (a stream's first chunk waits for the first event), so the client
 * sees one reply.
 * <p>
 * Receipts (proof of benefit): a request with a {@code seed} and the person's key in {@value #PERSON_HEADER} gets the
 * receipt the node signed, from the {@link ReceiptIssuer} service when one runs: in {@value #RECEIPT_HEADER} (id and
 * receipt, hex, when the headers were not sent yet) and always in the body's {@code commonweal_receipt} (for a stream,
 * in the chunk that carries {@code finish_reason}). Without the service, or without a seed, the reply is as before and
 * {@value #RECEIPT_REFUSED_HEADER} says why there is no receipt.
 */
final class OpenAiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY_BYTES = 8 << 20;
    /** How often a waiting non-streamed request checks that its client is still there. */
    private static final long KEEP_ALIVE_MILLIS = 2_000;
    /** Selects a culture pack ({@code none}: the base model); replies name the one applied and its digest. */
    static final String ADAPTER_HEADER = "X-Commonweal-Adapter";
    /** Set when a request waited for the models service or a model (milliseconds, retries included). */
    static final String WAITED_HEADER = "X-Commonweal-Waited-Ms";
    /** The person's Ed25519 public key (64 hex digits): asks for a receipt of a request with a seed. */
    static final String PERSON_HEADER = "X-Commonweal-Person";
    /** The receipt: {@code <id hex>; receipt=<receipt hex>; countersign=<path>}. */
    static final String RECEIPT_HEADER = "X-Commonweal-Receipt";
    /** Why a request that named a person got no receipt. */
    static final String RECEIPT_REFUSED_HEADER = "X-Commonweal-Receipt-Refused";
    private static final Pattern PERSON_KEY = Pattern.compile("[0-9a-fA-F]{64}");

    private final transient AwaitedModels models;
    private final long waitNanos;
    /** The receipt issuer, if proof of benefit runs on this node (else null). */
    private final transient Supplier<ReceiptIssuer> receipts;

    OpenAiServlet(AwaitedModels models, long waitMillis, Supplier<ReceiptIssuer> receipts) {
        this.models = models;
        this.waitNanos = waitMillis * 1_000_000;
        this.receipts = receipts;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = path(request);
        try {
            if (path.equals("/v1/models")) {
                write(response, 200, modelList(service(null, deadline())));
            } else if (path.startsWith("/v1/models/")) {
                write(response, 200, model(model(path.substring("/v1/models/".length()), null, deadline()).model()));
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
                case "/v1/chat/completions" -> complete(CompletionRequest.parse(body, true), request, response);
                case "/v1/completions" -> complete(CompletionRequest.parse(body, false), request, response);
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

    /** Now plus the configured wait. */
    long deadline() {
        return System.nanoTime() + waitNanos;
    }

    /** The models service, other than {@code not} (one that gave a request up), waiting for it until the deadline. */
    LanguageModels service(LanguageModels not, long deadline) throws ApiError {
        try {
            LanguageModels service = models.await(not, deadline);
            if (service == null) {
                throw ApiError.loading("the inference implementation is not running (being replaced, or stopped) and did"
                        + " not come back within " + waitNanos / 1_000_000 + " ms; see /health");
            }
            return service;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.status(503, "server_error", "interrupted while waiting for the inference implementation");
        }
    }

    /** A model, the service it is from, and how long the request waited for them (0: they were there). */
    private record Found(LanguageModels service, LanguageModel model, long waitedNanos) {
    }

    /** The model {@code id} (null: the default), waiting until the deadline while a model loads. */
    private Found model(String id, LanguageModels not, long deadline) throws ApiError {
        long asked = System.nanoTime();
        LanguageModels first = models.now();
        boolean waited = first == null || first == not;
        while (true) {
            LanguageModels service = service(not, deadline);
            List<LanguageModel> loaded = service.models();
            String loading = service.loading();
            var found = id == null ? loaded.stream().findFirst() : service.find(id);
            if (found.isPresent()) {
                return new Found(service, found.get(), waited ? System.nanoTime() - asked : 0);
            }
            try {
                if (!loading.isEmpty() && models.awaitChange(deadline)) {
                    waited = true;
                    continue;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (id == null) {
                throw loading.isEmpty()
                        ? ApiError.status(503, "server_error", "this node serves no model; see /health for why")
                        : ApiError.loading("no model is loaded yet (loading " + loading + ")");
            }
            if (loading.startsWith(id + ".")) {
                throw ApiError.loading("the model '" + id + "' is loading (" + loading + "); try again shortly");
            }
            throw ApiError.notFound("model_not_found", "the model '" + id + "' does not exist on this node; loaded: "
                    + loaded.stream().map(m -> m.info().id()).toList());
        }
    }

    private ObjectNode modelList(LanguageModels service) {
        ObjectNode list = JSON.createObjectNode().put("object", "list");
        ArrayNode data = list.putArray("data");
        for (LanguageModel m : service.models()) {
            data.add(model(m));
            for (CulturePack pack : m.adapters()) {
                data.add(adapter(m, pack));
            }
        }
        return list;
    }

    private static ObjectNode adapter(LanguageModel model, CulturePack pack) {
        ObjectNode node = JSON.createObjectNode().put("id", model.info().id() + ":" + pack.name()).put("object", "model")
                .put("created", 0).put("owned_by", pack.bundle());
        ObjectNode meta = node.putObject("meta").put("base_model", model.info().id()).put("adapter", pack.name())
                .put("title", pack.title()).put("lora_sha256", pack.loraSha256()).put("synthetic", pack.synthetic())
                .put("bundle", pack.bundle() + " " + pack.version());
        ArrayNode languages = meta.putArray("languages");
        pack.languages().forEach(languages::add);
        return node;
    }

    private static ObjectNode model(LanguageModel model) {
        ModelInfo info = model.info();
        ObjectNode node = JSON.createObjectNode().put("id", info.id()).put("object", "model").put("created", 0)
                .put("owned_by", info.demo() ? "commonweal (demo, random weights)" : "commonweal");
        node.putObject("meta").put("architecture", info.architecture()).put("parameters", info.parameters())
                .put("weight_types", info.weightTypes()).put("context_length", info.contextLength())
                .put("sha256", info.sha256()).put("demo", info.demo()).put("description", info.description());
        model.requests().ifPresent(c -> node.with("meta").putObject("requests").put("running", c.running())
                .put("waiting", c.waiting()).put("completed", c.completed()).put("cancelled", c.cancelled())
                .put("failed", c.failed()));
        return node;
    }

    // ---------------------------------------------------------------------------------- completions

    private void complete(CompletionRequest r, HttpServletRequest request, HttpServletResponse response)
            throws ApiError, IOException {
        LanguageModels gaveUp = null;
        long asked = System.nanoTime();
        while (true) {
            LanguageModels service = attempt(r, request, response, gaveUp, asked);
            if (service == null) {
                return;
            }
            // The implementation went away before this generation produced anything: run it on the next one.
            gaveUp = service;
        }
    }

    /**
     * Answers the request with one generation; or, if the models service gave it up before anything was sent
     * ({@link ModelClosedException}), returns that service for the caller to try the next one.
     */
    private LanguageModels attempt(CompletionRequest r, HttpServletRequest request, HttpServletResponse response,
            LanguageModels gaveUp, long asked) throws ApiError, IOException {
        String person = person(request);
        Selection selected = select(r.model(), request.getHeader(ADAPTER_HEADER), gaveUp);
        LanguageModel model = selected.model();
        if (selected.waitedNanos() > 0 || gaveUp != null) {
            // The request waited for the models (an implementation being replaced, a model loading): say how long.
            response.setHeader(WAITED_HEADER, Long.toString((System.nanoTime() - asked) / 1_000_000));
        }
        CulturePack pack = selected.pack();
        String text;
        if (r.messages() != null) {
            List<ChatMessage> messages = r.messages();
            if (pack != null && !pack.systemPrompt().isBlank() && messages.stream().noneMatch(m -> m.role().equals("system"))) {
                messages = new ArrayList<>(messages);
                messages.add(0, new ChatMessage("system", pack.systemPrompt()));
            }
            try {
                text = model.chatTemplate().apply(messages, true);
            } catch (UnsupportedChatTemplateException e) {
                throw ApiError.invalid("messages", e.getMessage());
            }
        } else {
            text = r.prompt();
        }
        int[] prompt = model.tokenizer().encode(text, true, r.messages() != null);
        prompt = withoutDoubleBos(model, prompt);
        Reply reply = new Reply((r.messages() != null ? "chatcmpl-" : "cmpl-") + UUID.randomUUID(),
                System.currentTimeMillis() / 1000, selected.name(), "commonweal-" + model.info().sha256().substring(0, 12));
        response.setHeader("X-Commonweal-Seed", Long.toString(r.sampling().seed()));
        if (pack != null) {
            response.setHeader(ADAPTER_HEADER, pack.name() + "@" + pack.loraSha256());
        }
        Events events = new Events();
        Generation running = null;
        Receipting receipting = null;
        CulturePack.PolicyRule rule = pack == null ? null : ContentPolicy.match(pack, r.messages() != null
                ? r.messages().stream().filter(m -> m.role().equals("user")).map(ChatMessage::content).toList()
                : List.of(r.prompt()));
        if (rule != null) {
            // The pack's policy answers instead of the model.
            response.setHeader("X-Commonweal-Policy", rule.action() + ": " + rule.topic());
            events.text(rule.message());
            events.finished(new Completion("content_filter", prompt.length, new int[0], rule.message(), r.sampling().seed()));
        } else {
            int maxTokens = Math.min(r.maxTokens(), Math.max(0, model.info().contextLength() - prompt.length));
            GenerationRequest generation = new GenerationRequest(prompt, r.sampling(), maxTokens, r.stop(), false,
                    pack == null ? null : pack.name());
            receipting = receipting(person, r, response, model, pack, prompt, maxTokens);
            try {
                running = model.generate(generation, events);
            } catch (ModelClosedException e) {
                return selected.service();
            } catch (OverloadedException e) {
                throw ApiError.overloaded(e.getMessage(), e.retryAfterSeconds());
            } catch (IllegalArgumentException e) {
                throw ApiError.invalid(r.messages() != null ? "messages" : "prompt", e.getMessage());
            }
        }
        try {
            if (events.first(KEEP_ALIVE_MILLIS) instanceof ModelClosedException) {
                return selected.service();
            }
            if (r.stream()) {
                stream(r, reply, events, response, receipting);
            } else {
                whole(r, reply, events, response, receipting);
            }
        } catch (IOException e) {
            // the client went away: the finally block cancels
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (running != null) {
                running.cancel(); // a no-op once finished
            }
        }
        return null;
    }

    /** The person's key, if the request names one; a malformed key is a 400 before anything runs. */
    private static String person(HttpServletRequest request) throws ApiError {
        String person = request.getHeader(PERSON_HEADER);
        if (person == null || person.isBlank()) {
            return null;
        }
        person = person.trim();
        if (!PERSON_KEY.matcher(person).matches()) {
            throw ApiError.invalid(PERSON_HEADER, PERSON_HEADER + " is the person's Ed25519 public key in 64 hex digits, not '"
                    + (person.length() > 80 ? person.substring(0, 80) + "..." : person) + "'");
        }
        return person;
    }

    /**
     * What a receipt of this request needs, or null if it gets none: no person named, or (said in
     * {@value #RECEIPT_REFUSED_HEADER}) no seed or no proof of benefit on this node.
     */
    private Receipting receipting(String person, CompletionRequest r, HttpServletResponse response, LanguageModel model,
            CulturePack pack, int[] prompt, int maxTokens) {
        if (person == null) {
            return null;
        }
        ReceiptIssuer issuer = receipts.get();
        if (issuer == null) {
            response.setHeader(RECEIPT_REFUSED_HEADER, "proof of benefit does not run on this node");
            return null;
        }
        if (!r.seedGiven()) {
            response.setHeader(RECEIPT_REFUSED_HEADER, "receipts are for deterministic mode: send a seed");
            return null;
        }
        return new Receipting(issuer, person, model.info().sha256(), pack == null ? null : pack.name(),
                pack == null ? null : pack.loraSha256(), prompt, r, maxTokens);
    }

    /** A receipt to issue once the generation finished. */
    private record Receipting(ReceiptIssuer issuer, String person, String modelSha256, String adapter, String adapterSha256,
            int[] prompt, CompletionRequest request, int maxTokens) {

        /** The receipt as JSON (id, receipt, countersign path) or, if the issuer refused, the reason. */
        ObjectNode issue(Completion done) {
            ObjectNode node = JSON.createObjectNode();
            try {
                IssuedReceipt receipt = issuer.issue(new ServedRequest(person, modelSha256, adapter, adapterSha256, prompt,
                        request.sampling(), maxTokens, request.stop(), done.tokens()));
                return node.put("id", receipt.id()).put("receipt", receipt.receipt())
                        .put("countersign", issuer.countersignPath());
            } catch (RuntimeException e) {
                return node.put("refused", String.valueOf(e.getMessage()));
            }
        }
    }

    /** The receipt in the reply's headers too, while they can still be set. */
    private static void receiptHeaders(HttpServletResponse response, ObjectNode receipt) {
        if (response.isCommitted()) {
            return;
        }
        if (receipt.has("refused")) {
            response.setHeader(RECEIPT_REFUSED_HEADER, receipt.get("refused").asText());
        } else {
            response.setHeader(RECEIPT_HEADER, receipt.get("id").asText() + "; receipt=" + receipt.get("receipt").asText()
                    + "; countersign=" + receipt.get("countersign").asText());
        }
    }

    /**
     * The model and culture pack a request is for, the service they are from, the name replies carry, and how long
     * the request waited for them.
     */
    private record Selection(LanguageModels service, LanguageModel model, CulturePack pack, String name, long waitedNanos) {
    }

    /** What every part of one reply repeats. */
    private record Reply(String id, long created, String model, String fingerprint) {
    }

    /**
     * The model and adapter of a request: {@code base:adapter} in the model field, else the adapter header
     * ({@code none} for the base model), else the node's default adapter if the model has it.
     */
    private Selection select(String requested, String header, LanguageModels gaveUp) throws ApiError {
        String base = requested;
        String adapter = null;
        if (requested != null && requested.contains(":")) {
            base = requested.substring(0, requested.indexOf(':'));
            adapter = requested.substring(requested.indexOf(':') + 1);
        } else if (header != null && !header.isBlank()) {
            adapter = header.trim();
        }
        Found found = model(base, gaveUp, deadline());
        LanguageModels models = found.service();
        LanguageModel model = found.model();
        if (adapter == null && !models.defaultAdapter().isEmpty()) {
            String fallback = models.defaultAdapter();
            adapter = model.adapters().stream().anyMatch(p -> p.name().equals(fallback)) ? fallback : null;
        }
        if (adapter == null || adapter.isEmpty() || adapter.equals("none")) {
            return new Selection(models, model, null, model.info().id(), found.waitedNanos());
        }
        String name = adapter;
        CulturePack pack = model.adapters().stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
        if (pack == null) {
            for (CulturePack other : models.unmatchedPacks()) {
                if (other.name().equals(name)) {
                    throw ApiError.invalid("model", "adapter '" + name + "' (" + other.bundle() + " " + other.version()
                            + ") fits the base model with SHA-256 " + other.baseModelSha256() + ", but model '"
                            + model.info().id() + "' has SHA-256 " + model.info().sha256() + "; it cannot apply to it");
                }
            }
            throw ApiError.notFound("model_not_found", "model '" + model.info().id() + "' has no adapter '" + name
                    + "'; installed for it: " + model.adapters().stream().map(CulturePack::name).toList());
        }
        return new Selection(models, model, pack, model.info().id() + ":" + pack.name(), found.waitedNanos());
    }

    /** Chat templates of models whose tokenizer adds BOS may start with BOS too; one is enough. */
    private static int[] withoutDoubleBos(LanguageModel model, int[] prompt) {
        var bos = model.tokenizer().bos();
        if (prompt.length >= 2 && bos.isPresent() && prompt[0] == bos.getAsInt() && prompt[1] == bos.getAsInt()) {
            return java.util.Arrays.copyOfRange(prompt, 1, prompt.length);
        }
        return prompt;
    }

    private void whole(CompletionRequest r, Reply reply, Events events, HttpServletResponse response,
            Receipting receipting) throws IOException, InterruptedException, ApiError {
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
                ObjectNode body = envelope(r, reply, false);
                ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
                if (r.messages() != null) {
                    choice.putObject("message").put("role", "assistant").put("content", done.text());
                } else {
                    choice.put("text", done.text());
                }
                choice.putNull("logprobs");
                choice.put("finish_reason", finishReason(done));
                usage(body, done);
                if (receipting != null) {
                    ObjectNode receipt = receipting.issue(done);
                    receiptHeaders(response, receipt);
                    body.set("commonweal_receipt", receipt);
                }
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

    private void stream(CompletionRequest r, Reply reply, Events events, HttpServletResponse response,
            Receipting receipting) throws IOException, InterruptedException {
        response.setStatus(200);
        response.setContentType("text/event-stream");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        PrintWriter out = response.getWriter();
        boolean chat = r.messages() != null;
        if (chat) {
            ObjectNode first = chunk(r, reply);
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
                ObjectNode chunk = chunk(r, reply);
                ObjectNode choice = chunk.withArray("choices").addObject().put("index", 0);
                if (chat) {
                    choice.putObject("delta").put("content", text);
                } else {
                    choice.put("text", text);
                }
                choice.putNull("finish_reason");
                send(out, chunk);
            } else if (event instanceof Completion done) {
                ObjectNode last = chunk(r, reply);
                ObjectNode choice = last.withArray("choices").addObject().put("index", 0);
                if (chat) {
                    choice.putObject("delta");
                } else {
                    choice.put("text", "");
                }
                choice.put("finish_reason", finishReason(done));
                if (receipting != null) {
                    last.set("commonweal_receipt", receipting.issue(done));
                }
                send(out, last);
                if (r.includeUsage()) {
                    ObjectNode usage = chunk(r, reply);
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

    private static ObjectNode envelope(CompletionRequest r, Reply reply, boolean chunk) {
        String object = r.messages() != null ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
        return JSON.createObjectNode().put("id", reply.id()).put("object", object).put("created", reply.created())
                .put("model", reply.model()).put("system_fingerprint", reply.fingerprint());
    }

    private static ObjectNode chunk(CompletionRequest r, Reply reply) {
        ObjectNode node = envelope(r, reply, true);
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
        final LinkedBlockingDeque<Object> queue = new LinkedBlockingDeque<>();

        /** The first event, waiting up to {@code millis} (null if none came), left in the queue. */
        Object first(long millis) throws InterruptedException {
            Object event = queue.pollFirst(millis, TimeUnit.MILLISECONDS);
            if (event != null) {
                queue.putFirst(event);
            }
            return event;
        }

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
        LanguageModel model = model(optionalString(body, "model"), null, deadline()).model();
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
        LanguageModel model = model(optionalString(body, "model"), null, deadline()).model();
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

    static void error(HttpServletResponse response, ApiError e) throws IOException {
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
