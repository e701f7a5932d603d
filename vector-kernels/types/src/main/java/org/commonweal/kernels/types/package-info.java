/**
 * What the kernels and their users share: GGUF's tensor types ({@link org.commonweal.kernels.types.GgmlType}, ggml's
 * exact block layouts) and the view of a weight matrix in memory ({@link org.commonweal.kernels.types.WeightMatrix}).
 * A bundle of its own, with no code that computes: the model-file API imports only this, so an upgrade of the kernels
 * bundle refreshes only the bundles that call the kernels (the inference implementation), never the API, the HTTP
 * endpoints or the culture packs.
 */
@Export
@Version("1.0.0")
package org.commonweal.kernels.types;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
