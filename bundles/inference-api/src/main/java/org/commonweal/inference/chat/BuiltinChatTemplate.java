package org.commonweal.inference.chat;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The chat templates llama.cpp renders without Jinja, for the families Commonweal supports. */
record BuiltinChatTemplate(Family family, String bos, String eos) implements ChatTemplate {

    enum Family {
        CHATML("chatml"), LLAMA3("llama3"), GEMMA("gemma"),
        LLAMA2("llama2"), LLAMA2_SYS("llama2-sys"), LLAMA2_SYS_BOS("llama2-sys-bos"), LLAMA2_SYS_STRIP("llama2-sys-strip"),
        MISTRAL_V1("mistral-v1"), MISTRAL_V3("mistral-v3"), MISTRAL_V3_TEKKEN("mistral-v3-tekken"),
        MISTRAL_V7("mistral-v7"), MISTRAL_V7_TEKKEN("mistral-v7-tekken");

        final String llamaCppName;

        Family(String llamaCppName) {
            this.llamaCppName = llamaCppName;
        }

        static Family named(String name) {
            for (Family family : values()) {
                if (family.llamaCppName.equals(name)) {
                    return family;
                }
            }
            return null;
        }

        /** The [INST] families end assistant turns with EOS. */
        boolean usesEos() {
            return compareTo(LLAMA2) >= 0;
        }
    }

    static final String SUPPORTED = Arrays.stream(Family.values()).map(f -> f.llamaCppName).collect(Collectors.joining(", "));

    BuiltinChatTemplate {
        if (bos == null || eos == null) {
            throw new IllegalArgumentException("the " + (bos == null ? "BOS" : "EOS") + " text is null: pass the text of "
                    + "the model's token, or \"\" if it has none");
        }
        if (family.usesEos() && eos.isEmpty()) {
            throw new IllegalArgumentException("chat template " + family.llamaCppName + " ends assistant turns with the EOS "
                    + "token, but the model's EOS text is empty: check tokenizer.ggml.eos_token_id");
        }
        if (family == Family.LLAMA2_SYS_BOS && bos.isEmpty()) {
            throw new IllegalArgumentException("chat template llama2-sys-bos starts later turns with the BOS token, but the "
                    + "model's BOS text is empty: check tokenizer.ggml.bos_token_id");
        }
    }

    static ChatTemplate named(String name, String bos, String eos) {
        Family family = Family.named(name);
        if (family == null) {
            throw new IllegalArgumentException("unknown chat template name " + (name == null ? "null" : "'" + name + "'")
                    + ": use one of " + SUPPORTED);
        }
        return new BuiltinChatTemplate(family, bos, eos);
    }

    static ChatTemplate detect(String jinja, String bos, String eos) throws UnsupportedChatTemplateException {
        if (jinja == null || jinja.isBlank()) {
            throw new UnsupportedChatTemplateException("the model has no chat template (tokenizer.chat_template is "
                    + (jinja == null ? "absent" : "blank") + "); supported templates: " + SUPPORTED
                    + ". Fix: set one of these names as the chat template in the model's configuration");
        }
        String recognised = recognise(jinja);
        if (recognised == null) {
            throw new UnsupportedChatTemplateException("the model's chat template is not recognised: it has none of the "
                    + "markers of the supported families (<|im_start|> for chatml, <|start_header_id|> for llama3, "
                    + "<start_of_turn> for gemma, [INST] for mistral and llama2); it begins '" + excerpt(jinja)
                    + "'. Supported templates: " + SUPPORTED + ". Fix: if the model follows one of them, set its name as "
                    + "the chat template in the model's configuration");
        }
        Family family = Family.named(recognised);
        if (family == null) {
            throw new UnsupportedChatTemplateException("the model's chat template looks like llama.cpp's '" + recognised
                    + "' template, which Commonweal does not render. Supported templates: " + SUPPORTED
                    + ". Fix: if the model follows one of them, set its name as the chat template in the model's configuration");
        }
        return new BuiltinChatTemplate(family, bos, eos);
    }

    /**
     * The llama.cpp template name a Jinja template is recognised as, by llama.cpp's distinctive substrings in
     * llama.cpp's order (an earlier family wins), or null. Families Commonweal does not render are recognised too,
     * so that one of them is refused by name rather than taken for a supported family whose markers come later.
     */
    static String recognise(String t) {
        if (has(t, "<|im_start|>")) {
            return has(t, "<|im_sep|>") ? "phi4" : has(t, "<end_of_utterance>") ? "smolvlm" : "chatml";
        }
        if (has(t, "[INST]")) {
            return instFamily(t);
        }
        if (has(t, "<|assistant|>") && has(t, "<|end|>")) {
            return "phi3";
        }
        if (has(t, "[gMASK]<sop>")) {
            return "chatglm4";
        }
        if (has(t, "<|assistant|>") && has(t, "<|user|>")) {
            return has(t, "</s>") ? "falcon3" : "glmedge";
        }
        if (has(t, "<|{{ item['role'] }}|>") && has(t, "<|begin_of_image|>")) {
            return "glmedge";
        }
        if (has(t, "<|user|>") && has(t, "<|endoftext|>")) {
            return "zephyr";
        }
        if (has(t, "bos_token + message['role']")) {
            return "monarch";
        }
        if (has(t, "<start_of_turn>")) {
            return "gemma";
        }
        if (has(t, "'\\n\\nAssistant: ' + eos_token")) {
            return "orion";
        }
        if (has(t, "GPT4 Correct ")) {
            return "openchat";
        }
        if (has(t, "USER: ") && has(t, "ASSISTANT: ")) {
            return has(t, "SYSTEM: ") ? "vicuna-orca" : "vicuna";
        }
        if (has(t, "### Instruction:") && has(t, "<|EOT|>")) {
            return "deepseek";
        }
        if (has(t, "<|START_OF_TURN_TOKEN|>") && has(t, "<|USER_TOKEN|>")) {
            return "command-r";
        }
        if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>")) {
            return "llama3";
        }
        return null;
    }

    /** Mistral's official templates (v7 has a system prompt block; v1 and v3 a tool or system marker), else Llama 2's. */
    private static String instFamily(String t) {
        if (has(t, "[SYSTEM_PROMPT]")) {
            return "mistral-v7";
        }
        if (has(t, "' [INST] ' + system_message") || has(t, "[AVAILABLE_TOOLS]")) {
            return has(t, " [INST]") ? "mistral-v1" : has(t, "\"[INST]\"") ? "mistral-v3-tekken" : "mistral-v3";
        }
        if (has(t, "content.strip()")) {
            return "llama2-sys-strip";
        }
        if (has(t, "bos_token + '[INST]")) {
            return "llama2-sys-bos";
        }
        return has(t, "<<SYS>>") ? "llama2-sys" : "llama2";
    }

    private static boolean has(String template, String marker) {
        return template.contains(marker);
    }

    private static String excerpt(String template) {
        String flat = template.strip().replace("\n", "\\n");
        return flat.length() <= 80 ? flat : flat.substring(0, 80) + "...";
    }

    @Override
    public String name() {
        return family.llamaCppName;
    }

    @Override
    public String apply(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (messages == null) {
            throw new IllegalArgumentException("the list of chat messages is null");
        }
        StringBuilder out = new StringBuilder();
        switch (family) {
            case CHATML -> chatml(messages, addGenerationPrompt, out);
            case LLAMA3 -> llama3(messages, addGenerationPrompt, out);
            case GEMMA -> gemma(messages, addGenerationPrompt, out);
            case LLAMA2, LLAMA2_SYS, LLAMA2_SYS_BOS, LLAMA2_SYS_STRIP -> llama2(messages, out);
            case MISTRAL_V1, MISTRAL_V3, MISTRAL_V3_TEKKEN -> mistral(messages, out);
            case MISTRAL_V7, MISTRAL_V7_TEKKEN -> mistralV7(messages, out);
        }
        return out.toString();
    }

    private static void chatml(List<ChatMessage> messages, boolean addGenerationPrompt, StringBuilder out) {
        for (ChatMessage m : messages) {
            out.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            out.append("<|im_start|>assistant\n");
        }
    }

    private static void llama3(List<ChatMessage> messages, boolean addGenerationPrompt, StringBuilder out) {
        for (ChatMessage m : messages) {
            out.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                    .append(trim(m.content())).append("<|eot_id|>");
        }
        if (addGenerationPrompt) {
            out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
    }

    /** Gemma has no system role: system text goes at the start of the next user turn; the assistant is "model". */
    private static void gemma(List<ChatMessage> messages, boolean addGenerationPrompt, StringBuilder out) {
        StringBuilder system = new StringBuilder();
        for (ChatMessage m : messages) {
            if (m.role().equals("system")) {
                system.append(trim(m.content()));
                continue;
            }
            String role = m.role().equals("assistant") ? "model" : m.role();
            out.append("<start_of_turn>").append(role).append('\n');
            if (!system.isEmpty() && !role.equals("model")) {
                out.append(system).append("\n\n");
                system.setLength(0);
            }
            out.append(trim(m.content())).append("<end_of_turn>\n");
        }
        if (addGenerationPrompt) {
            out.append("<start_of_turn>model\n");
        }
    }

    /** Llama 2: one [INST] block per user turn; the system text inside the first (in <<SYS>> where supported). */
    private void llama2(List<ChatMessage> messages, StringBuilder out) {
        boolean systemBlock = family != Family.LLAMA2;
        boolean strip = family == Family.LLAMA2_SYS_STRIP;
        String nextTurn = family == Family.LLAMA2_SYS_BOS ? bos + "[INST] " : "[INST] ";
        boolean insideTurn = true; // the first turn's BOS is the tokenizer's
        out.append("[INST] ");
        for (ChatMessage m : messages) {
            String content = strip ? trim(m.content()) : m.content();
            if (!insideTurn) {
                insideTurn = true;
                out.append(nextTurn);
            }
            switch (m.role()) {
                case "system" -> out.append(systemBlock ? "<<SYS>>\n" + content + "\n<</SYS>>\n\n" : content + "\n");
                case "user" -> out.append(content).append(" [/INST]");
                default -> {
                    out.append(content).append(eos);
                    insideTurn = false;
                }
            }
        }
    }

    /** Mistral v1, v3 and v3-tekken differ in the spaces around [INST] and whether assistant text is trimmed. */
    private void mistral(List<ChatMessage> messages, StringBuilder out) {
        String leading = family == Family.MISTRAL_V1 ? " " : "";
        String trailing = family == Family.MISTRAL_V3_TEKKEN ? "" : " ";
        boolean trimAssistant = family == Family.MISTRAL_V3;
        boolean insideTurn = false;
        for (ChatMessage m : messages) {
            if (!insideTurn) {
                out.append(leading).append("[INST]").append(trailing);
                insideTurn = true;
            }
            switch (m.role()) {
                case "system" -> out.append(m.content()).append("\n\n");
                case "user" -> out.append(m.content()).append(leading).append("[/INST]");
                default -> {
                    out.append(trailing).append(trimAssistant ? trim(m.content()) : m.content()).append(eos);
                    insideTurn = false;
                }
            }
        }
    }

    /** Mistral v7: system prompts in their own block; v7-tekken without the spaces. */
    private void mistralV7(List<ChatMessage> messages, StringBuilder out) {
        String space = family == Family.MISTRAL_V7 ? " " : "";
        for (ChatMessage m : messages) {
            switch (m.role()) {
                case "system" -> out.append("[SYSTEM_PROMPT]").append(space).append(m.content()).append("[/SYSTEM_PROMPT]");
                case "user" -> out.append("[INST]").append(space).append(m.content()).append("[/INST]");
                default -> out.append(space).append(m.content()).append(eos);
            }
        }
    }

    /** Strips C's isspace characters (space, \t, \n, \v, \f, \r) at both ends, as llama.cpp's trim does. */
    static String trim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
