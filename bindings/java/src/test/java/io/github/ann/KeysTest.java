package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Any 64-bit key but -1L, read as unsigned: sparse keys round-trip through save and load. */
class KeysTest {
    /** 2^63 + 5: a key Java shows as negative. */
    private static final long ABOVE_2_63 = Long.MIN_VALUE + 5;

    /** Keys chosen to break any int, signed or dense assumption, then random ones. */
    private static long[] keys() {
        long[] special = {
            0, 7, (1L << 31) - 2, 1L << 31, 1L << 40, ABOVE_2_63, Long.MAX_VALUE, -2L /* 2^64 - 2 */,
            0xDEADBEEFCAFEBABEL,
        };
        long[] random = Support.sparseKeys(191, 77);
        long[] keys = new long[special.length + random.length];
        System.arraycopy(special, 0, keys, 0, special.length);
        int at = special.length;
        for (long key : random) {
            boolean repeated = false;
            for (long s : special) {
                repeated |= s == key;
            }
            if (!repeated) {
                keys[at++] = key;
            }
        }
        return java.util.Arrays.copyOf(keys, at);
    }

    @TempDir Path dir;

    @Test
    void sparseKeysRoundTripThroughSaveAndLoad() throws Exception {
        long[] keys = keys();
        float[][] data = Support.dataset(Metric.EUCLIDEAN, keys.length, 8, 3);
        float[][] queries = Support.dataset(Metric.EUCLIDEAN, 10, 8, 4);
        String file = dir.resolve("sparse.ann").toString();
        try (AnnIndex built = Support.build(Metric.EUCLIDEAN, keys, data, 6)) {
            built.save(file);
            assertEquals(keys.length, built.nStored());
        }
        try (AnnIndex loaded = AnnIndex.load(file)) {
            assertEquals(keys.length, loaded.nStored());
            assertEquals(-1L, loaded.nItems(), "largest key 2^64 - 2, plus 1, read as unsigned");
            assertEquals("18446744073709551615", Long.toUnsignedString(loaded.nItems()));
            long everything = loaded.nStored() * loaded.nTrees() * 4;
            for (int i = 0; i < keys.length; i++) {
                assertArrayEquals(data[i], loaded.getItemVector(keys[i]),
                        "vector of key " + Long.toUnsignedString(keys[i]));
                Neighbors nearest = loaded.getNnsByItemWithDistances(keys[i], 3, everything);
                assertEquals(keys[i], nearest.ids()[0], "an item is its own nearest neighbour");
                assertEquals(0f, nearest.distances()[0]);
                assertArrayEquals(Support.exact(Metric.EUCLIDEAN, keys, data, data[i], 3, k -> true), nearest.ids());
            }
            int j = keys.length - 1;
            assertEquals(Support.distance(Metric.EUCLIDEAN, data[5], data[j]),
                    loaded.getDistance(keys[5], keys[j]), 1e-5);
            for (float[] query : queries) {
                assertArrayEquals(Support.exact(Metric.EUCLIDEAN, keys, data, query, 10, k -> true),
                        loaded.getNnsByVector(query, 10, everything));
            }
            assertEquals(keys[5], loaded.searchByItem(keys[5], 1, null).ids()[0]);
        }
    }

    @Test
    void keysAbove2To31AreValidAndNItemsIsUnsigned() {
        try (AnnIndex index = AnnIndex.create(2, Metric.EUCLIDEAN)) {
            index.addItem(1L << 40, new float[] {0, 0});
            index.addItem(ABOVE_2_63, new float[] {1, 0});
            index.addItem(3, new float[] {2, 0});
            assertEquals(3, index.nStored());
            assertEquals("9223372036854775814", Long.toUnsignedString(index.nItems()), "2^63 + 5 + 1");
            index.build(2);
            assertArrayEquals(new long[] {1L << 40, ABOVE_2_63, 3}, index.getNnsByVector(new float[] {0, 0}, 10, -1));
            assertArrayEquals(new float[] {1, 0}, index.getItemVector(ABOVE_2_63));
        }
    }

    @Test
    void denseKeysKeepAnnoysLayoutAndSparseOnesCannotBeSavedAsAnnoy() throws Exception {
        try (AnnIndex dense = AnnIndex.create(2, Metric.EUCLIDEAN)) {
            dense.addItem(0, new float[] {0, 0});
            dense.addItem(2, new float[] {1, 1}); // key 1 is a hole
            dense.build(2);
            assertEquals(3, dense.nItems());
            assertEquals(2, dense.nStored());
            dense.saveAnnoy(dir.resolve("dense.annoy").toString());
        }
        try (AnnIndex sparse = AnnIndex.create(2, Metric.EUCLIDEAN)) {
            sparse.addItem(1L << 40, new float[] {0, 0});
            sparse.build(2);
            AnnStateException e = assertThrows(AnnStateException.class,
                    () -> sparse.saveAnnoy(dir.resolve("sparse.annoy").toString()));
            assertEquals(Status.INVALID_STATE, e.status());
            assertTrue(e.getMessage().contains("do not fit Annoy's layout"), e.getMessage());
        }
    }

    @Test
    void theReservedKeyAndKeysNeverAddedAreArgumentErrors() {
        try (AnnIndex index = AnnIndex.create(2, Metric.EUCLIDEAN)) {
            AnnArgumentException reserved =
                    assertThrows(AnnArgumentException.class, () -> index.addItem(-1L, new float[] {0, 0}));
            assertEquals(Status.INVALID_ARGUMENT, reserved.status());
            index.addItem(1L << 40, new float[] {0, 0});
            index.addItem(ABOVE_2_63, new float[] {1, 1});
            index.build(2);
            for (Executable call : new Executable[] {
                () -> index.getItemVector(12345),
                () -> index.getItemVector(-1L),
                () -> index.getNnsByItem(ABOVE_2_63 + 1, 1, -1),
                () -> index.searchByItem(1L << 41, 1, null),
                () -> index.getDistance(1L << 40, 99),
            }) {
                AnnArgumentException e = assertThrows(AnnArgumentException.class, call);
                assertEquals(Status.INVALID_ARGUMENT, e.status());
                assertTrue(e.getMessage().contains("does not exist") && e.getMessage().contains("never added"),
                        e.getMessage());
            }
            assertEquals(2, index.nStored(), "failed calls add nothing");
        }
    }
}
