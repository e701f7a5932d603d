package org.commonweal.inference.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;

/**
 * Byte-level BPE as llama.cpp runs it: the pre-tokenizer splits the text into words; each word's UTF-8
 * bytes start as one symbol each (the byte-level alphabet's tokens), and the adjacent pair with the lowest
 * merge rank is merged first (the leftmost on a tie) until no pair has a merge.
 * <p>
 * Merges are kept as a map from the pair of token ids to the rank and the merged token, so a merge step is
 * one probe of an open-addressing table; each word is merged over a linked list of symbols with a binary
 * heap of candidate pairs.
 */
final class BpeEncoder implements GgufTokenizer.Encoder {

    static final String MERGES = "tokenizer.ggml.merges";

    private final Vocabulary vocab;
    private final PreTokenizer pre;
    private final int[] byteTokens = new int[256];
    private final MergeTable merges;

    BpeEncoder(Vocabulary vocab, PreTokenizer pre, GgufFile file) throws GgufException {
        this.vocab = vocab;
        this.pre = pre;
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = vocab.id(String.valueOf(ByteLevel.charOf(b)));
        }
        if (!file.has(MERGES)) {
            throw vocab.problem(MERGES, "is missing; a gpt2 (byte-level BPE) vocabulary needs its merges");
        }
        String[] lines = file.strings(MERGES);
        merges = new MergeTable(lines.length);
        for (int rank = 0; rank < lines.length; rank++) {
            String line = lines[rank];
            int space = line.indexOf(' ', 1);
            if (space < 0) {
                throw vocab.problem(MERGES, "entry " + rank + " is '" + line
                        + "', not two tokens separated by a space");
            }
            int left = vocab.id(line.substring(0, space));
            int right = vocab.id(line.substring(space + 1));
            int merged = vocab.id(line.substring(0, space) + line.substring(space + 1));
            // A merge whose parts or result are not tokens can never apply to token symbols.
            if (left >= 0 && right >= 0 && merged >= 0) {
                merges.putIfAbsent(left, right, rank, merged);
            }
        }
    }

    @Override
    public void encode(String text, IntArray out) {
        IntArray words = pre.split(text);
        Word word = new Word();
        for (int i = 0; i < words.size(); i += 2) {
            byte[] bytes = text.substring(words.get(i), words.get(i + 1)).getBytes(StandardCharsets.UTF_8);
            if (pre.ignoreMerges) {
                int whole = vocab.id(ByteLevel.encode(bytes));
                if (whole >= 0) {
                    out.add(whole);
                    continue;
                }
            }
            word.merge(bytes, out);
        }
    }

    /** The merge state of one word, its arrays reused from word to word. */
    private final class Word {
        private int[] ids = new int[64];
        private int[] prev = new int[64];
        private int[] next = new int[64];
        private long[] heap = new long[64];
        private int heapSize;

        void merge(byte[] bytes, IntArray out) {
            int n = bytes.length;
            if (ids.length < n) {
                int capacity = Math.max(n, ids.length * 2);
                ids = new int[capacity];
                prev = new int[capacity];
                next = new int[capacity];
            }
            for (int i = 0; i < n; i++) {
                ids[i] = byteTokens[bytes[i] & 0xFF];
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
            heapSize = 0;
            for (int i = 0; i + 1 < n; i++) {
                offer(i, i + 1);
            }
            while (heapSize > 0) {
                long top = poll();
                int left = (int) top;
                int rank = (int) (top >>> 32);
                int right = next[left];
                // A queued pair is current if its left symbol is still there and the pair it now forms has
                // the queued rank (ranks are unique per pair, and symbols only grow).
                if (ids[left] < 0 || right < 0) {
                    continue;
                }
                int slot = merges.find(ids[left], ids[right]);
                if (slot < 0 || merges.rank(slot) != rank) {
                    continue;
                }
                ids[left] = merges.merged(slot);
                ids[right] = -1;
                next[left] = next[right];
                if (next[right] >= 0) {
                    prev[next[right]] = left;
                }
                if (prev[left] >= 0) {
                    offer(prev[left], left);
                }
                if (next[left] >= 0) {
                    offer(left, next[left]);
                }
            }
            for (int i = 0; i >= 0 && n > 0; i = next[i]) {
                if (ids[i] >= 0) {
                    out.add(ids[i]); // a byte without a token is dropped, as llama.cpp does
                }
            }
        }

        private void offer(int left, int right) {
            if (ids[left] < 0 || ids[right] < 0) {
                return;
            }
            int slot = merges.find(ids[left], ids[right]);
            if (slot < 0) {
                return;
            }
            if (heapSize == heap.length) {
                heap = Arrays.copyOf(heap, heapSize * 2);
            }
            // Lowest rank first, then leftmost: both fit one long, compared as a number.
            long key = ((long) merges.rank(slot) << 32) | left;
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= key) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = key;
        }

        private long poll() {
            long top = heap[0];
            long last = heap[--heapSize];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= heapSize) {
                    break;
                }
                if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= last) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }

    /** Open addressing from a pair of token ids to its merge rank and merged token. */
    private static final class MergeTable {
        private final long[] keys;
        private final int[] ranks;
        private final int[] merged;
        private final int mask;

        MergeTable(int expected) {
            int capacity = Integer.highestOneBit(Math.max(16, expected * 2) - 1) << 1;
            keys = new long[capacity];
            Arrays.fill(keys, -1);
            ranks = new int[capacity];
            merged = new int[capacity];
            mask = capacity - 1;
        }

        private static long key(int left, int right) {
            return ((long) left << 32) | right;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32)) & mask;
        }

        void putIfAbsent(int left, int right, int rank, int result) {
            long key = key(left, right);
            int i = slot(key);
            while (keys[i] != -1) {
                if (keys[i] == key) {
                    return; // the first (highest-priority) merge of a pair wins, as in llama.cpp
                }
                i = (i + 1) & mask;
            }
            keys[i] = key;
            ranks[i] = rank;
            merged[i] = result;
        }

        /** The slot of the pair, or -1 if it has no merge. */
        int find(int left, int right) {
            long key = key(left, right);
            for (int i = slot(key); keys[i] != -1; i = (i + 1) & mask) {
                if (keys[i] == key) {
                    return i;
                }
            }
            return -1;
        }

        int rank(int slot) {
            return ranks[slot];
        }

        int merged(int slot) {
            return merged[slot];
        }
    }
}
