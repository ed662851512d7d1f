package io.github.ann;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds and loads the JNI glue and libann, once, when {@link Native} is initialised.
 *
 * <p><b>The glue</b> ({@code libann_jni.so}) is the file named by the system property {@code
 * ann.jni} when set; otherwise the copy inside the jar ({@code
 * io/github/ann/native/linux-<arch>/libann_jni.so}) is extracted to a temporary file, loaded,
 * and deleted (the mapping outlives the name).
 *
 * <p><b>libann</b> is found in the order of {@code bindings/README.md}; the first that exists is
 * loaded, and a failure to load it is an error, never a reason to try another copy:
 *
 * <ol>
 *   <li>the file named by the environment variable {@code ANN_LIB};
 *   <li>from a source checkout, {@code <target>/release/libann.so} then {@code
 *       <target>/debug/libann.so}, {@code <target>} being {@code CARGO_TARGET_DIR} or {@code
 *       <repo>/target}; the checkout is the system property {@code ann.repo}, or the directory
 *       above this jar (or class directory) holding {@code Cargo.toml} and {@code include/ann.h};
 *   <li>{@code libann.so.1} through the system's loader, then {@code /usr/local/lib/libann.so.1}.
 * </ol>
 */
final class NativeLoader {
    /** Where {@code cmake -P cmake/install.cmake} puts the library by default. */
    private static final Path INSTALLED = Path.of("/usr/local/lib/libann.so.1");

    private static final String ADVICE =
            "Set ANN_LIB to the path of libann.so, or build it in the source checkout with"
                    + " `cargo build --release`, or install it with `cmake -P cmake/install.cmake`.";

    /** The library actually loaded, for diagnostics ({@link AnnIndex#libraryPath()}). */
    private static String loaded;

    private NativeLoader() {}

    static synchronized void load() {
        if (loaded != null) {
            return;
        }
        loadGlue();
        loaded = loadLibrary();
    }

    static synchronized String loadedLibrary() {
        return loaded;
    }

    private static void loadGlue() {
        String override = System.getProperty("ann.jni");
        if (override != null && !override.isEmpty()) {
            System.load(Path.of(override).toAbsolutePath().toString());
            return;
        }
        String arch = System.getProperty("os.arch", "unknown");
        String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
        String resource = "native/" + os + "-" + arch + "/libann_jni.so";
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError(
                        "this ann jar has no JNI glue for "
                                + os
                                + "-"
                                + arch
                                + " (resource io/github/ann/"
                                + resource
                                + "); build it with bindings/java/test.sh on this platform, or"
                                + " point the system property ann.jni at a libann_jni.so");
            }
            Path file = Files.createTempFile("libann_jni", ".so");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                System.load(file.toAbsolutePath().toString());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            UnsatisfiedLinkError error =
                    new UnsatisfiedLinkError(
                            "cannot extract the JNI glue to java.io.tmpdir ("
                                    + e.getMessage()
                                    + "); set the system property ann.jni to a libann_jni.so");
            error.initCause(e);
            throw error;
        }
    }

    /** Loads libann per the documented order; returns what was loaded. */
    private static String loadLibrary() {
        String fromEnv = System.getenv("ANN_LIB");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            if (!Files.exists(Path.of(fromEnv))) {
                throw new UnsatisfiedLinkError("ANN_LIB is " + fromEnv + ", which does not exist. " + ADVICE);
            }
            return open(fromEnv, "ANN_LIB");
        }
        for (Path candidate : checkoutLibraries()) {
            if (Files.isRegularFile(candidate)) {
                return open(candidate.toString(), "the source checkout");
            }
        }
        String reason = Native.init(cString("libann.so.1"));
        if (reason == null) {
            return "libann.so.1";
        }
        if (Files.exists(INSTALLED)) {
            return open(INSTALLED.toString(), "the installed library");
        }
        throw new UnsatisfiedLinkError(
                "libann was not found: ANN_LIB is not set, no source checkout has"
                        + " target/release/libann.so, and the system loader says: "
                        + reason
                        + ". "
                        + ADVICE);
    }

    private static String open(String path, String source) {
        String reason;
        try {
            reason = Native.init(cString(path));
        } catch (UnsatisfiedLinkError e) {
            throw new UnsatisfiedLinkError(
                    "cannot use libann at " + path + " (from " + source + "): " + e.getMessage()
                            + ". Rebuild it with `cargo build --release` or reinstall it with"
                            + " `cmake -P cmake/install.cmake`, or set ANN_LIB to a matching libann.so.");
        }
        if (reason != null) {
            throw new UnsatisfiedLinkError(
                    "cannot load libann at " + path + " (from " + source + "): " + reason + ". " + ADVICE);
        }
        return path;
    }

    /** {@code <target>/{release,debug}/libann.so} for each cargo target directory, in order. */
    private static List<Path> checkoutLibraries() {
        Path repo = repository();
        List<Path> targets = new ArrayList<>();
        String cargoTarget = System.getenv("CARGO_TARGET_DIR");
        if (cargoTarget != null && !cargoTarget.isEmpty()) {
            Path target = Path.of(cargoTarget);
            if (target.isAbsolute()) {
                targets.add(target);
            } else if (repo != null) {
                targets.add(repo.resolve(target));
            }
        }
        if (repo != null) {
            targets.add(repo.resolve("target"));
        }
        List<Path> libraries = new ArrayList<>();
        for (Path target : targets) {
            libraries.add(target.resolve("release").resolve("libann.so"));
            libraries.add(target.resolve("debug").resolve("libann.so"));
        }
        return libraries;
    }

    /** The source checkout this code runs from, or null when installed elsewhere. */
    static Path repository() {
        String property = System.getProperty("ann.repo");
        if (property != null && !property.isEmpty()) {
            return Path.of(property).toAbsolutePath();
        }
        CodeSource source = NativeLoader.class.getProtectionDomain().getCodeSource();
        if (source == null) {
            return null;
        }
        try {
            Path start = Path.of(source.getLocation().toURI()).toAbsolutePath();
            for (Path dir = start; dir != null; dir = dir.getParent()) {
                if (Files.isRegularFile(dir.resolve("Cargo.toml"))
                        && Files.isRegularFile(dir.resolve("include").resolve("ann.h"))) {
                    return dir;
                }
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null; // not a file location (e.g. a custom class loader): no checkout
        }
        return null;
    }

    /**
     * A string as the NUL-terminated bytes C expects, in the encoding the JDK uses for file
     * names ({@code sun.jnu.encoding}), so paths reach the OS as java.io.File would pass them.
     *
     * @throws IllegalArgumentException if the string contains a NUL, which C would cut at
     */
    static byte[] cString(String text) {
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a path or name cannot contain a NUL character: " + text);
        }
        byte[] encoded = text.getBytes(Encoding.FILE_NAMES);
        byte[] terminated = new byte[encoded.length + 1];
        System.arraycopy(encoded, 0, terminated, 0, encoded.length);
        return terminated;
    }

    /**
     * {@link #cString(String)} of a caller's argument: null is a {@link NullPointerException}
     * naming the parameter, as {@link java.util.Objects#requireNonNull(Object, String)} gives.
     */
    static byte[] cString(String text, String parameter) {
        return cString(java.util.Objects.requireNonNull(text, parameter));
    }

    /** The JDK's file-name encoding, resolved once. */
    private static final class Encoding {
        static final java.nio.charset.Charset FILE_NAMES = fileNames();

        private static java.nio.charset.Charset fileNames() {
            String name = System.getProperty("sun.jnu.encoding");
            try {
                return name == null ? StandardCharsets.UTF_8 : java.nio.charset.Charset.forName(name);
            } catch (IllegalArgumentException e) {
                return StandardCharsets.UTF_8;
            }
        }
    }
}
