/**
 * Chat templates: turning a list of {@link ChatMessage}s into the prompt text a model was trained on, for the
 * families llama.cpp renders without a Jinja engine ({@link ChatTemplate#detect}, {@link ChatTemplate#named}).
 */
@Export
@Version("0.1.0")
package org.commonweal.inference.chat;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
