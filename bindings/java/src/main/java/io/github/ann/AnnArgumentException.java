package io.github.ann;

/**
 * An argument libann rejected ({@link Status#INVALID_ARGUMENT}): a dimension, metric or id out
 * of range, a NaN, an id never added. The message is the library's.
 */
public final class AnnArgumentException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The libann status; not serialized, as the exception's meaning is in its type and message. */
    private final transient Status status;

    AnnArgumentException(Status status, String message) {
        super(message);
        this.status = status;
    }

    /** Usually {@link Status#INVALID_ARGUMENT}. */
    public Status status() {
        return status;
    }
}
