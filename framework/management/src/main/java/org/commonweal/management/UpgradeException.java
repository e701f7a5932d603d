package org.commonweal.management;

/** A refusal or failure of the management agent, in words that name the thing, the cause and the fix. */
final class UpgradeException extends Exception {

    private static final long serialVersionUID = 1L;

    UpgradeException(String message) {
        super(message);
    }

    UpgradeException(String message, Throwable cause) {
        super(message, cause);
    }
}
