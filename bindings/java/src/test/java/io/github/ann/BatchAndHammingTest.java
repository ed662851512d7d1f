package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Batch queries, result trimming, and hamming's packed words. */
class BatchAndHammingTest {
    @Test
    void batchEqualsSingleQueriesOnAnyThreadCount() {
        float[][] data = Support.dataset(Metric.MANHATTAN, 500, 12, 41);
        float[][] queries = Support.dataset(Metric.MANHATTAN, 30, 12, 42);
        try (AnnIndex index = Support.build(Metric.MANHATTAN, data, 6)) {
            for (int threads : new int[] {1, 3, -1}) {
                Neighbors[] batch = index.getNnsBatch(queries, 10, 300, threads);
                assertEquals(queries.length, batch.length);
                for (int q = 0; q < queries.length; q++) {
                    assertEquals(index.getNnsByVectorWithDistances(queries[q], 10, 300), batch[q]);
                }
            }
            assertEquals(0, index.getNnsBatch(new float[0][], 10, -1).length);
            float[][] ragged = {queries[0], new float[3]};
            assertThrows(IllegalArgumentException.class, () -> index.getNnsBatch(ragged, 1, -1));
        }
    }

    @Test
    void resultsAreTrimmedToWhatTheIndexHas() {
        try (AnnIndex index = AnnIndex.create(2, Metric.EUCLIDEAN)) {
            index.addItem(0, new float[] {0, 0});
            index.addItem(1, new float[] {1, 0});
            index.addItem(4, new float[] {2, 0}); // 2 and 3 are holes
            index.build(3);
            Neighbors found = index.getNnsByVectorWithDistances(new float[] {0.1f, 0}, 1000, -1);
            assertArrayEquals(new long[] {0, 1, 4}, found.ids());
            assertArrayEquals(new float[] {0.1f, 0.9f, 1.9f}, found.distances(), 1e-6f);
            Neighbors[] batch = index.getNnsBatch(new float[][] {{0.1f, 0}, {1.9f, 0}}, Integer.MAX_VALUE, -1);
            assertEquals(found, batch[0]);
            assertArrayEquals(new long[] {4, 1, 0}, batch[1].ids());
            assertEquals(5, index.nItems());
        }
    }

    @Test
    void packedHammingEqualsFloatBits() {
        int dim = 100; // two words, the second one partly used
        float[][] data = Support.dataset(Metric.HAMMING, 300, dim, 43);
        try (AnnIndex floats = Support.build(Metric.HAMMING, data, 5);
                AnnIndex packed = AnnIndex.create(dim, Metric.HAMMING)) {
            for (int i = 0; i < data.length; i++) {
                packed.addItemPacked(i, pack(data[i]));
            }
            packed.setSeed(123);
            packed.build(5, -1);
            for (int i = 0; i < data.length; i += 23) {
                long[] words = pack(data[i]);
                assertArrayEquals(words, floats.getItemPacked(i));
                assertArrayEquals(data[i], packed.getItemVector(i));
                Neighbors expected = floats.getNnsByVectorWithDistances(data[i], 8, -1);
                assertEquals(expected, packed.getNnsByVectorWithDistances(data[i], 8, -1));
                assertEquals(expected, floats.getNnsByPackedWithDistances(words, 8, -1));
                assertArrayEquals(expected.ids(), packed.getNnsByPacked(words, 8, -1));
                assertEquals(0f, expected.distances()[0]);
            }
            assertThrows(IllegalArgumentException.class, () -> packed.addItemPacked(0, new long[1]));
            assertThrows(IllegalArgumentException.class, () -> packed.getNnsByPacked(new long[3], 1, -1));
        }
        try (AnnIndex euclidean = AnnIndex.create(64, Metric.EUCLIDEAN)) {
            euclidean.addItem(0, new float[64]);
            AnnArgumentException e = assertThrows(AnnArgumentException.class, () -> euclidean.getItemPacked(0));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
        }
    }

    /** Bit j of word i is bit 64 * i + j. */
    private static long[] pack(float[] bits) {
        long[] words = new long[(bits.length + 63) / 64];
        for (int b = 0; b < bits.length; b++) {
            if (bits[b] > 0.5f) {
                words[b / 64] |= 1L << (b % 64);
            }
        }
        return words;
    }
}
