package org.commonweal.inference.receipts;

/**
 * A receipt as the client receives it.
 *
 * @param id the receipt id, hex
 * @param receipt the encoded receipt signed by the node (its countersignature still zeros), hex: the client
 *        countersigns it and posts it back
 */
public record IssuedReceipt(String id, String receipt) {
}
