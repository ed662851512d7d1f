package io.github.ann;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.LongFunction;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An approximate nearest-neighbour index: libann's forest of random-projection trees, built in
 * memory or memory-mapped from a file that many processes share.
 *
 * <p><b>Threads.</b> Queries and other reads ({@code getNns*}, {@code getItem*}, {@code save},
 * {@code verify}, counts) run concurrently from any number of threads, as libann allows.
 * Calls that change the index ({@code addItem}, {@code build}, {@code unbuild}, {@code
 * unload}, {@code close}, ...) wait for running reads and run alone. So {@link #close()} racing
 * queries never frees memory a query is using.
 *
 * <p><b>Lifetime.</b> Close the index (try-with-resources) to release its memory or file
 * mapping at once. {@code close} is idempotent; a {@link Cleaner} closes indexes that were
 * forgotten, when they are garbage collected. Every call after {@code close} throws {@link
 * IllegalStateException}.
 *
 * <p><b>Errors.</b> Bad arguments throw {@link IllegalArgumentException} (an {@link
 * AnnArgumentException} when libann rejected them), wrong states {@link
 * IllegalStateException} ({@link AnnStateException}), and file problems {@link IOException}
 * ({@link AnnIOException}), with the library's message. Methods that cannot declare {@code
 * IOException} but can meet a damaged file wrap it in {@link java.io.UncheckedIOException}.
 *
 * <p><b>Keys.</b> Items are identified by 64-bit keys (called ids in the Annoy-style methods),
 * carried as {@code long} and read as <em>unsigned</em>: every value but {@code -1L} (2^64 - 1,
 * reserved as "no key") is a valid key, so keys of 2^63 and above appear negative in Java ({@link
 * Long#toUnsignedString(long)} prints them, {@link Long#compareUnsigned} orders them). Memory
 * and files grow with the number of items, not with the largest key: dense keys ({@code 0..n-1},
 * or keys below 2^31 - 1 filling at least half of {@code 0..max}) keep Annoy's layout, other
 * key sets (2^40, hashes of strings, ...) are stored sorted. A key never added is an {@link
 * AnnArgumentException}. {@link #nItems()} is the largest key + 1 (Annoy's meaning), {@link
 * #nStored()} the number of items. <b>Vectors</b> have {@link #dim()} floats; for {@link
 * Metric#HAMMING} {@code dim} counts bits, given as 0/1 floats or packed into {@code long}
 * words (bit {@code j} of word {@code i} is bit {@code 64 * i + j}).
 *
 * <p><b>searchK</b> is how many candidates a query collects: larger is better recall and
 * slower; -1 means {@code n * nTrees()}.
 *
 * <p><b>Filtered search.</b> {@link #search}, {@link #searchByItem} and {@link #searchBatch}
 * take {@link SearchOptions} (null: the defaults): {@code searchK}, an allow-list, a deny-list
 * and a {@link java.util.function.LongPredicate}. They return exactly {@code min(n, number of
 * stored items accepted)} neighbours, all accepted, unlike the {@code getNns*} methods, which
 * keep Annoy's semantics. <b>Shards:</b> {@link #openShards(List, boolean)} opens several
 * index files as one read-only index.
 *
 * <p><b>Live indexes.</b> An {@link AnnWriter} adds, replaces and deletes items of a live index
 * directory; {@link AnnWriter#index()} gives a read-only {@code AnnIndex} that sees each write as
 * soon as it returns, and {@link #open(String, boolean)} one that sees the writes acknowledged
 * before the open, and later ones after {@link #refresh()}, from any process. Every query works
 * on both; {@link #export(String)} writes one immutable index file.
 */
public final class AnnIndex implements AutoCloseable {
    /** The safety net of indexes and {@link SearchOptions}: one thread for both. */
    static final Cleaner CLEANER = Cleaner.create();

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;
    private final int dim;
    private final Metric metric;

    private AnnIndex(long pointer) {
        handle = new Handle(pointer);
        cleanable = CLEANER.register(this, handle);
        dim = Native.dim(pointer);
        metric = Metric.fromCode(Native.metric(pointer));
    }

    // ------------------------------------------------------------------ creating and opening

    /**
     * Creates an empty index for vectors of {@code dim} values (bits, for hamming).
     *
     * @throws IllegalArgumentException if {@code dim} is not positive or above 2^24
     */
    public static AnnIndex create(int dim, Metric metric) {
        Objects.requireNonNull(metric, "metric");
        if (dim <= 0) {
            throw new IllegalArgumentException("dim must be positive, got " + dim);
        }
        return new AnnIndex(Native.create(dim, metric.code()));
    }

    /**
     * Memory-maps the index file at {@code path}, read-only, in O(1): only the header is
     * checked ({@link #verify()} checks everything). Its metric and dimension come from the file.
     *
     * @param prefault read the whole file in now, rather than a page at a time on first use
     * @throws IOException if the file is missing or unreadable ({@link Status#IO}) or not a valid
     *     index ({@link Status#CORRUPT_FILE})
     */
    public static AnnIndex load(String path, boolean prefault) throws IOException {
        return new AnnIndex(Native.load(NativeLoader.cString(path, "path"), prefault));
    }

    /** {@link #load(String, boolean)} without prefaulting. */
    public static AnnIndex load(String path) throws IOException {
        return load(path, false);
    }

    /**
     * Memory-maps a header-less file written by Annoy 1.17.3 (or {@link #saveAnnoy}), which does
     * not record its dimension and metric: pass the ones it was built with. Queries return
     * Annoy's results.
     *
     * @throws IOException if the file is missing, or its size does not fit {@code dim} and
     *     {@code metric}
     */
    public static AnnIndex loadAnnoy(String path, int dim, Metric metric, boolean prefault) throws IOException {
        Objects.requireNonNull(metric, "metric");
        if (dim <= 0) {
            throw new IllegalArgumentException("dim must be positive, got " + dim);
        }
        return new AnnIndex(Native.loadAnnoy(NativeLoader.cString(path, "path"), dim, metric.code(), prefault));
    }

    /**
     * Memory-maps several native index files as one read-only index: every query form
     * (filtered and batch searches included) searches all of them and merges the results
     * exactly as one index holding all their items would order them (by distance, ties to the
     * smaller key); item calls find the shard holding the key. The files must share a metric
     * and dimension, and no key may be in two of them (checked, which reads every shard's keys).
     * {@link #nItems()} is the largest key + 1 over all shards, {@link #nStored()} and {@link
     * #nTrees()} their sums. Adding, building and saving throw {@link AnnStateException}. Close
     * it like any index; the paths are not kept.
     *
     * @param paths the shard files, in any order (a {@code List}, e.g. {@code List.of(a, b)})
     * @param prefault read the whole files in now, rather than a page at a time on first use
     * @throws IllegalArgumentException ({@link AnnArgumentException}) for an empty list, shards
     *     that differ in metric or dimension, or a key in two shards
     * @throws IOException if a file is missing, unreadable or not a valid native index
     */
    public static AnnIndex openShards(List<String> paths, boolean prefault) throws IOException {
        Objects.requireNonNull(paths, "paths");
        byte[][] files = new byte[paths.size()][];
        int i = 0;
        for (String path : paths) {
            files[i++] = NativeLoader.cString(Objects.requireNonNull(path, "a path in paths"));
        }
        return new AnnIndex(Native.openShards(files, prefault));
    }

    /**
     * Opens {@code path} read-only: an index file (as {@link #load(String, boolean)}), or a live
     * index directory that an {@link AnnWriter} writes, in this process or another. A directory
     * is read without a lock, never blocking its writer: the index sees every write acknowledged
     * before the open, and later ones after {@link #refresh()}. Every query works on it;
     * {@code addItem}, {@code build} and {@code save} throw {@link AnnStateException} ({@link
     * #export(String)} writes a file).
     *
     * @param prefault read the whole files in now, rather than a page at a time on first use
     * @throws IOException if the path is missing or unreadable, a directory has no MANIFEST (it
     *     is not a live index), or a file is damaged ({@link Status#CORRUPT_FILE})
     */
    public static AnnIndex open(String path, boolean prefault) throws IOException {
        return new AnnIndex(Native.open(NativeLoader.cString(path, "path"), prefault));
    }

    /** {@link #open(String, boolean)} without prefaulting. */
    public static AnnIndex open(String path) throws IOException {
        return open(path, false);
    }

    /** Takes ownership of a new {@code ann_index *} (for {@link AnnWriter#index()}). */
    static AnnIndex adopt(long pointer) {
        return new AnnIndex(pointer);
    }

    /** {@link #openShards(List, boolean)} without prefaulting. */
    public static AnnIndex openShards(List<String> paths) throws IOException {
        return openShards(paths, false);
    }

    /**
     * Tells what the file at {@code path} is without loading it; a native file's header is
     * validated in full.
     *
     * @throws IOException if the file is missing, or a native file's header is damaged
     */
    public static FileInfo fileInfo(String path) throws IOException {
        return FileInfo.fromFields(Native.fileInfo(NativeLoader.cString(path, "path")));
    }

    /** The version of the libann actually loaded, e.g. "0.1.0". */
    public static String version() {
        return Native.version();
    }

    /** The ABI version of the libann actually loaded (the binding refuses any other than 1). */
    public static int abiVersion() {
        return Native.abiVersion();
    }

    /** Which libann was loaded: a path, or "libann.so.1" when found by the system's loader. */
    public static String libraryPath() {
        Native.abiVersion(); // loads the library if nothing has yet
        return NativeLoader.loadedLibrary();
    }

    // ------------------------------------------------------------------ building

    /**
     * Adds, or replaces, the item with key {@code id}: any 64-bit key read as unsigned, except
     * {@code -1L} (see "Keys" above). For hamming, values above 0.5 are 1-bits.
     *
     * @throws IllegalArgumentException for the reserved key {@code -1L}, a vector whose length
     *     is not {@link #dim()}, or a NaN or infinite value
     * @throws IllegalStateException if the index is built (call {@link #unbuild()}) or loaded
     */
    public void addItem(long id, float[] vector) {
        checkVector(vector);
        exclusive(p -> {
            Native.addItem(p, id, vector);
            return null;
        });
    }

    /**
     * Hamming only: adds item {@code id} from {@code ceil(dim / 64)} packed words; bits past
     * {@code dim} must be 0.
     *
     * @throws IllegalArgumentException for another metric or a wrong number of words
     */
    public void addItemPacked(long id, long[] words) {
        checkWords(words);
        exclusive(p -> {
            Native.addItemPacked(p, id, words);
            return null;
        });
    }

    /**
     * Sets the seed of the next build: one seed always gives the same index, whatever the
     * number of threads. The default is fixed, so builds are repeatable without this.
     */
    public void setSeed(long seed) {
        exclusive(p -> {
            Native.setSeed(p, seed);
            return null;
        });
    }

    /**
     * Builds {@code nTrees} trees (-1: until the index has twice as many nodes as items) on
     * {@code nThreads} threads (-1: every core). More trees: better recall, larger file.
     *
     * @throws IllegalArgumentException for {@code nTrees} or {@code nThreads} of 0 or below -1
     * @throws IllegalStateException if already built (call {@link #unbuild()}) or loaded
     * @throws java.io.UncheckedIOException if finishing an {@link #onDiskBuild} file fails
     */
    public void build(int nTrees, int nThreads) {
        exclusive(p -> {
            Native.build(p, nTrees, nThreads);
            return null;
        });
    }

    /** {@link #build(int, int)} on every core. */
    public void build(int nTrees) {
        build(nTrees, -1);
    }

    /**
     * Adds a proximity graph over the items of a built or loaded index: queries then walk it
     * instead of the forest (a {@link SearchOptions#ef(long)} beam; {@code searchK / 16} for the
     * {@code getNns*} methods, at least {@code n}), {@link #save} writes it into the file, and
     * {@link #load(String, boolean)} maps it. Replaces an earlier graph; {@link #saveAnnoy}
     * still writes the forest only. One seed gives the same graph whatever the thread count.
     *
     * @param degree the most neighbours per item: 0 for the default (32), up to 256
     * @param nThreads threads to build on (-1: every core)
     * @throws IllegalArgumentException for a negative {@code degree}; ({@link
     *     AnnArgumentException}) above 256, or {@code nThreads} of 0 or below -1
     * @throws IllegalStateException if not built, or for shards and live indexes (build the
     *     graph on each file, or on an {@linkplain #export(String) exported} one)
     */
    public void buildGraph(int degree, int nThreads) {
        if (degree < 0) {
            throw new IllegalArgumentException("degree must not be negative, got " + degree);
        }
        exclusive(p -> {
            Native.buildGraph(p, degree, nThreads);
            return null;
        });
    }

    /**
     * Drops the trees but keeps the items, so more can be added and the index built again.
     * Does nothing on an index that is not built.
     *
     * @throws IllegalStateException for a loaded index
     */
    public void unbuild() {
        exclusive(p -> {
            Native.unbuild(p);
            return null;
        });
    }

    /**
     * Releases the memory or file mapping and leaves the index empty, with the same metric and
     * dimension, ready for new items. Unlike {@link #close()}, the index stays usable.
     */
    public void unload() {
        exclusive(p -> {
            Native.unload(p);
            return null;
        });
    }

    /**
     * Builds straight into the file at {@code path} (created or truncated) instead of memory,
     * for indexes larger than RAM. Call it before {@link #build}, which then finishes the file
     * and maps it read-only.
     *
     * @throws IllegalStateException if built, loaded or already building on disk
     * @throws IOException if the file cannot be created
     */
    public void onDiskBuild(String path) throws IOException {
        byte[] file = NativeLoader.cString(path, "path");
        this.<Void, IOException>exclusive(p -> {
            Native.onDiskBuild(p, file);
            return null;
        });
    }

    // ------------------------------------------------------------------ files

    /**
     * Saves the built index to {@code path}, atomically: a temporary file beside it is written,
     * synced and renamed over it, so readers of the old file keep working.
     *
     * @throws IllegalStateException if not built
     * @throws IOException if the file cannot be written
     */
    public void save(String path) throws IOException {
        byte[] file = NativeLoader.cString(path, "path");
        this.<Void, IOException>shared(p -> {
            Native.save(p, file);
            return null;
        });
    }

    /**
     * Saves the built index as the header-less body Annoy 1.17.3 loads (atomically, like {@link
     * #save}); the dimension, metric and seed are not recorded in that form.
     *
     * @throws IllegalStateException if not built
     * @throws IOException if the file cannot be written
     */
    public void saveAnnoy(String path) throws IOException {
        byte[] file = NativeLoader.cString(path, "path");
        this.<Void, IOException>shared(p -> {
            Native.saveAnnoy(p, file);
            return null;
        });
    }

    /**
     * Checks a built or loaded index completely: the body checksum, then every tree.
     *
     * @throws IllegalStateException if not built
     * @throws IOException ({@link Status#CORRUPT_FILE}) describing the damage
     */
    public void verify() throws IOException {
        this.<Void, IOException>shared(p -> {
            Native.verify(p);
            return null;
        });
    }

    /**
     * Brings an index {@linkplain #open(String, boolean) opened} on a live directory up to date:
     * the writes acknowledged since, or the new generation after a compaction. Queries running
     * on other threads meanwhile finish on the state they started with (the files they read
     * stay mapped), and later ones see the new state. For other indexes (files, shards, an
     * {@link AnnWriter#index()}, which is always current) it changes nothing.
     *
     * @return whether anything changed
     * @throws IOException if the directory's files cannot be read or are damaged; the index
     *     keeps its previous state
     */
    public boolean refresh() throws IOException {
        // ann_refresh is safe while other threads query the same handle: a shared lock.
        return this.<Boolean, IOException>shared(Native::refresh);
    }

    /**
     * Writes every item into one new immutable index file at {@code path}, atomically (like
     * {@link #save}): for a live index its live items, compacted (a fresh build with the
     * writer's tree count, and a graph with {@link WriterOptions#graph()}); for shards all their
     * items (with a graph when a shard has one); a plain built index as it is (with its graph).
     * The file loads with {@link #load(String, boolean)} or {@link #open(String, boolean)}.
     *
     * @throws IllegalStateException for an in-memory index that is not built
     * @throws IOException if the file cannot be written
     */
    public void export(String path) throws IOException {
        byte[] file = NativeLoader.cString(path, "path");
        this.<Void, IOException>shared(p -> {
            Native.export(p, file);
            return null;
        });
    }

    // ------------------------------------------------------------------ queries

    /**
     * The ids of the {@code n} items nearest to {@code query}, nearest first; fewer when the
     * index has fewer items.
     *
     * @throws IllegalArgumentException for a query whose length is not {@link #dim()}, a NaN,
     *     a negative {@code n}, or {@code searchK} below -1
     * @throws IllegalStateException if the index is not built
     */
    public long[] getNnsByVector(float[] query, int n, long searchK) {
        return getNnsByVectorWithDistances(query, n, searchK, false).ids();
    }

    /** {@link #getNnsByVector(float[], int, long)} with the default {@code searchK}. */
    public long[] getNnsByVector(float[] query, int n) {
        return getNnsByVector(query, n, -1);
    }

    /** As {@link #getNnsByVector(float[], int, long)}, with the distances. */
    public Neighbors getNnsByVectorWithDistances(float[] query, int n, long searchK) {
        return getNnsByVectorWithDistances(query, n, searchK, true);
    }

    private Neighbors getNnsByVectorWithDistances(float[] query, int n, long searchK, boolean distances) {
        checkVector(query);
        return search(n, distances, (p, slots, ids, d) -> Native.getNns(p, query, slots, searchK, ids, d));
    }

    /**
     * As {@link #getNnsByVector(float[], int, long)}, for the {@code remaining()} floats of
     * {@code query} from its position, which is left unchanged. A direct buffer in native byte
     * order ({@code ByteBuffer.allocateDirect(4 * dim).order(ByteOrder.nativeOrder())
     * .asFloatBuffer()}) is read in place, without a copy; any other buffer is copied first.
     *
     * @throws IllegalArgumentException if {@code remaining()} is not {@link #dim()}
     */
    public long[] getNnsByVector(FloatBuffer query, int n, long searchK) {
        return search(n, false, bufferSearch(query, searchK)).ids();
    }

    /** As {@link #getNnsByVector(FloatBuffer, int, long)}, with the distances. */
    public Neighbors getNnsByVectorWithDistances(FloatBuffer query, int n, long searchK) {
        return search(n, true, bufferSearch(query, searchK));
    }

    /**
     * The ids of the {@code n} items nearest to item {@code id}, nearest first. The item itself
     * comes first, at distance 0, for every metric but dot.
     *
     * @throws IllegalArgumentException if {@code id} was never added, or as {@link
     *     #getNnsByVector(float[], int, long)}
     */
    public long[] getNnsByItem(long id, int n, long searchK) {
        return getNnsByItemWithDistances(id, n, searchK, false).ids();
    }

    /** {@link #getNnsByItem(long, int, long)} with the default {@code searchK}. */
    public long[] getNnsByItem(long id, int n) {
        return getNnsByItem(id, n, -1);
    }

    /** As {@link #getNnsByItem(long, int, long)}, with the distances. */
    public Neighbors getNnsByItemWithDistances(long id, int n, long searchK) {
        return getNnsByItemWithDistances(id, n, searchK, true);
    }

    private Neighbors getNnsByItemWithDistances(long id, int n, long searchK, boolean distances) {
        return search(n, distances, (p, slots, ids, d) -> Native.getNnsByItem(p, id, slots, searchK, ids, d));
    }

    /**
     * Hamming only: as {@link #getNnsByVector(float[], int, long)}, for a query of {@code
     * ceil(dim / 64)} packed words.
     */
    public long[] getNnsByPacked(long[] words, int n, long searchK) {
        return getNnsByPackedWithDistances(words, n, searchK, false).ids();
    }

    /** As {@link #getNnsByPacked(long[], int, long)}, with the distances. */
    public Neighbors getNnsByPackedWithDistances(long[] words, int n, long searchK) {
        return getNnsByPackedWithDistances(words, n, searchK, true);
    }

    private Neighbors getNnsByPackedWithDistances(long[] words, int n, long searchK, boolean distances) {
        checkWords(words);
        return search(n, distances, (p, slots, ids, d) -> Native.getNnsPacked(p, words, slots, searchK, ids, d));
    }

    /**
     * Queries many vectors at once on {@code nThreads} native threads (-1: every core); result
     * {@code q} is that of {@code queries[q]}, as {@link #getNnsByVectorWithDistances(float[],
     * int, long)} gives it.
     *
     * @throws IllegalArgumentException if a row's length is not {@link #dim()}, or as the
     *     single query; for {@code nThreads} of 0 or below -1
     */
    public Neighbors[] getNnsBatch(float[][] queries, int n, long searchK, int nThreads) {
        Objects.requireNonNull(queries, "queries");
        int nQueries = queries.length;
        float[] rows = new float[checkedProduct(nQueries, dim)];
        for (int q = 0; q < nQueries; q++) {
            checkVector(queries[q]);
            System.arraycopy(queries[q], 0, rows, q * dim, dim);
        }
        return batch(nQueries, n, (p, slots, ids, d, counts) ->
                Native.getNnsBatch(p, rows, nQueries, slots, searchK, nThreads, ids, d, counts));
    }

    /** {@link #getNnsBatch(float[][], int, long, int)} on every core. */
    public Neighbors[] getNnsBatch(float[][] queries, int n, long searchK) {
        return getNnsBatch(queries, n, searchK, -1);
    }

    /**
     * As {@link #getNnsBatch(float[][], int, long, int)}, for the rows of {@code dim} floats in
     * {@code queries} from its position (left unchanged) to its limit. A direct buffer in
     * native byte order is read in place; any other is copied first.
     *
     * @throws IllegalArgumentException if {@code remaining()} is not a multiple of {@link #dim()}
     */
    public Neighbors[] getNnsBatch(FloatBuffer queries, int n, long searchK, int nThreads) {
        int nQueries = rowsOf(queries);
        if (inPlace(queries)) {
            int position = queries.position();
            return batch(nQueries, n, (p, slots, ids, d, counts) -> Native.getNnsBatchDirect(
                    p, queries, position, dim, nQueries, slots, searchK, nThreads, ids, d, counts));
        }
        float[] rows = copy(queries);
        return batch(nQueries, n, (p, slots, ids, d, counts) ->
                Native.getNnsBatch(p, rows, nQueries, slots, searchK, nThreads, ids, d, counts));
    }

    // ------------------------------------------------------------------ filtered search

    /**
     * The {@code n} items nearest to {@code query} that {@code options} accepts, nearest first,
     * with their distances: exactly {@code min(n, number of stored items accepted)} of them,
     * every one accepted, whatever the filter's selectivity (unlike {@link
     * #getNnsByVector(float[], int, long)}, which may return fewer than {@code n}).
     *
     * @param options the filter and {@code searchK}; null for the defaults (no filter)
     * @throws IllegalArgumentException as {@link #getNnsByVector(float[], int, long)}
     * @throws IllegalStateException if the index is not built, or {@code options} are closed
     * @throws RuntimeException what the options' predicate threw, if it did (see {@link
     *     SearchOptions})
     */
    public Neighbors search(float[] query, int n, SearchOptions options) {
        checkVector(query);
        checkN(n);
        return withOptions(options, o -> search(n, true, (p, slots, ids, d) ->
                Native.search(p, query, slots, o, ids, d)));
    }

    /**
     * As {@link #search(float[], int, SearchOptions)}, for the {@code remaining()} floats of
     * {@code query} from its position (left unchanged); a direct buffer in native byte order is
     * read in place, any other is copied first.
     */
    public Neighbors search(FloatBuffer query, int n, SearchOptions options) {
        checkN(n);
        checkBuffer(query);
        if (inPlace(query)) {
            int position = query.position();
            return withOptions(options, o -> search(n, true, (p, slots, ids, d) ->
                    Native.searchDirect(p, query, position, dim, slots, o, ids, d)));
        }
        float[] copy = copy(query);
        return withOptions(options, o -> search(n, true, (p, slots, ids, d) ->
                Native.search(p, copy, slots, o, ids, d)));
    }

    /**
     * As {@link #search(float[], int, SearchOptions)}, with item {@code key}'s vector as the
     * query. The item itself is a candidate like any other (first, at distance 0, for every
     * metric but dot, when the options accept it).
     *
     * @throws IllegalArgumentException ({@link AnnArgumentException}) if {@code key} was never
     *     added, or as {@link #search(float[], int, SearchOptions)}
     */
    public Neighbors searchByItem(long key, int n, SearchOptions options) {
        checkN(n);
        return withOptions(options, o -> search(n, true, (p, slots, ids, d) ->
                Native.searchByItem(p, key, slots, o, ids, d)));
    }

    /**
     * Many filtered searches at once on {@code nThreads} native threads (-1: every core): result
     * {@code q} is that of {@code search(queries[q], n, options)}. The options' predicate is
     * called on those threads, several at once.
     *
     * @throws IllegalArgumentException if a row's length is not {@link #dim()}, or as the single
     *     search; for {@code nThreads} of 0 or below -1
     */
    public Neighbors[] searchBatch(float[][] queries, int n, SearchOptions options, int nThreads) {
        Objects.requireNonNull(queries, "queries");
        checkN(n);
        int nQueries = queries.length;
        float[] rows = new float[checkedProduct(nQueries, dim)];
        for (int q = 0; q < nQueries; q++) {
            checkVector(queries[q]);
            System.arraycopy(queries[q], 0, rows, q * dim, dim);
        }
        return withOptions(options, o -> batch(nQueries, n, (p, slots, ids, d, counts) ->
                Native.searchBatch(p, rows, nQueries, slots, o, nThreads, ids, d, counts)));
    }

    /** {@link #searchBatch(float[][], int, SearchOptions, int)} on every core. */
    public Neighbors[] searchBatch(float[][] queries, int n, SearchOptions options) {
        return searchBatch(queries, n, options, -1);
    }

    /**
     * As {@link #searchBatch(float[][], int, SearchOptions, int)}, for the rows of {@code dim}
     * floats in {@code queries} from its position (left unchanged) to its limit. A direct buffer
     * in native byte order is read in place; any other is copied first.
     *
     * @throws IllegalArgumentException if {@code remaining()} is not a multiple of {@link #dim()}
     */
    public Neighbors[] searchBatch(FloatBuffer queries, int n, SearchOptions options, int nThreads) {
        int nQueries = rowsOf(queries);
        checkN(n);
        if (inPlace(queries)) {
            int position = queries.position();
            return withOptions(options, o -> batch(nQueries, n, (p, slots, ids, d, counts) ->
                    Native.searchBatchDirect(p, queries, position, dim, nQueries, slots, o, nThreads, ids, d, counts)));
        }
        float[] rows = copy(queries);
        return withOptions(options, o -> batch(nQueries, n, (p, slots, ids, d, counts) ->
                Native.searchBatch(p, rows, nQueries, slots, o, nThreads, ids, d, counts)));
    }

    // ------------------------------------------------------------------ items and counts

    /**
     * Item {@code id}'s vector ({@link #dim()} floats; 0/1 for hamming).
     *
     * @throws IllegalArgumentException if {@code id} was never added
     */
    public float[] getItemVector(long id) {
        return shared(p -> {
            float[] vector = new float[dim];
            Native.getItemVector(p, id, vector);
            return vector;
        });
    }

    /**
     * Hamming only: item {@code id}'s {@code ceil(dim / 64)} packed words.
     *
     * @throws IllegalArgumentException for another metric or an id never added
     */
    public long[] getItemPacked(long id) {
        return shared(p -> {
            long[] words = new long[wordsPerItem()];
            int count = Native.getItemPacked(p, id, words);
            return count == words.length ? words : Arrays.copyOf(words, count);
        });
    }

    /**
     * The distance between items {@code i} and {@code j}, as a query would report it.
     *
     * @throws IllegalArgumentException if either was never added
     */
    public float getDistance(long i, long j) {
        return shared(p -> Native.getDistance(p, i, j));
    }

    /**
     * The largest key added, plus 1 (0 when empty): Annoy's {@code n_items}, which counts the
     * keys never added below the largest too. Unsigned, like keys: it is {@code -1L} (2^64 - 1)
     * when the largest key is 2^64 - 2. {@link #nStored()} counts the items.
     */
    public long nItems() {
        return shared(Native::nItems);
    }

    /** The number of items stored (each key once); for shards, the sum over the shards. */
    public long nStored() {
        return shared(Native::nStored);
    }

    /** The number of trees; 0 before the index is built. */
    public int nTrees() {
        return shared(Native::nTrees);
    }

    /** Whether the index has a graph: from {@link #buildGraph}, or a file saved with one. */
    public boolean hasGraph() {
        return shared(Native::hasGraph);
    }

    /** Floats per vector, or bits for hamming. */
    public int dim() {
        return shared(p -> dim);
    }

    /** The metric. */
    public Metric metric() {
        return shared(p -> metric);
    }

    /** The seed the next build uses, or for a loaded index the one it was built with. */
    public long seed() {
        return shared(Native::seed);
    }

    /** Whether {@link #close()} has run (or the cleaner has, which needs the index unreachable). */
    public boolean isClosed() {
        Lock lock = handle.lock.readLock();
        FilterBridge.lockShared(lock);
        try {
            return handle.pointer == 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Releases the index's memory or file mapping, after any running call finishes. Idempotent;
     * later calls (other than {@code close} and {@link #isClosed()}) throw {@link
     * IllegalStateException}.
     */
    @Override
    public void close() {
        Lock lock = handle.lock.writeLock();
        FilterBridge.lockExclusive(lock, "this AnnIndex"); // the cleaner's action re-enters it
        try {
            cleanable.clean();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ internals

    /**
     * Owns the native pointer, apart from the AnnIndex so that the cleaner's action does not
     * keep the index reachable. The lock is held shared around calls on a {@code const
     * ann_index *} and exclusively around the others and {@code ann_free}.
     */
    private static final class Handle implements Runnable {
        final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        /** Guarded by {@link #lock}; 0 once freed. */
        long pointer;

        Handle(long pointer) {
            this.pointer = pointer;
        }

        /** The pointer; call with the lock held. */
        long live() {
            if (pointer == 0) {
                throw new IllegalStateException("this AnnIndex is closed");
            }
            return pointer;
        }

        /** Frees the index: run once, by close() or by the cleaner. */
        @Override
        public void run() {
            Lock write = lock.writeLock();
            write.lock();
            try {
                if (pointer != 0) {
                    Native.free(pointer);
                    pointer = 0;
                }
            } finally {
                write.unlock();
            }
        }
    }

    /** A call on the live pointer, which may throw {@code E}. */
    @FunctionalInterface
    private interface Call<T, E extends Exception> {
        T apply(long pointer) throws E;
    }

    /** One native query into arrays of {@code slots}; returns the count written. */
    @FunctionalInterface
    private interface Search {
        int run(long pointer, int slots, long[] ids, float[] distances);
    }

    /** One native batch query into rows of {@code slots}. */
    @FunctionalInterface
    private interface BatchSearch {
        void run(long pointer, int slots, long[] ids, float[] distances, long[] counts);
    }

    /**
     * Runs {@code call} with the lock shared (the C function takes a {@code const ann_index *}).
     * While it runs, the handle cannot be freed: the cleaner, too, needs the exclusive lock, so
     * even an index that becomes unreachable mid-call is freed only afterwards.
     */
    private <T, E extends Exception> T shared(Call<T, E> call) throws E {
        Lock lock = handle.lock.readLock();
        FilterBridge.lockShared(lock);
        try {
            return call.apply(handle.live());
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code call} alone (the C function takes an {@code ann_index *}). */
    private <T, E extends Exception> T exclusive(Call<T, E> call) throws E {
        Lock lock = handle.lock.writeLock();
        FilterBridge.lockExclusive(lock, "this AnnIndex");
        try {
            return call.apply(handle.live());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs a single query with result arrays sized {@code min(n, nStored())}, which is all it
     * can fill, and trims them to the count found. Without distances, the result's are empty.
     */
    private Neighbors search(int n, boolean withDistances, Search search) {
        checkN(n);
        return shared(p -> {
            int slots = (int) Math.min(n, Native.nStored(p));
            long[] ids = new long[slots];
            float[] distances = withDistances ? new float[slots] : null;
            int count = search.run(p, slots, ids, distances);
            long[] foundIds = count == slots ? ids : Arrays.copyOf(ids, count);
            if (!withDistances) {
                return new Neighbors(foundIds, new float[count]);
            }
            return new Neighbors(foundIds, count == slots ? distances : Arrays.copyOf(distances, count));
        });
    }

    /** Runs a batch query and splits its rows, each trimmed to its count. */
    private Neighbors[] batch(int nQueries, int n, BatchSearch search) {
        checkN(n);
        return shared(p -> {
            int slots = (int) Math.min(n, Native.nStored(p));
            Neighbors[] results = new Neighbors[nQueries];
            if (nQueries == 0) {
                return results;
            }
            int total = checkedProduct(nQueries, slots);
            long[] ids = new long[total];
            float[] distances = new float[total];
            long[] counts = new long[nQueries];
            search.run(p, slots, ids, distances, counts);
            for (int q = 0; q < nQueries; q++) {
                int from = q * slots;
                int to = from + (int) counts[q];
                results[q] = new Neighbors(Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(distances, from, to));
            }
            return results;
        });
    }

    /** A query reading {@code buffer} in place when libann can, else a copy of it. */
    private Search bufferSearch(FloatBuffer query, long searchK) {
        checkBuffer(query);
        if (inPlace(query)) {
            int position = query.position();
            return (p, slots, ids, d) -> Native.getNnsDirect(p, query, position, dim, slots, searchK, ids, d);
        }
        float[] copy = copy(query);
        return (p, slots, ids, d) -> Native.getNns(p, copy, slots, searchK, ids, d);
    }

    /** Runs {@code search} with the options' pointer (0 for null options: the defaults). */
    private static <T> T withOptions(SearchOptions options, LongFunction<T> search) {
        return options == null ? search.apply(0) : options.use(search);
    }

    /** Checks that a query buffer has {@link #dim()} floats remaining. */
    private void checkBuffer(FloatBuffer query) {
        Objects.requireNonNull(query, "query");
        if (query.remaining() != dim) {
            throw new IllegalArgumentException(
                    "the query buffer has " + query.remaining()
                            + " floats remaining but the index's dimension is " + dim);
        }
    }

    /** The number of rows of {@link #dim()} floats a batch buffer has remaining. */
    private int rowsOf(FloatBuffer queries) {
        Objects.requireNonNull(queries, "queries");
        int remaining = queries.remaining();
        if (remaining % dim != 0) {
            throw new IllegalArgumentException(
                    "the buffer has " + remaining + " floats remaining, not a whole number of rows of " + dim);
        }
        return remaining / dim;
    }

    /** Whether C can read the buffer's memory as floats: direct, and in this machine's byte order. */
    private static boolean inPlace(FloatBuffer buffer) {
        return buffer.isDirect() && buffer.order() == ByteOrder.nativeOrder();
    }

    /** The remaining floats, leaving the buffer's position as it was. */
    private static float[] copy(FloatBuffer buffer) {
        float[] values = new float[buffer.remaining()];
        buffer.duplicate().get(values);
        return values;
    }

    private int wordsPerItem() {
        return (dim + 63) / 64;
    }

    private void checkVector(float[] vector) {
        Objects.requireNonNull(vector, "vector");
        if (vector.length != dim) {
            throw new IllegalArgumentException(
                    "the vector has " + vector.length + " values but the index's dimension is " + dim);
        }
    }

    /** Checks the word count for hamming; for other metrics libann's error says what is wrong. */
    private void checkWords(long[] words) {
        Objects.requireNonNull(words, "words");
        if (metric == Metric.HAMMING && words.length != wordsPerItem()) {
            throw new IllegalArgumentException(
                    words.length + " words given but " + dim + " bits take " + wordsPerItem() + " words");
        }
    }

    private static void checkN(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must not be negative, got " + n);
        }
    }

    private static int checkedProduct(int a, int b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(a + " rows of " + b + " do not fit in one Java array", e);
        }
    }
}
