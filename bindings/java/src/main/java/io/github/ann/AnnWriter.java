package io.github.ann;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The one writer of a live index: a directory of immutable, memory-mapped segment files, a
 * write-ahead log and a manifest, to which items are added, replaced and deleted after the
 * fact, durably, while any number of readers (in this process or others) keep querying it.
 *
 * <pre>{@code
 * try (AnnWriter writer = AnnWriter.open("vectors.live", 3, Metric.ANGULAR, WriterOptions.defaults());
 *         AnnIndex index = writer.index()) {
 *     writer.upsert(42, new float[] {1, 0, 0});   // durable when it returns
 *     index.search(new float[] {1, 0, 0}, 1, null); // finds 42 at once, no build step
 *     writer.delete(42);                           // true: it was there
 * }
 * }</pre>
 *
 * <p><b>What is durable when.</b> With {@link WriterOptions.Durability#SYNC} (the default), an
 * {@code upsert} or {@code delete} returns once the write is in the log and the log is synced:
 * it survives a crash of the process and of the machine. With {@link
 * WriterOptions.Durability#TIMER} it returns once the write is in the log, which is synced every
 * {@code flushMs} and by {@link #sync()}: a process crash loses nothing, a power loss the last
 * {@code flushMs}. Reopening the directory replays the log: every acknowledged write is back, and
 * a record torn by a crash is cut off. A batch is one record: after a crash all of it is there or
 * none.
 *
 * <p><b>What readers see when.</b> {@link #index()} sees every write as soon as its call returns.
 * {@link AnnIndex#open(String, boolean)} on the directory, from any process, sees the writes
 * acknowledged before the open, and later ones after {@link AnnIndex#refresh()}. A deleted key
 * is never returned; filtered searches return exactly {@code min(n, live accepted items)}.
 *
 * <p><b>One writer per directory.</b> Opening a second writer on a directory, in this process or
 * another, throws {@link AnnStateException} (an {@link IllegalStateException}) until the first
 * is closed.
 *
 * <p><b>Threads.</b> Every method may be called from any number of threads at once (libann's
 * writer is synchronised; concurrent upserts share one log sync). {@link #compact(int)} runs on
 * the calling thread while writes and queries on other threads go on. {@link #close()} waits for
 * the calls running on other threads (a compaction too) to finish; every call after it but the
 * accessors ({@link #directory()}, {@link #dim()}, {@link #metric()}, {@link #options()}) throws
 * {@link IllegalStateException}.
 *
 * <p><b>Lifetime.</b> Close the writer (try-with-resources) to sync the log and release the
 * directory to the next writer. {@code close} is idempotent; a {@link Cleaner} closes a writer
 * that was forgotten, once it is garbage collected, but do not rely on it: the directory stays
 * locked until then.
 *
 * <p><b>Errors.</b> Bad input (a NaN or infinite value, the reserved key {@code -1L}, a vector
 * whose length is not {@link #dim()}, a directory holding vectors of another dimension or metric)
 * throws {@link IllegalArgumentException} ({@link AnnArgumentException} when libann rejected it);
 * a second writer {@link AnnStateException}; a log or file that cannot be written or read (a full
 * disk), or a damaged directory, {@link IOException} ({@link AnnIOException}), and a failed write
 * changes nothing. Keys are 64-bit and unsigned, as in {@link AnnIndex}.
 */
public final class AnnWriter implements AutoCloseable {
    private final Handle handle;
    private final Cleaner.Cleanable cleanable;
    private final String directory;
    private final int dim;
    private final Metric metric;
    private final WriterOptions options;

    private AnnWriter(long pointer, String directory, int dim, Metric metric, WriterOptions options) {
        handle = new Handle(pointer);
        cleanable = AnnIndex.CLEANER.register(this, handle);
        this.directory = directory;
        this.dim = dim;
        this.metric = metric;
        this.options = options;
    }

    /**
     * Opens the live index directory {@code dir} for writing, creating it (and its parents) when
     * missing. An existing directory must hold vectors of {@code dim} and {@code metric}; its log
     * is replayed, so every acknowledged write is there.
     *
     * @param dim floats per vector (bits, for hamming)
     * @param options durability and compaction settings; null: {@link WriterOptions#defaults()}
     * @throws IllegalArgumentException if {@code dim} is not positive, or ({@link
     *     AnnArgumentException}) the directory holds another dimension or metric
     * @throws IllegalStateException ({@link AnnStateException}, {@link Status#INVALID_STATE}) if
     *     another writer, in this process or another, has the directory open
     * @throws IOException if the directory cannot be created or read, or ({@link
     *     Status#CORRUPT_FILE}) its manifest, a segment or the log is damaged
     */
    public static AnnWriter open(String dir, int dim, Metric metric, WriterOptions options) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(metric, "metric");
        if (dim <= 0) {
            throw new IllegalArgumentException("dim must be positive, got " + dim);
        }
        WriterOptions settings = options == null ? WriterOptions.defaults() : options;
        long pointer = Native.writerOpen(NativeLoader.cString(dir, "dir"), dim, metric.code(),
                settings.durability().code(), settings.flushMs(), settings.nTrees(), settings.graph(),
                settings.graphDegree());
        return new AnnWriter(pointer, dir, dim, metric, settings);
    }

    /** {@link #open(String, int, Metric, WriterOptions)} with the default options. */
    public static AnnWriter open(String dir, int dim, Metric metric) throws IOException {
        return open(dir, dim, metric, null);
    }

    // ------------------------------------------------------------------ writes

    /**
     * Adds the item {@code key}, or replaces its vector if it exists. Returns once the write is
     * logged (and synced, with {@link WriterOptions.Durability#SYNC}); {@link #index()} sees it
     * at once, readers after {@link AnnIndex#refresh()}.
     *
     * @param key any 64-bit key read as unsigned, except {@code -1L}
     * @param vector {@link #dim()} floats (0/1 for hamming)
     * @throws IllegalArgumentException for the reserved key, a vector whose length is not {@link
     *     #dim()}, or a NaN or infinite value
     * @throws IOException if the log cannot be written or synced (nothing changed)
     */
    public void upsert(long key, float[] vector) throws IOException {
        checkVector(vector);
        this.<Void, IOException>call(p -> {
            Native.upsert(p, key, vector);
            return null;
        });
    }

    /**
     * Adds or replaces {@code keys.length} items, logged as one record (after a crash, all of
     * them are there or none): row {@code i} of {@code vectors}, floats {@code [i * dim, (i + 1) *
     * dim)}, is the vector of {@code keys[i]}. A key given twice gets its last row.
     *
     * @throws IllegalArgumentException if {@code vectors.length} is not {@code keys.length *
     *     dim()}, or as {@link #upsert(long, float[])}
     * @throws IOException if the log cannot be written or synced (nothing changed)
     */
    public void upsertBatch(long[] keys, float[] vectors) throws IOException {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(vectors, "vectors");
        long expected = (long) keys.length * dim;
        if (vectors.length != expected) {
            throw new IllegalArgumentException(
                    "vectors has " + vectors.length + " floats but " + keys.length + " keys of dimension " + dim
                            + " need " + expected);
        }
        this.<Void, IOException>call(p -> {
            Native.upsertBatch(p, keys, vectors);
            return null;
        });
    }

    /**
     * As {@link #upsertBatch(long[], float[])}, with {@code vectors[i]} the vector of {@code
     * keys[i]}.
     *
     * @throws IllegalArgumentException if the arrays' lengths differ, or a row's length is not
     *     {@link #dim()}
     */
    public void upsertBatch(long[] keys, float[][] vectors) throws IOException {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(vectors, "vectors");
        if (keys.length != vectors.length) {
            throw new IllegalArgumentException(keys.length + " keys but " + vectors.length + " vectors");
        }
        float[] rows;
        try {
            rows = new float[Math.multiplyExact(vectors.length, dim)];
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(vectors.length + " rows of " + dim + " do not fit in one Java array", e);
        }
        for (int i = 0; i < vectors.length; i++) {
            checkVector(vectors[i]);
            System.arraycopy(vectors[i], 0, rows, i * dim, dim);
        }
        upsertBatch(keys, rows);
    }

    /**
     * Deletes the item {@code key}: no query returns it any more. Deleting a key that is not
     * there is not an error; the reserved key {@code -1L} is ({@link AnnArgumentException}).
     * Durable as {@link #upsert(long, float[])}.
     *
     * @return whether the key was there
     * @throws IOException if the log cannot be written or synced (nothing changed)
     */
    public boolean delete(long key) throws IOException {
        return this.<Boolean, IOException>call(p -> Native.delete(p, key));
    }

    /**
     * Deletes {@code keys}, logged as one record; keys that are not there are skipped. A batch
     * holding the reserved {@code -1L} is refused whole ({@link AnnArgumentException}).
     *
     * @return how many of the keys were there
     * @throws IOException if the log cannot be written or synced (nothing changed)
     */
    public int deleteBatch(long... keys) throws IOException {
        Objects.requireNonNull(keys, "keys");
        return this.<Integer, IOException>call(p -> Native.deleteBatch(p, keys));
    }

    /**
     * Syncs the log now: every write made so far is on disk when it returns (with {@link
     * WriterOptions.Durability#TIMER}, to bound what a power loss could take).
     *
     * @throws IOException if the log cannot be synced
     */
    public void sync() throws IOException {
        this.<Void, IOException>call(p -> {
            Native.sync(p);
            return null;
        });
    }

    /**
     * Folds every live item (the recent writes and the deletions too) into one new segment,
     * built on {@code nThreads} native threads (-1: every core) with {@link WriterOptions#nTrees()}
     * trees (and a graph, with {@link WriterOptions#graph()}), then switches the directory to it
     * and removes the old files (readers that map them keep them until they refresh or close).
     * Answers are those of a fresh build. It runs on the calling thread, so call it from a thread
     * of your choosing: writes and queries on other threads go on meanwhile, and {@link #close()}
     * waits for it.
     *
     * @throws IllegalArgumentException for {@code nThreads} of 0 or below -1
     * @throws IOException if the new segment cannot be written (a full disk): the directory keeps
     *     its current state, and the message says why
     */
    public void compact(int nThreads) throws IOException {
        // Checked here too: libann checks it only when there is something to build.
        if (nThreads == 0 || nThreads < -1) {
            throw new IllegalArgumentException("nThreads must be at least 1, or -1 (every core), got " + nThreads);
        }
        this.<Void, IOException>call(p -> {
            Native.compact(p, nThreads);
            return null;
        });
    }

    /** {@link #compact(int)} on every core. */
    public void compact() throws IOException {
        compact(-1);
    }

    // ------------------------------------------------------------------ reading

    /**
     * A new read-only {@link AnnIndex} on this live index that sees every write as soon as the
     * write's call returns: every query works on it, with no build step. Each call returns a new
     * index, which the caller closes; it stays usable after the writer is closed (and stops
     * changing then). {@code addItem}, {@code build} and {@code save} on it throw {@link
     * AnnStateException}; {@link AnnIndex#export(String)} writes a file.
     */
    public AnnIndex index() {
        return AnnIndex.adopt(this.<Long, RuntimeException>call(Native::writerIndex));
    }

    /** The directory, as given to {@code open}. */
    public String directory() {
        return directory;
    }

    /** Floats per vector, or bits for hamming. */
    public int dim() {
        return dim;
    }

    /** The metric. */
    public Metric metric() {
        return metric;
    }

    /** The options the writer was opened with. */
    public WriterOptions options() {
        return options;
    }

    /** Whether {@link #close()} has run (or the cleaner has, which needs the writer unreachable). */
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
     * Syncs the log, releases the directory to the next writer and frees the writer, after the
     * calls running on other threads finish. Idempotent; later calls (other than {@code close},
     * {@link #isClosed()} and the accessors {@link #directory()}, {@link #dim()}, {@link
     * #metric()}, {@link #options()} and {@code toString}, which keep their values) throw {@link
     * IllegalStateException}. Indexes from {@link #index()} stay usable. A failure of this last
     * sync cannot be reported: call {@link #sync()} first to see it.
     */
    @Override
    public void close() {
        Lock lock = handle.lock.writeLock();
        FilterBridge.lockExclusive(lock, "this AnnWriter"); // the cleaner's action re-enters it
        try {
            cleanable.clean();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "AnnWriter[" + directory + ", dim=" + dim + ", " + metric.canonicalName() + ", " + options
                + (isClosed() ? ", closed]" : "]");
    }

    // ------------------------------------------------------------------ internals

    /**
     * Owns the native pointer, apart from the writer so that the cleaner's action does not keep
     * it reachable. libann's writer is synchronised, so every call holds the lock shared; only
     * {@code ann_writer_free} holds it exclusively.
     */
    private static final class Handle implements Runnable {
        final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        /** Guarded by {@link #lock}; 0 once freed. */
        long pointer;

        Handle(long pointer) {
            this.pointer = pointer;
        }

        long live() {
            if (pointer == 0) {
                throw new IllegalStateException("this AnnWriter is closed");
            }
            return pointer;
        }

        /** Frees the writer: run once, by close() or by the cleaner. */
        @Override
        public void run() {
            Lock write = lock.writeLock();
            write.lock();
            try {
                if (pointer != 0) {
                    Native.writerFree(pointer);
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

    /**
     * Runs {@code call} with the lock shared: the writer cannot be freed meanwhile, even by the
     * cleaner (it needs the exclusive lock), so a writer unreachable mid-call is freed after it.
     */
    private <T, E extends Exception> T call(Call<T, E> call) throws E {
        Lock lock = handle.lock.readLock();
        FilterBridge.lockShared(lock);
        try {
            return call.apply(handle.live());
        } finally {
            lock.unlock();
        }
    }

    private void checkVector(float[] vector) {
        Objects.requireNonNull(vector, "vector");
        if (vector.length != dim) {
            throw new IllegalArgumentException(
                    "the vector has " + vector.length + " values but the writer's dimension is " + dim);
        }
    }
}
