package io.github.ann;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.function.LongPredicate;

/** Shared test data: seeded random vectors, exact distances, and where the repository is. */
final class Support {
    private Support() {}

    /** The source checkout, passed by test.sh as the system property ann.repo. */
    static Path repo() {
        String repo = System.getProperty("ann.repo");
        if (repo == null) {
            throw new IllegalStateException("run the tests with -Dann.repo=<checkout> (test.sh does)");
        }
        return Path.of(repo);
    }

    /** test.sh's build directory (the jar, the glue), passed as the system property ann.build. */
    static Path build() {
        return Path.of(System.getProperty("ann.build", repo().resolve("bindings/java/build").toString()));
    }

    /** The dimension tests use for a metric: 64 bits for hamming, else 16 floats. */
    static int dimOf(Metric metric) {
        return metric == Metric.HAMMING ? 64 : 16;
    }

    /** {@code rows} vectors: 0/1 bits for hamming, uniform in [-1, 1) otherwise. */
    static float[][] dataset(Metric metric, int rows, int dim, long seed) {
        Random random = new Random(seed);
        float[][] data = new float[rows][dim];
        for (float[] row : data) {
            for (int j = 0; j < dim; j++) {
                row[j] = metric == Metric.HAMMING ? (random.nextBoolean() ? 1f : 0f) : random.nextFloat() * 2 - 1;
            }
        }
        return data;
    }

    /** An index of {@code data} (item i = row i), seeded, built on every core. */
    static AnnIndex build(Metric metric, float[][] data, int nTrees) {
        AnnIndex index = AnnIndex.create(data[0].length, metric);
        for (int i = 0; i < data.length; i++) {
            index.addItem(i, data[i]);
        }
        index.setSeed(123);
        index.build(nTrees, -1);
        return index;
    }

    /** An index of {@code data} with item i under {@code keys[i]}, seeded, built on every core. */
    static AnnIndex build(Metric metric, long[] keys, float[][] data, int nTrees) {
        AnnIndex index = AnnIndex.create(data[0].length, metric);
        for (int i = 0; i < data.length; i++) {
            index.addItem(keys[i], data[i]);
        }
        index.setSeed(123);
        index.build(nTrees, -1);
        return index;
    }

    /**
     * {@code count} distinct keys spread over the whole unsigned 64-bit range (never -1L):
     * half of them 2^63 and above, so negative as Java longs.
     */
    static long[] sparseKeys(int count, long seed) {
        Random random = new Random(seed);
        java.util.Set<Long> seen = new java.util.LinkedHashSet<>();
        while (seen.size() < count) {
            long key = random.nextLong();
            if (key != -1L) {
                seen.add(key);
            }
        }
        return seen.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The exact top {@code n} of the items {@code accept} accepts, as libann orders them
     * (by distance, ties to the smaller unsigned key; largest inner product first for dot).
     */
    static long[] exact(Metric metric, long[] keys, float[][] data, float[] query, int n, LongPredicate accept) {
        List<Integer> rows = new ArrayList<>();
        double[] distance = new double[data.length];
        for (int i = 0; i < data.length; i++) {
            if (accept.test(keys[i])) {
                rows.add(i);
                distance[i] = distance(metric, query, data[i]);
            }
        }
        Comparator<Integer> byDistance =
                Comparator.comparingDouble(i -> metric == Metric.DOT ? -distance[i] : distance[i]);
        rows.sort(byDistance.thenComparing((a, b) -> Long.compareUnsigned(keys[a], keys[b])));
        return rows.stream().limit(n).mapToLong(i -> keys[i]).toArray();
    }

    /** The keys as a sorted array, for Arrays.binarySearch membership tests. */
    static long[] sorted(long[] keys) {
        long[] copy = keys.clone();
        Arrays.sort(copy);
        return copy;
    }

    /** The exact distance, as libann defines it (dot: the inner product). */
    static double distance(Metric metric, float[] a, float[] b) {
        double sum = 0;
        double normA = 0;
        double normB = 0;
        for (int j = 0; j < a.length; j++) {
            switch (metric) {
                case ANGULAR:
                case DOT:
                    sum += (double) a[j] * b[j];
                    normA += (double) a[j] * a[j];
                    normB += (double) b[j] * b[j];
                    break;
                case EUCLIDEAN:
                    sum += (double) (a[j] - b[j]) * (a[j] - b[j]);
                    break;
                case MANHATTAN:
                    sum += Math.abs(a[j] - b[j]);
                    break;
                case HAMMING:
                    sum += (a[j] > 0.5f) != (b[j] > 0.5f) ? 1 : 0;
                    break;
            }
        }
        switch (metric) {
            case ANGULAR:
                return Math.sqrt(Math.max(0, 2 - 2 * sum / Math.sqrt(normA * normB)));
            case EUCLIDEAN:
                return Math.sqrt(sum);
            default:
                return sum;
        }
    }
}
