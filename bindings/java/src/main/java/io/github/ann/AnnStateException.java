package io.github.ann;

/**
 * A call that does not fit the index's state ({@link Status#INVALID_STATE}): adding to a built
 * or loaded index, building twice, querying an unbuilt index. Also a caught library bug
 * ({@link Status#PANIC}). The message is the library's.
 *
 * <p>Calls on a closed index throw a plain {@link IllegalStateException}: libann is never
 * reached then.
 */
public final class AnnStateException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The libann status; not serialized, as the exception's meaning is in its type and message. */
    private final transient Status status;

    AnnStateException(Status status, String message) {
        super(message);
        this.status = status;
    }

    /** {@link Status#INVALID_STATE}, {@link Status#PANIC} or another unexpected status. */
    public Status status() {
        return status;
    }
}
