/**
 * Receipts of served requests, as the OpenAI endpoint asks for them: a {@link ReceiptIssuer} service, provided by
 * proof of benefit when it runs on the node (the endpoint looks it up per request, so a node without it serves as
 * before). The endpoint knows what it served; the issuer knows the chain and the node key.
 */
@Export
@Version("0.1.0")
package org.commonweal.inference.receipts;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
