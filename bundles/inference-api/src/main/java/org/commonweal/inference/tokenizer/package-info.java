/**
 * Tokenizers built from GGUF metadata that agree token for token with llama.cpp: SentencePiece-style
 * ({@code tokenizer.ggml.model = llama}, with byte fallback) and byte-level BPE ({@code gpt2}, with the
 * pre-tokenizer that {@code tokenizer.ggml.pre} names). {@link Tokenizer#fromGguf} picks one;
 * {@link TextStream} turns streamed token bytes into whole characters.
 */
@Export
@Version("0.1.0")
package org.commonweal.inference.tokenizer;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
