package org.commonweal.chain.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.commonweal.chain.Chain;
import org.commonweal.chain.TransactionStatus;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The chain API, under {@code /api/chain}:
 * <pre>
 * GET  /api/chain                      head, chain id, pending count, engine
 * POST /api/chain/transactions[?wait=S] a transaction: application/octet-stream (its encoding) or JSON
 * GET  /api/chain/transactions/{id}    pending or committed (height, index, block)
 * GET  /api/chain/blocks/{height|hash|head}  JSON, or its encoding with Accept: application/octet-stream
 * GET  /api/chain/certificates/{height}  the block's commit certificate, encoded (application/octet-stream)
 * GET  /api/chain/accounts/{key}       balance, nonce, Merkle proof, and the header it proves against
 * GET  /api/chain/entries/{ns}/{hex}   a state entry (key in hex, '-' for the empty key), its proof and header
 * GET  /api/chain/stream[?from=H]      Server-Sent Events: one "block" event per committed block
 * </pre>
 * Errors are JSON {@code {"error": CODE, "message": words}} with a 4xx/5xx status; rejected transactions
 * carry the ledger's reason code.
 */
@Component(service = Servlet.class, property = "osgi.http.whiteboard.servlet.pattern=/api/chain/*")
public final class ChainServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final HexFormat HEX = HexFormat.of();
    static final int MAX_STREAMS = 32;
    private static final long MAX_WAIT_SECONDS = 60;
    private static final long HEARTBEAT_MILLIS = 15_000;

    private final transient Chain chain;
    private final AtomicInteger streams = new AtomicInteger();

    @Activate
    public ChainServlet(@Reference(name = "chain") Chain chain) {
        this.chain = chain;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String[] path = segments(request);
        try {
            if (path.length == 0) {
                BlockHeader head = chain.head();
                ObjectNode node = ChainJson.MAPPER.createObjectNode().put("chainId", chain.chainId())
                        .put("pendingTransactions", chain.pendingTransactions())
                        .put("engine", chain.engine().orElse(null));
                node.set("head", ChainJson.header(head));
                write(response, 200, node);
            } else if (path.length == 2 && path[0].equals("transactions")) {
                byte[] id = hex(path[1], 32, "transaction id");
                Optional<TransactionStatus> status = chain.transaction(id);
                if (status.isEmpty()) {
                    write(response, 404, ChainJson.error("NOT_FOUND", "no transaction " + path[1] + " is pending or"
                            + " committed on this node"));
                } else {
                    write(response, 200, status(status.get()));
                }
            } else if (path.length == 2 && path[0].equals("blocks")) {
                block(path[1], request, response);
            } else if (path.length == 2 && path[0].equals("certificates")) {
                long height = parseHeight(path[1]);
                Optional<org.commonweal.consensus.CommitCertificate> certificate = chain.certificate(height);
                if (certificate.isEmpty()) {
                    write(response, 404, ChainJson.error("NOT_FOUND", "no certificate of block " + height + "; the head is"
                            + " at " + chain.head().height() + " (genesis has none)"));
                } else {
                    writeBinary(response, certificate.get().encode());
                }
            } else if (path.length == 2 && path[0].equals("accounts")) {
                PublicKey key = PublicKey.fromHex(path[1]);
                var proven = chain.prove(key);
                if (proven.isEmpty()) {
                    write(response, 404, ChainJson.error("NOT_FOUND", "account " + key + " has never received anything"
                            + " (balance 0, nonce 0 at height " + chain.head().height() + ")"));
                } else {
                    write(response, 200, ChainJson.account(proven.get()));
                }
            } else if (path.length == 3 && path[0].equals("entries")) {
                byte[] key = path[2].equals("-") ? new byte[0] : java.util.HexFormat.of().parseHex(path[2]);
                var proven = chain.proveEntry(path[1], key);
                if (proven.isEmpty()) {
                    write(response, 404, ChainJson.error("NOT_FOUND", "no entry " + path[1] + "/" + path[2] + " in the"
                            + " state at height " + chain.head().height()));
                } else {
                    write(response, 200, ChainJson.entry(proven.get()));
                }
            } else if (path.length == 1 && path[0].equals("stream")) {
                stream(request, response);
            } else {
                notFound(response);
            }
        } catch (IllegalArgumentException e) {
            write(response, 400, ChainJson.error("BAD_REQUEST", e.getMessage()));
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String[] path = segments(request);
        if (path.length != 1 || !path[0].equals("transactions")) {
            notFound(response);
            return;
        }
        Transaction tx;
        long wait;
        try {
            wait = Math.min(MAX_WAIT_SECONDS, Long.parseLong(Optional.ofNullable(request.getParameter("wait")).orElse("0")));
            byte[] body = readBody(request.getInputStream(), 3 * TransactionCodec.MAX_TRANSACTION_BYTES);
            String type = Optional.ofNullable(request.getContentType()).orElse("");
            if (type.startsWith("application/octet-stream")) {
                tx = TransactionCodec.decode(body);
            } else if (type.startsWith("application/json")) {
                tx = ChainJson.parseTransaction(ChainJson.MAPPER.readTree(body));
            } else {
                write(response, 415, ChainJson.error("UNSUPPORTED_MEDIA_TYPE", "send the transaction as"
                        + " application/octet-stream (its encoding) or application/json, not '" + type + "'"));
                return;
            }
        } catch (Rejection e) {
            write(response, 400, ChainJson.error(e.reason().name(), e.getMessage()));
            return;
        } catch (JsonProcessingException e) {
            write(response, 400, ChainJson.error("MALFORMED", "the body is not JSON: " + e.getOriginalMessage()));
            return;
        } catch (NumberFormatException e) {
            write(response, 400, ChainJson.error("BAD_REQUEST", "wait is a number of seconds, not '"
                    + request.getParameter("wait") + "'"));
            return;
        } catch (TooLarge e) {
            write(response, 413, ChainJson.error(Rejection.Reason.OVERSIZED.name(), e.getMessage()));
            return;
        }
        Mempool.Admission admission = chain.submit(List.of(tx)).getFirst();
        String id = HEX.formatHex(tx.id());
        switch (admission.outcome()) {
            case REJECTED -> write(response, 400, ChainJson.error(admission.rejection().reason().name(),
                    admission.rejection().getMessage()).put("id", id));
            case FULL -> {
                response.setHeader("Retry-After", "1");
                write(response, 503, ChainJson.error("FULL", "the mempool is full and this transaction's fee is not"
                        + " above the lowest waiting one; retry later or raise the fee").put("id", id));
            }
            default -> {
                Optional<TransactionStatus> status = Optional.empty();
                if (wait > 0) {
                    try {
                        status = chain.awaitCommitted(tx.id(), wait * 1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                boolean committed = status.isPresent() && status.get().committed();
                ObjectNode node = status.isPresent() ? status(status.get()) : ChainJson.MAPPER.createObjectNode();
                node.put("id", id).put("outcome", admission.outcome().name());
                write(response, committed ? 200 : 202, node);
            }
        }
    }

    private ObjectNode status(TransactionStatus status) {
        byte[] blockHash = status.committed() ? chain.block(status.height()).orElseThrow().header().hash() : null;
        return ChainJson.status(status, blockHash);
    }

    private void block(String which, HttpServletRequest request, HttpServletResponse response) throws IOException {
        long height;
        if (which.equals("head")) {
            height = chain.head().height();
        } else if (which.length() == 64) {
            Optional<Long> found = chain.height(hex(which, 32, "block hash"));
            if (found.isEmpty()) {
                write(response, 404, ChainJson.error("NOT_FOUND", "no committed block has hash " + which));
                return;
            }
            height = found.get();
        } else {
            height = parseHeight(which);
        }
        Optional<Block> block = chain.block(height);
        if (block.isEmpty()) {
            write(response, 404, ChainJson.error("NOT_FOUND", "no block " + height + "; the head is at "
                    + chain.head().height()));
            return;
        }
        String accept = Optional.ofNullable(request.getHeader("Accept")).orElse("");
        if (accept.contains("application/octet-stream")) {
            writeBinary(response, block.get().encode());
            return;
        }
        write(response, 200, ChainJson.block(block.get(), chain.certificate(height).orElse(null)));
    }

    private static void writeBinary(HttpServletResponse response, byte[] bytes) throws IOException {
        response.setStatus(200);
        response.setContentType("application/octet-stream");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    private static long parseHeight(String which) {
        try {
            return Long.parseLong(which);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a block is named by its height, its 64 hex digit hash or 'head',"
                    + " not '" + which + "'");
        }
    }

    /** One SSE event per committed block, from {@code ?from=} (or Last-Event-ID) + 1 on, then live. */
    private void stream(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (streams.incrementAndGet() > MAX_STREAMS) {
            streams.decrementAndGet();
            response.setHeader("Retry-After", "5");
            write(response, 503, ChainJson.error("BUSY", MAX_STREAMS + " block streams are open on this node; retry"
                    + " later or poll /api/chain/blocks/head"));
            return;
        }
        BlockingQueue<Block> queue = new ArrayBlockingQueue<>(1024);
        boolean[] overflowed = { false };
        try (AutoCloseable subscription = chain.subscribe(block -> {
            if (!queue.offer(block)) {
                overflowed[0] = true; // a client too slow to read: end its stream, it resumes with Last-Event-ID
            }
        })) {
            String from = Optional.ofNullable(request.getParameter("from")).orElse(request.getHeader("Last-Event-ID"));
            long sent = from == null ? chain.head().height() : Long.parseLong(from);
            response.setStatus(200);
            response.setContentType("text/event-stream");
            response.setCharacterEncoding("UTF-8");
            response.setHeader("Cache-Control", "no-store");
            var out = response.getWriter();
            out.write(": chain " + chain.chainId() + ", blocks after " + sent + "\n\n");
            out.flush();
            for (long h = sent + 1; h <= chain.head().height(); h++) { // catch up
                event(out, chain.block(h).orElseThrow());
                sent = h;
            }
            while (!overflowed[0] && !out.checkError()) {
                Block block = queue.poll(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
                if (block == null) {
                    out.write(": keep-alive\n\n");
                } else if (block.header().height() > sent) {
                    event(out, block);
                    sent = block.header().height();
                }
                out.flush();
            }
        } catch (NumberFormatException e) {
            write(response, 400, ChainJson.error("BAD_REQUEST", "from is a block height: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // the client went away
        } finally {
            streams.decrementAndGet();
        }
    }

    private void event(java.io.PrintWriter out, Block block) throws JsonProcessingException {
        out.write("id: " + block.header().height() + "\nevent: block\ndata: "
                + ChainJson.MAPPER.writeValueAsString(ChainJson.block(block, null)) + "\n\n");
    }

    private static String[] segments(HttpServletRequest request) {
        String info = Optional.ofNullable(request.getPathInfo()).orElse("/");
        return java.util.Arrays.stream(info.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }

    private static byte[] hex(String text, int bytes, String what) {
        if (text.length() != 2 * bytes) {
            throw new IllegalArgumentException("a " + what + " is " + 2 * bytes + " hex digits, not '" + text + "'");
        }
        return HEX.parseHex(text);
    }

    private static final class TooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message);
        }
    }

    private static byte[] readBody(InputStream in, int limit) throws IOException, TooLarge {
        byte[] body = in.readNBytes(limit + 1);
        if (body.length > limit) {
            throw new TooLarge("a transaction request has at most " + limit + " bytes");
        }
        return body;
    }

    private static void notFound(HttpServletResponse response) throws IOException {
        write(response, 404, ChainJson.error("NOT_FOUND", "no such chain API path; see /api/chain, /transactions,"
                + " /blocks/{height|hash|head}, /accounts/{key}, /entries/{namespace}/{key hex}, /stream"));
    }

    private static void write(HttpServletResponse response, int status, JsonNode body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        ChainJson.MAPPER.writerWithDefaultPrettyPrinter().writeValue(response.getOutputStream(), body);
    }
}
