package io.github.ann;

/**
 * What {@link AnnIndex#fileInfo(String)} found in a file without loading it. For kinds other
 * than {@link Kind#NATIVE} only {@code kind} and {@code fileSize} are meaningful: {@code
 * metric} is null and the numbers are 0.
 *
 * @param kind what the file is
 * @param formatVersion the native format's version
 * @param metric the metric the index was built with
 * @param dim floats per vector, or bits for hamming
 * @param nodeSize bytes per node
 * @param nTrees the number of trees
 * @param nItems the number of item slots
 * @param nNodes the number of nodes
 * @param seed the seed the index was built with
 * @param fileSize the file's size in bytes
 */
public record FileInfo(
        Kind kind,
        int formatVersion,
        Metric metric,
        int dim,
        int nodeSize,
        int nTrees,
        long nItems,
        long nNodes,
        long seed,
        long fileSize) {

    /** The kinds of file {@code ann_file_info} tells apart. */
    public enum Kind {
        /** Empty, or a size no index can have. */
        UNKNOWN,
        /** A file with this library's header; every field is filled. */
        NATIVE,
        /**
         * No header, and a size that is a positive multiple of 4: probably a header-less Annoy
         * file; open it with {@link AnnIndex#loadAnnoy} and its dimension and metric.
         */
        ANNOY
    }

    /** From the glue's {@code long[10]}, the fields of {@code ann_file_summary} in order. */
    static FileInfo fromFields(long[] f) {
        Kind kind = f[0] >= 0 && f[0] < Kind.values().length ? Kind.values()[(int) f[0]] : Kind.UNKNOWN;
        Metric metric = kind == Kind.NATIVE ? Metric.fromCode((int) f[2]) : null;
        return new FileInfo(kind, (int) f[1], metric, (int) f[3], (int) f[4], (int) f[5], f[6], f[7], f[8], f[9]);
    }
}
