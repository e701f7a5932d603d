/**
 * Choosing the next token from a model's logits ({@link SamplingParams}, {@link Sampler}: penalties, top-k,
 * top-p, min-p and temperature in llama.cpp's order, bit-for-bit reproducible from a seed) and cutting the
 * streamed text at stop strings ({@link StopStrings}).
 */
@Export
@Version("0.1.0")
package org.commonweal.inference.sampling;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
