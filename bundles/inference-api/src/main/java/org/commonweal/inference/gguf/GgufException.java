package org.commonweal.inference.gguf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A GGUF file that cannot be used: the message names the file, what is wrong and, where there is one,
 * the fix.
 */
public final class GgufException extends IOException {

    private static final long serialVersionUID = 1L;

    public GgufException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public GgufException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
