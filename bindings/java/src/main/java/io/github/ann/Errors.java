package io.github.ann;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Maps a libann status to the exception Java users expect; called by the JNI glue. */
final class Errors {
    private Errors() {}

    /**
     * The exception for a failed call.
     *
     * @param code the {@code ann_status}
     * @param message the library's message, UTF-8 (bytes, since JNI's own strings are modified UTF-8)
     * @param checkedIo whether the failing Java method declares {@link java.io.IOException}; if
     *     not, file errors are wrapped in {@link UncheckedIOException}
     */
    static Throwable fromStatus(int code, byte[] message, boolean checkedIo) {
        Status status = Status.fromCode(code);
        String text = new String(message, StandardCharsets.UTF_8);
        switch (status) {
            case IO:
            case CORRUPT_FILE:
                AnnIOException io = new AnnIOException(status, text);
                return checkedIo ? io : new UncheckedIOException(text, io);
            case INVALID_ARGUMENT:
            case NULL_POINTER:
                return new AnnArgumentException(status, text);
            case OUT_OF_MEMORY:
                return new OutOfMemoryError(text);
            default:
                return new AnnStateException(status, text);
        }
    }
}
