/**
 * GGUF files, the format of llama.cpp, Ollama and LM Studio: a checked reader ({@link GgufFile}, tensor
 * data mapped or in allocated off-heap memory), a writer ({@link GgufWriter}), and the hand-over of open files from
 * one inference implementation to the next ({@link ModelFileHandover}).
 */
@Export
@Version("0.3.0")
package org.commonweal.inference.gguf;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
