/**
 * GGUF tensor types (ggml's exact block layouts) and the kernels of a transformer's forward pass, on
 * the JDK Vector API. Weights live in {@link java.lang.foreign.MemorySegment}s (mapped from a file or
 * allocated off-heap); results are bit-identical whatever the number of threads.
 */
@Export
// 0.2.0: quantized matvec/matmul now follow ggml's scheme (Q8 activations, exact integer block sums), so
// their results differ from 0.1.0's FP32 dot products: nodes must agree on this version to compare results.
// 0.3.0: quantized products are "lane = block" (a SIMD lane sums whole blocks), so their results differ
// from 0.2.0's again; PackedMatrix (repacked weights) added.
@Version("0.3.0")
package org.commonweal.kernels;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
