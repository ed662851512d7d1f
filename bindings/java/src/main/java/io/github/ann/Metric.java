package io.github.ann;

/** A distance metric; the constants' order is libann's {@code ANN_METRIC_*} values. */
public enum Metric {
    /** {@code sqrt(2 - 2 cos)}; also known as cosine. */
    ANGULAR,
    /** L2 distance. */
    EUCLIDEAN,
    /** L1 distance. */
    MANHATTAN,
    /** Inner product: larger is nearer, results sort descending. */
    DOT,
    /** Number of differing bits; the dimension counts bits. */
    HAMMING;

    /**
     * The metric named {@code name}, as libann parses it: "angular" (or "cosine"), "euclidean",
     * "manhattan", "dot" or "hamming".
     *
     * @throws AnnArgumentException for an unknown name
     */
    public static Metric fromName(String name) {
        return fromCode(Native.metricFromName(NativeLoader.cString(name, "name")));
    }

    /** The library's canonical name: "angular", "euclidean", "manhattan", "dot" or "hamming". */
    public String canonicalName() {
        return Native.metricName(code());
    }

    /** The {@code ann_metric} value. */
    int code() {
        return ordinal();
    }

    static Metric fromCode(int code) {
        Metric[] all = values();
        if (code < 0 || code >= all.length) {
            throw new IllegalStateException("libann reported metric " + code + ", unknown to this binding");
        }
        return all[code];
    }
}
