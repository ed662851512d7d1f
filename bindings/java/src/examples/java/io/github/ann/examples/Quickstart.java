package io.github.ann.examples;

import io.github.ann.AnnIndex;
import io.github.ann.Metric;
import io.github.ann.Neighbors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

public final class Quickstart {
    public static void main(String[] args) throws IOException {
        Path file = Files.createTempDirectory("ann").resolve("vectors.ann");
        try (AnnIndex index = AnnIndex.create(3, Metric.ANGULAR)) { // or Metric.fromName("cosine")
            index.addItem(0, new float[] {1, 0, 0});
            index.addItem(1, new float[] {0, 1, 0});
            index.addItem(2, new float[] {0.7f, 0.7f, 0});
            index.setSeed(42);
            index.build(10, -1); // 10 trees, every core
            index.save(file.toString());
        }

        try (AnnIndex index = AnnIndex.load(file.toString(), false)) { // mmap, O(1)
            Neighbors hits = index.getNnsByVectorWithDistances(new float[] {0.9f, 0.1f, 0}, 2, -1);
            for (int i = 0; i < hits.size(); i++) {
                System.out.printf("id %d at distance %.4f%n", hits.ids()[i], hits.distances()[i]);
            }
            long[] similar = index.getNnsByItem(2, 2, 1000); // searchK = 1000
            System.out.println("nearest to item 2: " + similar[0]);
        }
    }
}
