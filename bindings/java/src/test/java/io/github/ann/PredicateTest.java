package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.UndeclaredThrowableException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;

/**
 * The LongPredicate, called from native threads: batch searches on several threads, attached
 * threads detached again, exceptions reported instead of crashing, re-entry into the library,
 * and SearchOptions' lifetime (close, use after close, close racing searches).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PredicateTest {
    private static final int ITEMS = 1000;
    private static final int DIM = 8;

    private float[][] data;
    private float[][] queries;
    private AnnIndex index;

    @BeforeAll
    void build() {
        data = Support.dataset(Metric.ANGULAR, ITEMS, DIM, 61);
        queries = Support.dataset(Metric.ANGULAR, 64, DIM, 62);
        index = Support.build(Metric.ANGULAR, data, 8);
    }

    @AfterAll
    void close() {
        index.close();
    }

    @Test
    void predicateRunsOnSeveralNativeThreadsInABatch() throws Exception {
        Map<String, Boolean> threads = new ConcurrentHashMap<>();
        AtomicInteger calls = new AtomicInteger();
        LongPredicate multipleOfThree = key -> {
            Thread current = Thread.currentThread();
            threads.put(current.getName() + "#" + current.getId(), current.isDaemon());
            calls.incrementAndGet();
            return key % 3 == 0;
        };
        try (SearchOptions options = new SearchOptions().filter(multipleOfThree)) {
            Neighbors[] batch = index.searchBatch(queries, 10, options, 4);
            Set<String> batchThreads = Set.copyOf(threads.keySet());
            assertTrue(calls.get() > 0);
            String caller = Thread.currentThread().getName() + "#" + Thread.currentThread().getId();
            long nativeThreads = batchThreads.stream().filter(name -> !name.equals(caller)).count();
            assertTrue(nativeThreads >= 2, "the predicate ran on several native threads: " + batchThreads);
            assertTrue(batchThreads.stream().filter(name -> !name.equals(caller)).allMatch(
                    name -> name.startsWith("ann-search#") && threads.get(name)), batchThreads.toString());
            for (int q = 0; q < queries.length; q++) {
                assertEquals(10, batch[q].size());
                for (long key : batch[q].ids()) {
                    assertEquals(0, key % 3);
                }
                assertEquals(index.search(queries[q], 10, options), batch[q],
                        "batch row " + q + " equals the single search");
            }
        }
        waitForNoAnnSearchThreads();
    }

    @Test
    void attachedThreadsAreDetachedWhenTheyEnd() throws Exception {
        try (SearchOptions options = new SearchOptions().filter(key -> key % 2 == 1)) {
            for (int round = 0; round < 20; round++) {
                index.searchBatch(queries, 5, options, 3);
            }
        }
        waitForNoAnnSearchThreads();
    }

    /** libann's batch threads end with the batch; once ended, none may stay attached to the JVM. */
    private static void waitForNoAnnSearchThreads() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .map(Thread::getName).filter(name -> name.equals("ann-search")).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(left.size() + " attached ann-search threads were never detached");
    }

    @Test
    void anExceptionInThePredicateIsRethrownAfterTheSearch() {
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicInteger calls = new AtomicInteger();
        try (SearchOptions options = new SearchOptions().filter(key -> {
            if (calls.incrementAndGet() == 5) {
                throw boom;
            }
            return true;
        })) {
            assertSame(boom, assertThrows(IllegalStateException.class, () -> index.search(queries[0], 10, options)));
            assertTrue(calls.get() > 5, "the search went on after the exception");
            assertEquals(10, index.search(queries[0], 10, options).size(), "the next search is unaffected");
        }
        try (SearchOptions options = new SearchOptions().filter(key -> {
            throw new IllegalArgumentException("always");
        })) {
            for (int threads : new int[] {1, 4}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> index.searchBatch(queries, 10, options, threads));
                assertEquals("always", e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> index.searchByItem(3, 10, options));
            assertThrows(IllegalArgumentException.class, () -> index.search(FloatBuffer.wrap(queries[1]), 10, options));
        }
        try (SearchOptions options = new SearchOptions().filter(key -> {
            throw new AssertionError("an Error passes through as it is");
        })) {
            assertEquals("an Error passes through as it is",
                    assertThrows(AssertionError.class, () -> index.search(queries[0], 3, options)).getMessage());
        }
        IOException checked = new IOException("checked");
        try (SearchOptions options = new SearchOptions().filter(key -> sneakyThrow(checked))) {
            UndeclaredThrowableException e =
                    assertThrows(UndeclaredThrowableException.class, () -> index.searchBatch(queries, 3, options, 2));
            assertSame(checked, e.getCause());
        }
        assertEquals(10, index.search(queries[0], 10, null).size(), "the index still works");
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> boolean sneakyThrow(Throwable e) throws E {
        throw (E) e;
    }

    @Test
    void thePredicateMayQueryTheLibraryButNotCloseWhatIsInUse() throws Exception {
        float[] first = index.getItemVector(0);
        // Reads of the searched index, even searches, work from the predicate on any thread.
        try (SearchOptions options = new SearchOptions().filter(
                key -> index.getItemVector(key).length == DIM && index.getNnsByItem(key, 1, 10).length == 1)) {
            assertEquals(5, index.search(first, 5, options).size());
            assertEquals(5, index.searchBatch(queries, 5, options, 3)[0].size());
        }
        // Changing or closing the searched index or options from the predicate is refused.
        AtomicReference<SearchOptions> self = new AtomicReference<>();
        for (Executable change : new Executable[] {index::close, index::unbuild, () -> self.get().searchK(5),
                () -> self.get().close()}) {
            try (SearchOptions options = new SearchOptions().filter(key -> {
                try {
                    change.execute();
                } catch (Throwable e) {
                    throw new IllegalStateException("refused", e);
                }
                return true;
            })) {
                self.set(options);
                IllegalStateException e =
                        assertThrows(IllegalStateException.class, () -> index.searchBatch(queries, 3, options, 2));
                assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
                String message = e.getCause().getMessage();
                assertTrue(message.contains("from inside a filter predicate"), message);
                assertFalse(options.isClosed());
            }
        }
        assertFalse(index.isClosed());
        assertEquals(8, index.nTrees(), "the index was neither closed nor unbuilt");
        // Other, idle objects can be changed and closed from the predicate.
        AnnIndex other = AnnIndex.create(2, Metric.EUCLIDEAN);
        try (SearchOptions options = new SearchOptions().filter(key -> {
            other.close();
            return true;
        })) {
            assertEquals(3, index.search(queries[0], 3, options).size());
        }
        assertTrue(other.isClosed());
    }

    @Test
    void optionsAfterCloseAreAnIllegalStateException() {
        SearchOptions options = new SearchOptions().searchK(100).allowList(1, 2, 3).filter(k -> true);
        assertFalse(options.isClosed());
        options.close();
        options.close();
        assertTrue(options.isClosed());
        List<Executable> calls = List.of(
                () -> options.searchK(10),
                () -> options.allowList(1),
                () -> options.denyList(1),
                () -> options.filter(k -> true),
                () -> options.filter(null),
                () -> index.search(queries[0], 3, options),
                () -> index.search(FloatBuffer.wrap(queries[0]), 3, options),
                () -> index.searchByItem(0, 3, options),
                () -> index.searchBatch(queries, 3, options),
                () -> index.searchBatch(FloatBuffer.wrap(new float[DIM]), 3, options, 1));
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertEquals("these SearchOptions are closed", e.getMessage());
        }
        assertEquals("SearchOptions[closed]", options.toString());
    }

    @Test
    void closeRacingSearchesNeverCrashes() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 10; round++) {
                SearchOptions options = new SearchOptions().allowList(1, 5, 9, 13, 500).filter(key -> key != 9);
                CountDownLatch started = new CountDownLatch(4);
                List<Future<Integer>> workers = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int which = t;
                    workers.add(pool.submit(() -> {
                        started.countDown();
                        int done = 0;
                        try {
                            while (true) {
                                Neighbors found = which % 2 == 0
                                        ? index.search(queries[which], 10, options)
                                        : index.searchBatch(queries, 10, options, 2)[which];
                                assertArrayEquals(new long[] {1, 5, 13, 500},
                                        java.util.Arrays.stream(found.ids()).sorted().toArray());
                                done++;
                            }
                        } catch (IllegalStateException e) {
                            assertEquals("these SearchOptions are closed", e.getMessage());
                        }
                        return done;
                    }));
                }
                started.await();
                Thread.sleep(5);
                options.close();
                for (Future<Integer> worker : workers) {
                    worker.get(60, TimeUnit.SECONDS);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void forgottenOptionsAreFreedByTheCleaner() throws Exception {
        long[] keys = new long[10_000];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = i * 7L;
        }
        for (int round = 0; round < 300; round++) {
            SearchOptions forgotten = new SearchOptions().allowList(keys).denyList(keys).filter(k -> true);
            assertEquals(0, index.search(queries[0], 1, forgotten).size());
            if (round % 50 == 0) {
                System.gc();
            }
        }
        System.gc();
        Thread.sleep(50);
        try (SearchOptions options = new SearchOptions()) {
            assertEquals(1, index.search(queries[0], 1, options).size());
        }
    }
}
