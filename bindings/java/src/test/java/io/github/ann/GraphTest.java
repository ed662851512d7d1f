package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The proximity graph: buildGraph, hasGraph, SearchOptions.ef, and the graph through save and load. */
class GraphTest {
    private static final int N = 2000;
    private static final int DIM = 16;
    private static final int K = 10;

    @TempDir Path dir;

    private static final float[][] DATA = Support.dataset(Metric.ANGULAR, N, DIM, 31);
    private static final float[][] QUERIES = Support.dataset(Metric.ANGULAR, 20, DIM, 32);
    private static final long[] KEYS = LongStream.range(0, N).toArray();

    @Test
    void graphSearchFindsTheTrueNeighboursAndSurvivesSaveAndLoad() throws IOException {
        String file = dir.resolve("graph.ann").toString();
        long[][] found = new long[QUERIES.length][];
        try (AnnIndex index = Support.build(Metric.ANGULAR, DATA, 5)) {
            assertFalse(index.hasGraph(), "build makes no graph");
            index.buildGraph(0, -1);
            assertTrue(index.hasGraph());
            assertEquals(5, index.nTrees(), "the forest stays");

            double recall = 0;
            try (SearchOptions options = new SearchOptions().ef(200)) {
                for (int q = 0; q < QUERIES.length; q++) {
                    Neighbors hits = index.search(QUERIES[q], K, options);
                    assertEquals(K, hits.size());
                    found[q] = hits.ids();
                    long[] truth = Support.sorted(Support.exact(Metric.ANGULAR, KEYS, DATA, QUERIES[q], K, k -> true));
                    int hitCount = 0;
                    for (long id : hits.ids()) {
                        hitCount += Arrays.binarySearch(truth, id) >= 0 ? 1 : 0;
                    }
                    recall += hitCount / (double) K;
                }
            }
            recall /= QUERIES.length;
            assertTrue(recall >= 0.95, "mean recall@" + K + " with ef 200: " + recall);

            // The Annoy-style queries walk the graph too (ef from searchK).
            assertEquals(K, index.getNnsByVector(QUERIES[0], K, 10L * N).length);
            index.save(file);
        }

        try (AnnIndex loaded = AnnIndex.load(file, false);
                SearchOptions options = new SearchOptions().ef(200)) {
            assertTrue(loaded.hasGraph(), "the file carries the graph");
            for (int q = 0; q < QUERIES.length; q++) {
                assertArrayEquals(found[q], loaded.search(QUERIES[q], K, options).ids(), "query " + q);
            }
        }
    }

    @Test
    void badArgumentsAndStates() {
        try (AnnIndex index = Support.build(Metric.ANGULAR, Arrays.copyOf(DATA, 200), 3)) {
            AnnArgumentException tooWide =
                    assertThrows(AnnArgumentException.class, () -> index.buildGraph(1000, -1));
            assertEquals(Status.INVALID_ARGUMENT, tooWide.status());
            assertFalse(tooWide.getMessage().isBlank(), "the library's message is kept");
            assertEquals(Status.INVALID_ARGUMENT,
                    assertThrows(AnnArgumentException.class, () -> index.buildGraph(0, 0)).status());
            assertEquals(Status.INVALID_ARGUMENT,
                    assertThrows(AnnArgumentException.class, () -> index.buildGraph(0, -2)).status());
            IllegalArgumentException negative =
                    assertThrows(IllegalArgumentException.class, () -> index.buildGraph(-1, -1));
            assertFalse(negative instanceof AnnArgumentException, "checked in Java, before libann");
            assertFalse(index.hasGraph(), "failed calls add no graph");
        }

        try (AnnIndex unbuilt = AnnIndex.create(DIM, Metric.ANGULAR)) {
            unbuilt.addItem(0, DATA[0]);
            AnnStateException notBuilt = assertThrows(AnnStateException.class, () -> unbuilt.buildGraph(0, -1));
            assertEquals(Status.INVALID_STATE, notBuilt.status());
            assertFalse(unbuilt.hasGraph());
        }

        try (SearchOptions options = new SearchOptions()) {
            assertThrows(IllegalArgumentException.class, () -> options.ef(-1));
            options.ef(0).ef(Long.MAX_VALUE);
        }
    }

    @Test
    void efIsIgnoredWithoutAGraph() {
        try (AnnIndex index = Support.build(Metric.ANGULAR, Arrays.copyOf(DATA, 300), 5);
                SearchOptions plain = new SearchOptions().searchK(3000);
                SearchOptions withEf = new SearchOptions().searchK(3000).ef(7)) {
            assertFalse(index.hasGraph());
            assertArrayEquals(index.search(QUERIES[0], K, plain).ids(), index.search(QUERIES[0], K, withEf).ids());
        }
    }

    @Test
    void closedHandlesThrow() {
        AnnIndex index = Support.build(Metric.ANGULAR, Arrays.copyOf(DATA, 100), 2);
        index.close();
        assertThrows(IllegalStateException.class, () -> index.buildGraph(0, -1));
        assertThrows(IllegalStateException.class, index::hasGraph);
        SearchOptions options = new SearchOptions();
        options.close();
        assertThrows(IllegalStateException.class, () -> options.ef(100));
    }
}
