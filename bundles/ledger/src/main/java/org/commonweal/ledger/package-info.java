/**
 * The chain's formats and state machine. Everything here is deterministic: the same bytes in give the
 * same bytes out on every node, whatever the platform or thread count.
 */
@Export
@Version("0.3.0")
package org.commonweal.ledger;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
