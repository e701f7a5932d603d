/**
 * GGUF files, the format of llama.cpp, Ollama and LM Studio: a checked reader ({@link GgufFile}, tensor
 * data mapped or in allocated off-heap memory) and a writer ({@link GgufWriter}).
 */
@Export
@Version("0.1.0")
package org.commonweal.inference.gguf;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
