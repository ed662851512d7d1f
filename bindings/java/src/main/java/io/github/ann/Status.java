package io.github.ann;

/**
 * A libann status other than success ({@code ANN_STATUS_*} in {@code ann.h}), as carried by
 * {@link AnnIOException}, {@link AnnArgumentException} and {@link AnnStateException}.
 */
public enum Status {
    /** A required pointer was NULL: a bug in this binding, since Java checks nulls first. */
    NULL_POINTER(1),
    /** An argument was out of range: dimension, metric, id, length, a NaN. */
    INVALID_ARGUMENT(2),
    /** The call does not fit the index's state (adding to a built index, querying an unbuilt one). */
    INVALID_STATE(3),
    /** The operating system refused a file operation. */
    IO(4),
    /** The file is not a valid index: wrong magic, unknown version, truncated, bad checksum. */
    CORRUPT_FILE(5),
    /** Memory or another resource ran out. */
    OUT_OF_MEMORY(6),
    /** An output buffer was too small: a bug in this binding, which sizes every buffer. */
    BUFFER_TOO_SMALL(7),
    /** A bug inside the library was caught at the boundary; close the index involved. */
    PANIC(8),
    /** A status this binding does not know (a newer library). */
    UNKNOWN(-1);

    private final int code;

    Status(int code) {
        this.code = code;
    }

    /** The {@code ann_status} value. */
    public int code() {
        return code;
    }

    /** The status with this {@code ann_status} value, or {@link #UNKNOWN}. */
    static Status fromCode(int code) {
        for (Status status : values()) {
            if (status.code == code) {
                return status;
            }
        }
        return UNKNOWN;
    }
}
