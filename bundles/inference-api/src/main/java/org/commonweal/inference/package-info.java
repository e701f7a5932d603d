/**
 * Language models as the node serves them: {@link org.commonweal.inference.LanguageModels} (an OSGi service)
 * lists the loaded models; each {@link org.commonweal.inference.LanguageModel} tokenizes, applies its chat
 * template and generates text, its requests batched together by the model's scheduler. While an implementation is
 * replaced, the leaving one serves on as the {@link org.commonweal.inference.StandbyModels standby} (0.3.0).
 */
@Export
@Version("0.3.0")
package org.commonweal.inference;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
