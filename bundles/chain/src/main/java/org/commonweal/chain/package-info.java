/**
 * The node's chain, as other bundles use it: submit transactions, read blocks, transactions and
 * accounts and state entries with proofs, and follow committed blocks. The chain bundle registers one {@link Chain}
 * service.
 */
@Export
@Version("0.2.0")
package org.commonweal.chain;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
