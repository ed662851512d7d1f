package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Files written by the real Annoy 1.17.3 ({@code tests/fixtures/annoy/*.annoy}) give Annoy's
 * answers, as recorded in the matching {@code *.expected} (see make_fixtures.py there).
 */
class AnnoyFixturesTest {
    static Stream<String> cases() throws IOException {
        try (Stream<Path> files = Files.list(Support.repo().resolve("tests/fixtures/annoy"))) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".expected"))
                    .map(n -> n.substring(0, n.length() - ".expected".length()))
                    .sorted()
                    .toList();
            assertTrue(names.size() >= 8, "fixtures found: " + names);
            return names.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void annoyFilesGiveAnnoysAnswers(String name) throws IOException {
        Path fixtures = Support.repo().resolve("tests/fixtures/annoy");
        List<String> lines = Files.readAllLines(fixtures.resolve(name + ".expected"));
        Metric metric = Metric.fromName(field(lines, "metric"));
        int dim = Integer.parseInt(field(lines, "dim"));
        int checked = 0;
        try (AnnIndex index = AnnIndex.loadAnnoy(fixtures.resolve(name + ".annoy").toString(), dim, metric, false)) {
            assertEquals(Long.parseLong(field(lines, "n_items")), index.nItems());
            assertEquals(Integer.parseInt(field(lines, "n_trees")), index.nTrees());
            index.verify();
            for (String line : lines) {
                String[] parts = line.split(" \\| ");
                String[] head = parts[0].trim().split(" ");
                switch (head[0]) {
                    case "query": {
                        float[] query = floats(Arrays.copyOfRange(head, 3, head.length));
                        Neighbors ours = index.getNnsByVectorWithDistances(
                                query, Integer.parseInt(head[2]), Long.parseLong(head[1]));
                        assertSameResults(metric, line, ours, parts[1], parts[2]);
                        break;
                    }
                    case "item": {
                        Neighbors ours = index.getNnsByItemWithDistances(
                                Long.parseLong(head[1]), Integer.parseInt(head[3]), Long.parseLong(head[2]));
                        assertSameResults(metric, line, ours, parts[1], parts[2]);
                        break;
                    }
                    case "distance": {
                        float d = index.getDistance(Long.parseLong(head[1]), Long.parseLong(head[2]));
                        assertTrue(close(metric, d, Float.parseFloat(head[3])), line + ": " + d);
                        break;
                    }
                    case "vector":
                        assertArrayEquals(floats(Arrays.copyOfRange(head, 2, head.length)),
                                index.getItemVector(Long.parseLong(head[1])), line);
                        break;
                    default:
                        continue;
                }
                checked++;
            }
        }
        assertTrue(checked >= 40, name + ": only " + checked + " checks");
    }

    private static String field(List<String> lines, String name) {
        return lines.stream()
                .filter(l -> l.startsWith(name + " "))
                .findFirst()
                .orElseThrow()
                .substring(name.length() + 1);
    }

    private static float[] floats(String[] words) {
        float[] values = new float[words.length];
        for (int i = 0; i < words.length; i++) {
            values[i] = (float) Double.parseDouble(words[i]);
        }
        return values;
    }

    /**
     * Distances agree to 1e-5 relative; angular ones, computed as sqrt(2 - 2cos) in float, are
     * compared as 2 - 2cos near 0, where one ulp of cos is amplified (as tests/annoy_files.rs).
     */
    private static boolean close(Metric metric, float a, float b) {
        boolean relative = Math.abs(a - b) <= 1e-5 * Math.max(Math.max(Math.abs(a), Math.abs(b)), 1e-30);
        return relative || (metric == Metric.ANGULAR && Math.abs(a * a - b * b) <= 8 * Math.ulp(1f));
    }

    /** Our results equal Annoy's, except where candidates' distances tie within rounding. */
    private static void assertSameResults(Metric metric, String line, Neighbors ours, String ids, String dists) {
        long[] theirIds = Arrays.stream(ids.trim().split(" ")).mapToLong(Long::parseLong).toArray();
        float[] theirDists = floats(dists.trim().split(" "));
        assertEquals(theirIds.length, ours.size(), line);
        for (int i = 0; i < ours.size(); i++) {
            float d = ours.distances()[i];
            assertTrue(close(metric, d, theirDists[i]), line + ": distance " + i + " is " + d);
            if (ours.ids()[i] != theirIds[i]) {
                boolean tied = close(metric, theirDists[theirDists.length - 1], d);
                for (int j = 0; j < theirIds.length && !tied; j++) {
                    tied = theirIds[j] == ours.ids()[i] && close(metric, theirDists[j], d);
                }
                assertTrue(tied, line + ": ids " + Arrays.toString(ours.ids()));
            }
        }
    }
}
