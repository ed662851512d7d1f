package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live indexes: AnnWriter's writes seen at once by its index, replaced and deleted items,
 * durability across reopening (sync and timer modes), compaction, one writer per directory,
 * bad input, close and the cleaner, and a reader in another JVM that follows the writes with
 * refresh(), across a compaction too.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LiveTest {
    static final int DIM = 8;
    /** A searchK that visits every item: exact answers, whatever the segments and delta look like. */
    static final long EXHAUSTIVE = 1_000_000;
    private static final Metric METRIC = Metric.EUCLIDEAN;

    @TempDir Path tmp;

    /** The vector of {@code key} in these tests (LiveReaderMain queries with it too). */
    static float[] vectorFor(long key, int dim) {
        Random random = new Random(key * 0x9E3779B97F4A7C15L);
        float[] vector = new float[dim];
        for (int j = 0; j < dim; j++) {
            vector[j] = random.nextFloat() * 2 - 1;
        }
        return vector;
    }

    static float[] vectorFor(long key) {
        return vectorFor(key, DIM);
    }

    /** A vector's floats as exact bit patterns, for comparing across processes. */
    static String bits(float[] vector) {
        StringBuilder text = new StringBuilder();
        for (float value : vector) {
            if (text.length() > 0) {
                text.append(',');
            }
            text.append(Integer.toHexString(Float.floatToRawIntBits(value)));
        }
        return text.toString();
    }

    private String dir() {
        return tmp.resolve("live").toString();
    }

    private AnnWriter open() throws IOException {
        return AnnWriter.open(dir(), DIM, METRIC, WriterOptions.builder().nTrees(4).build());
    }

    private static long[] range(long from, long to) {
        return LongStream.range(from, to).toArray();
    }

    private static float[] rows(long[] keys) {
        float[] rows = new float[keys.length * DIM];
        for (int i = 0; i < keys.length; i++) {
            System.arraycopy(vectorFor(keys[i]), 0, rows, i * DIM, DIM);
        }
        return rows;
    }

    /** Every key {@code index} returns for a query, with n large enough for all of them. */
    private static long[] all(AnnIndex index, float[] query) {
        return Support.sorted(index.search(query, 100_000, null).ids());
    }

    @Test
    void writesAreVisibleAtOnceAndDeletedKeysNeverReturned() throws IOException {
        try (AnnWriter writer = open(); AnnIndex index = writer.index()) {
            assertEquals(0, index.nStored());
            for (long key = 0; key < 60; key++) {
                writer.upsert(key, vectorFor(key));
                Neighbors hit = index.search(vectorFor(key), 1, null); // the very next query
                assertArrayEquals(new long[] {key}, hit.ids());
                assertEquals(0f, hit.distances()[0]);
                assertEquals(key + 1, index.nStored());
            }
            long[] deleted = {3, 17, 42, 59};
            for (long key : deleted) {
                assertTrue(writer.delete(key));
                assertFalse(Arrays.stream(index.search(vectorFor(key), 5, null).ids()).anyMatch(k -> k == key),
                        "deleted key " + key + " returned by the next query");
            }
            assertEquals(60 - deleted.length, index.nStored());
            // n larger than the index: exactly the live items, none deleted.
            long[] live = LongStream.range(0, 60).filter(k -> Arrays.binarySearch(deleted, k) < 0).toArray();
            assertArrayEquals(live, all(index, vectorFor(0)));
            for (long key : index.getNnsByVector(vectorFor(0), 1000, -1)) {
                assertTrue(Arrays.binarySearch(deleted, key) < 0, "deleted key " + key + " returned by getNns");
            }
            for (long key : deleted) {
                assertThrows(AnnArgumentException.class, () -> index.getItemVector(key));
            }
            // A second handle from the same writer sees the same.
            try (AnnIndex other = writer.index()) {
                assertArrayEquals(live, all(other, vectorFor(1)));
            }
        }
    }

    @Test
    void upsertReplacesAnExistingKey() throws IOException {
        try (AnnWriter writer = open(); AnnIndex index = writer.index()) {
            writer.upsertBatch(range(0, 20), rows(range(0, 20)));
            float[] replacement = vectorFor(1000);
            writer.upsert(7, replacement);
            assertEquals(20, index.nStored());
            assertArrayEquals(replacement, index.getItemVector(7));
            assertArrayEquals(new long[] {7}, index.search(replacement, 1, null).ids());
            // In a batch too, and a key given twice in one batch gets its last row.
            writer.upsertBatch(new long[] {8, 8}, new float[][] {vectorFor(2000), vectorFor(3000)});
            assertArrayEquals(vectorFor(3000), index.getItemVector(8));
            assertEquals(20, index.nStored());
        }
    }

    @Test
    void deletingAnUnknownKeyIsFalseNotAnError() throws IOException {
        try (AnnWriter writer = open(); AnnIndex index = writer.index()) {
            assertFalse(writer.delete(5));
            writer.upsertBatch(range(0, 10), rows(range(0, 10)));
            assertFalse(writer.delete(1L << 50));
            assertFalse(writer.delete(-2L)); // 2^64 - 2, a valid key, never added
            assertTrue(writer.delete(5));
            assertFalse(writer.delete(5));
            assertEquals(2, writer.deleteBatch(1, 2, 5, 99));
            assertEquals(0, writer.deleteBatch());
            assertEquals(7, index.nStored());
        }
    }

    @Test
    void everyWriteIsThereAfterCloseAndReopen() throws IOException {
        long[] keys = {0, 1, 2, 1L << 40, -5L, 123_456_789L};
        try (AnnWriter writer = open()) {
            writer.upsertBatch(keys, rows(keys));
            writer.upsert(2, vectorFor(77));
            assertTrue(writer.delete(1));
        }
        try (AnnWriter writer = open(); AnnIndex index = writer.index();
                AnnIndex reader = AnnIndex.open(dir(), true)) {
            for (AnnIndex each : List.of(index, reader)) {
                assertEquals(5, each.nStored());
                assertArrayEquals(vectorFor(77), each.getItemVector(2));
                assertArrayEquals(vectorFor(-5L), each.getItemVector(-5L));
                assertArrayEquals(vectorFor(1L << 40), each.getItemVector(1L << 40));
                assertThrows(AnnArgumentException.class, () -> each.getItemVector(1));
            }
            assertFalse(writer.delete(1));
        }
    }

    @Test
    void timerModeWithSync() throws IOException {
        WriterOptions timer = WriterOptions.builder().durability(WriterOptions.Durability.TIMER).flushMs(20).build();
        assertEquals(WriterOptions.Durability.TIMER, timer.durability());
        assertEquals(20, timer.flushMs());
        assertEquals(50, timer.nTrees());
        long[] keys = range(0, 300);
        try (AnnWriter writer = AnnWriter.open(dir(), DIM, METRIC, timer)) {
            assertEquals(timer, writer.options());
            for (long key : keys) {
                writer.upsert(key, vectorFor(key));
            }
            writer.sync();
            try (AnnIndex reader = AnnIndex.open(dir())) {
                assertEquals(300, reader.nStored());
                assertArrayEquals(vectorFor(299), reader.getItemVector(299));
            }
            assertTrue(writer.delete(0));
            writer.sync();
        }
        try (AnnWriter writer = AnnWriter.open(dir(), DIM, METRIC, timer); AnnIndex index = writer.index()) {
            assertEquals(299, index.nStored());
            assertArrayEquals(Arrays.copyOfRange(keys, 1, 300), all(index, vectorFor(3)));
        }
    }

    @Test
    void compactionKeepsEveryItemAndTheAnswers() throws Exception {
        long[] keys = range(0, 600);
        float[][] data = new float[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            data[i] = vectorFor(keys[i]);
        }
        long[] deleted = range(100, 150);
        long[] live = LongStream.range(0, 600).filter(k -> k < 100 || k >= 150).toArray();
        float[][] queries = new float[5][];
        for (int q = 0; q < queries.length; q++) {
            queries[q] = vectorFor(10_000 + q);
        }
        try (AnnWriter writer = open(); AnnIndex index = writer.index();
                SearchOptions exhaustive = new SearchOptions().searchK(EXHAUSTIVE)) {
            writer.upsertBatch(keys, rows(keys));
            assertEquals(deleted.length, writer.deleteBatch(deleted));
            long[][] before = new long[queries.length][];
            for (int q = 0; q < queries.length; q++) {
                before[q] = index.search(queries[q], 10, exhaustive).ids();
                long[] exact = Support.exact(METRIC, keys, data, queries[q], 10, k -> k < 100 || k >= 150);
                assertArrayEquals(exact, before[q], "before compaction, query " + q);
            }

            // Writes go on, on another thread, while compaction runs on this one.
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(1);
            Thread upserts = new Thread(() -> {
                try {
                    started.countDown();
                    for (long key = 1000; key < 1100; key++) {
                        writer.upsert(key, vectorFor(key));
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            upserts.start();
            started.await();
            writer.compact(2);
            upserts.join();
            assertEquals(null, failure.get());

            assertEquals(live.length + 100, index.nStored());
            for (long key : live) {
                assertArrayEquals(vectorFor(key), index.getItemVector(key));
            }
            for (long key = 1000; key < 1100; key++) {
                assertArrayEquals(vectorFor(key), index.getItemVector(key));
            }
            for (long key : deleted) {
                assertThrows(AnnArgumentException.class, () -> index.getItemVector(key));
            }
            for (int q = 0; q < queries.length; q++) {
                long[] after = index.search(queries[q], 10, exhaustive).ids();
                for (long key : after) {
                    assertTrue(key < 100 || (key >= 150 && key < 600) || (key >= 1000 && key < 1100), "key " + key);
                }
                // The new items may come in between; the old ones keep their order.
                long[] old = Arrays.stream(after).filter(k -> k < 1000).toArray();
                assertArrayEquals(Arrays.copyOf(before[q], old.length), old, "after compaction, query " + q);
            }
            writer.compact(); // again, on every core: nothing changes
            assertEquals(live.length + 100, index.nStored());
        }
        // And a fresh reader of the compacted directory sees the same.
        try (AnnIndex reader = AnnIndex.open(dir())) {
            assertEquals(live.length + 100, reader.nStored());
            assertTrue(reader.nTrees() > 0);
        }
    }

    @Test
    void compactionBuildsAGraphWithTheOption() throws IOException {
        WriterOptions options = WriterOptions.builder().nTrees(3).graph(true, 16)
                .durability(WriterOptions.Durability.TIMER).flushMs(20).build();
        assertTrue(options.graph());
        assertEquals(16, options.graphDegree());
        assertEquals(options, options.toBuilder().build());
        assertFalse(options.equals(options.toBuilder().graph(false).build()));
        assertEquals(0, WriterOptions.builder().graph(true).build().graphDegree());
        assertFalse(WriterOptions.defaults().graph());
        assertEquals(0, WriterOptions.defaults().graphDegree());

        long[] keys = range(0, 600);
        String file = tmp.resolve("exported.ann").toString();
        try (AnnWriter writer = AnnWriter.open(dir(), DIM, METRIC, options); AnnIndex index = writer.index();
                SearchOptions beam = new SearchOptions().ef(64)) {
            assertEquals(options, writer.options());
            writer.upsertBatch(keys, rows(keys));
            assertFalse(index.hasGraph(), "the recent writes have no graph");
            writer.compact(2);
            assertTrue(index.hasGraph(), "compaction builds the graph");
            try (AnnIndex reader = AnnIndex.open(dir())) {
                assertTrue(reader.hasGraph());
            }
            assertEquals(keys.length, index.nStored());
            // A greedy walk (a beam of 1) may stop short: a wider beam, as a caller would use.
            for (int i = 0; i < keys.length; i += 13) {
                Neighbors found = index.search(vectorFor(keys[i]), 10, beam);
                assertEquals(keys[i], found.ids()[0], "item " + keys[i] + "'s own vector");
                assertEquals(0f, found.distances()[0]);
            }
            index.export(file);
        }
        try (AnnIndex exported = AnnIndex.load(file); SearchOptions beam = new SearchOptions().ef(64)) {
            assertTrue(exported.hasGraph(), "export builds the graph too");
            assertEquals(keys.length, exported.nStored());
            assertEquals(3, exported.nTrees());
            for (int i = 0; i < keys.length; i += 13) {
                assertEquals(keys[i], exported.search(vectorFor(keys[i]), 10, beam).ids()[0]);
            }
        }

        // Without the option, neither compaction nor export builds one.
        String plainDir = tmp.resolve("plain").toString();
        String plainFile = tmp.resolve("plain.ann").toString();
        try (AnnWriter writer = AnnWriter.open(plainDir, DIM, METRIC, WriterOptions.builder().nTrees(3).build());
                AnnIndex index = writer.index()) {
            writer.upsertBatch(keys, rows(keys));
            writer.compact(2);
            assertFalse(index.hasGraph());
            assertEquals(keys.length, index.nStored());
            index.export(plainFile);
        }
        try (AnnIndex exported = AnnIndex.load(plainFile)) {
            assertFalse(exported.hasGraph());
        }

        // The degree: 0 to 256.
        assertThrows(IllegalArgumentException.class, () -> WriterOptions.builder().graph(true, 257));
        assertThrows(IllegalArgumentException.class, () -> WriterOptions.builder().graph(true, -1));
        assertEquals(256, WriterOptions.builder().graph(true, 256).build().graphDegree());
        try (AnnWriter writer = AnnWriter.open(tmp.resolve("widest").toString(), DIM, METRIC,
                WriterOptions.builder().graph(true, 256).build())) {
            assertEquals(256, writer.options().graphDegree());
        }
    }

    @Test
    void aSecondWriterGetsTheStateError() throws IOException {
        try (AnnWriter writer = open()) {
            writer.upsert(1, vectorFor(1));
            AnnStateException e = assertThrows(AnnStateException.class, this::open);
            assertEquals(Status.INVALID_STATE, e.status());
            assertTrue(e instanceof IllegalStateException);
            assertFalse(e.getMessage().isEmpty());
            // Readers need no lock.
            try (AnnIndex reader = AnnIndex.open(dir())) {
                assertEquals(1, reader.nStored());
            }
        }
        try (AnnWriter writer = open()) { // the lock was released by close
            assertTrue(writer.delete(1));
        }
    }

    @Test
    void aForgottenWriterIsClosedByTheCleaner() throws Exception {
        forget(open());
        // Until the cleaner closes it, the directory is locked.
        AnnWriter writer = null;
        for (int attempt = 0; attempt < 200 && writer == null; attempt++) {
            System.gc();
            Thread.sleep(20);
            try {
                writer = open();
            } catch (AnnStateException e) {
                // not yet collected
            }
        }
        assertTrue(writer != null, "the cleaner released the forgotten writer's directory");
        try (AnnWriter reopened = writer; AnnIndex index = reopened.index()) {
            assertArrayEquals(vectorFor(9), index.getItemVector(9)); // its write was synced
        }
    }

    /** Writes through {@code writer} and drops it, unclosed. */
    private static void forget(AnnWriter writer) throws IOException {
        writer.upsert(9, vectorFor(9));
    }

    @Test
    void badInputIsRefused() throws IOException {
        try (AnnWriter writer = open(); AnnIndex index = writer.index()) {
            float[] nan = vectorFor(1);
            nan[3] = Float.NaN;
            AnnArgumentException e = assertThrows(AnnArgumentException.class, () -> writer.upsert(1, nan));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            float[] infinite = vectorFor(1);
            infinite[0] = Float.POSITIVE_INFINITY;
            assertThrows(AnnArgumentException.class, () -> writer.upsert(1, infinite));
            assertThrows(AnnArgumentException.class, () -> writer.upsert(-1L, vectorFor(1))); // reserved key
            assertThrows(AnnArgumentException.class,
                    () -> writer.upsertBatch(new long[] {1, 2}, new float[][] {vectorFor(1), nan}));
            assertThrows(IllegalArgumentException.class, () -> writer.upsert(1, new float[DIM - 1]));
            assertThrows(IllegalArgumentException.class, () -> writer.upsert(1, new float[DIM + 1]));
            assertThrows(IllegalArgumentException.class, () -> writer.upsertBatch(new long[] {1, 2}, new float[DIM]));
            assertThrows(IllegalArgumentException.class,
                    () -> writer.upsertBatch(new long[] {1}, new float[][] {new float[DIM], new float[DIM]}));
            assertThrows(IllegalArgumentException.class,
                    () -> writer.upsertBatch(new long[] {1}, new float[][] {new float[2]}));
            assertThrows(NullPointerException.class, () -> writer.upsert(1, null));
            assertThrows(IllegalArgumentException.class, () -> writer.compact(0));
            assertThrows(IllegalArgumentException.class, () -> writer.compact(-2));
            assertEquals(0, index.nStored(), "a refused write changes nothing");

            // The writer's index is read-only.
            writer.upsert(1, vectorFor(1));
            assertThrows(AnnStateException.class, () -> index.addItem(2, vectorFor(2)));
            assertThrows(AnnStateException.class, () -> index.build(1));
            assertThrows(AnnStateException.class, () -> index.save(tmp.resolve("x.ann").toString()));
        }
        // Reopening with another dimension or metric.
        AnnArgumentException dim = assertThrows(AnnArgumentException.class,
                () -> AnnWriter.open(dir(), DIM + 1, METRIC, null));
        assertFalse(dim.getMessage().isEmpty());
        assertThrows(AnnArgumentException.class, () -> AnnWriter.open(dir(), DIM, Metric.ANGULAR));
        assertThrows(IllegalArgumentException.class, () -> AnnWriter.open(dir(), 0, METRIC));
        // Options out of range.
        assertThrows(IllegalArgumentException.class, () -> WriterOptions.builder().flushMs(0));
        assertThrows(IllegalArgumentException.class, () -> WriterOptions.builder().flushMs(60_001));
        assertThrows(IllegalArgumentException.class, () -> WriterOptions.builder().nTrees(0));
        assertThrows(IllegalArgumentException.class, () -> WriterOptions.builder().nTrees(-2));
        assertEquals(-1, WriterOptions.builder().nTrees(-1).build().nTrees());
        // Opening what is not a live index.
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThrows(IOException.class, () -> AnnIndex.open(empty.toString()));
        assertThrows(IOException.class, () -> AnnIndex.open(tmp.resolve("missing").toString()));
        Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
        assertThrows(IOException.class, () -> AnnWriter.open(notADirectory.resolve("live").toString(), DIM, METRIC));
    }

    @Test
    void everyCallAfterCloseIsAnIllegalStateException() throws IOException {
        AnnWriter writer = open();
        writer.upsert(1, vectorFor(1));
        AnnIndex index = writer.index();
        assertFalse(writer.isClosed());
        writer.close();
        writer.close();
        assertTrue(writer.isClosed());
        List<Executable> calls = List.of(
                () -> writer.upsert(2, vectorFor(2)),
                () -> writer.upsertBatch(new long[] {2}, vectorFor(2)),
                () -> writer.upsertBatch(new long[] {2}, new float[][] {vectorFor(2)}),
                () -> writer.delete(1),
                () -> writer.deleteBatch(1),
                writer::sync,
                writer::compact,
                () -> writer.compact(1),
                writer::index);
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertEquals("this AnnWriter is closed", e.getMessage());
        }
        assertEquals(DIM, writer.dim());
        assertTrue(writer.toString().contains("closed"), writer.toString());
        // The writer's index outlives it.
        try (index) {
            assertArrayEquals(vectorFor(1), index.getItemVector(1));
            assertFalse(index.refresh());
        }
        assertThrows(IllegalStateException.class, index::refresh);
        assertThrows(IllegalStateException.class, () -> index.export(tmp.resolve("x.ann").toString()));
    }

    @Test
    void closeRacingWritesIsSafe() throws Exception {
        for (int round = 0; round < 3; round++) {
            String dir = tmp.resolve("race" + round).toString();
            AnnWriter writer = AnnWriter.open(dir, DIM, METRIC,
                    WriterOptions.builder().durability(WriterOptions.Durability.TIMER).build());
            AtomicInteger done = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch running = new CountDownLatch(4);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long base = t * 1_000_000L;
                Thread thread = new Thread(() -> {
                    running.countDown();
                    try {
                        for (long key = base; ; key++) {
                            writer.upsert(key, vectorFor(key));
                            done.incrementAndGet();
                        }
                    } catch (IllegalStateException e) {
                        if (!"this AnnWriter is closed".equals(e.getMessage())) {
                            failure.set(e);
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            running.await();
            Thread.sleep(30);
            writer.close();
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(null, failure.get());
            try (AnnIndex reader = AnnIndex.open(dir)) {
                assertEquals(done.get(), reader.nStored(), "every acknowledged upsert is there");
            }
        }
    }

    @Test
    void refreshAndExportInProcess() throws IOException {
        try (AnnWriter writer = open()) {
            writer.upsertBatch(range(0, 50), rows(range(0, 50)));
            try (AnnIndex reader = AnnIndex.open(dir(), false)) {
                assertEquals(50, reader.nStored());
                assertFalse(reader.refresh());
                writer.upsert(50, vectorFor(50));
                writer.delete(0);
                assertEquals(50, reader.nStored(), "a reader sees later writes only after refresh");
                assertTrue(reader.refresh());
                assertEquals(50, reader.nStored());
                assertArrayEquals(vectorFor(50), reader.getItemVector(50));
                assertThrows(AnnArgumentException.class, () -> reader.getItemVector(0));
                assertFalse(reader.refresh());

                String file = tmp.resolve("exported.ann").toString();
                reader.export(file);
                try (AnnIndex exported = AnnIndex.open(file, false); AnnIndex loaded = AnnIndex.load(file)) {
                    assertEquals(50, exported.nStored());
                    assertEquals(50, loaded.nStored());
                    assertArrayEquals(all(reader, vectorFor(7)), all(loaded, vectorFor(7)));
                    assertArrayEquals(vectorFor(50), loaded.getItemVector(50));
                    assertFalse(exported.refresh(), "a file never changes");
                }
            }
        }
    }

    // ------------------------------------------------------------------ a reader in another process

    /** LiveReaderMain in a child JVM, spoken to line by line. */
    private static final class Reader implements AutoCloseable {
        private final Process process;
        private final Writer in;
        private final BufferedReader out;

        Reader(String dir, Path stderr) throws IOException {
            String java = ProcessHandle.current().info().command().orElse("java");
            Path build = Support.build();
            ProcessBuilder builder = new ProcessBuilder(java, "-Dann.repo=" + Support.repo(),
                    "-cp", build.resolve("ann.jar") + ":" + build.resolve("test-classes"),
                    LiveReaderMain.class.getName(), dir);
            String annLib = System.getenv("ANN_LIB");
            if (annLib != null) {
                builder.environment().put("ANN_LIB", annLib);
            }
            process = builder.redirectError(stderr.toFile()).start();
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        String read() throws IOException {
            String line = out.readLine();
            if (line == null) {
                throw new IOException("the reader process ended");
            }
            return line;
        }

        String ask(String command) throws IOException {
            in.write(command + "\n");
            in.flush();
            return read();
        }

        int quit() throws Exception {
            in.write("quit\n");
            in.flush();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the reader process ended");
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private static String nearest(long... keys) {
        return "nearest " + Arrays.stream(keys).mapToObj(Long::toString).collect(Collectors.joining(","));
    }

    @Test
    void aReaderInAnotherProcessFollowsTheWriter() throws Exception {
        Path stderr = tmp.resolve("reader-stderr.txt");
        try (AnnWriter writer = open(); AnnIndex mine = writer.index();
                SearchOptions exhaustive = new SearchOptions().searchK(EXHAUSTIVE)) {
            writer.upsertBatch(range(0, 200), rows(range(0, 200)));
            try (Reader reader = new Reader(dir(), stderr)) {
                // The open sees every write acknowledged before it.
                assertEquals("opened 200", reader.read(), () -> stderrOf(stderr));
                assertEquals("vector " + bits(vectorFor(7)), reader.ask("vector 7"));
                assertEquals(nearest(7), reader.ask("nearest 7 1"));
                assertEquals("refreshed false 200", reader.ask("refresh"));

                // More writes: seen after refresh, not before.
                writer.upsert(7, vectorFor(7007));
                assertEquals(50, writer.deleteBatch(range(100, 150)));
                assertTrue(writer.delete(3));
                writer.upsert(5000, vectorFor(5000));
                assertEquals("vector " + bits(vectorFor(7)), reader.ask("vector 7"));
                assertEquals("refreshed true 150", reader.ask("refresh"));
                assertEquals("vector " + bits(vectorFor(7007)), reader.ask("vector 7"));
                assertEquals("missing", reader.ask("vector 3"));
                assertEquals("missing", reader.ask("vector 120"));
                assertEquals(nearest(5000), reader.ask("nearest 5000 1"));
                assertEquals(nearest(mine.search(vectorFor(11), 5, exhaustive).ids()), reader.ask("nearest 11 5"));

                // A compaction, then one more write: the reader moves to the new generation.
                writer.compact(2);
                writer.upsert(6000, vectorFor(6000));
                assertEquals("refreshed true 151", reader.ask("refresh"));
                assertEquals("vector " + bits(vectorFor(6000)), reader.ask("vector 6000"));
                assertEquals("vector " + bits(vectorFor(7007)), reader.ask("vector 7"));
                assertEquals("missing", reader.ask("vector 3"));
                assertEquals(nearest(6000), reader.ask("nearest 6000 1"));
                assertEquals(nearest(mine.search(vectorFor(11), 5, exhaustive).ids()), reader.ask("nearest 11 5"));
                assertEquals(0, reader.quit(), () -> stderrOf(stderr));
            }
        }
    }

    private static String stderrOf(Path stderr) {
        try {
            return "reader's stderr: " + Files.readString(stderr, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "reader's stderr unreadable: " + e;
        }
    }
}
