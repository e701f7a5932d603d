package org.commonweal.node.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A bundle's own view of its health, beyond its bundle state and its components being satisfied.
 * Register one as a service; {@code GET /health} and {@code cw:health} include every registered check.
 */
@ConsumerType
public interface HealthCheck {

    /** A short, stable name for the check, e.g. "ledger storage". */
    String name();

    /** The current result. Must be quick (it runs on every health request) and must not throw. */
    Result check();

    /** The outcome of a check: healthy or not, and why in words a person can act on. */
    record Result(boolean healthy, String detail) {
        public static Result healthy(String detail) {
            return new Result(true, detail);
        }

        public static Result unhealthy(String detail) {
            return new Result(false, detail);
        }
    }
}
