package org.commonweal.inference.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;

import org.commonweal.inference.TestData;
import org.commonweal.inference.gguf.GgufFile;
import org.junit.jupiter.api.Test;

/**
 * Expected texts are llama.cpp's for the same conversation ({@code tests/test-chat-template.cpp}), except where
 * marked as following from llama.cpp's rules for a variant that test does not cover.
 */
class ChatTemplateTest {

    private static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage("system", "You are a helpful assistant"),
            new ChatMessage("user", "Hello"),
            new ChatMessage("assistant", "Hi there"),
            new ChatMessage("user", "Who are you"),
            new ChatMessage("assistant", "   I am an assistant   "),
            new ChatMessage("user", "Another question"));

    private static String detected(String expectedName, String jinja) throws UnsupportedChatTemplateException {
        ChatTemplate template = ChatTemplate.detect(jinja, "<s>", "</s>");
        assertEquals(expectedName, template.name());
        String text = template.apply(CONVERSATION, true);
        assertEquals(text, ChatTemplate.named(expectedName, "<s>", "</s>").apply(CONVERSATION, true));
        return text;
    }

    private static String named(String name) {
        return ChatTemplate.named(name, "<s>", "</s>").apply(CONVERSATION, true);
    }

    // ------------------------------------------------------------------ families

    @Test
    void chatml() throws Exception {
        assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
                + "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
                + "<|im_start|>assistant\n",
                detected("chatml", "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n'}}{% endfor %}"));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n",
                ChatTemplate.named("chatml", "", "").apply(List.of(new ChatMessage("user", "Hi")), false));
    }

    @Test
    void llama3() throws Exception {
        String expected = "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, detected("llama3",
                "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"));
        // Only C's whitespace is trimmed, as llama.cpp does: a no-break space stays.
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\n\u00a0x<|eot_id|>",
                ChatTemplate.named("llama3", "", "").apply(List.of(new ChatMessage("user", " \t\u00a0x\r\n")), false));
    }

    @Test
    void llama31FromARealGgufIsLlama3() throws IOException, UnsupportedChatTemplateException {
        try (GgufFile gguf = GgufFile.open(TestData.require("tokenizer", "ggml-vocab-llama3-bpe.gguf"))) {
            String jinja = gguf.string("tokenizer.chat_template");
            ChatTemplate template = ChatTemplate.detect(jinja, "<|begin_of_text|>", "<|eot_id|>");
            assertEquals("llama3", template.name());
            assertEquals("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                    template.apply(List.of(new ChatMessage("user", "Hi")), true));
        }
    }

    @Test
    void gemma() throws Exception {
        assertEquals("<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n"
                + "<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n"
                + "<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n"
                + "<start_of_turn>model\n",
                detected("gemma", "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"));
        // The system text waits for the first user turn; several are joined as llama.cpp joins them.
        assertEquals("<start_of_turn>model\nA<end_of_turn>\n<start_of_turn>user\nS1S2\n\nU<end_of_turn>\n",
                ChatTemplate.named("gemma", "", "").apply(List.of(new ChatMessage("system", " S1 "), new ChatMessage("system", "S2"),
                        new ChatMessage("assistant", "A"), new ChatMessage("user", "U")), false));
    }

    @Test
    void llama2WithoutASystemBlock() throws Exception {
        assertEquals("[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>"
                + "[INST] Another question [/INST]",
                detected("llama2", "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}"));
    }

    @Test
    void llama2WithASystemBlock() throws Exception {
        // Follows from llama.cpp's rules (its test has no plain <<SYS>> template).
        assertEquals("[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]"
                + "   I am an assistant   </s>[INST] Another question [/INST]",
                detected("llama2-sys", "{{ '[INST] <<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' }}"));
    }

    @Test
    void llama2WithBosInsideTheHistory() throws Exception {
        assertEquals("[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]"
                + "   I am an assistant   </s><s>[INST] Another question [/INST]",
                detected("llama2-sys-bos", "{{- bos_token + '[INST] ' + content + ' [/INST]' -}}{{- '[INST] <<SYS>>\\n' -}}"));
        assertTrue(ChatTemplate.named("llama2-sys-bos", "<BOS>", "</s>").apply(CONVERSATION, true).contains("</s><BOS>[INST] Who"));
    }

    @Test
    void llama2StrippingMessages() throws Exception {
        assertEquals("[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]"
                + "I am an assistant</s>[INST] Another question [/INST]",
                detected("llama2-sys-strip", "{{ '[INST] ' + content.strip() + ' [/INST]' }}{{ '<<SYS>>\\n' }}"));
    }

    @Test
    void mistralV1() throws Exception {
        assertEquals(" [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]"
                + "    I am an assistant   </s> [INST] Another question [/INST]",
                detected("mistral-v1", "{{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}"));
    }

    @Test
    void mistralV3() throws Exception {
        assertEquals("[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>"
                + "[INST] Another question[/INST]",
                detected("mistral-v3", "{{- \"[AVAILABLE_TOOLS] [\" }}{{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}"));
    }

    @Test
    void mistralV3Tekken() throws Exception {
        assertEquals("[INST]You are a helpful assistant\n\nHello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>"
                + "[INST]Another question[/INST]",
                detected("mistral-v3-tekken", "{{- \"[AVAILABLE_TOOLS][\" }}{{- \"[INST]\" + message[\"content\"] + \"[/INST]\" }}"));
    }

    @Test
    void mistralV7() throws Exception {
        assertEquals("[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST]"
                + "    I am an assistant   </s>[INST] Another question[/INST]",
                detected("mistral-v7", "{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{{ '[INST] ' + c + '[/INST]' }}"));
        // v7-tekken is only chosen by name, as in llama.cpp; it follows from llama.cpp's rules.
        assertEquals("[SYSTEM_PROMPT]You are a helpful assistant[/SYSTEM_PROMPT][INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]"
                + "   I am an assistant   </s>[INST]Another question[/INST]", named("mistral-v7-tekken"));
        // Assistant turns end with the model's EOS text.
        assertTrue(ChatTemplate.named("mistral-v7", "<s>", "<EOS>").apply(CONVERSATION, true).contains(" Hi there<EOS>[INST]"));
    }

    @Test
    void everyNameRoundTrips() {
        for (String name : List.of("chatml", "llama3", "gemma", "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip",
                "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "mistral-v7-tekken")) {
            assertEquals(name, ChatTemplate.named(name, "<s>", "</s>").name());
        }
    }

    // ------------------------------------------------------------------ refusals

    @Test
    void anUnrecognisedTemplateIsRefusedWithTheFix() {
        UnsupportedChatTemplateException e = assertThrows(UnsupportedChatTemplateException.class,
                () -> ChatTemplate.detect("{% for m in messages %}<<{{ m.role }}>> {{ m.content }}{% endfor %}", "<s>", "</s>"));
        assertTrue(e.getMessage().startsWith("the model's chat template is not recognised"), e.getMessage());
        assertTrue(e.getMessage().contains("it begins '{% for m in messages %}<<{{ m.role }}>>"), e.getMessage());
        assertTrue(e.getMessage().contains("Supported templates: chatml, llama3, gemma, llama2"), e.getMessage());
        assertTrue(e.getMessage().contains("set its name as the chat template in the model's configuration"), e.getMessage());
        UnsupportedChatTemplateException none = assertThrows(UnsupportedChatTemplateException.class,
                () -> ChatTemplate.detect(null, "<s>", "</s>"));
        assertTrue(none.getMessage().contains("tokenizer.chat_template is absent"), none.getMessage());
    }

    @Test
    void aRecognisedFamilyThatIsNotRenderedIsRefusedByName() {
        // <|im_sep|> makes a <|im_start|> template Phi-4's, not ChatML: it must not be taken for ChatML.
        UnsupportedChatTemplateException phi4 = assertThrows(UnsupportedChatTemplateException.class,
                () -> ChatTemplate.detect("{{'<|im_start|>' + role + '<|im_sep|>'}}", "", ""));
        assertTrue(phi4.getMessage().contains("looks like llama.cpp's 'phi4' template"), phi4.getMessage());
        // Vicuna's markers come before Llama 3's in llama.cpp's order.
        UnsupportedChatTemplateException vicuna = assertThrows(UnsupportedChatTemplateException.class,
                () -> ChatTemplate.detect("USER: {{ a }} ASSISTANT: <|start_header_id|><|end_header_id|>", "", ""));
        assertTrue(vicuna.getMessage().contains("'vicuna'"), vicuna.getMessage());
    }

    @Test
    void phi3FromARealGgufIsRefused() throws IOException {
        try (GgufFile gguf = GgufFile.open(TestData.require("tokenizer", "ggml-vocab-phi-3.gguf"))) {
            String jinja = gguf.string("tokenizer.chat_template");
            UnsupportedChatTemplateException e = assertThrows(UnsupportedChatTemplateException.class,
                    () -> ChatTemplate.detect(jinja, "<s>", "<|endoftext|>"));
            assertTrue(e.getMessage().contains("'phi3'"), e.getMessage());
        }
    }

    @Test
    void badNamesTokensAndMessagesAreRefused() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.named("llama-3", "", ""));
        assertTrue(unknown.getMessage().startsWith("unknown chat template name 'llama-3': use one of chatml, llama3"), unknown.getMessage());
        IllegalArgumentException noEos = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.named("mistral-v7", "<s>", ""));
        assertTrue(noEos.getMessage().contains("model's EOS text is empty"), noEos.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.named("chatml", null, ""));
        IllegalArgumentException tool = assertThrows(IllegalArgumentException.class, () -> new ChatMessage("tool", "42"));
        assertTrue(tool.getMessage().contains("role 'tool' is not supported: use system, user or assistant"), tool.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage("user", null));
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage(null, "x"));
    }
}
