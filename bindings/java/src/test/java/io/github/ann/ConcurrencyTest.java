package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many threads on one index: identical answers, and close() racing queries never crashes. */
class ConcurrencyTest {
    private static final int THREADS = 16;

    @TempDir Path dir;

    @Test
    void sixteenThreadsQueryingOneLoadedIndexGetTheSerialResults() throws Exception {
        float[][] data = Support.dataset(Metric.ANGULAR, 2000, 16, 21);
        float[][] queries = Support.dataset(Metric.ANGULAR, 200, 16, 22);
        String file = dir.resolve("shared.ann").toString();
        try (AnnIndex built = Support.build(Metric.ANGULAR, data, 10)) {
            built.save(file);
        }
        try (AnnIndex index = AnnIndex.load(file)) {
            List<Neighbors> serial = new ArrayList<>();
            for (float[] query : queries) {
                serial.add(index.getNnsByVectorWithDistances(query, 10, -1));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int offset = t;
                workers.add(pool.submit(() -> {
                    start.await();
                    int checked = 0;
                    for (int round = 0; round < 3; round++) {
                        for (int q = 0; q < queries.length; q++) {
                            int i = (q + offset * 13) % queries.length; // each thread its own order
                            assertEquals(serial.get(i), index.getNnsByVectorWithDistances(queries[i], 10, -1));
                            checked++;
                        }
                        assertEquals(10, index.getNnsByItem(offset, 10, -1).length);
                    }
                    return checked;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> worker : workers) {
                total += worker.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertEquals(THREADS * 3 * queries.length, total);

            Neighbors[] batch = index.getNnsBatch(queries, 10, -1, 4);
            for (int q = 0; q < queries.length; q++) {
                assertEquals(serial.get(q), batch[q]);
            }
        }
    }

    @Test
    void closeRacingQueriesIsSafe() throws Exception {
        float[][] data = Support.dataset(Metric.EUCLIDEAN, 1000, 8, 23);
        for (int round = 0; round < 10; round++) {
            AnnIndex index = Support.build(Metric.EUCLIDEAN, data, 5);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch running = new CountDownLatch(THREADS);
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int offset = t;
                workers.add(pool.submit(() -> {
                    running.countDown();
                    for (int i = 0; ; i++) {
                        try {
                            float[] query = data[(i + offset) % data.length];
                            assertEquals(10, index.getNnsByVector(query, 10, 200).length);
                            assertEquals(8, index.getItemVector(i % data.length).length);
                        } catch (IllegalStateException e) {
                            assertEquals("this AnnIndex is closed", e.getMessage());
                            return null;
                        }
                    }
                }));
            }
            running.await();
            index.close();
            for (Future<?> worker : workers) {
                worker.get(60, TimeUnit.SECONDS); // rethrows any other failure
            }
            pool.shutdown();
            assertTrue(index.isClosed());
        }
    }
}
