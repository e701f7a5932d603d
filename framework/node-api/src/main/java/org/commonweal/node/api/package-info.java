/**
 * The node's identity (its Ed25519 key) and its health, as services.
 * <p>
 * {@link org.commonweal.node.api.NodeIdentity} is provided by the node bundle;
 * {@link org.commonweal.node.api.HealthCheck} is provided by any bundle that has more to say about
 * its health than "ACTIVE", and is part of {@code GET /health}.
 */
@Export
@Version("1.0.0")
package org.commonweal.node.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
