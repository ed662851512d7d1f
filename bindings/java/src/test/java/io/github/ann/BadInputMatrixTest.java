package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongPredicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input matrix: every public method and constructor of the binding, called with each
 * kind of bad input of {@code include/ann_errors.md} as Java expresses it (null for every
 * reference parameter, out-of-range ints and longs, negative longs as keys 2^63 and above and
 * {@code -1L}, the reserved key; dims, counts and thread counts; NaN and infinity; arrays and
 * buffers of the wrong length; every wrong state; use after {@code close}). Each case must throw
 * exactly the documented exception (its class, not a subclass or superclass; its {@link Status}
 * for the {@code Ann*Exception}s; a message saying what is wrong), or, where the input is
 * allowed ({@code n} 0, a huge {@code searchK}, null options), give the documented result; never
 * crash the JVM. After every case, every fixture index must answer exactly as before.
 *
 * <p>The matrix is checked against the binding itself: {@link #theMatrixCoversThePublicApi()}
 * lists every public method and constructor of every public class in {@code build/classes} by
 * reflection, and fails, naming what to add, when one that takes parameters has no case here, or
 * no case passing one of its reference parameters as null. Methods without parameters have no
 * input to get wrong; those of {@link AnnIndex}, {@link SearchOptions} and {@link AnnWriter} are
 * called after {@code close} by {@link #everyMethodAfterClose()}, again found by reflection.
 *
 * <p>Out-of-range enum values (a metric 99, a durability 7) cannot be written in Java: those
 * cases go one level down, through the JNI glue ({@link Native}), to show that such a value
 * would be an {@link AnnArgumentException}, never undefined behaviour. Output buffers: this
 * binding takes none (it sizes every result array itself), so {@code BUFFER_TOO_SMALL} cannot
 * arise.
 */
class BadInputMatrixTest {
    private static final int DIM = 4;
    private static final int N = 50;
    private static final int HAM_DIM = 72; // two words, the second partial
    private static final int HAM_N = 30;

    @TempDir static Path dir;

    private static float[][] data;
    private static float[] query;
    private static float[][] hamData;
    private static AnnIndex built;
    private static AnnIndex graph;
    private static AnnIndex unbuilt;
    private static AnnIndex loaded;
    private static AnnIndex shards;
    private static AnnIndex hamming;
    private static AnnIndex hamUnbuilt;
    private static AnnWriter writer;
    private static AnnIndex live;
    private static AnnIndex reader;
    private static SearchOptions options;
    private static String path;
    private static String annoyPath;
    private static String hamPath;
    private static String liveDir;
    private static String missing;
    private static String garbage;
    private static String empty;
    private static String damaged;
    private static String emptyDir;
    private static String noDir;

    /** What a case opened, closed when it ends. */
    private static final List<AutoCloseable> scratch = new ArrayList<>();

    /** The fixtures' answers before the case that runs next. */
    private static Map<String, String> before;

    @BeforeAll
    static void fixtures() throws IOException {
        data = Support.dataset(Metric.EUCLIDEAN, N, DIM, 71);
        query = data[0].clone();
        query[0] += 0.01f;
        hamData = Support.dataset(Metric.HAMMING, HAM_N, HAM_DIM, 72);
        built = Support.build(Metric.EUCLIDEAN, data, 5);
        graph = Support.build(Metric.EUCLIDEAN, data, 5);
        graph.buildGraph(8, 1);
        unbuilt = unbuiltOf(Metric.EUCLIDEAN, data);
        hamming = Support.build(Metric.HAMMING, hamData, 3);
        hamUnbuilt = unbuiltOf(Metric.HAMMING, hamData);
        path = file("built.ann");
        annoyPath = file("built.annoy");
        hamPath = file("hamming.ann");
        built.save(path);
        built.saveAnnoy(annoyPath);
        hamming.save(hamPath);
        loaded = AnnIndex.load(path);
        shards = AnnIndex.openShards(List.of(path));
        liveDir = file("live");
        writer = AnnWriter.open(liveDir, DIM, Metric.EUCLIDEAN, fastWrites());
        long[] keys = new long[20];
        float[][] rows = new float[20][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = i;
            rows[i] = data[i];
        }
        writer.upsertBatch(keys, rows);
        writer.sync();
        live = writer.index();
        reader = AnnIndex.open(liveDir);
        // State a failed setter would visibly lose: item 0 is the query's nearest, 1 the next.
        options = new SearchOptions().searchK(500).denyList(0).filter(key -> key != 1);
        missing = file("missing.ann");
        noDir = file("no/such/dir/x.ann");
        emptyDir = Files.createDirectory(dir.resolve("empty-dir")).toString();
        garbage = Files.write(dir.resolve("garbage.ann"), "not an index ".repeat(100).getBytes()).toString();
        empty = Files.createFile(dir.resolve("empty.ann")).toString();
        byte[] bytes = Files.readAllBytes(Path.of(path));
        bytes[20] ^= (byte) 0xff; // the header
        damaged = Files.write(dir.resolve("damaged.ann"), bytes).toString();
        before = snapshot();
    }

    @AfterAll
    static void closeFixtures() {
        for (AutoCloseable c : new AutoCloseable[] {
            options, reader, live, writer, shards, loaded, hamUnbuilt, hamming, unbuilt, graph, built
        }) {
            try {
                c.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    private static WriterOptions fastWrites() {
        return WriterOptions.builder().durability(WriterOptions.Durability.TIMER).flushMs(20).nTrees(5).build();
    }

    private static String file(String name) {
        return dir.resolve(name).toString();
    }

    private static AnnIndex unbuiltOf(Metric metric, float[][] rows) {
        AnnIndex index = AnnIndex.create(rows[0].length, metric);
        for (int i = 0; i < rows.length; i++) {
            index.addItem(i, rows[i]);
        }
        return index;
    }

    /** Closes {@code c} when the running case ends. */
    private static <T extends AutoCloseable> T scratch(T c) {
        scratch.add(c);
        return c;
    }

    /** A new unbuilt index of the first {@code n} rows. */
    private static AnnIndex fresh(int n) {
        AnnIndex index = scratch(AnnIndex.create(DIM, Metric.EUCLIDEAN));
        for (int i = 0; i < n; i++) {
            index.addItem(i, data[i]);
        }
        return index;
    }

    /** A new writer of a new live directory, with the first 10 rows. */
    private static AnnWriter freshWriter() throws IOException {
        AnnWriter w = scratch(AnnWriter.open(Files.createTempDirectory(dir, "live").resolve("live").toString(), DIM,
                Metric.EUCLIDEAN, fastWrites()));
        for (int i = 0; i < 10; i++) {
            w.upsert(i, data[i]);
        }
        return w;
    }

    // ------------------------------------------------------------------ snapshots

    /** What every fixture answers; the cases must leave it exactly as it was. */
    private static Map<String, String> snapshot() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("built", describe(built, query, options));
        s.put("loaded", describe(loaded, query, options));
        s.put("graph", describe(graph, query, options));
        s.put("shards", describe(shards, query, options));
        s.put("live", describe(live, query, options));
        s.put("reader", describe(reader, query, options));
        s.put("hamming", describe(hamming, hamData[1], null));
        s.put("unbuilt", describe(unbuilt, query, null));
        s.put("hamUnbuilt", describe(hamUnbuilt, hamData[1], null));
        return s;
    }

    /** An index's answers: a query, a search, its counts, and every item's vector. */
    private static String describe(AnnIndex index, float[] q, SearchOptions opts) {
        StringBuilder b = new StringBuilder();
        b.append("nns ").append(attempt(() -> index.getNnsByVectorWithDistances(q, 10, -1)));
        b.append("; search ").append(attempt(() -> index.search(q, 10, opts)));
        b.append("; stored ").append(index.nStored()).append(" items ").append(index.nItems());
        b.append(" trees ").append(index.nTrees()).append(" graph ").append(index.hasGraph());
        b.append(" dim ").append(index.dim()).append(' ').append(index.metric()).append("; items");
        for (long key = 0; key <= index.nItems(); key++) { // one past the last: never added
            long k = key;
            b.append(' ').append(key).append(':').append(attempt(() -> Arrays.toString(index.getItemVector(k))));
        }
        return b.toString();
    }

    @FunctionalInterface
    private interface Attempt {
        Object get() throws Exception;
    }

    private static String attempt(Attempt call) {
        try {
            return String.valueOf(call.get());
        } catch (Exception e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    // ------------------------------------------------------------------ cases

    /** A call that may throw anything. */
    @FunctionalInterface
    private interface Call {
        void run() throws Throwable;
    }

    /**
     * One bad input to one entry point.
     *
     * @param api the signature, as {@link #signature(Executable)} writes it
     * @param name what is bad about the input
     * @param type the exception's exact class; null: the call must succeed (and {@code call}
     *     checks its result)
     * @param status the {@link Status} of an {@code Ann*Exception}, else null
     * @param says fragments the message must contain (case-insensitive)
     * @param call the call
     * @param nulls the parameters (1-based) the case passes as null
     * @param known a library behaviour the case pins down that contradicts include/ann_errors.md
     *     or ann.h (reported), or null
     */
    private record Case(String api, String name, Class<? extends Throwable> type, Status status, List<String> says,
            Call call, int[] nulls, String known) {
        Case nulls(int... parameters) {
            return new Case(api, name, type, status, says, call, parameters, known);
        }

        Case known(String note) {
            return new Case(api, name, type, status, says, call, nulls, note);
        }
    }

    private static Case fails(String api, String name, Class<? extends Throwable> type, Status status, Call call,
            String... says) {
        return new Case(api, name, type, status, List.of(says), call, new int[0], null);
    }

    private static Case ok(String api, String name, Call call) {
        return new Case(api, name, null, null, List.of(), call, new int[0], null);
    }

    /** An {@link AnnArgumentException} ({@link Status#INVALID_ARGUMENT}): libann refused the value. */
    private static Case arg(String api, String name, Call call, String... says) {
        return fails(api, name, AnnArgumentException.class, Status.INVALID_ARGUMENT, call, says);
    }

    /** A plain {@link IllegalArgumentException}: the binding refused the value before libann. */
    private static Case javaArg(String api, String name, Call call, String... says) {
        return fails(api, name, IllegalArgumentException.class, null, call, says);
    }

    private static Case state(String api, String name, Call call, String... says) {
        return fails(api, name, AnnStateException.class, Status.INVALID_STATE, call, says);
    }

    private static Case io(String api, String name, Call call, String... says) {
        return fails(api, name, AnnIOException.class, Status.IO, call, says);
    }

    private static Case corrupt(String api, String name, Call call, String... says) {
        return fails(api, name, AnnIOException.class, Status.CORRUPT_FILE, call, says);
    }

    /** A {@link NullPointerException} naming what was null, for parameter {@code parameter}. */
    private static Case npe(String api, int parameter, Call call, String says) {
        return fails(api, "null parameter " + parameter, NullPointerException.class, null, call, says).nulls(parameter);
    }

    private static float[] with(float[] vector, int i, float value) {
        float[] copy = vector.clone();
        copy[i] = value;
        return copy;
    }

    /** A direct buffer in native order holding {@code values}: read in place by the glue. */
    private static FloatBuffer direct(float... values) {
        return ByteBuffer.allocateDirect(4 * values.length).order(ByteOrder.nativeOrder()).asFloatBuffer().put(values)
                .flip();
    }

    private static final String[] NAN = {"NaN", "finite"};
    private static final String[] POS_INF = {"inf", "finite"};
    private static final String[] NEG_INF = {"-inf", "finite"};
    private static final String[] NEVER_ADDED = {"does not exist", "never added"};
    private static final String[] SEARCH_K = {"search_k must be -1 (default) or at least 0"};
    private static final String[] THREADS = {"n_threads must be -1 (all cores) or at least 1"};
    private static final String[] TREES = {"n_trees must be -1"};
    private static final String[] DIM_RANGE = {"dimension must be between 1 and 16777216"};
    private static final String[] NOT_BUILT = {"not built"};
    private static final String[] ADD_BUILT = {"cannot add items to a built index", "unbuild"};
    private static final String[] BUILT = {"already built", "unbuild"};
    private static final String[] LOADED = {"loaded index", "read-only"};
    private static final String[] LIVE_READ = {"read handle of a live index", "upsert through its writer"};
    private static final String[] LIVE_SAVE = {"cannot save a live index", "export"};
    private static final String[] SHARD_SAVE = {"sharded index", "export"};
    private static final String[] GRAPH_ONE = {"a graph is built over one index"};
    private static final String[] ON_DISK = {"on_disk_build must be called before build"};
    private static final String[] EMPTY_PATH = {"empty path"};
    private static final String[] NUL = {"cannot contain a NUL character"};
    private static final String[] WORDS = {"72 bits in 2 words"};
    private static final String[] PAST_DIM = {"bits beyond the index's 72 bits"};
    private static final String[] N_NEGATIVE = {"n must not be negative, got -1"};
    private static final String[] RESERVED = {"reserved"};

    /** The bad vectors of a call taking one vector of {@link #DIM} floats. */
    private static List<Case> vectorCases(String api, int nullParameter, VectorCall call) {
        float[] good = data[7];
        return List.of(
                npe(api, nullParameter, () -> call.run(null), "vector"),
                javaArg(api, "empty vector", () -> call.run(new float[0]), "has 0 values", "dimension is 4"),
                javaArg(api, "too short", () -> call.run(Arrays.copyOf(good, 3)), "has 3 values", "dimension is 4"),
                javaArg(api, "too long", () -> call.run(Arrays.copyOf(good, 5)), "has 5 values", "dimension is 4"),
                arg(api, "NaN", () -> call.run(with(good, 2, Float.NaN)), NAN),
                arg(api, "+Inf", () -> call.run(with(good, 0, Float.POSITIVE_INFINITY)), POS_INF),
                arg(api, "-Inf", () -> call.run(with(good, 3, Float.NEGATIVE_INFINITY)), NEG_INF));
    }

    @FunctionalInterface
    private interface VectorCall {
        void run(float[] vector) throws Throwable;
    }

    /** The wrong states of a call, on the fixtures named in {@code says}. */
    private static List<Case> stateCases(String api, IndexCall call, Map<String, String[]> says) {
        Map<String, java.util.function.Supplier<AnnIndex>> fixtures = new LinkedHashMap<>();
        fixtures.put("built", () -> built);
        fixtures.put("loaded", () -> loaded);
        fixtures.put("unbuilt", () -> unbuilt);
        fixtures.put("shards", () -> shards);
        fixtures.put("live", () -> live);
        fixtures.put("reader", () -> reader);
        List<Case> cases = new ArrayList<>();
        fixtures.forEach((name, index) -> {
            if (says.containsKey(name)) {
                cases.add(state(api, "on a " + name + " index", () -> call.run(index.get()), says.get(name)));
            }
        });
        return cases;
    }

    @FunctionalInterface
    private interface IndexCall {
        void run(AnnIndex index) throws Throwable;
    }

    /** The bad paths of a call taking one path, which is parameter {@code nullParameter}. */
    private static List<Case> pathCases(String api, int nullParameter, PathCall call) {
        return List.of(
                npe(api, nullParameter, () -> call.run(null), "path"),
                io(api, "path \"\"", () -> call.run(""), EMPTY_PATH),
                javaArg(api, "NUL in the path", () -> call.run(dir + "/bad\0.ann"), NUL));
    }

    @FunctionalInterface
    private interface PathCall {
        void run(String path) throws Throwable;
    }

    /** The keys no index of the fixtures holds: the reserved -1L, 2^63 and above, one past the last. */
    private static List<Case> keyCases(String api, KeyCall call) {
        return List.of(
                arg(api, "the reserved key -1L (2^64 - 1)", () -> call.run(-1L), NEVER_ADDED),
                arg(api, "Long.MIN_VALUE (2^63)", () -> call.run(Long.MIN_VALUE), NEVER_ADDED),
                arg(api, "a key never added", () -> call.run(N), NEVER_ADDED));
    }

    @FunctionalInterface
    private interface KeyCall {
        void run(long key) throws Throwable;
    }

    /** Checks a query's result count. */
    private static void count(int expected, Neighbors found) {
        assertEquals(expected, found.size(), found.toString());
    }

    /** Checks that a query returned the true {@code n} nearest of the data to the query. */
    private static void exact(int n, Neighbors found) {
        long[] keys = new long[N];
        Arrays.setAll(keys, i -> i);
        assertArrayEquals(Support.exact(Metric.EUCLIDEAN, keys, data, query, n, key -> true), found.ids(),
                found.toString());
    }

    private static String m(String method) {
        return "AnnIndex." + method;
    }

    /** Every case, in order. */
    private static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        float[] q = query;
        float[][] two = {data[0], data[1]};
        long[] hamQuery = hamming.getItemPacked(1);

        // -------------------------------------------------------------- creating and opening

        String create = m("create(int,Metric)");
        c.add(javaArg(create, "dim 0", () -> AnnIndex.create(0, Metric.EUCLIDEAN), "dim must be positive, got 0"));
        c.add(javaArg(create, "dim -1", () -> AnnIndex.create(-1, Metric.EUCLIDEAN), "got -1"));
        c.add(arg(create, "dim 2^24+1", () -> AnnIndex.create((1 << 24) + 1, Metric.EUCLIDEAN),
                "got 16777217", DIM_RANGE[0]));
        c.add(arg(create, "dim Integer.MAX_VALUE", () -> AnnIndex.create(Integer.MAX_VALUE, Metric.EUCLIDEAN),
                DIM_RANGE));
        c.add(npe(create, 2, () -> AnnIndex.create(DIM, null), "metric"));
        c.add(arg(create, "metric value 99 (no Metric has it: through the JNI glue)", () -> Native.create(DIM, 99),
                "unknown metric value 99", "expected 0 (angular) to 4 (hamming)"));
        c.add(ok(create, "dim 1 works", () -> {
            AnnIndex index = scratch(AnnIndex.create(1, Metric.EUCLIDEAN));
            for (int i = 0; i < 10; i++) {
                index.addItem(i, new float[] {i});
            }
            index.build(3, 1);
            assertArrayEquals(new long[] {7, 6}, index.getNnsByVector(new float[] {6.9f}, 2, -1));
        }));
        c.add(ok(create, "dim 65536 works", () -> {
            AnnIndex index = scratch(AnnIndex.create(65536, Metric.EUCLIDEAN));
            for (int i = 0; i < 3; i++) {
                float[] v = new float[65536];
                v[i * 1000] = 1;
                index.addItem(i, v);
            }
            index.build(2, 1);
            assertEquals(new Neighbors(new long[] {2}, new float[] {0}), index.getNnsByItemWithDistances(2, 1, -1));
        }));
        c.add(ok(create, "dim 2^24 (the largest) is accepted", () -> {
            AnnIndex index = scratch(AnnIndex.create(1 << 24, Metric.DOT));
            assertEquals(1 << 24, index.dim());
            assertEquals(0, index.nStored());
        }));

        for (String load : List.of(m("load(String,boolean)"), m("load(String)"))) {
            boolean prefault = load.contains("boolean");
            LoadCall call = p -> {
                if (prefault) {
                    AnnIndex.load(p, true);
                } else {
                    AnnIndex.load(p);
                }
            };
            c.addAll(pathCases(load, 1, call::run));
            c.add(io(load, "missing file", () -> call.run(missing), "missing.ann", "No such file"));
            c.add(io(load, "a directory", () -> call.run(emptyDir), "cannot map"));
            c.add(corrupt(load, "not an index", () -> call.run(garbage), "garbage.ann"));
            c.add(corrupt(load, "empty file", () -> call.run(empty), "empty"));
            c.add(corrupt(load, "damaged header", () -> call.run(damaged), "damaged.ann"));
        }

        String loadAnnoy = m("loadAnnoy(String,int,Metric,boolean)");
        c.addAll(pathCases(loadAnnoy, 1, p -> AnnIndex.loadAnnoy(p, DIM, Metric.EUCLIDEAN, false)));
        c.add(npe(loadAnnoy, 3, () -> AnnIndex.loadAnnoy(annoyPath, DIM, null, false), "metric"));
        c.add(io(loadAnnoy, "missing file", () -> AnnIndex.loadAnnoy(missing, DIM, Metric.EUCLIDEAN, false),
                "missing.ann"));
        c.add(javaArg(loadAnnoy, "dim 0", () -> AnnIndex.loadAnnoy(annoyPath, 0, Metric.EUCLIDEAN, false),
                "dim must be positive"));
        c.add(arg(loadAnnoy, "dim 2^24+1", () -> AnnIndex.loadAnnoy(annoyPath, (1 << 24) + 1, Metric.EUCLIDEAN, false),
                DIM_RANGE));
        c.add(arg(loadAnnoy, "metric value 99 (through the JNI glue)",
                () -> Native.loadAnnoy(NativeLoader.cString(annoyPath), DIM, 99, false), "unknown metric value 99"));
        c.add(corrupt(loadAnnoy, "a dim the file's size does not fit",
                () -> AnnIndex.loadAnnoy(annoyPath, 7, Metric.EUCLIDEAN, false), "built.annoy"));
        c.add(corrupt(loadAnnoy, "empty file", () -> AnnIndex.loadAnnoy(empty, DIM, Metric.EUCLIDEAN, true), "empty"));

        for (String openShards : List.of(m("openShards(List,boolean)"), m("openShards(List)"))) {
            boolean prefault = openShards.contains("boolean");
            ShardsCall call = paths -> {
                if (prefault) {
                    AnnIndex.openShards(paths, true);
                } else {
                    AnnIndex.openShards(paths);
                }
            };
            c.add(npe(openShards, 1, () -> call.run(null), "paths"));
            c.add(fails(openShards, "a null path in the list", NullPointerException.class, null,
                    () -> call.run(Arrays.asList(path, null)), "a path in paths"));
            c.add(arg(openShards, "no paths", () -> call.run(List.of()), "at least one index file"));
            c.add(io(openShards, "path \"\"", () -> call.run(List.of("")), "paths[0]", EMPTY_PATH[0]));
            c.add(javaArg(openShards, "NUL in the second path", () -> call.run(List.of(path, "x\0")), NUL));
            c.add(io(openShards, "a missing file", () -> call.run(List.of(path, missing)), "missing.ann"));
            c.add(corrupt(openShards, "not an index", () -> call.run(List.of(garbage)), "garbage.ann"));
            c.add(arg(openShards, "one file twice: keys in two shards", () -> call.run(List.of(path, path)),
                    "key 0 is in both", "must not repeat"));
            c.add(arg(openShards, "shards of different metrics and dims", () -> call.run(List.of(path, hamPath)),
                    "hamming"));
        }

        for (String open : List.of(m("open(String,boolean)"), m("open(String)"))) {
            boolean prefault = open.contains("boolean");
            LoadCall call = p -> {
                if (prefault) {
                    AnnIndex.open(p, true);
                } else {
                    AnnIndex.open(p);
                }
            };
            c.addAll(pathCases(open, 1, call::run));
            c.add(io(open, "missing path", () -> call.run(missing), "missing.ann"));
            c.add(io(open, "a directory without a live index", () -> call.run(emptyDir), "empty-dir"));
            c.add(corrupt(open, "not an index", () -> call.run(garbage), "garbage.ann"));
        }

        String fileInfo = m("fileInfo(String)");
        c.addAll(pathCases(fileInfo, 1, AnnIndex::fileInfo));
        c.add(io(fileInfo, "missing file", () -> AnnIndex.fileInfo(missing), "missing.ann"));
        c.add(corrupt(fileInfo, "damaged header", () -> AnnIndex.fileInfo(damaged), "damaged.ann"));
        c.add(ok(fileInfo, "an empty file is of unknown kind",
                () -> assertEquals(FileInfo.Kind.UNKNOWN, AnnIndex.fileInfo(empty).kind())));

        String fromName = "Metric.fromName(String)";
        c.add(npe(fromName, 1, () -> Metric.fromName(null), "name"));
        c.add(arg(fromName, "name \"\"", () -> Metric.fromName(""), "unknown metric \"\"", "angular"));
        c.add(arg(fromName, "no metric's name", () -> Metric.fromName("cosinus"), "unknown metric \"cosinus\""));
        c.add(arg(fromName, "upper case", () -> Metric.fromName("ANGULAR"), "unknown metric \"ANGULAR\""));
        c.add(javaArg(fromName, "NUL in the name", () -> Metric.fromName("angular\0"), NUL));

        for (String valueOf : List.of("Metric.valueOf(String)", "Status.valueOf(String)",
                "FileInfo.Kind.valueOf(String)", "WriterOptions.Durability.valueOf(String)")) {
            Class<?> type = valueOf.startsWith("Metric") ? Metric.class
                    : valueOf.startsWith("Status") ? Status.class
                    : valueOf.startsWith("FileInfo") ? FileInfo.Kind.class
                    : WriterOptions.Durability.class;
            Call call = () -> {
                try {
                    type.getMethod("valueOf", String.class).invoke(null, (Object) null);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            };
            c.add(fails(valueOf, "null parameter 1", NullPointerException.class, null, call, "Name is null").nulls(1));
            c.add(javaArg(valueOf, "no constant's name", () -> {
                try {
                    type.getMethod("valueOf", String.class).invoke(null, "NOPE");
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }, "No enum constant", "NOPE"));
        }

        // -------------------------------------------------------------- live indexes: opening

        for (String open : List.of("AnnWriter.open(String,int,Metric,WriterOptions)", "AnnWriter.open(String,int,Metric)")) {
            boolean withOptions = open.contains("WriterOptions");
            WriterCall call = (d, dim, metric) -> scratch(withOptions ? AnnWriter.open(d, dim, metric, null)
                    : AnnWriter.open(d, dim, metric));
            c.add(npe(open, 1, () -> call.run(null, DIM, Metric.EUCLIDEAN), "dir"));
            c.add(npe(open, 3, () -> call.run(newDir(), DIM, null), "metric"));
            c.add(io(open, "dir \"\"", () -> call.run("", DIM, Metric.EUCLIDEAN), EMPTY_PATH));
            c.add(javaArg(open, "NUL in dir", () -> call.run(dir + "/x\0", DIM, Metric.EUCLIDEAN), NUL));
            c.add(io(open, "dir is a file", () -> call.run(garbage, DIM, Metric.EUCLIDEAN), "garbage.ann"));
            c.add(javaArg(open, "dim 0", () -> call.run(newDir(), 0, Metric.EUCLIDEAN), "dim must be positive"));
            c.add(javaArg(open, "dim -1", () -> call.run(newDir(), -1, Metric.EUCLIDEAN), "got -1"));
            c.add(arg(open, "dim 2^24+1", () -> call.run(newDir(), (1 << 24) + 1, Metric.EUCLIDEAN), DIM_RANGE));
            c.add(state(open, "a second writer", () -> call.run(liveDir, DIM, Metric.EUCLIDEAN),
                    "already open for writing"));
            c.add(arg(open, "another dim than the directory's", () -> {
                AnnWriter w = freshWriter();
                w.close();
                call.run(w.directory(), DIM + 1, Metric.EUCLIDEAN);
            }, "dim 4, not euclidean of dim 5"));
            c.add(arg(open, "another metric than the directory's", () -> {
                AnnWriter w = freshWriter();
                w.close();
                call.run(w.directory(), DIM, Metric.ANGULAR);
            }, "not angular of dim 4"));
        }
        String openWriter = "AnnWriter.open(String,int,Metric,WriterOptions)";
        c.add(ok(openWriter, "null options: the defaults", () -> {
            AnnWriter w = scratch(AnnWriter.open(newDir(), DIM, Metric.EUCLIDEAN, null));
            assertEquals(WriterOptions.defaults(), w.options());
        }).nulls(4));
        c.add(arg(openWriter, "metric value 99 (through the JNI glue)", () -> glueWriter(99, 0, 100, 50, 0),
                "unknown metric value 99"));
        c.add(arg(openWriter, "durability value 7 (no Durability has it: through the JNI glue)",
                () -> glueWriter(1, 7, 100, 50, 0), "unknown durability 7"));
        c.add(arg(openWriter, "flushMs 60001 (the builder refuses it: through the JNI glue)",
                () -> glueWriter(1, 1, 60_001, 50, 0), "flush_ms must be between 1 and 60000"));
        c.add(arg(openWriter, "nTrees -2 (the builder refuses it: through the JNI glue)",
                () -> glueWriter(1, 0, 100, -2, 0), TREES));
        c.add(arg(openWriter, "graph degree 257 (the builder refuses it: through the JNI glue)",
                () -> glueWriter(1, 0, 100, 50, 257), "degree 257 is above the largest, 256"));

        String builder = "WriterOptions.Builder.";
        c.add(npe(builder + "durability(Durability)", 1, () -> WriterOptions.builder().durability(null), "durability"));
        for (int flushMs : new int[] {0, -1, 60_001, Integer.MIN_VALUE}) {
            c.add(javaArg(builder + "flushMs(int)", "flushMs " + flushMs, () -> WriterOptions.builder().flushMs(flushMs),
                    "flushMs must be 1 to 60000, got " + flushMs));
        }
        for (int nTrees : new int[] {0, -2, Integer.MIN_VALUE}) {
            c.add(javaArg(builder + "nTrees(int)", "nTrees " + nTrees, () -> WriterOptions.builder().nTrees(nTrees),
                    "nTrees must be at least 1, or -1 (automatic), got " + nTrees));
        }
        for (int degree : new int[] {-1, 257, Integer.MAX_VALUE}) {
            c.add(javaArg(builder + "graph(boolean,int)", "degree " + degree,
                    () -> WriterOptions.builder().graph(true, degree), "the graph degree must be 0", "got " + degree));
        }
        c.add(ok(builder + "graph(boolean)", "true and false are both settings", () -> {
            assertTrue(WriterOptions.builder().graph(true).build().graph());
            assertFalse(WriterOptions.builder().graph(true).graph(false).build().graph());
        }));
        c.add(ok("WriterOptions.equals(Object)", "null is not equal", () -> assertFalse(WriterOptions.defaults().equals(null)))
                .nulls(1));

        // -------------------------------------------------------------- adding and building

        c.addAll(vectorCases(m("addItem(long,float[])"), 2, v -> unbuilt.addItem(7, v)));
        c.add(arg(m("addItem(long,float[])"), "the reserved key -1L", () -> unbuilt.addItem(-1L, new float[DIM]),
                RESERVED));
        c.addAll(stateCases(m("addItem(long,float[])"), index -> index.addItem(7, new float[DIM]), Map.of(
                "built", ADD_BUILT, "loaded", LOADED, "shards", LOADED, "live", LIVE_READ, "reader", LIVE_READ)));

        String addPacked = m("addItemPacked(long,long[])");
        c.add(npe(addPacked, 2, () -> hamUnbuilt.addItemPacked(3, null), "words"));
        c.add(javaArg(addPacked, "1 word of 2", () -> hamUnbuilt.addItemPacked(3, new long[] {1}),
                "1 words given but 72 bits take 2 words"));
        c.add(javaArg(addPacked, "3 words of 2", () -> hamUnbuilt.addItemPacked(3, new long[] {1, 2, 3}),
                "3 words given"));
        c.add(arg(addPacked, "bits past dim", () -> hamUnbuilt.addItemPacked(3, new long[] {1, 1L << 8}), PAST_DIM));
        c.add(arg(addPacked, "the reserved key -1L", () -> hamUnbuilt.addItemPacked(-1L, new long[] {1, 1}), RESERVED));
        c.add(arg(addPacked, "another metric", () -> unbuilt.addItemPacked(3, new long[] {1}), "hamming"));
        c.add(state(addPacked, "on a built index", () -> hamming.addItemPacked(3, new long[] {1, 1}), ADD_BUILT));

        String setSeed = m("setSeed(long)");
        c.add(ok(setSeed, "seed -1L (2^64 - 1) is a seed like any other", () -> {
            AnnIndex index = fresh(5);
            index.setSeed(-1L);
            assertEquals(-1L, index.seed());
        }));
        c.add(state(setSeed, "on a loaded index", () -> scratch(AnnIndex.load(path)).setSeed(99),
                "keeps the seed it was built with"));

        String build = m("build(int,int)");
        for (int[] bad : new int[][] {{0, 1}, {-2, 1}, {Integer.MIN_VALUE, 1}}) {
            c.add(arg(build, "nTrees " + bad[0], () -> unbuilt.build(bad[0], bad[1]), TREES));
        }
        for (int[] bad : new int[][] {{3, 0}, {3, -2}, {3, Integer.MIN_VALUE}}) {
            c.add(arg(build, "nThreads " + bad[1], () -> unbuilt.build(bad[0], bad[1]), THREADS));
        }
        c.addAll(stateCases(build, index -> index.build(3, 1), Map.of(
                "built", BUILT, "loaded", LOADED, "shards", LOADED, "live", LOADED, "reader", LOADED)));
        c.add(arg(m("build(int)"), "nTrees 0", () -> unbuilt.build(0), TREES));
        c.add(state(m("build(int)"), "on a built index", () -> built.build(3), BUILT));

        String buildGraph = m("buildGraph(int,int)");
        c.add(javaArg(buildGraph, "degree -1", () -> built.buildGraph(-1, 1), "degree must not be negative, got -1"));
        c.add(arg(buildGraph, "degree 257", () -> built.buildGraph(257, 1), "degree 257 is above the largest, 256"));
        c.add(arg(buildGraph, "degree Integer.MAX_VALUE", () -> built.buildGraph(Integer.MAX_VALUE, 1),
                "is above the largest, 256"));
        c.add(arg(buildGraph, "nThreads 0", () -> built.buildGraph(0, 0), THREADS));
        c.add(arg(buildGraph, "nThreads -2", () -> built.buildGraph(0, -2), THREADS));
        c.addAll(stateCases(buildGraph, index -> index.buildGraph(8, 1), Map.of(
                "unbuilt", new String[] {"not built", "build the forest first"}, "shards", GRAPH_ONE,
                "live", GRAPH_ONE, "reader", GRAPH_ONE)));

        c.addAll(stateCases(m("unbuild()"), AnnIndex::unbuild, Map.of(
                "loaded", LOADED, "shards", LOADED, "live", LOADED, "reader", LOADED)));
        c.add(ok(m("unbuild()"), "on an unbuilt index: nothing to do", unbuilt::unbuild));
        c.add(ok(m("unload()"), "on a live read handle", () -> {
            AnnIndex index = scratch(writer.index());
            index.unload();
            index.addItem(5, new float[DIM]);
            assertEquals(1, index.nStored());
        }).known("ann_unload on a read handle of a live index succeeds and turns it into an empty in-memory"
                + " index that ann_add_item and ann_build accept and ann_refresh no longer updates, where every"
                + " other write through a read handle is ANN_STATUS_INVALID_STATE"));

        String onDisk = m("onDiskBuild(String)");
        c.addAll(pathCases(onDisk, 1, p -> fresh(3).onDiskBuild(p)));
        c.add(io(onDisk, "a directory that does not exist", () -> fresh(3).onDiskBuild(noDir), "no/such/dir"));
        c.add(state(onDisk, "twice", () -> {
            AnnIndex index = fresh(3);
            index.onDiskBuild(file("ondisk-once.ann"));
            index.onDiskBuild(file("ondisk-twice.ann"));
        }, "already being built on disk"));
        c.addAll(stateCases(onDisk, index -> index.onDiskBuild(file("never.ann")), Map.of(
                "built", ON_DISK, "loaded", ON_DISK, "shards", ON_DISK, "live", ON_DISK, "reader", ON_DISK)));

        // -------------------------------------------------------------- files

        String save = m("save(String)");
        c.addAll(pathCases(save, 1, built::save));
        c.add(io(save, "a directory that does not exist", () -> built.save(noDir), "no/such/dir"));
        c.addAll(stateCases(save, index -> index.save(file("never.ann")), Map.of(
                "unbuilt", NOT_BUILT, "shards", SHARD_SAVE, "live", LIVE_SAVE, "reader", LIVE_SAVE)));
        String saveAnnoy = m("saveAnnoy(String)");
        c.addAll(pathCases(saveAnnoy, 1, built::saveAnnoy));
        c.add(io(saveAnnoy, "a directory that does not exist", () -> built.saveAnnoy(noDir), "no/such/dir"));
        c.add(state(saveAnnoy, "keys Annoy cannot hold", () -> {
            AnnIndex index = scratch(AnnIndex.create(DIM, Metric.EUCLIDEAN));
            index.addItem(1L << 40, new float[DIM]);
            index.build(1, 1);
            index.saveAnnoy(file("sparse.annoy"));
        }, "do not fit Annoy's layout"));
        c.addAll(stateCases(saveAnnoy, index -> index.saveAnnoy(file("never.annoy")), Map.of(
                "unbuilt", NOT_BUILT, "shards", SHARD_SAVE, "live", new String[] {"cannot save_annoy a live index"},
                "reader", new String[] {"cannot save_annoy a live index"})));
        c.addAll(stateCases(m("verify()"), AnnIndex::verify, Map.of("unbuilt", NOT_BUILT)));
        c.add(corrupt(m("verify()"), "a damaged body", () -> {
            byte[] bytes = Files.readAllBytes(Path.of(path));
            bytes[bytes.length - 10] ^= (byte) 0xff;
            scratch(AnnIndex.load(Files.write(dir.resolve("body.ann"), bytes).toString())).verify();
        }, "checksum"));
        String export = m("export(String)");
        c.addAll(pathCases(export, 1, built::export));
        c.add(io(export, "a directory that does not exist", () -> live.export(noDir), "no/such/dir"));
        c.addAll(stateCases(export, index -> index.export(file("never.ann")), Map.of("unbuilt", NOT_BUILT)));
        c.add(ok(m("refresh()"), "on a plain index: nothing changes", () -> {
            for (AnnIndex index : List.of(unbuilt, built, loaded, shards, live)) {
                assertFalse(index.refresh());
            }
        }));

        // -------------------------------------------------------------- queries

        String nns = m("getNnsByVector(float[],int,long)");
        c.addAll(vectorCases(nns, 1, v -> built.getNnsByVector(v, 5, -1)));
        c.add(javaArg(nns, "n -1", () -> built.getNnsByVector(q, -1, -1), N_NEGATIVE));
        c.add(javaArg(nns, "n Integer.MIN_VALUE", () -> built.getNnsByVector(q, Integer.MIN_VALUE, -1),
                "n must not be negative"));
        c.add(ok(nns, "n 0: no results", () -> assertEquals(0, built.getNnsByVector(q, 0, -1).length)));
        c.add(ok(nns, "n Integer.MAX_VALUE: every item",
                () -> assertEquals(N, built.getNnsByVector(q, Integer.MAX_VALUE, Long.MAX_VALUE).length)));
        c.add(arg(nns, "searchK -2", () -> built.getNnsByVector(q, 5, -2), "got -2", SEARCH_K[0]));
        c.add(arg(nns, "searchK Long.MIN_VALUE", () -> built.getNnsByVector(q, 5, Long.MIN_VALUE), SEARCH_K));
        c.add(state(nns, "on an unbuilt index", () -> unbuilt.getNnsByVector(q, 5, -1), NOT_BUILT));
        c.add(state(nns, "n 0 on an unbuilt index", () -> unbuilt.getNnsByVector(q, 0, -1), NOT_BUILT));
        String nns2 = m("getNnsByVector(float[],int)");
        c.add(npe(nns2, 1, () -> built.getNnsByVector((float[]) null, 5), "vector"));
        c.add(javaArg(nns2, "n -1", () -> built.getNnsByVector(q, -1), N_NEGATIVE));
        c.add(arg(nns2, "NaN", () -> built.getNnsByVector(with(q, 1, Float.NaN), 5), NAN));
        c.add(ok(nns2, "n 0: no results", () -> assertEquals(0, built.getNnsByVector(q, 0).length)));
        String nnsDistances = m("getNnsByVectorWithDistances(float[],int,long)");
        c.addAll(vectorCases(nnsDistances, 1, v -> built.getNnsByVectorWithDistances(v, 5, -1)));
        c.add(javaArg(nnsDistances, "n -1", () -> built.getNnsByVectorWithDistances(q, -1, -1), N_NEGATIVE));
        c.add(arg(nnsDistances, "searchK -2", () -> built.getNnsByVectorWithDistances(q, 5, -2), SEARCH_K));
        c.add(ok(nnsDistances, "searchK Long.MAX_VALUE: exhaustive",
                () -> exact(10, built.getNnsByVectorWithDistances(q, 10, Long.MAX_VALUE))));
        c.add(ok(nnsDistances, "n 0: no results", () -> count(0, built.getNnsByVectorWithDistances(q, 0, -1))));

        for (String api : List.of(m("getNnsByVector(FloatBuffer,int,long)"),
                m("getNnsByVectorWithDistances(FloatBuffer,int,long)"))) {
            boolean distances = api.contains("WithDistances");
            BufferCall call = (b, n, k) -> {
                if (distances) {
                    built.getNnsByVectorWithDistances(b, n, k);
                } else {
                    built.getNnsByVector(b, n, k);
                }
            };
            c.add(npe(api, 1, () -> call.run(null, 5, -1), "query"));
            c.add(javaArg(api, "3 floats remaining", () -> call.run(direct(1, 2, 3), 5, -1),
                    "the query buffer has 3 floats remaining but the index's dimension is 4"));
            c.add(javaArg(api, "5 floats remaining (heap)", () -> call.run(FloatBuffer.wrap(new float[5]), 5, -1),
                    "has 5 floats remaining"));
            c.add(arg(api, "NaN, read in place", () -> call.run(direct(with(q, 2, Float.NaN)), 5, -1), NAN));
            c.add(arg(api, "-Inf, copied", () -> call.run(FloatBuffer.wrap(with(q, 2, Float.NEGATIVE_INFINITY)), 5, -1),
                    NEG_INF));
            c.add(javaArg(api, "n -1", () -> call.run(direct(q), -1, -1), N_NEGATIVE));
            c.add(arg(api, "searchK -2", () -> call.run(direct(q), 5, -2), SEARCH_K));
            c.add(ok(api, "n 0: no results", () -> call.run(direct(q), 0, -1)));
        }

        String byItem = m("getNnsByItem(long,int,long)");
        c.addAll(keyCases(byItem, key -> built.getNnsByItem(key, 5, -1)));
        c.add(arg(byItem, "a key never added, on shards", () -> shards.getNnsByItem(N, 5, -1), NEVER_ADDED));
        c.add(javaArg(byItem, "n -1", () -> built.getNnsByItem(0, -1, -1), N_NEGATIVE));
        c.add(arg(byItem, "searchK -2", () -> built.getNnsByItem(0, 5, -2), SEARCH_K));
        c.add(ok(byItem, "n 0: no results", () -> assertEquals(0, built.getNnsByItem(0, 0, -1).length)));
        c.add(ok(byItem, "n Integer.MAX_VALUE and searchK Long.MAX_VALUE: every item",
                () -> assertEquals(N, loaded.getNnsByItem(0, Integer.MAX_VALUE, Long.MAX_VALUE).length)));
        c.add(state(byItem, "on an unbuilt index", () -> unbuilt.getNnsByItem(0, 5, -1), NOT_BUILT));
        String byItem2 = m("getNnsByItem(long,int)");
        c.addAll(keyCases(byItem2, key -> live.getNnsByItem(key, 5)));
        c.add(javaArg(byItem2, "n -1", () -> built.getNnsByItem(0, -1), N_NEGATIVE));
        String byItemDistances = m("getNnsByItemWithDistances(long,int,long)");
        c.addAll(keyCases(byItemDistances, key -> reader.getNnsByItemWithDistances(key, 5, -1)));
        c.add(javaArg(byItemDistances, "n -1", () -> built.getNnsByItemWithDistances(0, -1, -1), N_NEGATIVE));
        c.add(ok(byItemDistances, "n 0: no results", () -> count(0, built.getNnsByItemWithDistances(0, 0, -1))));

        for (String api : List.of(m("getNnsByPacked(long[],int,long)"), m("getNnsByPackedWithDistances(long[],int,long)"))) {
            boolean distances = api.contains("WithDistances");
            PackedCall call = (index, words, n, k) -> {
                if (distances) {
                    index.getNnsByPackedWithDistances(words, n, k);
                } else {
                    index.getNnsByPacked(words, n, k);
                }
            };
            c.add(npe(api, 1, () -> call.run(hamming, null, 5, -1), "words"));
            c.add(javaArg(api, "1 word of 2", () -> call.run(hamming, new long[] {1}, 5, -1), "1 words given"));
            c.add(arg(api, "bits past dim", () -> call.run(hamming, new long[] {0, -1L}, 5, -1), PAST_DIM));
            c.add(arg(api, "another metric", () -> call.run(built, new long[] {1}, 5, -1), "hamming"));
            c.add(javaArg(api, "n -1", () -> call.run(hamming, hamQuery, -1, -1), N_NEGATIVE));
            c.add(arg(api, "searchK -2", () -> call.run(hamming, hamQuery, 5, -2), SEARCH_K));
            c.add(state(api, "on an unbuilt index", () -> call.run(hamUnbuilt, hamQuery, 5, -1), NOT_BUILT));
            c.add(ok(api, "n 0: no results", () -> call.run(hamming, hamQuery, 0, -1)));
        }
        c.add(ok(m("getNnsByPacked(long[],int,long)"), "n Integer.MAX_VALUE, searchK Long.MAX_VALUE: every item",
                () -> assertEquals(HAM_N, hamming.getNnsByPacked(hamQuery, Integer.MAX_VALUE, Long.MAX_VALUE).length)));

        for (String api : List.of(m("getNnsBatch(float[][],int,long,int)"), m("searchBatch(float[][],int,SearchOptions,int)"))) {
            boolean search = api.contains("search");
            BatchCall call = (rows, n, threads) -> search ? built.searchBatch(rows, n, null, threads)
                    : built.getNnsBatch(rows, n, -1, threads);
            c.add(npe(api, 1, () -> call.run(null, 5, 1), "queries"));
            c.add(fails(api, "a null row", NullPointerException.class, null,
                    () -> call.run(new float[][] {data[0], null}, 5, 1), "vector"));
            c.add(javaArg(api, "a row too short", () -> call.run(new float[][] {data[0], new float[3]}, 5, 1),
                    "has 3 values"));
            c.add(arg(api, "NaN in the second row", () -> call.run(new float[][] {data[0], with(data[1], 1, Float.NaN)}, 5, 1),
                    "query 1", NAN[0]));
            c.add(arg(api, "-Inf in the second row",
                    () -> call.run(new float[][] {data[0], with(data[1], 3, Float.NEGATIVE_INFINITY)}, 5, 1), "query 1",
                    NEG_INF[0]));
            c.add(javaArg(api, "n -1", () -> call.run(two, -1, 1), N_NEGATIVE));
            c.add(arg(api, "nThreads 0", () -> call.run(two, 5, 0), THREADS));
            c.add(arg(api, "nThreads -2", () -> call.run(two, 5, -2), THREADS));
            c.add(arg(api, "nThreads Integer.MIN_VALUE", () -> call.run(two, 5, Integer.MIN_VALUE), THREADS));
            c.add(ok(api, "no rows: no results", () -> assertEquals(0, call.run(new float[0][], 5, 1).length)));
            c.add(ok(api, "n 0: empty rows", () -> {
                Neighbors[] found = call.run(two, 0, 1);
                assertEquals(2, found.length);
                count(0, found[0]);
                count(0, found[1]);
            }));
            c.add(ok(api, "n Integer.MAX_VALUE: every item", () -> {
                for (Neighbors row : call.run(two, Integer.MAX_VALUE, 2)) {
                    count(N, row);
                }
            }));
        }
        String batch = m("getNnsBatch(float[][],int,long,int)");
        c.add(arg(batch, "searchK -2", () -> built.getNnsBatch(two, 5, -2, 1), SEARCH_K));
        c.add(ok(batch, "searchK Long.MAX_VALUE: exhaustive",
                () -> exact(10, built.getNnsBatch(new float[][] {q}, 10, Long.MAX_VALUE, 1)[0])));
        c.add(state(batch, "on an unbuilt index", () -> unbuilt.getNnsBatch(two, 5, -1, 1), NOT_BUILT));
        String batch3 = m("getNnsBatch(float[][],int,long)");
        c.add(npe(batch3, 1, () -> built.getNnsBatch((float[][]) null, 5, -1), "queries"));
        c.add(arg(batch3, "NaN", () -> built.getNnsBatch(new float[][] {with(q, 0, Float.NaN)}, 5, -1), NAN));
        c.add(arg(batch3, "searchK -2", () -> built.getNnsBatch(two, 5, -2), SEARCH_K));
        for (String api : List.of(m("getNnsBatch(FloatBuffer,int,long,int)"), m("searchBatch(FloatBuffer,int,SearchOptions,int)"))) {
            boolean search = api.contains("search");
            BufferBatchCall call = (b, n, threads) -> search ? built.searchBatch(b, n, null, threads)
                    : built.getNnsBatch(b, n, -1, threads);
            c.add(npe(api, 1, () -> call.run(null, 5, 1), "queries"));
            c.add(javaArg(api, "not a whole number of rows", () -> call.run(direct(new float[7]), 5, 1),
                    "the buffer has 7 floats remaining, not a whole number of rows of 4"));
            c.add(arg(api, "NaN in the second row, read in place",
                    () -> call.run(direct(concat(data[0], with(data[1], 2, Float.NaN))), 5, 1), "query 1", NAN[0]));
            c.add(arg(api, "+Inf, copied", () -> call.run(FloatBuffer.wrap(with(q, 0, Float.POSITIVE_INFINITY)), 5, 1),
                    POS_INF));
            c.add(arg(api, "nThreads 0", () -> call.run(direct(q), 5, 0), THREADS));
            c.add(javaArg(api, "n -1", () -> call.run(direct(q), -1, 1), N_NEGATIVE));
            c.add(ok(api, "no rows: no results", () -> assertEquals(0, call.run(direct(), 5, 1).length)));
        }

        // -------------------------------------------------------------- filtered searches

        String search = m("search(float[],int,SearchOptions)");
        c.addAll(vectorCases(search, 1, v -> built.search(v, 5, options)));
        c.add(ok(search, "null options: the defaults", () -> exact(10, built.search(q, 10, null))).nulls(3));
        c.add(javaArg(search, "n -1", () -> built.search(q, -1, null), N_NEGATIVE));
        c.add(ok(search, "n 0: no results", () -> count(0, built.search(q, 0, options))));
        c.add(ok(search, "n Integer.MAX_VALUE: exactly every accepted item",
                () -> count(N - 2, built.search(q, Integer.MAX_VALUE, options)))); // options refuse items 0 and 1
        c.add(state(search, "on an unbuilt index", () -> unbuilt.search(q, 5, null), NOT_BUILT));
        c.add(fails(search, "closed options", IllegalStateException.class, null, () -> {
            SearchOptions closed = new SearchOptions();
            closed.close();
            built.search(q, 5, closed);
        }, "these SearchOptions are closed"));
        c.add(fails(search, "a throwing predicate: its exception, as it is", UnsupportedOperationException.class, null,
                () -> built.search(q, 5, scratch(new SearchOptions().filter(key -> {
                    throw new UnsupportedOperationException("a bad predicate");
                }))), "a bad predicate"));
        String searchBuffer = m("search(FloatBuffer,int,SearchOptions)");
        c.add(npe(searchBuffer, 1, () -> built.search((FloatBuffer) null, 5, options), "query"));
        c.add(ok(searchBuffer, "null options: the defaults", () -> exact(10, built.search(direct(q), 10, null))).nulls(3));
        c.add(javaArg(searchBuffer, "3 floats remaining", () -> built.search(direct(1, 2, 3), 5, null),
                "has 3 floats remaining"));
        c.add(arg(searchBuffer, "NaN", () -> built.search(direct(with(q, 3, Float.NaN)), 5, options), NAN));
        c.add(javaArg(searchBuffer, "n -1", () -> built.search(direct(q), -1, null), N_NEGATIVE));

        String searchByItem = m("searchByItem(long,int,SearchOptions)");
        c.addAll(keyCases(searchByItem, key -> built.searchByItem(key, 5, options)));
        c.add(ok(searchByItem, "null options: the defaults",
                () -> assertEquals(new Neighbors(new long[] {0}, new float[] {0}), built.searchByItem(0, 1, null))).nulls(3));
        c.add(javaArg(searchByItem, "n -1", () -> built.searchByItem(0, -1, null), N_NEGATIVE));
        c.add(ok(searchByItem, "n 0: no results", () -> count(0, built.searchByItem(0, 0, null))));
        c.add(state(searchByItem, "on an unbuilt index", () -> unbuilt.searchByItem(0, 5, null), NOT_BUILT));

        String searchBatch = m("searchBatch(float[][],int,SearchOptions,int)");
        c.add(ok(searchBatch, "null options: the defaults",
                () -> exact(10, built.searchBatch(new float[][] {q}, 10, null, 1)[0])).nulls(3));
        c.add(state(searchBatch, "on an unbuilt index", () -> unbuilt.searchBatch(two, 5, null, 1), NOT_BUILT));
        c.add(fails(searchBatch, "a predicate throwing on library threads", IllegalStateException.class, null,
                () -> built.searchBatch(data, 10, scratch(new SearchOptions().filter(key -> {
                    if (key == 3) {
                        throw new IllegalStateException("key 3 is cursed");
                    }
                    return true;
                })), 2), "key 3 is cursed"));
        String searchBatch3 = m("searchBatch(float[][],int,SearchOptions)");
        c.add(npe(searchBatch3, 1, () -> built.searchBatch((float[][]) null, 5, options), "queries"));
        c.add(ok(searchBatch3, "null options: the defaults",
                () -> exact(10, built.searchBatch(new float[][] {q}, 10, null)[0])).nulls(3));
        c.add(arg(searchBatch3, "NaN", () -> built.searchBatch(new float[][] {with(q, 0, Float.NaN)}, 5, options), NAN));
        c.add(ok(m("searchBatch(FloatBuffer,int,SearchOptions,int)"), "null options: the defaults",
                () -> exact(10, built.searchBatch(direct(q), 10, null, 1)[0])).nulls(3));

        // -------------------------------------------------------------- items

        c.addAll(keyCases(m("getItemVector(long)"), key -> built.getItemVector(key)));
        c.add(arg(m("getItemVector(long)"), "a key never added, on an unbuilt index", () -> unbuilt.getItemVector(N),
                NEVER_ADDED));
        c.add(arg(m("getItemVector(long)"), "a key never added, live", () -> live.getItemVector(20), NEVER_ADDED));
        c.addAll(keyCases(m("getItemPacked(long)"), key -> hamming.getItemPacked(key + (key == N ? HAM_N - N : 0))));
        c.add(arg(m("getItemPacked(long)"), "another metric", () -> built.getItemPacked(0), "hamming"));
        String distance = m("getDistance(long,long)");
        c.add(arg(distance, "j is -1L", () -> built.getDistance(0, -1L), NEVER_ADDED));
        c.add(arg(distance, "i is -1L", () -> built.getDistance(-1L, 0), NEVER_ADDED));
        c.add(arg(distance, "j never added", () -> built.getDistance(0, N), NEVER_ADDED));
        c.add(arg(distance, "i is Long.MIN_VALUE", () -> shards.getDistance(Long.MIN_VALUE, 1), NEVER_ADDED));

        // -------------------------------------------------------------- search options

        String searchK = "SearchOptions.searchK(long)";
        c.add(arg(searchK, "searchK -2", () -> options.searchK(-2), "got -2", SEARCH_K[0]));
        c.add(arg(searchK, "searchK Long.MIN_VALUE", () -> options.searchK(Long.MIN_VALUE), SEARCH_K));
        c.add(ok(searchK, "searchK Long.MAX_VALUE: exhaustive",
                () -> exact(10, built.search(q, 10, scratch(new SearchOptions().searchK(Long.MAX_VALUE))))));
        String ef = "SearchOptions.ef(long)";
        c.add(javaArg(ef, "ef -1", () -> options.ef(-1), "ef must not be negative, got -1"));
        c.add(javaArg(ef, "ef Long.MIN_VALUE", () -> options.ef(Long.MIN_VALUE), "ef must not be negative"));
        c.add(ok(ef, "ef Long.MAX_VALUE on a graph",
                () -> exact(10, graph.search(q, 10, scratch(new SearchOptions().ef(Long.MAX_VALUE))))));
        String allow = "SearchOptions.allowList(long[])";
        c.add(npe(allow, 1, () -> options.allowList((long[]) null), "keys"));
        c.add(ok(allow, "no keys: accepts nothing", () -> count(0, built.search(q, 5, scratch(new SearchOptions().allowList())))));
        c.add(ok(allow, "-1L and keys never added: accept nothing",
                () -> count(0, built.search(q, 5, scratch(new SearchOptions().allowList(-1L, N, Long.MIN_VALUE))))));
        String deny = "SearchOptions.denyList(long[])";
        c.add(npe(deny, 1, () -> options.denyList((long[]) null), "keys"));
        c.add(ok(deny, "no keys: denies nothing", () -> exact(10, built.search(q, 10, scratch(new SearchOptions().denyList())))));
        c.add(ok(deny, "-1L and keys never added: deny nothing",
                () -> exact(10, built.search(q, 10, scratch(new SearchOptions().denyList(-1L, N))))));
        String filter = "SearchOptions.filter(LongPredicate)";
        c.add(ok(filter, "null removes the predicate", () -> {
            SearchOptions o = scratch(new SearchOptions().filter(key -> false));
            exact(10, built.search(q, 10, o.filter(null)));
        }).nulls(1));

        // -------------------------------------------------------------- live writes

        c.addAll(vectorCases("AnnWriter.upsert(long,float[])", 2, v -> writer.upsert(30, v)));
        c.add(arg("AnnWriter.upsert(long,float[])", "the reserved key -1L", () -> writer.upsert(-1L, new float[DIM]),
                RESERVED));
        String upsertFlat = "AnnWriter.upsertBatch(long[],float[])";
        c.add(npe(upsertFlat, 1, () -> writer.upsertBatch(null, new float[DIM]), "keys"));
        c.add(npe(upsertFlat, 2, () -> writer.upsertBatch(new long[] {30}, (float[]) null), "vectors"));
        c.add(javaArg(upsertFlat, "one row short", () -> writer.upsertBatch(new long[] {30, 31}, new float[7]),
                "vectors has 7 floats but 2 keys of dimension 4 need 8"));
        c.add(arg(upsertFlat, "NaN in the second row", () -> writer.upsertBatch(new long[] {30, 31},
                concat(data[40], with(data[41], 2, Float.NaN))), NAN));
        c.add(arg(upsertFlat, "+Inf", () -> writer.upsertBatch(new long[] {30}, with(data[40], 0, Float.POSITIVE_INFINITY)),
                POS_INF));
        c.add(arg(upsertFlat, "-1L as the second key", () -> writer.upsertBatch(new long[] {30, -1L},
                concat(data[40], data[41])), RESERVED));
        c.add(ok(upsertFlat, "no keys and no floats: nothing to do", () -> writer.upsertBatch(new long[0], new float[0])));
        String upsertRows = "AnnWriter.upsertBatch(long[],float[][])";
        c.add(npe(upsertRows, 1, () -> writer.upsertBatch(null, new float[][] {data[40]}), "keys"));
        c.add(npe(upsertRows, 2, () -> writer.upsertBatch(new long[] {30}, (float[][]) null), "vectors"));
        c.add(fails(upsertRows, "a null row", NullPointerException.class, null,
                () -> writer.upsertBatch(new long[] {30, 31}, new float[][] {data[40], null}), "vector"));
        c.add(javaArg(upsertRows, "more keys than rows", () -> writer.upsertBatch(new long[] {30, 31}, new float[][] {data[40]}),
                "2 keys but 1 vectors"));
        c.add(javaArg(upsertRows, "a row too long", () -> writer.upsertBatch(new long[] {30}, new float[][] {new float[5]}),
                "has 5 values but the writer's dimension is 4"));
        c.add(arg(upsertRows, "-Inf", () -> writer.upsertBatch(new long[] {30},
                new float[][] {with(data[40], 1, Float.NEGATIVE_INFINITY)}), NEG_INF));
        c.add(arg(upsertRows, "-1L as a key", () -> writer.upsertBatch(new long[] {-1L}, new float[][] {data[40]}), RESERVED));
        c.add(ok("AnnWriter.delete(long)", "a key never added: not there, no error",
                () -> assertFalse(writer.delete(Long.MIN_VALUE))));
        c.add(arg("AnnWriter.delete(long)", "the reserved key -1L", () -> writer.delete(-1L), RESERVED));
        String deleteBatch = "AnnWriter.deleteBatch(long[])";
        c.add(npe(deleteBatch, 1, () -> writer.deleteBatch((long[]) null), "keys"));
        c.add(ok(deleteBatch, "no keys: nothing to do", () -> assertEquals(0, writer.deleteBatch())));
        c.add(ok(deleteBatch, "keys never added", () -> assertEquals(0, writer.deleteBatch(Long.MIN_VALUE, N))));
        c.add(arg(deleteBatch, "-1L among keys: refused whole", () -> writer.deleteBatch(Long.MIN_VALUE, -1L), RESERVED));
        for (int threads : new int[] {0, -2, Integer.MIN_VALUE}) {
            c.add(javaArg("AnnWriter.compact(int)", "nThreads " + threads, () -> writer.compact(threads),
                    "nThreads must be at least 1, or -1 (every core), got " + threads));
        }

        // -------------------------------------------------------------- values

        String neighbors = "Neighbors(long[],float[])";
        c.add(npe(neighbors, 1, () -> new Neighbors(null, new float[0]), "ids"));
        c.add(npe(neighbors, 2, () -> new Neighbors(new long[0], null), "distances"));
        c.add(javaArg(neighbors, "lengths differ", () -> new Neighbors(new long[3], new float[2]), "3 ids but 2 distances"));
        c.add(ok("Neighbors.equals(Object)", "null is not equal",
                () -> assertFalse(new Neighbors(new long[0], new float[0]).equals(null))).nulls(1));
        c.add(ok("FileInfo(Kind,int,Metric,int,int,int,long,long,long,long)", "a record: null kind and metric are kept",
                () -> assertEquals(null, new FileInfo(null, 0, null, 0, 0, 0, 0, 0, 0, 0).kind())).nulls(1, 3));
        c.add(ok("FileInfo.equals(Object)", "null is not equal",
                () -> assertFalse(new FileInfo(FileInfo.Kind.UNKNOWN, 0, null, 0, 0, 0, 0, 0, 0, 0).equals(null))).nulls(1));
        return c;
    }

    @FunctionalInterface
    private interface LoadCall {
        void run(String path) throws Throwable;
    }

    @FunctionalInterface
    private interface ShardsCall {
        void run(List<String> paths) throws Throwable;
    }

    @FunctionalInterface
    private interface WriterCall {
        void run(String dir, int dim, Metric metric) throws Throwable;
    }

    @FunctionalInterface
    private interface BufferCall {
        void run(FloatBuffer query, int n, long searchK) throws Throwable;
    }

    @FunctionalInterface
    private interface PackedCall {
        void run(AnnIndex index, long[] words, int n, long searchK) throws Throwable;
    }

    @FunctionalInterface
    private interface BatchCall {
        Neighbors[] run(float[][] queries, int n, int nThreads) throws Throwable;
    }

    @FunctionalInterface
    private interface BufferBatchCall {
        Neighbors[] run(FloatBuffer queries, int n, int nThreads) throws Throwable;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /** A directory for a writer that should never be opened. */
    private static String newDir() throws IOException {
        return Files.createTempDirectory(dir, "writer").resolve("live").toString();
    }

    /** Opens a writer through the glue with raw option values (the builder would refuse some). */
    private static void glueWriter(int metric, int durability, int flushMs, int nTrees, int graphDegree)
            throws IOException {
        long pointer = Native.writerOpen(NativeLoader.cString(newDir()), DIM, metric, durability, flushMs, nTrees,
                graphDegree > 0, graphDegree);
        Native.writerFree(pointer); // not reached when the values are refused
    }

    // ------------------------------------------------------------------ running

    @TestFactory
    Stream<DynamicNode> badInputMatrix() {
        Map<String, List<DynamicNode>> byApi = new LinkedHashMap<>();
        Set<String> names = new TreeSet<>();
        for (Case c : cases()) {
            if (!names.add(c.api() + " / " + c.name())) {
                fail("two cases are named " + c.api() + " / " + c.name());
            }
            byApi.computeIfAbsent(c.api(), api -> new ArrayList<>()).add(DynamicTest.dynamicTest(c.name(), () -> run(c)));
        }
        return byApi.entrySet().stream().map(e -> DynamicContainer.dynamicContainer(e.getKey(), e.getValue()));
    }

    private static void run(Case c) throws Exception {
        Throwable thrown = null;
        try {
            c.call().run();
        } catch (Throwable t) {
            thrown = t;
        } finally {
            for (AutoCloseable s : scratch) {
                s.close();
            }
            scratch.clear();
        }
        if (c.known() != null) {
            System.out.println("known issue, reported (" + c.api() + " / " + c.name() + "): " + c.known());
        }
        if (c.type() == null) {
            if (thrown != null) {
                throw new AssertionError("want success" + (c.known() == null ? "" : " (known: " + c.known() + ")")
                        + ", got " + thrown, thrown);
            }
        } else {
            checkThrown(c.type(), c.status(), c.says(), thrown);
        }
        Map<String, String> after = snapshot();
        Map<String, String> was = before;
        before = after; // report a change once
        for (String fixture : was.keySet()) {
            assertEquals(was.get(fixture), after.get(fixture), "the " + fixture + " fixture changed");
        }
    }

    /** Asserts that {@code thrown} is exactly the documented exception, with a message saying what is wrong. */
    private static void checkThrown(Class<? extends Throwable> type, Status status, List<String> says, Throwable thrown) {
        if (thrown == null) {
            fail("succeeded; want " + type.getSimpleName() + (status == null ? "" : " " + status));
        }
        if (thrown.getClass() != type) {
            throw new AssertionError("threw " + thrown + "; want exactly " + type.getName(), thrown);
        }
        Status actual = thrown instanceof AnnArgumentException a ? a.status()
                : thrown instanceof AnnStateException s ? s.status()
                : thrown instanceof AnnIOException io ? io.status()
                : null;
        assertEquals(status, actual, thrown.toString());
        String message = thrown.getMessage();
        assertTrue(message != null && !message.isBlank(), "the message is empty: " + thrown);
        for (String fragment : says) {
            assertTrue(message.toLowerCase(Locale.ROOT).contains(fragment.toLowerCase(Locale.ROOT)),
                    "the message \"" + message + "\" does not say \"" + fragment + "\"");
        }
    }

    // ------------------------------------------------------------------ after close, by reflection

    /**
     * Every public instance method of a closed {@link AnnIndex}, {@link SearchOptions} and {@link
     * AnnWriter}, found by reflection and called with well-formed arguments, throws exactly {@link
     * IllegalStateException} saying the object is closed, except {@code close} (a no-op, again
     * and again), {@code isClosed}, {@code toString} and the writer's accessors, which keep their
     * values (documented).
     */
    @TestFactory
    Stream<DynamicTest> everyMethodAfterClose() throws IOException {
        AnnIndex index = Support.build(Metric.EUCLIDEAN, data, 2);
        index.close();
        SearchOptions opts = new SearchOptions().filter(key -> true);
        opts.close();
        AnnWriter w = AnnWriter.open(newDir(), DIM, Metric.EUCLIDEAN, fastWrites());
        w.upsert(1, data[1]);
        w.close();
        Map<Object, String> messages = Map.of(index, "this AnnIndex is closed", opts, "these SearchOptions are closed",
                w, "this AnnWriter is closed");
        Map<String, Object> kept = Map.of(
                "AnnIndex.isClosed()", true, "SearchOptions.isClosed()", true, "AnnWriter.isClosed()", true,
                "SearchOptions.toString()", "SearchOptions[closed]", "AnnWriter.directory()", w.directory(),
                "AnnWriter.dim()", DIM, "AnnWriter.metric()", Metric.EUCLIDEAN, "AnnWriter.options()", fastWrites());
        List<DynamicTest> tests = new ArrayList<>();
        for (Object closed : List.of(index, opts, w)) {
            for (Method method : publicMethods(closed.getClass())) {
                if (Modifier.isStatic(method.getModifiers())) {
                    continue;
                }
                String api = signature(method);
                tests.add(DynamicTest.dynamicTest(api, () -> {
                    Object[] args = Arrays.stream(method.getParameterTypes()).map(BadInputMatrixTest::wellFormed).toArray();
                    Object result;
                    try {
                        result = method.invoke(closed, args);
                    } catch (InvocationTargetException e) {
                        checkThrown(IllegalStateException.class, null, List.of(messages.get(closed)), e.getCause());
                        assertEquals(messages.get(closed), e.getCause().getMessage());
                        return;
                    }
                    if (method.getName().equals("close")) {
                        return; // again: a no-op
                    }
                    if (api.equals("AnnWriter.toString()")) {
                        assertTrue(result.toString().endsWith(", closed]"), result.toString());
                        return;
                    }
                    if (!kept.containsKey(api)) {
                        fail(api + " returned " + result + " after close; want IllegalStateException");
                    }
                    assertEquals(kept.get(api), result);
                }));
            }
        }
        return tests.stream();
    }

    /** An argument a call would accept on an open object, so that only the closed state is wrong. */
    private static Object wellFormed(Class<?> type) {
        if (type == int.class) {
            return 1;
        } else if (type == long.class) {
            return 0L;
        } else if (type == boolean.class) {
            return false;
        } else if (type == float[].class) {
            return new float[DIM];
        } else if (type == float[][].class) {
            return new float[][] {new float[DIM]};
        } else if (type == long[].class) {
            return new long[] {0};
        } else if (type == FloatBuffer.class) {
            return FloatBuffer.wrap(new float[DIM]);
        } else if (type == String.class) {
            return file("after-close.ann");
        } else if (type == LongPredicate.class) {
            return (LongPredicate) key -> true;
        } else if (type == SearchOptions.class) {
            return null; // the defaults
        }
        throw new AssertionError("wellFormed() has no argument of " + type + ": add one");
    }

    // ------------------------------------------------------------------ coverage, by reflection

    /**
     * Every public method and constructor that takes parameters, of every public class of the
     * binding, has a case in {@link #cases()}, and for each of its reference parameters a case
     * passing it as null. A method added later fails here until its cases are added.
     */
    @Test
    void theMatrixCoversThePublicApi() throws Exception {
        Map<String, Executable> api = publicApi();
        List<Case> all = cases();
        Map<String, List<Case>> byApi = all.stream().collect(Collectors.groupingBy(Case::api));
        List<String> problems = new ArrayList<>();
        for (String name : byApi.keySet()) {
            if (!api.containsKey(name)) {
                problems.add("cases() has cases for " + name + ", which is no public method or constructor");
            }
        }
        api.forEach((name, executable) -> {
            Class<?>[] parameters = executable.getParameterTypes();
            if (parameters.length == 0) {
                return; // nothing to pass; after close: everyMethodAfterClose()
            }
            List<Case> cases = byApi.getOrDefault(name, List.of());
            if (cases.isEmpty()) {
                problems.add(name + " has no bad-input case: add its cases to BadInputMatrixTest.cases()");
            }
            for (int p = 0; p < parameters.length; p++) {
                int parameter = p + 1;
                if (!parameters[p].isPrimitive()
                        && cases.stream().noneMatch(c -> Arrays.stream(c.nulls()).anyMatch(n -> n == parameter))) {
                    problems.add(name + ": no case passes parameter " + parameter + " (" + parameters[p].getSimpleName()
                            + ") as null: add one to BadInputMatrixTest.cases() with .nulls(" + parameter + ")");
                }
            }
        });
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        System.out.println("BadInputMatrixTest: " + all.size() + " cases over " + byApi.size() + " of the "
                + api.size() + " public methods and constructors");
    }

    /** The public methods and constructors of the binding's public classes, by signature. */
    private static Map<String, Executable> publicApi() throws IOException, ClassNotFoundException {
        Path classes = Support.build().resolve("classes/io/github/ann");
        List<String> files;
        try (Stream<Path> list = Files.list(classes)) {
            files = list.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".class")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no classes in " + classes);
        Map<String, Executable> api = new LinkedHashMap<>();
        for (String file : files) {
            Class<?> type = Class.forName("io.github.ann." + file.substring(0, file.length() - ".class".length()));
            boolean visible = Modifier.isPublic(type.getModifiers());
            for (Class<?> outer = type.getEnclosingClass(); outer != null; outer = outer.getEnclosingClass()) {
                visible &= Modifier.isPublic(outer.getModifiers());
            }
            if (!visible || type.isAnonymousClass() || type.isLocalClass()) {
                continue;
            }
            for (Constructor<?> constructor : type.getConstructors()) {
                api.put(signature(constructor), constructor);
            }
            for (Method method : publicMethods(type)) {
                api.put(signature(method), method);
            }
        }
        return api;
    }

    private static List<Method> publicMethods(Class<?> type) {
        return Arrays.stream(type.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge())
                .sorted((a, b) -> signature(a).compareTo(signature(b)))
                .toList();
    }

    /** {@code AnnIndex.addItem(long,float[])}, {@code WriterOptions.Builder.nTrees(int)}, {@code Neighbors(long[],float[])}. */
    private static String signature(Executable executable) {
        String type = executable.getDeclaringClass().getName().substring("io.github.ann.".length()).replace('$', '.');
        String parameters = Arrays.stream(executable.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(","));
        return (executable instanceof Constructor ? type : type + "." + executable.getName()) + "(" + parameters + ")";
    }
}
