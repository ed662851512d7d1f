package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.ann.examples.KeysFiltersShards;
import io.github.ann.examples.LiveIndex;
import io.github.ann.examples.Quickstart;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's ```java blocks are, in order, src/examples/.../Quickstart.java,
 * KeysFiltersShards.java and LiveIndex.java, verbatim, and they run.
 */
class ReadmeTest {
    private static final Path BINDING = Support.repo().resolve("bindings/java");
    private static final List<String> EXAMPLES = List.of("Quickstart.java", "KeysFiltersShards.java", "LiveIndex.java");

    @Test
    void readmeJavaBlocksAreTheExampleFiles() throws Exception {
        String readme = Files.readString(BINDING.resolve("README.md"), StandardCharsets.UTF_8);
        List<String> blocks = new ArrayList<>();
        for (int start = readme.indexOf("```java\n"); start >= 0; start = readme.indexOf("```java\n", start + 1)) {
            int end = readme.indexOf("```\n", start + 8);
            blocks.add(readme.substring(start + "```java\n".length(), end));
        }
        assertEquals(EXAMPLES.size(), blocks.size(), "README.md's ```java blocks, one per example file");
        for (int i = 0; i < EXAMPLES.size(); i++) {
            Path file = BINDING.resolve("src/examples/java/io/github/ann/examples/" + EXAMPLES.get(i));
            String example = Files.readString(file, StandardCharsets.UTF_8);
            assertEquals(example, blocks.get(i),
                    "README.md's ```java block " + (i + 1) + " must equal " + EXAMPLES.get(i));
        }
    }

    /** What {@code main} prints. */
    private static List<String> run(Main main) throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.run(new String[0]);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @FunctionalInterface
    private interface Main {
        void run(String[] args) throws Exception;
    }

    @Test
    void quickstartRuns() throws Exception {
        List<String> lines = run(Quickstart::main);
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("id 0 at distance 0.1"), lines.get(0));
        assertTrue(lines.get(1).startsWith("id 2 at distance "), lines.get(1));
        assertEquals("nearest to item 2: 2", lines.get(2));
    }

    @Test
    void keysFiltersShardsRuns() throws Exception {
        List<String> lines = run(KeysFiltersShards::main);
        // "date" (0.8, 0.2) and "fig" (0.7, 0.3): the nearest to (1, 0) once apple and banana are
        // filtered out; their FNV-1a hashes are 2^63 and above, printed unsigned.
        assertEquals(List.of("9609363733564572473", "15897298873157768501", "6 items in 2 shards"), lines);
    }

    @Test
    void liveIndexRuns() throws Exception {
        List<String> lines = run(LiveIndex::main);
        // Seen at once by the writer's index; by the reader only after refresh, compaction included:
        // item 3 deleted, item 1 moved to (0, 0, 1), so item 2 is now the nearest to (1, 0.1, 0).
        assertEquals(List.of("[1, 3]", "deleted 3: true", "3 items before refresh", "changed: true, 2 items", "[2, 1]"),
                lines);
    }
}
