package io.github.ann;

import java.util.Objects;

/**
 * How an {@link AnnWriter} writes: its durability, the timer of {@link Durability#TIMER}, the
 * trees of the segments compaction builds, and whether compaction builds a graph into them too.
 * Immutable (so one value may serve any number of writers and threads); made with {@link
 * #builder()}, or {@link #defaults()}:
 *
 * <pre>{@code
 * WriterOptions options = WriterOptions.builder()
 *         .durability(WriterOptions.Durability.TIMER)
 *         .flushMs(50)
 *         .nTrees(20)
 *         .graph(true)
 *         .build();
 * }</pre>
 *
 * <p>The vectors' dimension and metric are arguments of {@link AnnWriter#open}, not options.
 */
public final class WriterOptions {
    /** When a write ({@code upsert}, {@code delete} and their batches) counts as done. */
    public enum Durability {
        /**
         * The call returns once the write is in the log and the log is synced to disk (concurrent
         * writers' calls share one sync). Survives a process crash and a power loss. The default.
         */
        SYNC,
        /**
         * The call returns once the write is in the log; the log is synced every {@link
         * #flushMs()} milliseconds (and by {@link AnnWriter#sync()} and {@link AnnWriter#close()}).
         * Survives a process crash; a power loss or OS crash can lose the writes of the last
         * {@code flushMs}. Much faster for many small writes.
         */
        TIMER;

        /** The {@code ANN_DURABILITY_*} value. */
        int code() {
            return ordinal();
        }
    }

    /** The smallest and largest {@link #flushMs()} libann accepts. */
    static final int MIN_FLUSH_MS = 1;

    static final int MAX_FLUSH_MS = 60_000;

    /** The largest {@link #graphDegree()} libann accepts. */
    static final int MAX_GRAPH_DEGREE = 256;

    private static final WriterOptions DEFAULTS = new Builder().build();

    private final Durability durability;
    private final int flushMs;
    private final int nTrees;
    private final boolean graph;
    private final int graphDegree;

    private WriterOptions(Builder builder) {
        durability = builder.durability;
        flushMs = builder.flushMs;
        nTrees = builder.nTrees;
        graph = builder.graph;
        graphDegree = builder.graphDegree;
    }

    /**
     * The defaults: {@link Durability#SYNC}, a timer of 100 ms, 50 trees per compacted segment,
     * no graph.
     */
    public static WriterOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the {@linkplain #defaults() defaults}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        return new Builder().durability(durability).flushMs(flushMs).nTrees(nTrees).graph(graph, graphDegree);
    }

    /** When a write counts as done. */
    public Durability durability() {
        return durability;
    }

    /** Milliseconds between log syncs in {@link Durability#TIMER} mode. */
    public int flushMs() {
        return flushMs;
    }

    /** Trees of the segments compaction builds; -1: Annoy's automatic count. */
    public int nTrees() {
        return nTrees;
    }

    /**
     * Whether compaction (and {@link AnnIndex#export(String)} of the live index) builds a graph
     * into each new segment, as {@link AnnIndex#buildGraph(int, int)} would.
     */
    public boolean graph() {
        return graph;
    }

    /** The most neighbours per item of that graph; 0: the default, 32. */
    public int graphDegree() {
        return graphDegree;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof WriterOptions o
                && durability == o.durability
                && flushMs == o.flushMs
                && nTrees == o.nTrees
                && graph == o.graph
                && graphDegree == o.graphDegree;
    }

    @Override
    public int hashCode() {
        return Objects.hash(durability, flushMs, nTrees, graph, graphDegree);
    }

    @Override
    public String toString() {
        return "WriterOptions[durability=" + durability + ", flushMs=" + flushMs + ", nTrees=" + nTrees
                + ", graph=" + graph + ", graphDegree=" + graphDegree + "]";
    }

    /** Builds {@link WriterOptions}; each setter checks its value at once and returns the builder. */
    public static final class Builder {
        private Durability durability = Durability.SYNC;
        private int flushMs = 100;
        private int nTrees = 50;
        private boolean graph;
        private int graphDegree;

        private Builder() {}

        /** When a write counts as done (default {@link Durability#SYNC}). */
        public Builder durability(Durability durability) {
            this.durability = Objects.requireNonNull(durability, "durability");
            return this;
        }

        /**
         * Milliseconds between log syncs in {@link Durability#TIMER} mode (default 100).
         *
         * @throws IllegalArgumentException outside 1 to 60000
         */
        public Builder flushMs(int flushMs) {
            if (flushMs < MIN_FLUSH_MS || flushMs > MAX_FLUSH_MS) {
                throw new IllegalArgumentException(
                        "flushMs must be " + MIN_FLUSH_MS + " to " + MAX_FLUSH_MS + ", got " + flushMs);
            }
            this.flushMs = flushMs;
            return this;
        }

        /**
         * Trees of the segments compaction builds (default 50; -1: Annoy's automatic count, until
         * a segment has twice as many nodes as items). More trees: better recall, larger files.
         *
         * @throws IllegalArgumentException for 0 or below -1
         */
        public Builder nTrees(int nTrees) {
            if (nTrees == 0 || nTrees < -1) {
                throw new IllegalArgumentException("nTrees must be at least 1, or -1 (automatic), got " + nTrees);
            }
            this.nTrees = nTrees;
            return this;
        }

        /**
         * Whether compaction (and {@link AnnIndex#export(String)} of the live index) builds a
         * graph of the default degree (32) into each new segment, as {@link
         * AnnIndex#buildGraph(int, int)} would, so that queries on compacted items walk the graph
         * ({@link SearchOptions#ef(long)} sets its beam). Compaction takes longer by the graph's
         * build time. Default false: no graph.
         */
        public Builder graph(boolean enabled) {
            return graph(enabled, 0);
        }

        /**
         * As {@link #graph(boolean)}, with a graph of at most {@code degree} neighbours per item.
         *
         * @param degree 0 for the default (32), up to 256
         * @throws IllegalArgumentException for a degree below 0 or above 256
         */
        public Builder graph(boolean enabled, int degree) {
            if (degree < 0 || degree > MAX_GRAPH_DEGREE) {
                throw new IllegalArgumentException(
                        "the graph degree must be 0 (the default, 32) to " + MAX_GRAPH_DEGREE + ", got " + degree);
            }
            this.graph = enabled;
            this.graphDegree = degree;
            return this;
        }

        /** The options. */
        public WriterOptions build() {
            return new WriterOptions(this);
        }
    }
}
