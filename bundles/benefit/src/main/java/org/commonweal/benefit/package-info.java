/**
 * Proof of benefit, as clients, nodes and other bundles see it: the receipt of a served request and its one
 * encoding, the payloads of the benefit transaction types, the chain parameters, and read-only queries of
 * the benefit state (allowance, rewards, treasury, grants, local balances) over a {@code StateView}.
 */
@Export
@Version("0.2.0")
package org.commonweal.benefit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
