package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** FloatBuffer queries read exactly position() to limit(), whatever the kind of buffer. */
class BufferTest {
    private static final int DIM = 8;
    private static float[][] data;
    private static AnnIndex index;

    @BeforeAll
    static void build() {
        data = Support.dataset(Metric.EUCLIDEAN, 300, DIM, 31);
        index = Support.build(Metric.EUCLIDEAN, data, 5);
    }

    @AfterAll
    static void close() {
        index.close();
    }

    /** A direct buffer in native order holding {@code before} junk floats, then {@code rows}. */
    private static FloatBuffer direct(int before, float[]... rows) {
        FloatBuffer buffer = ByteBuffer.allocateDirect(4 * (before + rows.length * DIM + 3))
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        for (int i = 0; i < before; i++) {
            buffer.put(Float.NaN); // read these and libann would reject the query
        }
        for (float[] row : rows) {
            buffer.put(row);
        }
        buffer.put(new float[] {Float.NaN, Float.NaN, Float.NaN}); // and these, past the limit
        buffer.position(before).limit(before + rows.length * DIM);
        return buffer;
    }

    @Test
    void directBufferWithANonZeroPositionIsReadInPlace() {
        float[] query = data[17];
        Neighbors expected = index.getNnsByVectorWithDistances(query, 10, -1);
        FloatBuffer buffer = direct(5, query);
        assertEquals(expected, index.getNnsByVectorWithDistances(buffer, 10, -1));
        assertArrayEquals(expected.ids(), index.getNnsByVector(buffer, 10, -1));
        assertEquals(5, buffer.position(), "the position is left as it was");
        assertEquals(expected, index.getNnsByVectorWithDistances(buffer.asReadOnlyBuffer(), 10, -1));
    }

    @Test
    void heapAndForeignOrderBuffersAreCopied() {
        float[] query = data[3];
        Neighbors expected = index.getNnsByVectorWithDistances(query, 10, -1);
        float[] padded = new float[DIM + 2];
        System.arraycopy(query, 0, padded, 2, DIM);
        FloatBuffer heap = FloatBuffer.wrap(padded, 2, DIM);
        assertEquals(expected, index.getNnsByVectorWithDistances(heap, 10, -1));
        assertEquals(2, heap.position());
        ByteOrder foreign =
                ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        FloatBuffer swapped = ByteBuffer.allocateDirect(4 * DIM).order(foreign).asFloatBuffer().put(query).flip();
        assertEquals(expected, index.getNnsByVectorWithDistances(swapped, 10, -1));
    }

    @Test
    void remainingMustBeTheDimension() {
        FloatBuffer buffer = direct(1, data[0]);
        buffer.limit(buffer.limit() - 1);
        assertThrows(IllegalArgumentException.class, () -> index.getNnsByVector(buffer, 3, -1));
        assertThrows(IllegalArgumentException.class, () -> index.getNnsBatch(buffer, 3, -1, 1));
        assertThrows(NullPointerException.class, () -> index.getNnsByVector((FloatBuffer) null, 3, -1));
    }

    @Test
    void batchFromADirectBufferReadsEveryRowInPlace() {
        float[][] queries = {data[1], data[50], data[99], data[250]};
        Neighbors[] expected = index.getNnsBatch(queries, 7, -1, 2);
        FloatBuffer buffer = direct(3, queries);
        Neighbors[] found = index.getNnsBatch(buffer, 7, -1, 2);
        assertArrayEquals(expected, found);
        assertEquals(3, buffer.position());
        for (int q = 0; q < queries.length; q++) {
            assertEquals(index.getNnsByVectorWithDistances(queries[q], 7, -1), found[q]);
        }
        FloatBuffer heap = FloatBuffer.allocate(4 * DIM);
        for (float[] query : queries) {
            heap.put(query);
        }
        assertArrayEquals(expected, index.getNnsBatch(heap.flip(), 7, -1, -1));
        assertEquals(0, index.getNnsBatch(FloatBuffer.allocate(0), 7, -1, 1).length);
    }
}
