package org.commonweal.inference;

import java.util.List;
import java.util.Optional;

/**
 * The models a node serves (an OSGi service registered by the inference implementation). While the implementation
 * is replaced there is briefly none: users wait for the next one (see {@link ModelClosedException}).
 */
public interface LanguageModels {

    /**
     * Service property: the ids of the loaded models (String[]). The implementation updates it as models load, so a
     * service tracker hears of a newly served model without polling.
     */
    String MODELS_PROPERTY = "commonweal.models";

    /** Every loaded model, the default first. */
    List<LanguageModel> models();

    /** The model with this id, if loaded. */
    default Optional<LanguageModel> find(String id) {
        return models().stream().filter(m -> m.info().id().equals(id)).findFirst();
    }

    /** The model being loaded and how far ({@code name.gguf: 40% in memory}), or "" when loading is over. */
    default String loading() {
        return "";
    }

    /** The culture pack applied to requests that name none, when a model has it; "" for none. */
    default String defaultAdapter() {
        return "";
    }

    /** Installed culture packs that fit no loaded model (each names the base model digest it needs). */
    default List<CulturePack> unmatchedPacks() {
        return List.of();
    }
}
