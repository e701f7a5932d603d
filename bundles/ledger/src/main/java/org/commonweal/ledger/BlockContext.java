package org.commonweal.ledger;

import java.util.Arrays;

import org.commonweal.crypto.PublicKey;

/**
 * The block a transaction or {@link BlockRule} runs in, from its header: all that execution may know
 * about "now". The time is the proposer's, carried by the header and never before the parent's; day
 * numbers and schedules derive from it ({@code timeMillis / 86_400_000}), never from a clock.
 * Outside a block (a mempool check) it is the last block executed on the state.
 */
public record BlockContext(int chainId, long height, long timeMillis, PublicKey proposer, byte[] previousHash) {

    public BlockContext {
        if (height < 0 || timeMillis < 0) {
            throw new IllegalArgumentException("height and time are not negative: " + height + ", " + timeMillis);
        }
        previousHash = previousHash.clone();
    }

    /** The context of the block this header belongs to. */
    public static BlockContext of(BlockHeader header) {
        return new BlockContext(header.chainId(), header.height(), header.timeMillis(), header.proposer(),
                header.previousHash());
    }

    @Override
    public byte[] previousHash() {
        return previousHash.clone();
    }

    /** The day number of the block: whole days of 86,400,000 ms since 1970-01-01T00:00Z. */
    public long day() {
        return timeMillis / 86_400_000L;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BlockContext c && c.chainId == chainId && c.height == height && c.timeMillis == timeMillis
                && java.util.Objects.equals(c.proposer, proposer) && Arrays.equals(c.previousHash, previousHash);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(height) * 31 + Arrays.hashCode(previousHash);
    }
}
