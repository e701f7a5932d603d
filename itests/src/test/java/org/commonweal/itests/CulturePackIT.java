package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.inject.Inject;

import org.commonweal.inference.Completion;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.sampling.SamplingParams;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The dev distribution's three sample culture packs on the demo model, in the real framework: listed with their
 * languages, selected per request by model name or header, batched together with the same tokens as alone, their
 * policy answering instead of the model, their provenance published; a pack uninstalled under load lets its
 * running generations finish and refuses new ones clearly, and serves again once reinstalled.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class CulturePackIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> PACKS = List.of("sw-ke", "hi-in", "pt-br");

    @Inject
    private BundleContext context;

    /**
     * The current models service, looked up each time: Pax Exam applies the inference configuration while the
     * bundles start, so the component may be replaced (with its service) after an injection would have run.
     */
    private LanguageModels models() {
        var reference = context.getServiceReference(LanguageModels.class);
        return reference == null ? List::of : context.getService(reference);
    }

    @Configuration
    public Option[] configuration() {
        return DevDistribution.paxExamOptions(DevDistribution.workFolder("culture-packs"), DevDistribution.freePort());
    }

    private LanguageModel demoWithPacks() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            var demo = models().find("commonweal-demo");
            if (demo.isPresent() && demo.get().adapters().size() == PACKS.size()) {
                return demo.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the demo model with its three culture packs did not appear: " + models().models());
    }

    /** Generates and waits; returns the completion. */
    private static Completion generate(LanguageModel model, String adapter, long seed) throws Exception {
        CompletableFuture<Completion> done = new CompletableFuture<>();
        model.generate(new GenerationRequest(model.tokenizer().encode("Habari", true, false), SamplingParams.defaults(seed),
                24, List.of(), true, adapter), GenerationListener.completing(done));
        return done.get(60, TimeUnit.SECONDS);
    }

    @Test
    public void differentAdaptersInOneBatchGiveWhatEachGivesAlone() throws Exception {
        LanguageModel demo = demoWithPacks();
        List<String> variants = new ArrayList<>(PACKS);
        variants.add(null);
        List<int[]> alone = new ArrayList<>();
        for (String adapter : variants) {
            alone.add(generate(demo, adapter, 42).tokens());
        }
        List<CompletableFuture<Completion>> together = new ArrayList<>();
        for (String adapter : variants) {
            CompletableFuture<Completion> done = new CompletableFuture<>();
            demo.generate(new GenerationRequest(demo.tokenizer().encode("Habari", true, false), SamplingParams.defaults(42),
                    24, List.of(), true, adapter), GenerationListener.completing(done));
            together.add(done);
        }
        for (int i = 0; i < variants.size(); i++) {
            assertTrue(variants.get(i), Arrays.equals(alone.get(i), together.get(i).get(60, TimeUnit.SECONDS).tokens()));
        }
        // Each adapter changes what the model says.
        for (int i = 0; i < PACKS.size(); i++) {
            assertFalse(PACKS.get(i), Arrays.equals(alone.get(i), alone.get(PACKS.size())));
        }
    }

    @Test
    public void selectionPolicyAndProvenanceOverHttp() throws Exception {
        LanguageModel demo = demoWithPacks();
        JsonNode list = JSON.readTree(get("/v1/models").body()).get("data");
        JsonNode sw = null;
        for (JsonNode entry : list) {
            if (entry.get("id").asText().equals("commonweal-demo:sw-ke")) {
                sw = entry;
            }
        }
        assertTrue(list.toString(), sw != null && sw.get("meta").get("languages").toString().contains("sw-KE"));

        String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"Habari yako?\"}], \"max_tokens\": 8, \"seed\": 5";
        HttpResponse<String> byName = post("/v1/chat/completions", chat + ", \"model\": \"commonweal-demo:sw-ke\"}", null);
        assertEquals(byName.body(), 200, byName.statusCode());
        assertEquals("commonweal-demo:sw-ke", JSON.readTree(byName.body()).get("model").asText());
        String swSha = demo.adapters().stream().filter(p -> p.name().equals("sw-ke")).findFirst().orElseThrow().loraSha256();
        assertEquals("sw-ke@" + swSha, byName.headers().firstValue("X-Commonweal-Adapter").orElseThrow());
        HttpResponse<String> byHeader = post("/v1/chat/completions", chat + "}", "sw-ke");
        assertEquals(JSON.readTree(byName.body()).get("choices"), JSON.readTree(byHeader.body()).get("choices"));
        HttpResponse<String> base = post("/v1/chat/completions", chat + "}", null);
        assertTrue(base.headers().firstValue("X-Commonweal-Adapter").isEmpty());

        HttpResponse<String> refused = post("/v1/chat/completions", "{\"model\": \"commonweal-demo:pt-br\", \"messages\":"
                + " [{\"role\": \"user\", \"content\": \"Como FAZER uma bomba?\"}]}", null);
        JsonNode choice = JSON.readTree(refused.body()).get("choices").get(0);
        assertEquals(refused.body(), "content_filter", choice.get("finish_reason").asText());
        assertEquals("Não posso ajudar com isso.", choice.get("message").get("content").asText());

        HttpResponse<String> unknown = post("/v1/chat/completions", chat + ", \"model\": \"commonweal-demo:xx-yy\"}", null);
        assertEquals(unknown.body(), 404, unknown.statusCode());
        assertTrue(unknown.body(), unknown.body().contains("has no adapter 'xx-yy'"));

        JsonNode provenance = JSON.readTree(get("/api/provenance").body());
        assertEquals(provenance.toString(), demo.info().sha256(), provenance.get("models").get(0).get("sha256").asText());
        assertEquals(3, provenance.get("adapters").size());
        for (JsonNode adapter : provenance.get("adapters")) {
            assertEquals(demo.info().sha256(), adapter.get("base_model_sha256").asText());
            assertTrue(adapter.get("synthetic").asBoolean());
            assertEquals(64, adapter.get("training_manifest_sha256").asText().length());
        }
    }

    @Test
    public void aPackUninstalledUnderLoadFinishesItsRequestsAndRefusesNewOnes() throws Exception {
        LanguageModel demo = demoWithPacks();
        Bundle pack = Arrays.stream(context.getBundles())
                .filter(b -> "org.commonweal.culture.sw-ke".equals(b.getSymbolicName())).findFirst().orElseThrow();
        String location = pack.getLocation();
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger refusedClearly = new AtomicInteger();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            long seed = c;
            clients.add(Thread.ofPlatform().start(() -> {
                while (loading.get()) {
                    try {
                        Completion done = generate(demo, "sw-ke", seed);
                        assertEquals(24, done.completionTokens());
                        completed.incrementAndGet();
                    } catch (IllegalArgumentException e) {
                        if (e.getMessage().contains("has no adapter 'sw-ke'")) {
                            refusedClearly.incrementAndGet();
                        } else {
                            failures.add(e);
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }
            }));
        }
        Thread.sleep(500);
        pack.uninstall();
        Thread.sleep(500);
        loading.set(false);
        for (Thread client : clients) {
            client.join(60_000);
        }
        assertEquals(failures.toString(), 0, failures.size());
        assertTrue("requests completed before the uninstall: " + completed, completed.get() > 0);
        assertTrue("requests refused after it: " + refusedClearly, refusedClearly.get() > 0);
        assertTrue(demo.adapters().stream().noneMatch(p -> p.name().equals("sw-ke")));

        Bundle again = context.installBundle(location);
        again.start();
        long deadline = System.currentTimeMillis() + 30_000;
        while (demo.adapters().stream().noneMatch(p -> p.name().equals("sw-ke")) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(24, generate(demo, "sw-ke", 1).completionTokens());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body, String adapter) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (adapter != null) {
            request.header("X-Commonweal-Adapter", adapter);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + context.getProperty("org.osgi.service.http.port") + path);
    }
}
