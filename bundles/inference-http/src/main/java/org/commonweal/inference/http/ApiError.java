package org.commonweal.inference.http;

/**
 * A request the OpenAI-compatible API refuses: the HTTP status, OpenAI's error type and code, the request
 * parameter at fault (or null), and a message naming the problem and the fix.
 */
final class ApiError extends Exception {

    private static final long serialVersionUID = 1L;
    final int status;
    final String type;
    final String code;
    final String param;
    final int retryAfterSeconds;

    private ApiError(int status, String type, String code, String param, String message, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", null, param, message, 0);
    }

    static ApiError notFound(String code, String message) {
        return new ApiError(404, "invalid_request_error", code, null, message, 0);
    }

    static ApiError status(int status, String type, String message) {
        return new ApiError(status, type, null, null, message, 0);
    }

    /** 503 with Retry-After: the model is still loading. */
    static ApiError loading(String message) {
        return new ApiError(503, "server_error", "model_loading", null, message, 5);
    }

    static ApiError overloaded(String message, int retryAfterSeconds) {
        return new ApiError(429, "rate_limit_exceeded", "rate_limit_exceeded", null, message, retryAfterSeconds);
    }
}
