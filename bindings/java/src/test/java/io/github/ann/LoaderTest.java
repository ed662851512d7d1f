package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Library discovery (bindings/README.md, "Finding the library"), each case in a fresh JVM since
 * a JVM loads libann once: ANN_LIB first, then the checkout's cargo target directories, then
 * the installed library; failures name ANN_LIB and the build and install commands.
 */
class LoaderTest {
    @TempDir Path dir;

    private record Outcome(int exit, String out, String err) {}

    /** Runs LoaderProbe from the jar with {@code env} changes (null value: unset). */
    private Outcome probe(Map<String, String> env, String... jvmOptions) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path build = Support.build();
        List<String> command = new java.util.ArrayList<>(List.of(java));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", build.resolve("ann.jar") + ":" + build.resolve("test-classes"),
                LoaderProbe.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command);
        env.forEach((name, value) -> {
            if (value == null) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe finished");
        return new Outcome(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8).trim(),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("ANN_LIB", null);
        env.put("CARGO_TARGET_DIR", null);
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    private static String realLibrary() {
        String annLib = System.getenv("ANN_LIB");
        return annLib != null ? annLib : Support.repo().resolve("target/release/libann.so").toString();
    }

    private static void assertAdvice(String message) {
        assertTrue(message.contains("ANN_LIB"), message);
        assertTrue(message.contains("cargo build --release"), message);
        assertTrue(message.contains("cmake -P cmake/install.cmake"), message);
    }

    @Test
    void annLibIsLoaded() throws Exception {
        Outcome outcome = probe(env("ANN_LIB", realLibrary()));
        assertEquals(0, outcome.exit(), outcome.err());
        assertEquals(realLibrary(), outcome.out().lines().findFirst().orElseThrow());
    }

    @Test
    void aMissingAnnLibIsAnErrorNotAFallThrough() throws Exception {
        Outcome outcome = probe(env("ANN_LIB", dir.resolve("nope/libann.so").toString()));
        assertNotEquals(0, outcome.exit());
        assertTrue(outcome.err().contains("UnsatisfiedLinkError"), outcome.err());
        assertTrue(outcome.err().contains("nope/libann.so"), outcome.err());
        assertAdvice(outcome.err());
    }

    @Test
    void aLibraryThatIsNotLibannIsRefused() throws Exception {
        String glue = Support.build().resolve("native/libann_jni.so").toString();
        Outcome outcome = probe(env("ANN_LIB", glue));
        assertNotEquals(0, outcome.exit());
        assertTrue(outcome.err().contains("it has no function ann_"), outcome.err());
    }

    @Test
    void cargoTargetDirComesBeforeTheCheckoutsTarget() throws Exception {
        Path release = Files.createDirectories(dir.resolve("target/release"));
        Path copy = Files.copy(Path.of(realLibrary()), release.resolve("libann.so"));
        Outcome outcome = probe(env("CARGO_TARGET_DIR", dir.resolve("target").toString()));
        assertEquals(0, outcome.exit(), outcome.err());
        assertEquals(copy.toString(), outcome.out().lines().findFirst().orElseThrow());
    }

    @Test
    void withoutAnnLibTheCheckoutsBuildIsFound() throws Exception {
        Path release = Support.repo().resolve("target/release/libann.so");
        Path debug = Support.repo().resolve("target/debug/libann.so");
        Outcome outcome = probe(env());
        assertEquals(0, outcome.exit(), outcome.err());
        String loaded = outcome.out().lines().findFirst().orElseThrow();
        if (Files.exists(release)) {
            assertEquals(release.toString(), loaded);
        } else if (Files.exists(debug)) {
            assertEquals(debug.toString(), loaded);
        } else {
            assertTrue(loaded.equals("libann.so.1") || loaded.equals("/usr/local/lib/libann.so.1"), loaded);
        }
    }

    @Test
    void outsideACheckoutTheInstalledLibraryIsUsedOrTheErrorSaysWhatToDo() throws Exception {
        Map<String, String> env = env("LD_LIBRARY_PATH", "");
        Outcome outcome = probe(env, "-Dann.repo=" + dir.resolve("not-a-checkout"));
        if (outcome.exit() == 0) {
            String loaded = outcome.out().lines().findFirst().orElseThrow();
            assertTrue(loaded.equals("libann.so.1") || loaded.equals("/usr/local/lib/libann.so.1"), loaded);
        } else {
            assertTrue(outcome.err().contains("libann was not found"), outcome.err());
            assertAdvice(outcome.err());
        }
    }
}
