/**
 * Keys, signatures and hashes of the Commonweal chain: Ed25519 (Bouncy Castle), SHA-256, and binary
 * Merkle trees with inclusion proofs a light client can check.
 */
@Export
@Version("0.2.0")
package org.commonweal.crypto;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
