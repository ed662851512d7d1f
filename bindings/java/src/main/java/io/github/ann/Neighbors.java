package io.github.ann;

import java.util.Arrays;
import java.util.Objects;

/**
 * Query results, nearest first: {@code ids[i]} at {@code distances[i]}. For {@link
 * Metric#DOT} the "distance" is the inner product, largest first.
 *
 * <p>The arrays are the record's own, not copies; equality compares their contents.
 *
 * @param ids the neighbours' ids
 * @param distances the matching distances, as many as ids
 */
public record Neighbors(long[] ids, float[] distances) {
    /** Checks that both arrays are there and of one length. */
    public Neighbors {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(distances, "distances");
        if (ids.length != distances.length) {
            throw new IllegalArgumentException(ids.length + " ids but " + distances.length + " distances");
        }
    }

    /** The number of neighbours. */
    public int size() {
        return ids.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Neighbors that
                && Arrays.equals(ids, that.ids)
                && Arrays.equals(distances, that.distances);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Arrays.hashCode(distances);
    }

    @Override
    public String toString() {
        return "Neighbors[ids=" + Arrays.toString(ids) + ", distances=" + Arrays.toString(distances) + "]";
    }
}
