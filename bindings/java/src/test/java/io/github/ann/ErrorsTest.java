package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of bad input gives the exception a Java user expects, with libann's message. */
class ErrorsTest {
    @TempDir Path dir;

    private static AnnIndex built() {
        return Support.build(Metric.EUCLIDEAN, Support.dataset(Metric.EUCLIDEAN, 50, 4, 5), 3);
    }

    private static <T extends Throwable> T assertLibraryError(Class<T> type, Status status, Executable call) {
        T error = assertThrows(type, call);
        Status actual = error instanceof AnnArgumentException a ? a.status()
                : error instanceof AnnStateException s ? s.status()
                : error instanceof AnnIOException io ? io.status()
                : null;
        assertEquals(status, actual, error.toString());
        assertFalse(error.getMessage().isBlank(), "the library's message is kept");
        return error;
    }

    @Test
    void badDimensions() {
        assertThrows(IllegalArgumentException.class, () -> AnnIndex.create(0, Metric.ANGULAR));
        assertThrows(IllegalArgumentException.class, () -> AnnIndex.create(-3, Metric.ANGULAR));
        assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                () -> AnnIndex.create(1 << 25, Metric.ANGULAR));
        assertThrows(NullPointerException.class, () -> AnnIndex.create(3, null));
    }

    @Test
    void badVectorsAndIds() {
        try (AnnIndex index = AnnIndex.create(3, Metric.ANGULAR)) {
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.addItem(0, new float[] {1, Float.NaN, 0}));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.addItem(0, new float[] {1, Float.POSITIVE_INFINITY, 0}));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.addItem(-1L, new float[] {1, 0, 0})); // 2^64 - 1, the reserved key
            IllegalArgumentException wrongLength =
                    assertThrows(IllegalArgumentException.class, () -> index.addItem(0, new float[] {1, 0}));
            assertTrue(wrongLength.getMessage().contains("dimension is 3"), wrongLength.getMessage());
            assertThrows(NullPointerException.class, () -> index.addItem(0, null));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.addItemPacked(0, new long[] {1}));
            assertEquals(0, index.nItems(), "failed calls add nothing");
            assertEquals(0, index.nStored());
        }
    }

    @Test
    void keysAbove2To31Minus2AreNoLongerErrors() {
        try (AnnIndex index = AnnIndex.create(3, Metric.ANGULAR)) {
            index.addItem(1L << 31, new float[] {1, 0, 0});
            index.addItem(Long.MAX_VALUE, new float[] {0, 1, 0});
            index.addItem(-2L, new float[] {0, 0, 1}); // 2^64 - 2, the largest key
            assertEquals(3, index.nStored());
            assertEquals(-1L, index.nItems(), "2^64 - 1, read as unsigned");
            index.build(2);
            assertEquals(-2L, index.getNnsByVector(new float[] {0, 0.1f, 1}, 1, -1)[0]);
        }
    }

    @Test
    void stateErrors() throws Exception {
        try (AnnIndex index = AnnIndex.create(4, Metric.EUCLIDEAN)) {
            index.addItem(0, new float[] {1, 2, 3, 4});
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE,
                    () -> index.getNnsByVector(new float[] {1, 2, 3, 4}, 1, -1));
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE, index::verify);
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE,
                    () -> index.save(dir.resolve("unbuilt.ann").toString()));
            index.build(2);
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE, () -> index.build(2));
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE,
                    () -> index.addItem(1, new float[] {1, 2, 3, 4}));
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE,
                    () -> index.onDiskBuild(dir.resolve("late.ann").toString()));
            index.unbuild();
            index.addItem(1, new float[] {4, 3, 2, 1});
            index.build(2);
            assertEquals(2, index.nItems());
            index.save(dir.resolve("two.ann").toString());
        }
        try (AnnIndex loaded = AnnIndex.load(dir.resolve("two.ann").toString())) {
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE,
                    () -> loaded.addItem(2, new float[] {1, 1, 1, 1}));
            assertLibraryError(AnnStateException.class, Status.INVALID_STATE, loaded::unbuild);
            loaded.unload();
            assertEquals(0, loaded.nItems(), "unload leaves an empty index");
            assertEquals(4, loaded.dim());
            loaded.addItem(0, new float[] {1, 1, 1, 1});
            loaded.build(1);
            assertEquals(0, loaded.getNnsByItem(0, 1)[0]);
        }
    }

    @Test
    void badBuildArguments() {
        try (AnnIndex index = AnnIndex.create(2, Metric.EUCLIDEAN)) {
            index.addItem(0, new float[] {1, 2});
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT, () -> index.build(0, 1));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT, () -> index.build(-2, 1));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT, () -> index.build(1, 0));
            assertEquals(0, index.nTrees(), "a failed build builds nothing");
        }
    }

    @Test
    void badQueryArguments() {
        try (AnnIndex index = built()) {
            float[] query = {0, 0, 0, 0};
            assertThrows(IllegalArgumentException.class, () -> index.getNnsByVector(query, -1, -1));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.getNnsByVector(query, 3, -2));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.getNnsByVector(new float[] {0, Float.NaN, 0, 0}, 3, -1));
            assertThrows(IllegalArgumentException.class, () -> index.getNnsByVector(new float[5], 3, -1));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.getNnsBatch(new float[][] {query}, 3, -1, 0));
            assertEquals(0, index.getNnsByVector(query, 0, -1).length);
        }
    }

    @Test
    void idNeverAddedIsAnArgumentError() {
        try (AnnIndex index = AnnIndex.create(2, Metric.EUCLIDEAN)) {
            index.addItem(0, new float[] {0, 0});
            index.addItem(2, new float[] {1, 1}); // id 1 is a hole
            index.build(2);
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT, () -> index.getNnsByItem(1, 1, -1));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT, () -> index.getNnsByItem(7, 1, -1));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT, () -> index.getItemVector(1));
            assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT, () -> index.getDistance(0, 1));
            AnnArgumentException e = assertLibraryError(AnnArgumentException.class, Status.INVALID_ARGUMENT,
                    () -> index.getItemVector(-1));
            assertTrue(e.getMessage().contains("never added"), e.getMessage());
            assertEquals(3, index.nItems());
            assertEquals(2, index.nStored());
            assertEquals(2, index.getNnsByVector(new float[] {0, 0}, 10, -1).length, "holes are skipped");
        }
    }

    @Test
    void missingFilesAreIoErrors() {
        String missing = dir.resolve("missing.ann").toString();
        IOException e = assertLibraryError(AnnIOException.class, Status.IO, () -> AnnIndex.load(missing, false));
        assertTrue(e.getMessage().contains("missing.ann"), e.getMessage());
        assertLibraryError(AnnIOException.class, Status.IO, () -> AnnIndex.fileInfo(missing));
        assertLibraryError(AnnIOException.class, Status.IO, () -> AnnIndex.loadAnnoy(missing, 3, Metric.DOT, false));
        try (AnnIndex index = built()) {
            assertLibraryError(AnnIOException.class, Status.IO,
                    () -> index.save(dir.resolve("no/such/dir/index.ann").toString()));
            assertLibraryError(AnnIOException.class, Status.IO,
                    () -> index.saveAnnoy(dir.resolve("no/such/dir/index.annoy").toString()));
            assertThrows(IllegalArgumentException.class, () -> index.save(dir.resolve("nul\0.ann").toString()));
        }
    }

    @Test
    void garbageAndDamagedFilesAreIoErrors() throws Exception {
        Path garbage = dir.resolve("garbage.ann");
        Files.write(garbage, "this is not an index, only text of a plausible size. ".repeat(40).getBytes());
        assertLibraryError(AnnIOException.class, Status.CORRUPT_FILE, () -> AnnIndex.load(garbage.toString(), false));
        assertLibraryError(AnnIOException.class, Status.CORRUPT_FILE,
                () -> AnnIndex.loadAnnoy(garbage.toString(), 7, Metric.EUCLIDEAN, false));
        Path empty = Files.createFile(dir.resolve("empty.ann"));
        assertLibraryError(AnnIOException.class, Status.CORRUPT_FILE, () -> AnnIndex.load(empty.toString()));
        assertEquals(FileInfo.Kind.UNKNOWN, AnnIndex.fileInfo(empty.toString()).kind());

        Path damaged = dir.resolve("damaged.ann");
        try (AnnIndex index = built()) {
            index.save(damaged.toString());
        }
        long size = Files.size(damaged);
        try (FileChannel file = FileChannel.open(damaged, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            file.read(one, size - 5);
            one.flip();
            one.put(0, (byte) (one.get(0) ^ 0x5a));
            file.write(one, size - 5);
        }
        try (AnnIndex loaded = AnnIndex.load(damaged.toString())) { // O(1): only the header is read
            assertLibraryError(AnnIOException.class, Status.CORRUPT_FILE, loaded::verify);
        }
    }
}
