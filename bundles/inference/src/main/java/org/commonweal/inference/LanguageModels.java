package org.commonweal.inference;

import java.util.List;
import java.util.Optional;

/** The models a node serves (an OSGi service registered by the inference bundle). */
public interface LanguageModels {

    /** Every loaded model, the default first. */
    List<LanguageModel> models();

    /** The model with this id, if loaded. */
    default Optional<LanguageModel> find(String id) {
        return models().stream().filter(m -> m.info().id().equals(id)).findFirst();
    }
}
