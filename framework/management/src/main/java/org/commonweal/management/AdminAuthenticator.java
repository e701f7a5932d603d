package org.commonweal.management;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;

/**
 * Signed admin requests. An operator signs, with the Ed25519 key whose public half the node's configuration lists,
 * {@code commonweal-admin/v1 \n METHOD \n PATH[?QUERY] \n TIMESTAMP-MILLIS \n hex(SHA-256(body))} and sends headers
 * {@value #KEY_HEADER} (hex public key), {@value #TIMESTAMP_HEADER} and {@value #SIGNATURE_HEADER} (hex). A request is
 * accepted only from a listed key, with a valid signature, a timestamp within {@link #WINDOW_MILLIS} of the node's
 * clock, and a signature not seen before (replays within the window are refused; older ones are stale). The launcher's
 * {@code AdminClient} writes the same text: keep the two in step.
 */
final class AdminAuthenticator {

    static final String KEY_HEADER = "Commonweal-Key";
    static final String TIMESTAMP_HEADER = "Commonweal-Timestamp";
    static final String SIGNATURE_HEADER = "Commonweal-Signature";
    static final long WINDOW_MILLIS = 60_000;

    private final Map<PublicKey, String> operators;
    /** Signatures accepted within the window, to refuse replays; pruned as they go stale. */
    private final Map<String, Long> seen = new LinkedHashMap<>();

    /** {@code operators}: each {@code hex} or {@code name=hex}. */
    AdminAuthenticator(String[] operators) {
        Map<PublicKey, String> keys = new LinkedHashMap<>();
        for (String operator : operators) {
            String text = operator.strip();
            int eq = text.indexOf('=');
            String name = eq < 0 ? null : text.substring(0, eq).strip();
            PublicKey key = PublicKey.fromHex(eq < 0 ? text : text.substring(eq + 1).strip());
            keys.put(key, name == null ? key.hex() : name);
        }
        this.operators = Map.copyOf(keys);
    }

    boolean hasOperators() {
        return !operators.isEmpty();
    }

    static String signedText(String method, String pathAndQuery, long timestampMillis, byte[] body) {
        return "commonweal-admin/v1\n" + method + "\n" + pathAndQuery + "\n" + timestampMillis + "\n"
                + HexFormat.of().formatHex(Sha256.hash(body));
    }

    /** The operator's name when the request is authentic, else the reason it is refused. */
    synchronized Result check(String method, String pathAndQuery, String key, String timestamp, String signature,
            byte[] body, long nowMillis) {
        if (operators.isEmpty()) {
            return Result.refused("this node lists no operator keys, so its admin API accepts no request. Fix: add your"
                    + " public key (cw repo keygen makes a key pair) to configuration " + UpgradeAgent.PID
                    + " \"operators\" in the distribution and restart the node");
        }
        if (key == null || timestamp == null || signature == null) {
            return Result.refused("the request is not signed (headers " + KEY_HEADER + ", " + TIMESTAMP_HEADER + " and "
                    + SIGNATURE_HEADER + " are required). Fix: use cw upgrade / cw rollback with --key FILE");
        }
        PublicKey publicKey;
        long time;
        byte[] signatureBytes;
        try {
            publicKey = PublicKey.fromHex(key.strip());
            time = Long.parseLong(timestamp.strip());
            signatureBytes = HexFormat.of().parseHex(signature.strip());
        } catch (IllegalArgumentException e) {
            return Result.refused("the request's signature headers are malformed (" + e.getMessage() + ")");
        }
        String operator = operators.get(publicKey);
        if (operator == null) {
            return Result.refused("key " + publicKey.hex() + " is not one of this node's operators. Fix: add it to"
                    + " configuration " + UpgradeAgent.PID + " \"operators\", or sign with an operator's key");
        }
        if (Math.abs(nowMillis - time) > WINDOW_MILLIS) {
            return Result.refused("the request's timestamp is " + (nowMillis - time) / 1000 + " s from the node's clock (at"
                    + " most " + WINDOW_MILLIS / 1000 + " s allowed): it is stale or the clocks differ. Fix: sync the clock"
                    + " (NTP) and send a fresh request");
        }
        byte[] text = signedText(method, pathAndQuery, time, body).getBytes(StandardCharsets.UTF_8);
        if (signatureBytes.length != Ed25519.SIGNATURE_LENGTH || !Ed25519.verify(publicKey, text, signatureBytes)) {
            return Result.refused("the request's signature does not verify with key " + publicKey.hex() + " (the method,"
                    + " path, timestamp or body differ from what was signed)");
        }
        seen.values().removeIf(t -> Math.abs(nowMillis - t) > WINDOW_MILLIS);
        if (seen.putIfAbsent(signature.strip().toLowerCase(), time) != null) {
            return Result.refused("this exact request was already received (a replay). Fix: send a freshly signed request");
        }
        return Result.accepted(operator + " (" + publicKey.hex() + ")");
    }

    record Result(Optional<String> operator, String refusal) {
        static Result accepted(String operator) {
            return new Result(Optional.of(operator), null);
        }

        static Result refused(String why) {
            return new Result(Optional.empty(), why);
        }
    }
}
