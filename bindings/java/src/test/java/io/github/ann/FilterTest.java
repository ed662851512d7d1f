package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Filtered search returns exactly min(n, accepted) results, all accepted, at every selectivity,
 * for the allow-list, the deny-list and the predicate; results equal the exact filtered answer
 * when searchK covers everything.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FilterTest {
    private static final int ITEMS = 2000;
    private static final int DIM = 8;

    private long[] keys;
    private float[][] data;
    private float[][] queries;
    private AnnIndex index;

    @BeforeAll
    void build() {
        keys = new long[ITEMS];
        for (int i = 0; i < ITEMS; i++) {
            keys[i] = (1L << 40) + 1_000_003L * i; // sparse, so stored with a keys section
        }
        keys[7] = Long.MIN_VALUE + 5; // and one that Java shows as negative
        data = Support.dataset(Metric.EUCLIDEAN, ITEMS, DIM, 51);
        queries = Support.dataset(Metric.EUCLIDEAN, 5, DIM, 52);
        index = Support.build(Metric.EUCLIDEAN, keys, data, 10);
    }

    @AfterAll
    void close() {
        index.close();
    }

    /** {@code count} distinct keys of the index, picked at random (always key 7's among them). */
    private long[] accepted(int count, long seed) {
        long[] shuffled = keys.clone();
        Random random = new Random(seed);
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        long[] chosen = Arrays.copyOf(shuffled, count);
        if (Arrays.stream(chosen).noneMatch(k -> k == keys[7])) {
            chosen[0] = keys[7];
        }
        return chosen;
    }

    private long[] complement(long[] accepted) {
        Set<Long> in = new HashSet<>();
        for (long key : accepted) {
            in.add(key);
        }
        return Arrays.stream(keys).filter(k -> !in.contains(k)).toArray();
    }

    /** Checks count, membership, order, and with an exhaustive searchK the exact answer. */
    private void check(Neighbors found, int n, long[] accepted, float[] query, boolean exhaustive, String what) {
        long[] sorted = Support.sorted(accepted);
        LongPredicate isAccepted = k -> Arrays.binarySearch(sorted, k) >= 0;
        assertEquals(Math.min(n, accepted.length), found.size(), what + ": exactly min(n, accepted)");
        assertEquals(found.size(), Arrays.stream(found.ids()).distinct().count(), what + ": no repeats");
        for (int i = 0; i < found.size(); i++) {
            assertTrue(isAccepted.test(found.ids()[i]),
                    what + ": " + Long.toUnsignedString(found.ids()[i]) + " was not accepted");
            if (i > 0) {
                assertTrue(found.distances()[i - 1] <= found.distances()[i], what + ": nearest first");
            }
        }
        if (exhaustive) {
            assertExact(Support.exact(Metric.EUCLIDEAN, keys, data, query, n, isAccepted), found, query, what);
        }
    }

    /**
     * The exact answer, up to the order of near-ties: libann ranks float32 distances, the
     * reference float64 ones. Same keys, and at each rank the same distance within 1e-5.
     */
    private void assertExact(long[] expected, Neighbors found, float[] query, String what) {
        assertArrayEquals(Support.sorted(expected), Support.sorted(found.ids()), what + ": the exact neighbours");
        long[] sortedKeys = Support.sorted(keys);
        int[] rowOf = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            rowOf[Arrays.binarySearch(sortedKeys, keys[i])] = i;
        }
        for (int i = 0; i < expected.length; i++) {
            int row = rowOf[Arrays.binarySearch(sortedKeys, expected[i])];
            double exact = Support.distance(Metric.EUCLIDEAN, query, data[row]);
            assertEquals(exact, found.distances()[i], 1e-5, what + ": distance at rank " + i);
        }
    }

    @ParameterizedTest(name = "{0} accepted, n = {1}")
    @CsvSource({"1, 10", "2, 10", "200, 10", "200, 500", "2000, 10", "2000, 2500"})
    void everySelectivityGivesMinOfNAndAccepted(int count, int n) {
        long[] allowed = accepted(count, count * 31L + n);
        long[] sorted = Support.sorted(allowed);
        long everything = index.nStored() * index.nTrees() * 4;
        for (long searchK : new long[] {-1, everything}) {
            boolean exhaustive = searchK == everything;
            try (SearchOptions allow = new SearchOptions().searchK(searchK).allowList(allowed);
                    SearchOptions deny = new SearchOptions().searchK(searchK).denyList(complement(allowed));
                    SearchOptions predicate =
                            new SearchOptions().searchK(searchK).filter(k -> Arrays.binarySearch(sorted, k) >= 0)) {
                for (float[] query : queries) {
                    check(index.search(query, n, allow), n, allowed, query, exhaustive, "allow-list");
                    check(index.search(query, n, deny), n, allowed, query, exhaustive, "deny-list");
                    check(index.search(query, n, predicate), n, allowed, query, exhaustive, "predicate");
                }
                check(index.searchByItem(keys[7], n, predicate), n, allowed, data[7], exhaustive, "by item");
                Neighbors[] batch = index.searchBatch(queries, n, predicate, 2);
                for (int q = 0; q < queries.length; q++) {
                    check(batch[q], n, allowed, queries[q], exhaustive, "batch");
                }
            }
        }
    }

    @Test
    void filtersCombineAndEdgeCasesHold() {
        long[] allowed = accepted(300, 5);
        long[] denied = Arrays.copyOf(allowed, 100);
        long[] left = Arrays.copyOfRange(allowed, 100, 300);
        long[] odd = Arrays.stream(left).filter(k -> (k & 1) == 1).toArray();
        long[] oddSorted = Support.sorted(odd);
        try (SearchOptions options = new SearchOptions()
                .allowList(allowed)
                .denyList(denied)
                .filter(k -> (k & 1) == 1)
                .searchK(index.nStored() * index.nTrees() * 4)) {
            Neighbors found = index.search(queries[0], 50, options);
            check(found, 50, odd, queries[0], true, "allow, deny and predicate together");
            assertTrue(Arrays.stream(found.ids()).allMatch(k -> Arrays.binarySearch(oddSorted, k) >= 0));
        }
        try (SearchOptions nothing = new SearchOptions().allowList()) {
            assertEquals(0, index.search(queries[0], 10, nothing).size(), "an empty allow-list accepts nothing");
            assertEquals(0, index.searchBatch(queries, 10, nothing)[0].size());
        }
        try (SearchOptions noDenial = new SearchOptions().denyList();
                SearchOptions repeats = new SearchOptions().allowList(keys[3], keys[3], keys[1], keys[3])) {
            assertEquals(10, index.search(queries[0], 10, noDenial).size(), "an empty deny-list denies nothing");
            long[] two = {keys[1], keys[3]};
            check(index.search(queries[0], 10, repeats), 10, two, queries[0], true, "repeats");
            assertEquals(2, index.search(queries[0], 10, repeats).size());
        }
        try (SearchOptions removed = new SearchOptions().filter(k -> false).filter(null)) {
            assertEquals(10, index.search(queries[0], 10, removed).size(), "filter(null) removes the predicate");
        }
        Neighbors defaults = index.search(queries[0], 10, null);
        assertEquals(10, defaults.size());
        assertEquals(ITEMS, index.search(queries[0], ITEMS + 5, null).size());
        assertEquals(0, index.search(queries[0], 0, null).size());
    }

    @Test
    void bufferFormsEqualTheArrayForms() {
        long[] allowed = accepted(20, 9);
        try (SearchOptions options = new SearchOptions().allowList(allowed)) {
            FloatBuffer direct =
                    ByteBuffer.allocateDirect(4 * DIM * queries.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
            for (float[] query : queries) {
                direct.put(query);
            }
            direct.flip();
            FloatBuffer heap = FloatBuffer.wrap(data[0]);
            Neighbors[] batch = index.searchBatch(direct, 5, options, 2);
            for (int q = 0; q < queries.length; q++) {
                Neighbors single = index.search(queries[q], 5, options);
                assertEquals(single, batch[q]);
                FloatBuffer row = direct.duplicate().position(q * DIM).limit((q + 1) * DIM);
                assertEquals(single, index.search(row, 5, options));
            }
            assertEquals(index.search(data[0], 5, options), index.search(heap, 5, options));
            assertEquals(0, heap.position(), "the buffer's position is left unchanged");
            assertEquals(index.searchBatch(queries, 5, options, 1)[2],
                    index.searchBatch(FloatBuffer.wrap(flat()), 5, options, 1)[2]);
        }
    }

    private float[] flat() {
        float[] rows = new float[queries.length * DIM];
        for (int q = 0; q < queries.length; q++) {
            System.arraycopy(queries[q], 0, rows, q * DIM, DIM);
        }
        return rows;
    }

    @Test
    void badArguments() {
        try (SearchOptions options = new SearchOptions()) {
            AnnArgumentException e = assertThrows(AnnArgumentException.class, () -> options.searchK(-2));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertThrows(NullPointerException.class, () -> options.allowList((long[]) null));
            assertThrows(NullPointerException.class, () -> options.denyList((long[]) null));
            assertThrows(IllegalArgumentException.class, () -> index.search(new float[DIM + 1], 3, options));
            assertThrows(IllegalArgumentException.class, () -> index.search(queries[0], -1, options));
            assertThrows(NullPointerException.class, () -> index.search((float[]) null, 3, options));
            assertThrows(AnnArgumentException.class, () -> index.searchBatch(queries, 3, options, 0));
            float[] nan = new float[DIM];
            nan[1] = Float.NaN;
            assertThrows(AnnArgumentException.class, () -> index.search(nan, 3, options));
        }
        try (AnnIndex unbuilt = AnnIndex.create(DIM, Metric.EUCLIDEAN)) {
            unbuilt.addItem(1, data[0]);
            assertEquals(Status.INVALID_STATE,
                    assertThrows(AnnStateException.class, () -> unbuilt.search(data[0], 1, null)).status());
        }
    }
}
