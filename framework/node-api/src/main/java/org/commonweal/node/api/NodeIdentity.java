package org.commonweal.node.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The node's long-lived Ed25519 identity. The private key never leaves the provider; callers get
 * signatures.
 */
@ProviderType
public interface NodeIdentity {

    /** The node id: the lowercase hex of the 32-byte Ed25519 public key. */
    String id();

    /** The raw 32-byte Ed25519 public key (a copy). */
    byte[] publicKey();

    /** An Ed25519 signature (64 bytes) of {@code message} by the node key. */
    byte[] sign(byte[] message);
}
