/**
 * GGUF tensor types (ggml's exact block layouts) and the kernels of a transformer's forward pass, on
 * the JDK Vector API. Weights live in {@link java.lang.foreign.MemorySegment}s (mapped from a file or
 * allocated off-heap); results are bit-identical whatever the number of threads.
 */
@Export
@Version("0.1.0")
package org.commonweal.kernels;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
