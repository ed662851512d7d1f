package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bindings/java/interop script speaks the protocol of bindings/README.md. */
class InteropTest {
    @TempDir Path dir;

    private record Run(int exit, String out, String err) {}

    private Run interop(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Support.repo().resolve("bindings/java/interop").toString()));
        command.addAll(List.of(args));
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static void writeRows(Path file, float[][] rows) throws Exception {
        ByteBuffer bytes = ByteBuffer.allocate(4 * rows.length * rows[0].length).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : rows) {
            for (float value : row) {
                bytes.putFloat(value);
            }
        }
        Files.write(file, bytes.array());
    }

    private static String hex(float value) {
        return String.format("%08x", Float.floatToRawIntBits(value));
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void buildThenQueryEveryFileGivesTheApisAnswers(Metric metric) throws Exception {
        int dim = metric == Metric.HAMMING ? 72 : 6;
        float[][] data = Support.dataset(metric, 120, dim, 51);
        float[][] queries = Support.dataset(metric, 4, dim, 52);
        writeRows(dir.resolve("vectors.f32"), data);
        writeRows(dir.resolve("queries.f32"), queries);
        String name = metric.canonicalName();
        String ann = dir.resolve("out.ann").toString();
        String annoy = dir.resolve("out.annoy").toString();
        String graph = dir.resolve("out.graph.ann").toString();
        Run build = interop("build", name, "" + dim, dir.resolve("vectors.f32").toString(), "4", "99", ann, annoy,
                graph);
        assertEquals(0, build.exit(), build.err());

        String queryFile = dir.resolve("queries.f32").toString();
        Run nativeRun = interop("query", "native", ann, name, "" + dim, queryFile, "5", "-1");
        assertEquals(0, nativeRun.exit(), nativeRun.err());
        Run annoyRun = interop("query", "annoy", annoy, name, "" + dim, queryFile, "5", "-1");
        assertEquals(nativeRun, annoyRun, "one index, one answer, whichever file form");

        List<String> lines = nativeRun.out().lines().toList();
        assertEquals("n_items 120 n_trees 4 dim " + dim + " metric " + name, lines.get(0));
        assertEquals(1 + 4 + 5 + 5, lines.size());
        try (AnnIndex index = AnnIndex.load(ann)) {
            assertEquals(99, index.seed());
            Neighbors first = index.getNnsByVectorWithDistances(queries[0], 5, -1);
            StringBuilder expected = new StringBuilder("q0:");
            for (int i = 0; i < first.size(); i++) {
                expected.append(' ').append(first.ids()[i]).append(':').append(hex(first.distances()[i]));
            }
            assertEquals(expected.toString(), lines.get(1));
            // Item 0 is its own nearest neighbour, except for dot, where longer vectors win.
            assertTrue(lines.get(5).startsWith(metric == Metric.DOT ? "i0: " : "i0: 0:00000000"), lines.get(5));
            StringBuilder vector = new StringBuilder("v4:");
            for (float value : data[4]) {
                vector.append(' ').append(hex(value));
            }
            assertEquals(vector.toString(), lines.get(14));
            assertFalse(index.hasGraph());
        }

        // The third file: the same index with a graph of degree 16, read with the native loader.
        Run graphRun = interop("query", "native", graph, name, "" + dim, queryFile, "5", "-1");
        assertEquals(0, graphRun.exit(), graphRun.err());
        List<String> graphLines = graphRun.out().lines().toList();
        assertEquals(lines.size(), graphLines.size());
        assertEquals(lines.get(0), graphLines.get(0));
        assertEquals(lines.subList(10, 15), graphLines.subList(10, 15), "the same vectors");
        try (AnnIndex index = AnnIndex.load(graph)) {
            assertTrue(index.hasGraph());
            assertEquals(4, index.nTrees());
            assertEquals(99, index.seed());
            for (int q = 0; q < queries.length; q++) {
                Neighbors found = index.getNnsByVectorWithDistances(queries[q], 5, -1);
                StringBuilder expected = new StringBuilder("q" + q + ":");
                for (int i = 0; i < found.size(); i++) {
                    expected.append(' ').append(found.ids()[i]).append(':').append(hex(found.distances()[i]));
                }
                assertEquals(expected.toString(), graphLines.get(1 + q), "the graph's answers");
            }
        }
    }

    @Test
    void aWrongMetricOrAMissingFileFailsWithAMessage() throws Exception {
        float[][] data = Support.dataset(Metric.EUCLIDEAN, 20, 3, 53);
        writeRows(dir.resolve("vectors.f32"), data);
        String ann = dir.resolve("out.ann").toString();
        assertEquals(0, interop("build", "euclidean", "3", dir.resolve("vectors.f32").toString(), "2", "1", ann,
                dir.resolve("out.annoy").toString(), dir.resolve("out.graph.ann").toString()).exit());
        // The old build command line, without <out.graph.ann>, is a usage error.
        Run old = interop("build", "euclidean", "3", dir.resolve("vectors.f32").toString(), "2", "1", ann,
                dir.resolve("out.annoy").toString());
        assertEquals(2, old.exit());
        assertTrue(old.err().contains("<out.graph.ann>"), old.err());
        Run wrong = interop("query", "native", ann, "angular", "3", dir.resolve("vectors.f32").toString(), "2", "-1");
        assertNotEquals(0, wrong.exit());
        assertTrue(wrong.err().contains("euclidean"), wrong.err());
        Run missing = interop("query", "native", dir.resolve("missing.ann").toString(), "angular", "3",
                dir.resolve("vectors.f32").toString(), "2", "-1");
        assertNotEquals(0, missing.exit());
        assertTrue(missing.err().contains("missing.ann"), missing.err());
        assertTrue(missing.out().isEmpty());
    }
}
