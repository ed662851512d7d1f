package io.github.ann;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Run in a child JVM by LiveTest: a reader of a live index directory in another process. It
 * opens the directory given as its argument with {@link AnnIndex#open(String, boolean)}, prints
 * "opened N" (N items), then answers one line per command read from stdin:
 *
 * <ul>
 *   <li>{@code refresh}: "refreshed CHANGED N";
 *   <li>{@code vector KEY}: "vector V0,V1,..." (floats' bits in hex), or "missing";
 *   <li>{@code nearest KEY N}: "nearest K1,K2,..." for the query {@link LiveTest#vectorFor}(KEY),
 *       searched exhaustively (so the answer is exact);
 *   <li>{@code quit}: closes the index and exits 0.
 * </ul>
 *
 * A failure prints "error ..." and exits 1.
 */
public final class LiveReaderMain {
    private LiveReaderMain() {}

    public static void main(String[] args) throws Exception {
        try (AnnIndex index = AnnIndex.open(args[0], false)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            System.out.println("opened " + index.nStored());
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] words = line.trim().split(" ");
                switch (words[0]) {
                    case "refresh" -> {
                        boolean changed = index.refresh();
                        System.out.println("refreshed " + changed + " " + index.nStored());
                    }
                    case "vector" -> {
                        try {
                            float[] vector = index.getItemVector(Long.parseLong(words[1]));
                            System.out.println("vector " + LiveTest.bits(vector));
                        } catch (AnnArgumentException e) {
                            System.out.println("missing");
                        }
                    }
                    case "nearest" -> {
                        float[] query = LiveTest.vectorFor(Long.parseLong(words[1]), index.dim());
                        long[] ids;
                        try (SearchOptions exhaustive = new SearchOptions().searchK(LiveTest.EXHAUSTIVE)) {
                            ids = index.search(query, Integer.parseInt(words[2]), exhaustive).ids();
                        }
                        System.out.println("nearest " + Arrays.stream(ids).mapToObj(Long::toString)
                                .collect(Collectors.joining(",")));
                    }
                    case "quit" -> {
                        return;
                    }
                    default -> {
                        System.out.println("error: unknown command " + line);
                        System.exit(1);
                    }
                }
            }
        } catch (Exception e) {
            System.out.println("error " + e);
            System.exit(1);
        }
    }
}
