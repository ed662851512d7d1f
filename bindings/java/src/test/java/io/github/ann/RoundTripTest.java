package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every metric: build, save, load (native and Annoy forms) and get identical answers. */
class RoundTripTest {
    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(Metric.class)
    void savedAndLoadedIndexesAnswerIdentically(Metric metric) throws Exception {
        int dim = Support.dimOf(metric);
        float[][] data = Support.dataset(metric, 400, dim, 1);
        float[][] queries = Support.dataset(metric, 20, dim, 2);
        String nativeFile = dir.resolve("index.ann").toString();
        String annoyFile = dir.resolve("index.annoy").toString();
        try (AnnIndex built = Support.build(metric, data, 8)) {
            built.save(nativeFile);
            built.saveAnnoy(annoyFile);
            try (AnnIndex loaded = AnnIndex.load(nativeFile, true);
                    AnnIndex annoy = AnnIndex.loadAnnoy(annoyFile, dim, metric, false)) {
                assertEquals(400, loaded.nItems());
                assertEquals(8, loaded.nTrees());
                assertEquals(dim, loaded.dim());
                assertEquals(metric, loaded.metric());
                assertEquals(123, loaded.seed());
                assertEquals(8, annoy.nTrees());
                loaded.verify();
                for (float[] query : queries) {
                    Neighbors expected = built.getNnsByVectorWithDistances(query, 10, -1);
                    assertEquals(10, expected.size());
                    assertEquals(expected, loaded.getNnsByVectorWithDistances(query, 10, -1));
                    assertEquals(expected, annoy.getNnsByVectorWithDistances(query, 10, -1));
                    assertArrayEquals(expected.ids(), loaded.getNnsByVector(query, 10, -1));
                }
                for (int i = 0; i < 400; i += 37) {
                    assertEquals(built.getNnsByItemWithDistances(i, 5, 100),
                            loaded.getNnsByItemWithDistances(i, 5, 100));
                    assertArrayEquals(data[i], loaded.getItemVector(i));
                    assertArrayEquals(data[i], annoy.getItemVector(i));
                    assertEquals(built.getDistance(i, 0), loaded.getDistance(i, 0));
                }
            }
        }
        FileInfo info = AnnIndex.fileInfo(nativeFile);
        assertEquals(FileInfo.Kind.NATIVE, info.kind());
        assertEquals(metric, info.metric());
        assertEquals(dim, info.dim());
        assertEquals(8, info.nTrees());
        assertEquals(400, info.nItems());
        assertEquals(123, info.seed());
        assertEquals(Files.size(Path.of(nativeFile)), info.fileSize());
        FileInfo annoyInfo = AnnIndex.fileInfo(annoyFile);
        assertEquals(FileInfo.Kind.ANNOY, annoyInfo.kind());
        assertNull(annoyInfo.metric());
        assertEquals(Files.size(Path.of(annoyFile)), annoyInfo.fileSize());
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void onDiskBuildWritesTheSameIndexAsAnInMemoryBuild(Metric metric) throws Exception {
        int dim = Support.dimOf(metric);
        float[][] data = Support.dataset(metric, 200, dim, 3);
        String file = dir.resolve("on-disk.ann").toString();
        try (AnnIndex memory = Support.build(metric, data, 4);
                AnnIndex disk = AnnIndex.create(dim, metric)) {
            disk.onDiskBuild(file);
            for (int i = 0; i < data.length; i++) {
                disk.addItem(i, data[i]);
            }
            disk.setSeed(123);
            disk.build(4, 2);
            disk.verify();
            try (AnnIndex loaded = AnnIndex.load(file)) {
                for (int i = 0; i < data.length; i += 19) {
                    Neighbors expected = memory.getNnsByVectorWithDistances(data[i], 5, -1);
                    assertEquals(expected, disk.getNnsByVectorWithDistances(data[i], 5, -1));
                    assertEquals(expected, loaded.getNnsByVectorWithDistances(data[i], 5, -1));
                }
            }
        }
    }
}
