/**
 * The shared bundle repository: an OSGi R5 index of bundles, each signed by its publisher (Ed25519), the index
 * signed as a whole; trust policies that say which publisher keys a distribution accepts for which bundles;
 * resolution of a distribution against the index with the OSGi resolver; lock files and SBOMs; serving and
 * mirroring. Every check happens before a byte of a bundle reaches a framework.
 */
@Export
@Version("0.1.0")
package org.commonweal.repo;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
