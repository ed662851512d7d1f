package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** close() is idempotent, and every call after it is an IllegalStateException, not a crash. */
class LifecycleTest {
    @TempDir Path dir;

    @Test
    void closeTwiceIsFine() {
        AnnIndex index = AnnIndex.create(3, Metric.ANGULAR);
        assertFalse(index.isClosed());
        index.close();
        index.close();
        assertTrue(index.isClosed());
    }

    @Test
    void everyCallAfterCloseIsAnIllegalStateException() throws Exception {
        AnnIndex index = Support.build(Metric.EUCLIDEAN, Support.dataset(Metric.EUCLIDEAN, 20, 3, 1), 2);
        index.save(dir.resolve("closed.ann").toString());
        index.close();
        float[] query = {0, 0, 0};
        String path = dir.resolve("after-close.ann").toString();
        List<Executable> calls = List.of(
                () -> index.addItem(0, query),
                () -> index.addItemPacked(0, new long[] {0}),
                () -> index.setSeed(1),
                () -> index.build(1, 1),
                index::unbuild,
                index::unload,
                () -> index.onDiskBuild(path),
                () -> index.save(path),
                () -> index.saveAnnoy(path),
                index::verify,
                () -> index.getNnsByVector(query, 1, -1),
                () -> index.getNnsByVectorWithDistances(query, 1, -1),
                () -> index.getNnsByVector(FloatBuffer.wrap(query), 1, -1),
                () -> index.getNnsByItem(0, 1, -1),
                () -> index.getNnsByItemWithDistances(0, 1, -1),
                () -> index.getNnsByPacked(new long[] {0}, 1, -1),
                () -> index.getNnsBatch(new float[][] {query}, 1, -1, 1),
                () -> index.search(query, 1, null),
                () -> index.search(FloatBuffer.wrap(query), 1, null),
                () -> index.searchByItem(0, 1, null),
                () -> index.searchBatch(new float[][] {query}, 1, null, 1),
                () -> index.searchBatch(FloatBuffer.wrap(query), 1, null, 1),
                () -> index.getItemVector(0),
                () -> index.getItemPacked(0),
                () -> index.getDistance(0, 1),
                index::nItems,
                index::nStored,
                index::nTrees,
                index::dim,
                index::metric,
                index::seed);
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertEquals("this AnnIndex is closed", e.getMessage());
        }
    }

    @Test
    void forgottenIndexesAreFreedByTheCleaner() throws Exception {
        // Nothing observable but the absence of a crash or a leak that exhausts memory: 300
        // indexes of 4 MB each would need 1.2 GB if the cleaner did not free them. (Memory
        // grows with the items, not the largest key: 16 items of 256 KB each.)
        float[] vector = new float[65536];
        for (int round = 0; round < 300; round++) {
            AnnIndex index = AnnIndex.create(vector.length, Metric.DOT);
            for (int key = 0; key < 16; key++) {
                index.addItem(key, vector);
            }
            if (round % 50 == 0) {
                System.gc();
            }
        }
        System.gc();
        Thread.sleep(50);
        try (AnnIndex index = AnnIndex.create(2, Metric.DOT)) {
            assertEquals(2, index.dim());
        }
    }
}
