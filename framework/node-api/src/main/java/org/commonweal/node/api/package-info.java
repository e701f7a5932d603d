/**
 * The node's identity (its Ed25519 key) and its health, as services.
 * <p>
 * {@link org.commonweal.node.api.NodeIdentity} is provided by the node bundle;
 * {@link org.commonweal.node.api.HealthCheck} is provided by any bundle that has more to say about
 * its health than "ACTIVE", and is part of {@code GET /health}; {@link org.commonweal.node.api.NodeHealth} is that
 * health as one service, and {@link org.commonweal.node.api.MetricSource} is how a bundle adds figures to
 * {@code GET /metrics} (both 1.1). {@link org.commonweal.node.api.BundleThreads} makes threads that keep nothing of their
 * bundle once they end (1.2).
 */
@Export
@Version("1.2.0")
package org.commonweal.node.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
