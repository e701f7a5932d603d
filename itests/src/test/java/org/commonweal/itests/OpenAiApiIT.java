package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import org.commonweal.inference.transformer.SyntheticModel;

/**
 * Black box: {@code ./cw node --model} serves a random-weight model of the 15M shape, and the official OpenAI
 * Java SDK talks to it (models, chat and text completions, streamed and not); hostile requests get
 * OpenAI-shaped errors.
 */
public class OpenAiApiIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static CwProcess node;
    private static int port;
    private static OpenAIClient client;
    private static String model;

    @BeforeClass
    public static void startNode() throws Exception {
        port = DevDistribution.freePort();
        // A random-weight model of the 15M shape: big enough that a long generation lasts seconds.
        Path data = DevDistribution.workFolder("openai");
        Path modelFile = data.resolve("synthetic-15m-q8_0.gguf");
        SyntheticModel.parse("15m-q8_0").write(modelFile, 15, bytes -> { });
        node = CwProcess.start("node", "--port", Integer.toString(port), "--data", data.toString(), "--model",
                modelFile.toString());
        CwNodeIT.awaitHealthy(node, port);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused")
                .timeout(Duration.ofSeconds(60)).build();
        // The node is healthy while models load; the demo model appears once written and loaded.
        List<Model> models = client.models().list().data();
        for (long deadline = System.currentTimeMillis() + 60_000; models.isEmpty() && System.currentTimeMillis() < deadline; ) {
            Thread.sleep(100);
            models = client.models().list().data();
        }
        assertEquals(node.output(), 1, models.size());
        model = models.get(0).id();
    }

    @AfterClass
    public static void stopNode() {
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    public void listsTheModelAsRandomWeights() throws Exception {
        JsonNode list = JSON.readTree(CwNodeIT.get(port, "/v1/models").body());
        JsonNode model = list.get("data").get(0);
        assertEquals("synthetic-15m-q8_0", model.get("id").asText());
        assertTrue(model.toString(), model.get("meta").get("demo").asBoolean());
        assertTrue(model.toString(), model.get("meta").get("description").asText().contains("random weights"));
        assertEquals(64, model.get("meta").get("sha256").asText().length());
    }

    @Test
    public void aClientThatDisconnectsCancelsItsGeneration() throws Exception {
        long before = requests().get("cancelled").asLong();
        String body = "{\"prompt\": \"Tell me everything\", \"max_tokens\": 100000, \"stream\": true, \"seed\": 9}";
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                    + "\r\nContent-Length: " + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null && !line.startsWith("data: "); line = in.readLine()) {
                // headers, until the first token
            }
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (requests().get("cancelled").asLong() == before && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(requests().toString(), before + 1, requests().get("cancelled").asLong());
        assertEquals(0, requests().get("running").asInt());
    }

    private static JsonNode requests() throws Exception {
        return JSON.readTree(CwNodeIT.get(port, "/v1/models").body()).get("data").get(0).get("meta").get("requests");
    }

    @Test
    public void chatCompletionThroughTheSdkIsReproducibleWithASeed() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(model)
                .addSystemMessage("You are terse.").addUserMessage("Say hello.").maxCompletionTokens(12).seed(7L)
                .temperature(0.9).build();
        ChatCompletion first = client.chat().completions().create(params);
        ChatCompletion second = client.chat().completions().create(params);
        String text = first.choices().get(0).message().content().orElseThrow();
        assertEquals(text, second.choices().get(0).message().content().orElseThrow());
        assertEquals(model, first.model());
        long completion = first.usage().orElseThrow().completionTokens();
        assertTrue(completion > 0 && completion <= 12);
        assertTrue(first.usage().orElseThrow().promptTokens() > 5);
        String reason = first.choices().get(0).finishReason().asString();
        assertTrue(reason, reason.equals("length") || reason.equals("stop"));
    }

    @Test
    public void streamedChatGivesTheSameTextAsTheWholeReply() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(model)
                .addUserMessage("Count to three.").maxCompletionTokens(16).seed(11L).build();
        String whole = client.chat().completions().create(params).choices().get(0).message().content().orElseThrow();
        StringBuilder streamed = new StringBuilder();
        List<String> reasons = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(choice -> {
                choice.delta().content().ifPresent(streamed::append);
                choice.finishReason().ifPresent(r -> reasons.add(r.asString()));
            }));
        }
        assertEquals(whole, streamed.toString());
        assertEquals(1, reasons.size());
    }

    @Test
    public void textCompletionThroughTheSdk() {
        Completion completion = client.completions().create(CompletionCreateParams.builder()
                .model(CompletionCreateParams.Model.of(model)).prompt("Once upon a time").maxTokens(5L).seed(3L).build());
        assertEquals(5, completion.usage().orElseThrow().completionTokens());
        assertEquals("length", completion.choices().get(0).finishReason().asString());
        assertNotNull(completion.choices().get(0).text());
    }

    @Test
    public void anUnknownModelIsA404ThroughTheSdk() {
        try {
            client.chat().completions().create(ChatCompletionCreateParams.builder().model("no-such-model")
                    .addUserMessage("hi").build());
            throw new AssertionError("expected a 404");
        } catch (NotFoundException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("no-such-model"));
        }
    }

    @Test
    public void hostileRequestsGetOpenAiShapedErrors() throws Exception {
        assertError(post("/v1/chat/completions", "{not json"), 400, null);
        assertError(post("/v1/chat/completions", "[1,2]"), 400, null);
        assertError(post("/v1/chat/completions", "{\"messages\": \"hi\"}"), 400, "messages");
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
                + " \"temperature\": \"hot\"}"), 400, "temperature");
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
                + " \"max_tokens\": -1}"), 400, "max_tokens");
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
                + " \"bogus_field\": 1}"), 400, "bogus_field");
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}"), 400, null);
        assertError(post("/v1/completions", "{\"prompt\": 42}"), 400, "prompt");
        assertError(post("/v1/completions", "{\"prompt\": \"" + "word ".repeat(5000) + "\"}"), 400, "prompt");
        // The dev distribution's culture packs fit the demo model only: naming one for this model is refused.
        HttpResponse<String> mismatch = post("/v1/completions", "{\"model\": \"" + model + ":sw-ke\", \"prompt\": \"hi\"}");
        assertError(mismatch, 400, "model");
        assertTrue(mismatch.body(), mismatch.body().contains("fits the base model with SHA-256"));
        // A huge max_tokens is bounded by the context, not refused, and allocates nothing absurd.
        HttpResponse<String> huge = post("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 999999999999,"
                + " \"stop\": [\"\\n\"], \"seed\": 1, \"temperature\": 0}");
        assertEquals(huge.body(), 200, huge.statusCode());
        assertFalse(huge.headers().firstValue("X-Commonweal-Seed").isEmpty());
    }

    /** Proof of benefit is off on this node: a person's key changes nothing in the reply but a header saying so. */
    @Test
    public void aPersonsRequestOnANodeWithoutProofOfBenefitIsServedAsAnyOtherWithoutAReceipt() throws Exception {
        String body = "{\"prompt\": \"Jambo\", \"max_tokens\": 8, \"seed\": 9}";
        HttpResponse<String> plain = post("/v1/completions", body);
        HttpResponse<String> person = post("/v1/completions", body, "X-Commonweal-Person", "ab".repeat(32));
        assertEquals(person.body(), 200, person.statusCode());
        assertEquals(JSON.readTree(plain.body()).get("choices"), JSON.readTree(person.body()).get("choices"));
        assertNull(person.body(), JSON.readTree(person.body()).get("commonweal_receipt"));
        assertTrue(person.headers().firstValue("X-Commonweal-Receipt").isEmpty());
        assertEquals("proof of benefit does not run on this node",
                person.headers().firstValue("X-Commonweal-Receipt-Refused").orElseThrow());
        assertError(post("/v1/completions", body, "X-Commonweal-Person", "not-a-key"), 400, "X-Commonweal-Person");
    }

    @Test
    public void tokenizeAndDetokenizeLikeLlamaCpp() throws Exception {
        HttpResponse<String> tokens = post("/tokenize", "{\"content\": \"Hello world\", \"add_special\": true}");
        assertEquals(tokens.body(), 200, tokens.statusCode());
        JsonNode ids = JSON.readTree(tokens.body()).get("tokens");
        assertEquals(1, ids.get(0).asInt()); // BOS
        HttpResponse<String> text = post("/detokenize", "{\"tokens\": " + ids + "}");
        assertTrue(text.body(), JSON.readTree(text.body()).get("content").asText().endsWith("Hello world"));
        assertError(post("/detokenize", "{\"tokens\": [-5]}"), 400, "tokens");
    }

    private static void assertError(HttpResponse<String> response, int status, String param) throws Exception {
        assertEquals(response.body(), status, response.statusCode());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertNotNull(response.body(), error);
        assertFalse(error.get("message").asText().isBlank());
        assertEquals("invalid_request_error", error.get("type").asText());
        if (param != null) {
            assertEquals(response.body(), param, error.get("param").asText());
        }
    }

    /** POSTs JSON, with {@code headers} as name, value pairs. */
    private static HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
