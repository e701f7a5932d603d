package org.commonweal.benefit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.HexFormat;

import org.commonweal.benefit.Receipt;
import org.commonweal.chain.Chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code POST /api/benefit/receipts} with {@code {"receipt": "<hex>"}}: a receipt this node issued, countersigned by
 * its person, taken back to be claimed. 200 {@code {"id", "status": "accepted", "person", "tokens"}}; else the
 * benefit API's error shape {@code {"error": CODE, "message"}}: 400 {@code MALFORMED}, {@code UNAUTHORIZED} (another
 * node's or chain's), {@code BAD_SIGNATURE}; 403 {@code NOT_REGISTERED} (the person's key is not attested),
 * {@code WRONG_NATION}; 404 {@code UNKNOWN_RECEIPT}.
 */
final class ReceiptsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int MAX_BODY = 4096;

    private final transient ReceiptDesk desk;
    private final transient Chain chain;

    ReceiptsServlet(ReceiptDesk desk, Chain chain) {
        this.desk = desk;
        this.chain = chain;
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] encoded;
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                refuse(response, 413, "MALFORMED", "a receipt post is at most " + MAX_BODY + " bytes");
                return;
            }
            JsonNode json = MAPPER.readTree(body);
            JsonNode receipt = json == null ? null : json.get("receipt");
            if (receipt == null || !receipt.isTextual()) {
                refuse(response, 400, "MALFORMED", "post {\"receipt\": \"<hex>\"}: the receipt the reply carried,"
                        + " countersigned");
                return;
            }
            encoded = HexFormat.of().parseHex(receipt.asText().trim());
        } catch (IOException | IllegalArgumentException e) {
            refuse(response, 400, "MALFORMED", "post {\"receipt\": \"<hex>\"}: " + e.getMessage());
            return;
        }
        try {
            Receipt receipt = desk.accept(encoded, chain.state());
            BenefitServlet.write(response, 200, MAPPER.createObjectNode().put("id", HexFormat.of().formatHex(receipt.id()))
                    .put("status", "accepted").put("person", receipt.person().hex()).put("tokens", receipt.tokens()));
        } catch (ReceiptDesk.Refusal e) {
            refuse(response, e.status, e.code, e.getMessage());
        }
    }

    private static void refuse(HttpServletResponse response, int status, String code, String message) throws IOException {
        BenefitServlet.write(response, status, BenefitServlet.error(code, message));
    }
}
