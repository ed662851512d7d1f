package io.github.ann;

import java.io.IOException;

/**
 * A file error from libann: the operating system refused ({@link Status#IO}: missing file,
 * permissions, disk full) or the file is not a valid index ({@link Status#CORRUPT_FILE}).
 * The message is the library's, saying what was wrong and what to do.
 */
public final class AnnIOException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The libann status; not serialized, as the exception's meaning is in its type and message. */
    private final transient Status status;

    AnnIOException(Status status, String message) {
        super(message);
        this.status = status;
    }

    /** {@link Status#IO} or {@link Status#CORRUPT_FILE}. */
    public Status status() {
        return status;
    }
}
