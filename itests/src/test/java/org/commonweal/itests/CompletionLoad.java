package org.commonweal.itests;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A steady load of completion requests against a node, as clients send them: {@code clients} threads, each sending
 * one request after the other (small {@code max_tokens}, every third one streamed, every fourth one a chat to a
 * culture pack's adapter), recording when each started and ended and whether its reply was whole and from the model asked
 * for (a non-streamed reply: status 200 and a {@code choices} array; a stream: status 200 and {@code data: [DONE]}).
 * Anything else is a failed request.
 */
final class CompletionLoad implements AutoCloseable {

    /**
     * One request: when it was sent and answered (ns, {@link System#nanoTime}), how long the node says it waited for
     * the models ({@code X-Commonweal-Waited-Ms}, 0 if it did not), and what went wrong, if anything.
     */
    record Call(long start, long end, boolean streamed, long waitedMillis, String failure) {
        long millis() {
            return (end - start) / 1_000_000;
        }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final URI base;
    private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    private final String adapterModel;

    /** {@code adapterModel}: the {@code base:adapter} name every fourth request asks for. */
    CompletionLoad(int port, int clients, int maxTokens, String adapterModel) {
        this.adapterModel = adapterModel;
        base = URI.create("http://127.0.0.1:" + port);
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().name("load-" + c).start(() -> {
                for (int i = 0; running.get(); i++) {
                    boolean stream = (i + client) % 3 == 0;
                    boolean chat = i % 2 == 0;
                    String model = chat && i % 4 == 0 ? adapterModel : "commonweal-demo";
                    calls.add(call(chat, model, stream, maxTokens, client * 100_000L + i));
                }
            }));
        }
    }

    private Call call(boolean chat, String model, boolean stream, int maxTokens, long seed) {
        String body = (chat ? "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello number " + seed + "\"}]"
                : "{\"prompt\": \"Once upon a time " + seed + "\"") + ", \"model\": \"" + model + "\", \"max_tokens\": "
                + maxTokens + ", \"seed\": " + seed + ", \"stream\": " + stream + "}";
        HttpRequest request = HttpRequest.newBuilder(base.resolve(chat ? "/v1/chat/completions" : "/v1/completions"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        String failure;
        long waited = 0;
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            String reply = response.body();
            waited = response.headers().firstValueAsLong("X-Commonweal-Waited-Ms").orElse(0);
            if (response.statusCode() != 200) {
                failure = "status " + response.statusCode() + ": " + reply;
            } else if (stream ? !reply.endsWith("data: [DONE]\n\n") || reply.contains("\"error\"")
                    : !reply.contains("\"choices\":[{") || !reply.contains("\"finish_reason\":\"")) {
                failure = "an incomplete reply: " + reply;
            } else if (!reply.contains("\"model\":\"" + model + "\"")) {
                failure = "a reply from another model than " + model + ": " + reply;
            } else {
                failure = null;
            }
        } catch (Exception e) {
            failure = e.toString();
        }
        return new Call(start, System.nanoTime(), stream, waited, failure);
    }

    /** Every request so far, in the order they ended. */
    List<Call> calls() {
        List<Call> all = new ArrayList<>(calls);
        all.sort(Comparator.comparingLong(Call::end));
        return all;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(120_000);
        }
    }

    /** The requests sent in [from, to) (ns). */
    static List<Call> sentBetween(List<Call> calls, long from, long to) {
        return calls.stream().filter(c -> c.start() >= from && c.start() < to).toList();
    }

    /** The requests that were in flight at some moment of [from, to] (ns). */
    static List<Call> overlapping(List<Call> calls, long from, long to) {
        return calls.stream().filter(c -> c.end() >= from && c.start() <= to).toList();
    }

    /** The {@code p}-th percentile latency (ms) of these requests. */
    static long percentile(List<Call> calls, double p) {
        if (calls.isEmpty()) {
            return -1;
        }
        List<Long> millis = calls.stream().map(Call::millis).sorted().toList();
        return millis.get(Math.min(millis.size() - 1, (int) Math.ceil(p / 100 * millis.size()) - 1));
    }

    /**
     * The longest time (ms) in [from, to] in which no reply ended: what every client sees as the service standing
     * still (a steady load ends replies every few milliseconds).
     */
    static long longestSilence(List<Call> calls, long from, long to) {
        long previous = from;
        long longest = 0;
        for (Call c : calls) {
            if (c.end() < from) {
                continue;
            }
            long end = Math.min(c.end(), to);
            longest = Math.max(longest, end - previous);
            previous = end;
            if (c.end() >= to) {
                return longest / 1_000_000;
            }
        }
        return Math.max(longest, to - previous) / 1_000_000;
    }
}
