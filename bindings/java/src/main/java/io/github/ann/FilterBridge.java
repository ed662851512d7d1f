package io.github.ann;

import java.lang.reflect.UndeclaredThrowableException;
import java.util.concurrent.locks.Lock;
import java.util.function.LongPredicate;

/**
 * A {@link LongPredicate} as the JNI glue calls it: {@link #test(long)} runs on the searching
 * thread or on the native threads libann creates for batch searches (attached to the JVM as
 * daemon threads named "ann-search"), possibly on several at once.
 *
 * <p><b>Exceptions.</b> What the predicate throws never reaches native code: the key is
 * refused, the first exception is kept, and every search that was running on these options
 * when it was thrown throws it after libann returns ({@link #end}). With several searches
 * sharing one {@link SearchOptions} at once, the exception kept is the first one since the
 * options were last idle, so it may have been thrown for another of those searches.
 *
 * <p><b>Re-entry.</b> The predicate may call the library (even search), but the thread that
 * runs it may be the one holding the searched index's and options' read locks, and the search
 * waits for the predicate. So while this thread is inside a predicate, {@link
 * #lockShared(Lock)} does not queue behind waiting writers (which wait for this very search),
 * and {@link #lockExclusive(Lock, String)} throws instead of waiting for a busy object.
 */
final class FilterBridge {
    /** How many predicate calls this thread is inside (null: none yet). */
    private static final ThreadLocal<int[]> DEPTH = new ThreadLocal<>();

    private final LongPredicate predicate;

    /** The glue's filter context for this bridge: set and cleared under the options' write lock. */
    long context;

    private final Object lock = new Object();
    /** Searches using the bridge now. Guarded by {@link #lock}. */
    private int running;
    /** Predicate calls that threw, ever. Guarded by {@link #lock}. */
    private long failures;
    /** The first exception since {@link #running} was last 0. Guarded by {@link #lock}. */
    private Throwable first;

    FilterBridge(LongPredicate predicate) {
        this.predicate = predicate;
    }

    /** Called by the glue for each candidate key: the predicate's answer; false if it threw. */
    boolean test(long key) {
        int[] depth = DEPTH.get();
        if (depth == null) {
            depth = new int[1];
            DEPTH.set(depth);
        }
        depth[0]++;
        try {
            return predicate.test(key);
        } catch (Throwable e) {
            failed(e);
            return false;
        } finally {
            depth[0]--;
        }
    }

    /** Records an exception thrown by the predicate (called by the glue for one that escaped test). */
    void failed(Throwable e) {
        synchronized (lock) {
            failures++;
            if (first == null) {
                first = e;
            }
        }
    }

    /** Before a search: returns the failure count to give {@link #end}. */
    long begin() {
        long lost = Native.filterLostCalls(context);
        synchronized (lock) {
            running++;
            return failures + lost;
        }
    }

    /**
     * After a search: if the predicate failed since {@link #begin} returned {@code start},
     * throws the first exception (a {@link RuntimeException} or {@link Error} as it is, a checked
     * one wrapped in {@link UndeclaredThrowableException}); otherwise returns.
     */
    void end(long start) {
        long lost = Native.filterLostCalls(context);
        Throwable failure = null;
        boolean failed;
        synchronized (lock) {
            failed = failures + lost != start;
            failure = first;
            if (--running == 0) {
                first = null;
            }
        }
        if (!failed) {
            return;
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new UndeclaredThrowableException(failure, "the filter predicate threw " + failure);
        }
        throw new IllegalStateException(
                "the filter predicate could not be called on a native search thread (it could not attach"
                        + " to the JVM), so some keys were refused without asking it");
    }

    /** Whether this thread is running a filter predicate now. */
    static boolean inPredicate() {
        int[] depth = DEPTH.get();
        return depth != null && depth[0] > 0;
    }

    /**
     * Takes a read lock. Inside a predicate, first tries without waiting, which succeeds unless
     * a writer holds the lock (so it is not an object this search is using, and waiting is safe)
     * even when writers are queued behind this search.
     */
    static void lockShared(Lock read) {
        if (inPredicate() && read.tryLock()) {
            return;
        }
        read.lock();
    }

    /**
     * Takes a write lock; inside a predicate, only if it is free at once: otherwise throws
     * {@link IllegalStateException}, since the object may be in use by the search that is
     * waiting for this predicate.
     */
    static void lockExclusive(Lock write, String what) {
        if (!inPredicate()) {
            write.lock();
        } else if (!write.tryLock()) {
            throw new IllegalStateException(
                    what + " is in use, and cannot be changed or closed from inside a filter predicate"
                            + " (the search waiting for the predicate may be using it)");
        }
    }
}
