package org.commonweal.chain.internal;

import java.util.HexFormat;

import org.commonweal.chain.TransactionStatus;
import org.commonweal.consensus.CommitCertificate;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.ProvenAccount;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.Transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The chain API's JSON: byte strings in lowercase hex, amounts as JSON integers (exact up to 2^63 - 1
 * for Jackson; clients in JavaScript should read them as big integers).
 */
final class ChainJson {

    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    private ChainJson() {
    }

    static ObjectNode header(BlockHeader h) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("height", h.height());
        node.put("hash", HEX.formatHex(h.hash()));
        node.put("chainId", h.chainId());
        node.put("previousHash", HEX.formatHex(h.previousHash()));
        node.put("timeMillis", h.timeMillis());
        node.put("proposer", h.proposer().hex());
        node.put("transactionRoot", HEX.formatHex(h.transactionRoot()));
        node.put("transactionCount", h.transactionCount());
        node.put("stateRoot", HEX.formatHex(h.stateRoot()));
        node.put("accountCount", h.accountCount());
        node.put("encoded", HEX.formatHex(h.encode()));
        return node;
    }

    static ObjectNode block(Block block, CommitCertificate certificate) {
        ObjectNode node = header(block.header());
        ArrayNode ids = node.putArray("transactions");
        block.transactions().forEach(tx -> ids.add(HEX.formatHex(tx.id())));
        if (certificate != null) {
            ObjectNode cert = node.putObject("certificate");
            cert.put("engine", certificate.engine());
            ArrayNode votes = cert.putArray("votes");
            certificate.votes().forEach(v -> votes.addObject().put("signer", v.signer().hex())
                    .put("signature", HEX.formatHex(v.signature())));
            cert.put("encoded", HEX.formatHex(certificate.encode()));
        }
        return node;
    }

    static ObjectNode transaction(Transaction tx) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("id", HEX.formatHex(tx.id()));
        node.put("chainId", tx.chainId());
        node.put("sender", tx.sender().hex());
        node.put("nonce", tx.nonce());
        node.put("fee", tx.fee());
        node.put("payloadType", tx.payloadType());
        node.put("payload", HEX.formatHex(tx.payload()));
        node.put("signature", HEX.formatHex(tx.signature()));
        if (tx.payloadType() == Transfer.TYPE) {
            try {
                Transfer transfer = Transfer.decode(tx.payload());
                node.putObject("transfer").put("to", transfer.recipient().hex()).put("amount", transfer.amount());
            } catch (Rejection e) {
                // committed transfers decode; a pending one with a bad payload is shown as bytes only
            }
        }
        return node;
    }

    static ObjectNode status(TransactionStatus status, byte[] blockHash) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("status", status.committed() ? "committed" : "pending");
        if (status.committed()) {
            node.put("height", status.height());
            node.put("index", status.index());
            node.put("blockHash", HEX.formatHex(blockHash));
        }
        node.set("transaction", transaction(status.transaction()));
        return node;
    }

    static ObjectNode account(ProvenAccount proven) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("key", proven.proof().key().hex());
        node.put("balance", proven.proof().account().balance());
        node.put("nonce", proven.proof().account().nonce());
        ObjectNode proof = node.putObject("proof");
        proof.put("index", proven.proof().inclusion().index());
        proof.put("treeSize", proven.proof().inclusion().treeSize());
        ArrayNode path = proof.putArray("path");
        proven.proof().inclusion().path().forEach(p -> path.add(HEX.formatHex(p)));
        proof.put("encoded", HEX.formatHex(proven.proof().inclusion().encode()));
        if (proven.proof().roots() != null) {
            roots(proof, proven.proof().roots());
        }
        node.set("head", header(proven.head()));
        return node;
    }

    /** The roots that bind one tree to the state root: present when the state has entries. */
    private static void roots(ObjectNode proof, org.commonweal.ledger.StateRoots roots) {
        ObjectNode node = proof.putObject("roots");
        node.put("accountsRoot", HEX.formatHex(roots.accountsRoot()));
        node.put("entryCount", roots.entryCount());
        node.put("entriesRoot", HEX.formatHex(roots.entriesRoot()));
    }

    static ObjectNode entry(org.commonweal.ledger.ProvenEntry proven) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("namespace", proven.proof().namespace());
        node.put("key", HEX.formatHex(proven.proof().key()));
        node.put("value", HEX.formatHex(proven.proof().value()));
        ObjectNode proof = node.putObject("proof");
        proof.put("index", proven.proof().inclusion().index());
        proof.put("treeSize", proven.proof().inclusion().treeSize());
        proof.put("encoded", HEX.formatHex(proven.proof().inclusion().encode()));
        roots(proof, proven.proof().roots());
        node.set("head", header(proven.head()));
        return node;
    }

    static ObjectNode error(String code, String message) {
        return MAPPER.createObjectNode().put("error", code).put("message", message);
    }

    /**
     * A transaction from JSON: {@code {"encoded": hex}} (its canonical bytes), or the fields
     * {@code chainId, sender, nonce, fee, payloadType, payload, signature}.
     */
    static Transaction parseTransaction(JsonNode json) throws Rejection {
        try {
            if (json.hasNonNull("encoded")) {
                return org.commonweal.ledger.TransactionCodec.decode(HEX.parseHex(json.get("encoded").asText()));
            }
            return new Transaction(required(json, "chainId").intValue(), PublicKey.fromHex(required(json, "sender").asText()),
                    required(json, "nonce").longValue(), required(json, "fee").longValue(),
                    required(json, "payloadType").intValue(), HEX.parseHex(required(json, "payload").asText()),
                    HEX.parseHex(required(json, "signature").asText()));
        } catch (IllegalArgumentException e) {
            throw new Rejection(Rejection.Reason.MALFORMED, "not a transaction: " + e.getMessage());
        }
    }

    private static JsonNode required(JsonNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException("the field '" + field + "' is missing (expected: encoded, or chainId,"
                    + " sender, nonce, fee, payloadType, payload, signature)");
        }
        if ((field.equals("chainId") || field.equals("nonce") || field.equals("fee") || field.equals("payloadType"))
                && !value.canConvertToLong()) {
            throw new IllegalArgumentException("the field '" + field + "' is not an integer: " + value);
        }
        return value;
    }
}
