package org.commonweal.consensus;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A consensus engine, registered as an OSGi service. The chain starts it with a context when the next
 * height falls in the engine's range (the chain configuration's schedule, e.g. {@code solo@0, bft@5000})
 * and stops it when the range's last block is committed, when the engine's service goes away, or when
 * the node stops.
 */
@ConsumerType
public interface ConsensusEngine {

    /** The name distributions schedule it by, e.g. {@code solo} or {@code bft}. */
    String name();

    /**
     * Begins committing blocks through {@code context}, on threads of the engine's own; returns at once.
     * Called again only after {@link #stop()}.
     */
    void start(EngineContext context);

    /**
     * Stops proposing and voting and returns when no engine thread will call the context again. A block
     * being committed is finished or abandoned as a whole (the chain makes that atomic).
     */
    void stop();
}
