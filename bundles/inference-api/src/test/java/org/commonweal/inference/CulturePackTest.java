package org.commonweal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** Culture pack descriptors: what is read, and each mistake named. */
class CulturePackTest {

    private static final String SHA = "a".repeat(64);
    private static final String VALID = """
            {"name": "sw-ke", "title": "Kiswahili", "languages": ["sw-KE", "sw"],
             "baseModel": {"sha256": "%s"}, "lora": {"resource": "adapter/sw.gguf", "sha256": "%s", "scale": 0.5},
             "systemPrompt": "Jibu kwa Kiswahili.",
             "policy": [{"action": "refuse", "topic": "weapons", "words": ["bomu"], "message": "Siwezi."}],
             "locale": {"currency": "KES", "dateFormat": "dd/MM/yyyy"},
             "trainingData": [{"name": "corpus", "sha256": "%s", "licence": "CC-BY-4.0", "bytes": 1024}]}
            """.formatted(SHA, SHA, SHA);

    private static String refusal(String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CulturePack.parse(json.getBytes(StandardCharsets.UTF_8), "org.example.pack", "1.0.0"));
        assertTrue(e.getMessage().startsWith("the culture pack descriptor of org.example.pack"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsADescriptor() {
        CulturePack pack = CulturePack.parse(VALID.getBytes(StandardCharsets.UTF_8), "org.example.pack", "1.0.0");
        assertEquals("sw-ke", pack.name());
        assertEquals(0.5f, pack.loraScale());
        assertEquals("KES", pack.locale().get("currency"));
        assertEquals(1, pack.trainingData().size());
        assertEquals(64, pack.descriptorSha256().length());
        assertEquals(64, pack.trainingManifestSha256().length());
    }

    @Test
    void namesEachMistake() {
        assertTrue(refusal("[]").contains("must be a JSON object"));
        assertTrue(refusal("{nope").contains("is not JSON"));
        assertTrue(refusal(VALID.replace("\"sw-ke\"", "\"Sw Ke\"")).contains("name 'Sw Ke' must be lower case"));
        assertTrue(refusal(VALID.replace("\"sw-KE\", \"sw\"", "\"not a tag!\"")).contains("is not a BCP 47 tag"));
        assertTrue(refusal(VALID.replace("\"baseModel\": {\"sha256\": \"" + SHA + "\"}", "\"baseModel\": {\"sha256\": \"abc\"}"))
                .contains("baseModel.sha256 must be 64"));
        assertTrue(refusal(VALID.replace("\"refuse\"", "\"delete\"")).contains("policy action 'delete'"));
        assertTrue(refusal(VALID.replace("\"licence\": \"CC-BY-4.0\", ", "")).contains("'licence' must be a non-empty string"));
        assertTrue(refusal(VALID.replaceAll("\"trainingData\": \\[.*\\]", "\"trainingData\": []"))
                .contains("trainingData must list the adapter's sources"));
    }
}
