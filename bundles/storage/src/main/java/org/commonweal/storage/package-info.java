/**
 * Storage of the ledger: {@link org.commonweal.storage.BlockLog}, the append-only log of encoded blocks.
 * <p>
 * The implementation (Chronicle Queue and its dependencies) is embedded in this bundle and private to it:
 * no Chronicle type appears in this API.
 */
@Export
@Version("0.1.0")
package org.commonweal.storage;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
