/**
 * The consensus engine SPI. The chain owns the ledger, the mempool and the block log; an engine only
 * decides which block comes next and proves that it was agreed ({@link CommitCertificate}). Engines
 * are OSGi services; a distribution's chain configuration says which engine runs from which height, so
 * that every node hands over from one engine to the next at the same block, with no fork.
 */
@Export
@Version("0.2.0")
package org.commonweal.consensus;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
