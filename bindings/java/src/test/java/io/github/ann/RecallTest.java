package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every metric against brute force on random data. */
class RecallTest {
    private static final int N = 1000;
    private static final int K = 10;

    @ParameterizedTest
    @EnumSource(Metric.class)
    void findsTheTrueNeighboursAtTheirTrueDistances(Metric metric) {
        int dim = metric == Metric.HAMMING ? 64 : 24;
        float[][] data = Support.dataset(metric, N, dim, 11);
        float[][] queries = Support.dataset(metric, 40, dim, 12);
        boolean descending = metric == Metric.DOT;
        int hits = 0;
        try (AnnIndex index = Support.build(metric, data, 10)) {
            for (float[] query : queries) {
                double[] truth = new double[N];
                for (int i = 0; i < N; i++) {
                    truth[i] = Support.distance(metric, data[i], query);
                }
                Integer[] order = IntStream.range(0, N).boxed().toArray(Integer[]::new);
                Comparator<Integer> nearest = Comparator.comparingDouble(i -> truth[i]);
                Arrays.sort(order, descending ? nearest.reversed() : nearest);
                double kth = truth[order[K - 1]];

                Neighbors found = index.getNnsByVectorWithDistances(query, K, 10L * N);
                assertEquals(K, found.size());
                for (int r = 0; r < K; r++) {
                    double expected = truth[(int) found.ids()[r]];
                    assertEquals(expected, found.distances()[r], 1e-4 * Math.max(1, Math.abs(expected)),
                            metric + ": the reported distance is the true one");
                    if (r > 0) {
                        float previous = found.distances()[r - 1];
                        assertTrue(descending ? previous >= found.distances()[r] : previous <= found.distances()[r],
                                metric + ": results are nearest first");
                    }
                    // By distance, so that ties at the cut-off (common for hamming) count as hits.
                    hits += descending ? (expected >= kth - 1e-4 ? 1 : 0) : (expected <= kth + 1e-4 ? 1 : 0);
                }
            }
        }
        double recall = hits / (double) (K * queries.length);
        assertTrue(recall >= 0.99, metric + ": recall " + recall);
    }

    @ParameterizedTest
    @EnumSource(value = Metric.class, names = {"ANGULAR", "EUCLIDEAN", "MANHATTAN"})
    void anItemIsItsOwnNearestNeighbour(Metric metric) {
        float[][] data = Support.dataset(metric, 300, 16, 13);
        try (AnnIndex index = Support.build(metric, data, 10)) {
            for (int i = 0; i < 300; i += 11) {
                Neighbors found = index.getNnsByItemWithDistances(i, 1, -1);
                assertEquals(i, found.ids()[0]);
                assertEquals(0f, found.distances()[0]);
            }
        }
    }
}
