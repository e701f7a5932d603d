package org.commonweal.node.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The node's health as {@code GET /health} computes it: every bundle ACTIVE (a fragment RESOLVED), every enabled
 * Declarative Services component satisfied, every {@link HealthCheck} passing. Provided by the node bundle, so that
 * other bundles (the management agent's upgrade health check) judge health exactly as the HTTP API does.
 */
@ProviderType
public interface NodeHealth {

    /** What makes the node unhealthy now, each in words a person can act on; empty when it is healthy. */
    List<String> problems();
}
