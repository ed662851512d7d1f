package io.github.ann;

/** Run in a child JVM by LoaderTest: loads libann as a user would and prints which one. */
public final class LoaderProbe {
    private LoaderProbe() {}

    public static void main(String[] args) {
        System.out.println(AnnIndex.libraryPath());
        System.out.println(AnnIndex.version());
    }
}
