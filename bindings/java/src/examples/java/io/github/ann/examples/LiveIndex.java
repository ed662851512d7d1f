package io.github.ann.examples;

import io.github.ann.AnnIndex;
import io.github.ann.AnnWriter;
import io.github.ann.Metric;
import io.github.ann.WriterOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

public final class LiveIndex {
    public static void main(String[] args) throws IOException {
        String dir = Files.createTempDirectory("ann").resolve("vectors.live").toString();
        WriterOptions options = WriterOptions.builder()
                .durability(WriterOptions.Durability.SYNC) // the default: synced before upsert returns
                .nTrees(10)                                 // trees of compacted segments
                .build();
        try (AnnWriter writer = AnnWriter.open(dir, 3, Metric.ANGULAR, options); // one writer per directory
                AnnIndex live = writer.index()) {          // sees each write once its call returns
            writer.upsert(1, new float[] {1, 0, 0});
            writer.upsertBatch(new long[] {2, 3}, new float[] {0, 1, 0, 0.7f, 0.7f, 0});
            System.out.println(Arrays.toString(live.search(new float[] {1, 0.1f, 0}, 2, null).ids()));

            try (AnnIndex reader = AnnIndex.open(dir, false)) { // any process: read-only, no lock
                writer.upsert(1, new float[] {0, 0, 1});          // replaces item 1
                System.out.println("deleted 3: " + writer.delete(3));
                System.out.println(reader.nStored() + " items before refresh");
                writer.compact(-1);                             // folds the writes into a new segment
                System.out.println("changed: " + reader.refresh() + ", " + reader.nStored() + " items");
                System.out.println(Arrays.toString(reader.search(new float[] {1, 0.1f, 0}, 2, null).ids()));
            }
        }
    }
}
