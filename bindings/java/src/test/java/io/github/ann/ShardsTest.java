package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Several index files as one read-only index, answering as one index of all their items. */
class ShardsTest {
    private static final int DIM = 8;

    @TempDir Path dir;

    /** Saves an index of rows [from, to) of data under keys[from, to). */
    private String shard(String name, Metric metric, long[] keys, float[][] data, int from, int to, int nTrees)
            throws IOException {
        String file = dir.resolve(name).toString();
        try (AnnIndex index = Support.build(metric, Arrays.copyOfRange(keys, from, to),
                Arrays.copyOfRange(data, from, to), nTrees)) {
            index.save(file);
        }
        return file;
    }

    @Test
    void shardsAnswerAsOneIndexOfTheSameItems() throws Exception {
        int items = 900;
        long[] keys = new long[items];
        for (int i = 0; i < items; i++) {
            // A dense first shard, then sparse keys, some of them 2^63 and above.
            keys[i] = i < 300 ? i : i < 600 ? (1L << 40) + 17L * i : Long.MIN_VALUE + 1_000L * i;
        }
        float[][] data = Support.dataset(Metric.EUCLIDEAN, items, DIM, 71);
        float[][] queries = Support.dataset(Metric.EUCLIDEAN, 10, DIM, 72);
        List<String> files = List.of(
                shard("a.ann", Metric.EUCLIDEAN, keys, data, 0, 300, 4),
                shard("b.ann", Metric.EUCLIDEAN, keys, data, 300, 600, 5),
                shard("c.ann", Metric.EUCLIDEAN, keys, data, 600, 900, 6));
        try (AnnIndex whole = Support.build(Metric.EUCLIDEAN, keys, data, 5);
                AnnIndex shards = AnnIndex.openShards(files, true);
                AnnIndex reordered = AnnIndex.openShards(List.of(files.get(2), files.get(0), files.get(1)))) {
            assertEquals(items, shards.nStored());
            assertEquals(15, shards.nTrees(), "the sum of the shards' trees");
            assertEquals(Long.MIN_VALUE + 1_000L * 899 + 1, shards.nItems(), "the largest key + 1");
            assertEquals(DIM, shards.dim());
            assertEquals(Metric.EUCLIDEAN, shards.metric());
            long everything = whole.nStored() * shards.nTrees() * 4;
            long[] allowed = {keys[3], keys[450], keys[899], keys[700], keys[10]};
            try (SearchOptions all = new SearchOptions().searchK(everything);
                    SearchOptions some = new SearchOptions().searchK(everything).allowList(allowed);
                    SearchOptions odd = new SearchOptions().searchK(everything).filter(k -> (k & 1) == 1)) {
                for (float[] query : queries) {
                    Neighbors expected = whole.search(query, 10, all);
                    long[] exact = Support.exact(Metric.EUCLIDEAN, keys, data, query, 10, k -> true);
                    assertArrayEquals(exact, expected.ids());
                    assertEquals(expected, shards.search(query, 10, all));
                    assertEquals(expected, reordered.search(query, 10, all));
                    assertEquals(expected, shards.getNnsByVectorWithDistances(query, 10, everything));
                    assertEquals(whole.search(query, 3, some), shards.search(query, 3, some));
                    assertEquals(whole.search(query, 10, odd), shards.search(query, 10, odd));
                }
                assertArrayEquals(whole.searchBatch(queries, 10, all, 2), shards.searchBatch(queries, 10, all, 2));
                assertArrayEquals(whole.searchBatch(queries, 7, odd, 3), shards.searchBatch(queries, 7, odd, 3));
                for (int i : new int[] {0, 299, 300, 599, 600, 899}) {
                    assertArrayEquals(data[i], shards.getItemVector(keys[i]));
                    assertEquals(whole.searchByItem(keys[i], 10, all), shards.searchByItem(keys[i], 10, all));
                    assertEquals(whole.getNnsByItemWithDistances(keys[i], 10, everything),
                            shards.getNnsByItemWithDistances(keys[i], 10, everything));
                }
                assertEquals(whole.getDistance(keys[1], keys[898]), shards.getDistance(keys[1], keys[898]));
            }
            assertThrows(AnnArgumentException.class, () -> shards.getItemVector(301));
        }
    }

    @Test
    void badShardsAreClearErrors() throws Exception {
        long[] keys = {1, 2, 3, 1L << 40};
        float[][] data = Support.dataset(Metric.EUCLIDEAN, 4, DIM, 73);
        String a = shard("a.ann", Metric.EUCLIDEAN, keys, data, 0, 2, 2);
        String b = shard("b.ann", Metric.EUCLIDEAN, keys, data, 2, 4, 2);
        String overlapping = shard("overlap.ann", Metric.EUCLIDEAN, keys, data, 1, 3, 2); // key 2 is also in a
        String wide;
        float[][] wider = Support.dataset(Metric.EUCLIDEAN, 1, DIM + 1, 74);
        try (AnnIndex index = Support.build(Metric.EUCLIDEAN, new long[] {9}, wider, 1)) {
            wide = dir.resolve("wide.ann").toString();
            index.save(wide);
        }
        String angular = shard("angular.ann", Metric.ANGULAR, new long[] {20, 21}, data, 0, 2, 2);

        assertArgumentError(() -> AnnIndex.openShards(List.of(), false), "no shards");
        assertArgumentError(() -> AnnIndex.openShards(List.of(a, wide)), "different dimensions");
        assertArgumentError(() -> AnnIndex.openShards(List.of(a, angular)), "different metrics");
        assertArgumentError(() -> AnnIndex.openShards(List.of(a, overlapping)), "a key in two shards");
        assertArgumentError(() -> AnnIndex.openShards(List.of(a, a)), "the same file twice");
        AnnIOException missing = assertThrows(AnnIOException.class,
                () -> AnnIndex.openShards(List.of(a, dir.resolve("missing.ann").toString())));
        assertEquals(Status.IO, missing.status());
        assertTrue(missing.getMessage().contains("missing.ann"), missing.getMessage());
        assertThrows(NullPointerException.class, () -> AnnIndex.openShards(null));
        assertThrows(NullPointerException.class, () -> AnnIndex.openShards(Arrays.asList(a, null)));
        assertThrows(IllegalArgumentException.class, () -> AnnIndex.openShards(List.of(a, "nul\0.ann")));

        try (AnnIndex shards = AnnIndex.openShards(List.of(a, b))) {
            assertEquals(4, shards.nStored());
            for (Executable change : new Executable[] {
                () -> shards.save(dir.resolve("merged.ann").toString()),
                () -> shards.saveAnnoy(dir.resolve("merged.annoy").toString()),
                () -> shards.addItem(77, data[0]),
                () -> shards.build(1),
            }) {
                AnnStateException e = assertThrows(AnnStateException.class, change);
                assertEquals(Status.INVALID_STATE, e.status());
                assertTrue(!e.getMessage().isBlank());
            }
            assertEquals(4, shards.search(data[0], 10, null).size(), "still usable after refused changes");
        }
    }

    private static void assertArgumentError(Executable call, String what) {
        AnnArgumentException e = assertThrows(AnnArgumentException.class, call, what);
        assertEquals(Status.INVALID_ARGUMENT, e.status(), what);
        assertTrue(!e.getMessage().isBlank(), what);
    }
}
