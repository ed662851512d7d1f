package io.github.ann;

import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;

/**
 * What a filtered search ({@link AnnIndex#search}, {@link AnnIndex#searchByItem}, {@link
 * AnnIndex#searchBatch}) may return, and how hard it looks: libann's {@code ann_search_options}.
 *
 * <pre>{@code
 * try (SearchOptions options = new SearchOptions().searchK(5000).allowList(3, 8, 1L << 40)) {
 *     Neighbors hits = index.search(query, 10, options);
 * }
 * }</pre>
 *
 * <p>A key is accepted when it is in the allow-list (if one was set), not in the deny-list,
 * and the predicate (if one was set) returns true. A filtered search returns exactly {@code
 * min(n, number of stored items accepted)} results, every one accepted, whatever the
 * selectivity. Keys are read as unsigned 64-bit values, as everywhere in {@link AnnIndex}.
 *
 * <p><b>The predicate</b> ({@link #filter(LongPredicate)}) is called from native code, on the
 * searching thread and, for batch searches, on threads libann creates (attached to the JVM as
 * daemon threads named "ann-search"), possibly on several at once: it must be thread-safe. It
 * should be fast and not block (it is called for each candidate). If it throws, the key is
 * refused, the search goes on, and after it returns the search throws the predicate's first
 * exception (a checked one wrapped in {@link java.lang.reflect.UndeclaredThrowableException}).
 * When several searches share these options at once, each search running when the predicate
 * threw reports it. The predicate may query indexes, but must not change or close an index or
 * options that a search is using: that throws {@link IllegalStateException} rather than
 * deadlocking.
 *
 * <p><b>Threads and lifetime.</b> One {@code SearchOptions} may be used by any number of
 * concurrent searches; setters and {@link #close()} wait until no search is using it. Close
 * it (try-with-resources) to free it at once; {@code close} is idempotent, and a {@link
 * Cleaner} frees options that were forgotten (unless the predicate refers to these options
 * themselves, which keeps them reachable). Any use after {@code close} throws {@link
 * IllegalStateException}.
 */
public final class SearchOptions implements AutoCloseable {
    private final State state;
    private final Cleaner.Cleanable cleanable;

    /** Options with the defaults: {@code searchK} -1 ({@code n * nTrees()}), {@code ef} 0, no filter. */
    public SearchOptions() {
        state = new State(Native.searchOptionsNew());
        cleanable = AnnIndex.CLEANER.register(this, state);
    }

    /**
     * How many accepted candidates a search collects: larger gives better recall, more slowly;
     * -1 (the default) means {@code n * nTrees()}.
     *
     * @return these options
     * @throws IllegalArgumentException below -1
     */
    public SearchOptions searchK(long searchK) {
        exclusive(p -> {
            Native.searchOptionsSetSearchK(p, searchK);
            return null;
        });
        return this;
    }

    /**
     * The beam width of a graph search (see {@link AnnIndex#buildGraph}): how many nodes the
     * walk keeps, at least {@code n}; larger gives better recall, more slowly. 0 (the default)
     * derives it from {@code searchK} as {@code max(n, 32, searchK / 16)}. Indexes without a graph
     * ignore it.
     *
     * @return these options
     * @throws IllegalArgumentException if negative
     */
    public SearchOptions ef(long ef) {
        if (ef < 0) {
            throw new IllegalArgumentException("ef must not be negative, got " + ef);
        }
        exclusive(p -> {
            Native.searchOptionsSetEf(p, ef);
            return null;
        });
        return this;
    }

    /**
     * Only these keys may be returned. The keys are copied; order and repeats do not matter.
     * No keys gives an empty allow-list, which accepts nothing. Replaces an earlier allow-list
     * (there is no way back to "no allow-list" but new options).
     *
     * @return these options
     */
    public SearchOptions allowList(long... keys) {
        Objects.requireNonNull(keys, "keys");
        exclusive(p -> {
            Native.searchOptionsSetList(p, true, keys);
            return null;
        });
        return this;
    }

    /**
     * These keys may not be returned. The keys are copied; order and repeats do not matter; no
     * keys denies nothing. Replaces an earlier deny-list.
     *
     * @return these options
     */
    public SearchOptions denyList(long... keys) {
        Objects.requireNonNull(keys, "keys");
        exclusive(p -> {
            Native.searchOptionsSetList(p, false, keys);
            return null;
        });
        return this;
    }

    /**
     * Only keys for which {@code predicate} returns true may be returned; null removes the
     * predicate. See the class comment for the threads it runs on and what its exceptions do.
     *
     * @return these options
     */
    public SearchOptions filter(LongPredicate predicate) {
        FilterBridge bridge = predicate == null ? null : new FilterBridge(predicate);
        exclusive(p -> {
            long old = state.bridge == null ? 0 : state.bridge.context;
            long fresh = Native.searchOptionsSetFilter(p, bridge, old);
            if (state.bridge != null) {
                state.bridge.context = 0; // freed by the glue
            }
            if (bridge != null) {
                bridge.context = fresh;
            }
            state.bridge = bridge;
            return null;
        });
        return this;
    }

    /** Whether {@link #close()} has run (or the cleaner has). */
    public boolean isClosed() {
        Lock read = state.lock.readLock();
        FilterBridge.lockShared(read);
        try {
            return state.pointer == 0;
        } finally {
            read.unlock();
        }
    }

    /**
     * Frees the options, after any search using them finishes. Idempotent; later setters and
     * searches with these options throw {@link IllegalStateException}.
     *
     * @throws IllegalStateException if called from inside a filter predicate while the options
     *     are in use
     */
    @Override
    public void close() {
        Lock write = state.lock.writeLock();
        FilterBridge.lockExclusive(write, "these SearchOptions");
        try {
            cleanable.clean();
        } finally {
            write.unlock();
        }
    }

    @Override
    public String toString() {
        return isClosed() ? "SearchOptions[closed]" : "SearchOptions[open]";
    }

    /**
     * Runs a search with the options' pointer, holding them shared so that no setter or {@code
     * close} runs meanwhile; then throws what the predicate threw, if it did.
     */
    <T> T use(LongFunction<T> search) {
        Lock read = state.lock.readLock();
        FilterBridge.lockShared(read);
        try {
            long pointer = state.live();
            FilterBridge bridge = state.bridge;
            if (bridge == null) {
                return search.apply(pointer);
            }
            long start = bridge.begin();
            T result;
            try {
                result = search.apply(pointer);
            } catch (RuntimeException | Error e) {
                bridge.end(start); // the predicate's exception, if any, comes first
                throw e;
            }
            bridge.end(start);
            return result;
        } finally {
            read.unlock();
        }
    }

    private void exclusive(LongFunction<Void> call) {
        Lock write = state.lock.writeLock();
        FilterBridge.lockExclusive(write, "these SearchOptions");
        try {
            call.apply(state.live());
        } finally {
            write.unlock();
        }
    }

    /**
     * Owns the native options and the current predicate, apart from the SearchOptions so that
     * the cleaner's action does not keep them reachable. The lock is held shared by searches,
     * exclusively by setters and while freeing.
     */
    private static final class State implements Runnable {
        final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        /** Guarded by {@link #lock}; 0 once freed. */
        long pointer;
        /** The predicate's bridge, or null. Guarded by {@link #lock}. */
        FilterBridge bridge;

        State(long pointer) {
            this.pointer = pointer;
        }

        long live() {
            if (pointer == 0) {
                throw new IllegalStateException("these SearchOptions are closed");
            }
            return pointer;
        }

        /** Frees the options and the filter context: run once, by close() or by the cleaner. */
        @Override
        public void run() {
            Lock write = lock.writeLock();
            write.lock();
            try {
                if (pointer != 0) {
                    Native.searchOptionsFree(pointer, bridge == null ? 0 : bridge.context);
                    pointer = 0;
                    if (bridge != null) {
                        bridge.context = 0;
                        bridge = null;
                    }
                }
            } finally {
                write.unlock();
            }
        }
    }
}
