package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.ann.examples.Quickstart;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's quickstart is src/examples/.../Quickstart.java, verbatim, and it runs. */
class ReadmeTest {
    private static final Path BINDING = Support.repo().resolve("bindings/java");

    @Test
    void readmeQuickstartIsTheExampleFile() throws Exception {
        String readme = Files.readString(BINDING.resolve("README.md"), StandardCharsets.UTF_8);
        int start = readme.indexOf("```java\n");
        assertTrue(start >= 0, "README.md has a ```java block");
        int end = readme.indexOf("```\n", start + 8);
        String block = readme.substring(start + "```java\n".length(), end);
        String example = Files.readString(
                BINDING.resolve("src/examples/java/io/github/ann/examples/Quickstart.java"), StandardCharsets.UTF_8);
        assertEquals(example, block, "README.md's first ```java block must equal Quickstart.java");
    }

    @Test
    void quickstartRuns() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            Quickstart.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("id 0 at distance 0.1"), lines.get(0));
        assertTrue(lines.get(1).startsWith("id 2 at distance "), lines.get(1));
        assertEquals("nearest to item 2: 2", lines.get(2));
    }
}
