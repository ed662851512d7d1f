package io.github.ann.examples;

import io.github.ann.AnnIndex;
import io.github.ann.Metric;
import io.github.ann.Neighbors;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Java program of the cross-language test (bindings/README.md, "The cross-language test"):
 * builds an index from raw float32 rows (saved as ann's file, as Annoy's, and as ann's file again
 * with a graph of degree 16), or queries one and prints results with distances as IEEE-754 bit
 * patterns, so that every language's output can be compared byte for byte.
 *
 * <pre>
 * build &lt;metric&gt; &lt;dim&gt; &lt;vectors.f32&gt; &lt;n_trees&gt; &lt;seed&gt; &lt;out.ann&gt; &lt;out.annoy&gt;
 *       &lt;out.graph.ann&gt;
 * query &lt;native|annoy&gt; &lt;index file&gt; &lt;metric&gt; &lt;dim&gt; &lt;queries.f32&gt; &lt;n&gt; &lt;search_k&gt;
 * </pre>
 *
 * Exits 0 on success, and 1 with the library's message on standard error.
 */
public final class Interop {
    private static final String USAGE = "usage:\n"
            + "  interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy> <out.graph.ann>\n"
            + "  interop query <native|annoy> <index file> <metric> <dim> <queries.f32> <n> <search_k>";

    /** The degree of the graph in {@code <out.graph.ann>}. */
    private static final int GRAPH_DEGREE = 16;

    private Interop() {}

    public static void main(String[] args) {
        try {
            if (args.length == 9 && args[0].equals("build")) {
                build(args);
            } else if (args.length == 8 && args[0].equals("query")) {
                query(args);
            } else {
                System.err.println(USAGE);
                System.exit(2);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("interop: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void build(String[] args) throws IOException {
        Metric metric = Metric.fromName(args[1]);
        int dim = Integer.parseInt(args[2]);
        float[][] rows = readRows(Path.of(args[3]), dim);
        try (AnnIndex index = AnnIndex.create(dim, metric)) {
            for (int i = 0; i < rows.length; i++) {
                index.addItem(i, rows[i]);
            }
            index.setSeed(Long.parseUnsignedLong(args[5]));
            index.build(Integer.parseInt(args[4]));
            index.save(args[6]);
            index.saveAnnoy(args[7]);
            index.buildGraph(GRAPH_DEGREE, -1);
            index.save(args[8]);
        }
    }

    private static void query(String[] args) throws IOException {
        String kind = args[1];
        Metric metric = Metric.fromName(args[3]);
        int dim = Integer.parseInt(args[4]);
        float[][] queries = readRows(Path.of(args[5]), dim);
        int n = Integer.parseInt(args[6]);
        long searchK = Long.parseLong(args[7]);
        AnnIndex index;
        if (kind.equals("native")) {
            index = AnnIndex.load(args[2], false);
            if (index.metric() != metric || index.dim() != dim) {
                String found = index.metric().canonicalName() + "/" + index.dim();
                index.close();
                throw new IllegalArgumentException(args[2] + " is " + found + ", not "
                        + metric.canonicalName() + "/" + dim);
            }
        } else if (kind.equals("annoy")) {
            index = AnnIndex.loadAnnoy(args[2], dim, metric, false);
        } else {
            throw new IllegalArgumentException("the file kind is native or annoy, not " + kind);
        }
        PrintWriter out = new PrintWriter(new BufferedWriter(
                new OutputStreamWriter(System.out, StandardCharsets.US_ASCII)));
        try (index) {
            long nItems = index.nItems();
            out.print("n_items " + nItems + " n_trees " + index.nTrees() + " dim " + index.dim()
                    + " metric " + index.metric().canonicalName() + "\n");
            for (int q = 0; q < queries.length; q++) {
                Neighbors found = index.getNnsByVectorWithDistances(queries[q], n, searchK);
                out.print("q" + q + ":" + hits(found) + "\n");
            }
            long shown = Math.min(5, nItems);
            for (int i = 0; i < shown; i++) {
                out.print("i" + i + ":" + hits(index.getNnsByItemWithDistances(i, n, searchK)) + "\n");
            }
            for (int i = 0; i < shown; i++) {
                StringBuilder line = new StringBuilder("v" + i + ":");
                for (float value : index.getItemVector(i)) {
                    line.append(' ').append(bits(value));
                }
                out.print(line.append('\n'));
            }
        }
        out.flush();
        if (out.checkError()) {
            throw new IOException("cannot write to standard output");
        }
    }

    /** " <id>:<bits>" for each neighbour. */
    private static String hits(Neighbors neighbors) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < neighbors.size(); i++) {
            text.append(' ').append(neighbors.ids()[i]).append(':').append(bits(neighbors.distances()[i]));
        }
        return text.toString();
    }

    /** A float's IEEE-754 bit pattern as 8 lowercase hex digits. */
    private static String bits(float value) {
        return String.format("%08x", Float.floatToRawIntBits(value));
    }

    /** Raw little-endian float32 rows of {@code dim} values; the row count is size / (4 * dim). */
    private static float[][] readRows(Path file, int dim) throws IOException {
        if (dim <= 0) {
            throw new IllegalArgumentException("dim must be positive, got " + dim);
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.remaining() % (4L * dim) != 0) {
            throw new IllegalArgumentException(file + " is " + bytes.remaining()
                    + " bytes, not a whole number of rows of " + dim + " float32 values");
        }
        float[][] rows = new float[bytes.remaining() / (4 * dim)][dim];
        for (float[] row : rows) {
            bytes.asFloatBuffer().get(row);
            bytes.position(bytes.position() + 4 * dim);
        }
        return rows;
    }
}
