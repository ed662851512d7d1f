package io.github.ann;

import java.nio.Buffer;

/**
 * The JNI glue ({@code src/main/c/ann_jni.c}): one static method per libann function.
 *
 * <p>Handles are {@code ann_index *}, {@code ann_search_options *} and {@code ann_writer *}
 * pointers carried as {@code long}s, and so are filter contexts (the glue's own). Keys are {@code uint64_t} carried
 * as {@code long}s, the same 64 bits. Nothing here checks
 * state or locks anything: {@link AnnIndex} and {@link AnnWriter} do that, and calls these only with a live handle
 * and arrays of the right sizes. A failing status arrives as the exception {@link Errors}
 * builds, with the library's message; methods declaring {@link java.io.IOException} get file
 * errors as such, the others wrapped in {@link java.io.UncheckedIOException}.
 *
 * <p>Loading this class loads the glue and libann ({@link NativeLoader}); a failure is an
 * {@link UnsatisfiedLinkError} saying where the library was looked for.
 */
final class Native {
    static {
        NativeLoader.load();
    }

    private Native() {}

    /**
     * Opens libann at {@code path} (NUL-terminated) and resolves every function.
     *
     * @return null on success, or why the file could not be opened
     * @throws UnsatisfiedLinkError if it opened but is not a usable libann of this ABI
     */
    static native String init(byte[] path);

    static native int abiVersion();

    static native String version();

    static native String metricName(int metric);

    static native int metricFromName(byte[] name);

    static native long[] fileInfo(byte[] path) throws java.io.IOException;

    static native long create(int dim, int metric);

    static native long load(byte[] path, boolean prefault) throws java.io.IOException;

    static native long loadAnnoy(byte[] path, int dim, int metric, boolean prefault)
            throws java.io.IOException;

    /** {@code paths} are NUL-terminated; an empty array lets libann report the empty list. */
    static native long openShards(byte[][] paths, boolean prefault) throws java.io.IOException;

    static native void free(long index);

    static native void addItem(long index, long id, float[] vector);

    static native void addItemPacked(long index, long id, long[] words);

    static native void setSeed(long index, long seed);

    static native void build(long index, int nTrees, int nThreads);

    /** {@code degree} is not negative (0: the default). */
    static native void buildGraph(long index, int degree, int nThreads);

    static native void unbuild(long index);

    static native void unload(long index);

    static native void save(long index, byte[] path) throws java.io.IOException;

    static native void saveAnnoy(long index, byte[] path) throws java.io.IOException;

    static native void onDiskBuild(long index, byte[] path) throws java.io.IOException;

    static native void verify(long index) throws java.io.IOException;

    static native long nItems(long index);

    static native long nStored(long index);

    static native int nTrees(long index);

    static native boolean hasGraph(long index);

    static native int dim(long index);

    static native int metric(long index);

    static native long seed(long index);

    static native void getItemVector(long index, long id, float[] out);

    static native int getItemPacked(long index, long id, long[] out);

    static native float getDistance(long index, long i, long j);

    /** Fills {@code outIds} (and {@code outDistances} unless null), both of length n. */
    static native int getNns(
            long index, float[] query, int n, long searchK, long[] outIds, float[] outDistances);

    /** As {@link #getNns}, reading {@code dim} floats of a direct buffer from {@code position}. */
    static native int getNnsDirect(
            long index,
            Buffer query,
            int position,
            int dim,
            int n,
            long searchK,
            long[] outIds,
            float[] outDistances);

    static native int getNnsByItem(
            long index, long id, int n, long searchK, long[] outIds, float[] outDistances);

    static native int getNnsPacked(
            long index, long[] query, int n, long searchK, long[] outIds, float[] outDistances);

    /** Row q of the outputs is {@code [q * n, (q + 1) * n)}; {@code outCounts[q]} is its count. */
    static native void getNnsBatch(
            long index,
            float[] queries,
            int nQueries,
            int n,
            long searchK,
            int nThreads,
            long[] outIds,
            float[] outDistances,
            long[] outCounts);

    static native void getNnsBatchDirect(
            long index,
            Buffer queries,
            int position,
            int dim,
            int nQueries,
            int n,
            long searchK,
            int nThreads,
            long[] outIds,
            float[] outDistances,
            long[] outCounts);

    // ------------------------------------------------------------------ search options

    static native long searchOptionsNew();

    /** Frees the options, then the filter context {@code filter} (0: none). */
    static native void searchOptionsFree(long options, long filter);

    static native void searchOptionsSetSearchK(long options, long searchK);

    /** {@code ef} is not negative (0: derived from searchK). */
    static native void searchOptionsSetEf(long options, long ef);

    /** Sets the allow-list ({@code allow}) or the deny-list to a copy of {@code keys}. */
    static native void searchOptionsSetList(long options, boolean allow, long[] keys);

    /**
     * Sets the predicate to {@code bridge} (null: none), freeing the filter context {@code old};
     * returns the new context (0 for none). On failure throws, and {@code old} stays in place.
     */
    static native long searchOptionsSetFilter(long options, FilterBridge bridge, long old);

    /** How many predicate calls through this filter context could not reach Java at all. */
    static native long filterLostCalls(long filter);

    // ------------------------------------------------------------------ filtered searches (options 0: defaults)

    static native int search(
            long index, float[] query, int n, long options, long[] outIds, float[] outDistances);

    static native int searchDirect(
            long index,
            Buffer query,
            int position,
            int dim,
            int n,
            long options,
            long[] outIds,
            float[] outDistances);

    static native int searchByItem(
            long index, long key, int n, long options, long[] outIds, float[] outDistances);

    static native void searchBatch(
            long index,
            float[] queries,
            int nQueries,
            int n,
            long options,
            int nThreads,
            long[] outIds,
            float[] outDistances,
            long[] outCounts);

    static native void searchBatchDirect(
            long index,
            Buffer queries,
            int position,
            int dim,
            int nQueries,
            int n,
            long options,
            int nThreads,
            long[] outIds,
            float[] outDistances,
            long[] outCounts);

    // ------------------------------------------------------------------ live indexes

    /**
     * Makes {@code ann_writer_options} from the values (durability: {@code ANN_DURABILITY_*};
     * graph and graphDegree: {@code ann_writer_options_set_graph}'s), opens the live index
     * directory {@code dir} (NUL-terminated) and frees the options.
     */
    static native long writerOpen(byte[] dir, int dim, int metric, int durability, int flushMs, int nTrees,
            boolean graph, int graphDegree) throws java.io.IOException;

    static native void writerFree(long writer);

    /** {@code vector} has {@code dim} floats. */
    static native void upsert(long writer, long key, float[] vector) throws java.io.IOException;

    /** {@code vectors} has {@code keys.length * dim} floats, row i for {@code keys[i]}. */
    static native void upsertBatch(long writer, long[] keys, float[] vectors) throws java.io.IOException;

    /** Whether the key was there. */
    static native boolean delete(long writer, long key) throws java.io.IOException;

    /** How many of the keys were there. */
    static native int deleteBatch(long writer, long[] keys) throws java.io.IOException;

    static native void sync(long writer) throws java.io.IOException;

    static native void compact(long writer, int nThreads) throws java.io.IOException;

    /** A new read-only {@code ann_index *} on the writer's live index. */
    static native long writerIndex(long writer);

    static native long open(byte[] path, boolean prefault) throws java.io.IOException;

    /** Whether anything changed. */
    static native boolean refresh(long index) throws java.io.IOException;

    static native void export(long index, byte[] path) throws java.io.IOException;
}
