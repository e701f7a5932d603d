package org.commonweal.inference.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE as llama.cpp runs it: the text (spaces already written as '▁') starts as one
 * symbol per character; the adjacent pair whose concatenation is the vocabulary token with the highest
 * score is merged first (the leftmost on a tie), until no pair is a token. Symbols that are not tokens fall
 * back to their UTF-8 bytes as {@code <0xNN>} tokens.
 */
final class SpmEncoder implements GgufTokenizer.Encoder {

    private final Vocabulary vocab;
    private final int[] byteTokens = new int[256];

    SpmEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            byteTokens[b] = id >= 0 ? id : vocab.id(new String(new char[] {(char) b}));
        }
    }

    private record Bigram(int left, int right, float score, int length) {
    }

    @Override
    public void encode(String text, IntArray out) {
        int n = text.codePointCount(0, text.length());
        int[] start = new int[n];
        int[] length = new int[n]; // in chars; 0 once merged into the symbol on its left
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, at = 0; i < n; i++) {
            start[i] = at;
            length[i] = Character.charCount(text.codePointAt(at));
            at += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offer(queue, text, start, length, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            // Skip pairs that changed since they were queued.
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.length) {
                continue;
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            offer(queue, text, start, length, prev[left], left);
            offer(queue, text, start, length, left, next[left]);
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            String symbol = text.substring(start[i], start[i] + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                    int byteToken = byteTokens[b & 0xFF];
                    if (byteToken >= 0) {
                        out.add(byteToken);
                    } else if (vocab.unknown >= 0) {
                        out.add(vocab.unknown); // no byte fallback in this vocabulary
                    }
                }
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String text, int[] start, int[] length, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int id = vocab.id(text.substring(start[left], start[right] + length[right]));
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocab.scores[id], length[left] + length[right]));
        }
    }
}
