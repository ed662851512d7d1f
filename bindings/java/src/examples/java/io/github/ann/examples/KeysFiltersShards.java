package io.github.ann.examples;

import io.github.ann.AnnIndex;
import io.github.ann.Metric;
import io.github.ann.Neighbors;
import io.github.ann.SearchOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

public final class KeysFiltersShards {
    /** Any 64-bit value but -1L is a key: here, a hash of a document's name. */
    static long key(String name) {
        long hash = 0xcbf29ce484222325L; // FNV-1a
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return hash == -1L ? 0 : hash;
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("ann");
        String[][] shards = {{"apple", "banana", "cherry"}, {"date", "elderberry", "fig"}};
        float[][][] vectors = {{{1, 0}, {0.9f, 0.1f}, {0, 1}}, {{0.8f, 0.2f}, {0.1f, 0.9f}, {0.7f, 0.3f}}};
        for (int s = 0; s < shards.length; s++) {
            try (AnnIndex index = AnnIndex.create(2, Metric.ANGULAR)) {
                for (int i = 0; i < shards[s].length; i++) {
                    index.addItem(key(shards[s][i]), vectors[s][i]);
                }
                index.build(4, -1);
                index.save(dir.resolve("shard" + s + ".ann").toString());
            }
        }

        List<String> files = List.of(dir.resolve("shard0.ann").toString(), dir.resolve("shard1.ann").toString());
        try (AnnIndex index = AnnIndex.openShards(files, false); // one read-only index over both files
                SearchOptions options = new SearchOptions()
                        .denyList(key("apple"))                        // never "apple"
                        .filter(k -> k != key("banana"))               // a LongPredicate: nor "banana"
                        .searchK(-1)) {
            Neighbors hits = index.search(new float[] {1, 0}, 2, options); // exactly 2 accepted results
            for (long k : hits.ids()) {
                System.out.println(Long.toUnsignedString(k)); // keys are unsigned 64-bit values
            }
            System.out.println(index.nStored() + " items in " + files.size() + " shards");
        }
    }
}
