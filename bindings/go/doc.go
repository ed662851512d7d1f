// Package ann is the Go binding of libann: approximate nearest-neighbour search over
// self-describing, memory-mapped index files (Spotify Annoy's forest of random-projection
// trees, with files Annoy 1.17.3 can read).
//
// The package is a thin layer over the C library (include/ann.h): it implements no distance,
// file format or search itself. It loads libann.so at run time, on first use, from the first
// of these that exists: the file named by ANN_LIB; a cargo build (release, then debug) in
// CARGO_TARGET_DIR or in the source checkout holding this package; libann.so.1 through the
// system's loader; /usr/local/lib/libann.so.1. When none loads, or the library's ABI version
// differs from the one this package was written for, New, Load and the other entry points
// return an error matching ErrLibrary that says what to build or install.
//
// Errors are *Error values carrying libann's status and message; test them with errors.Is
// against ErrInvalidArgument, ErrInvalidState, ErrIO, ErrCorruptFile and the other sentinels.
//
// Queries return ids and distances, nearest first; for Dot the "distance" is the inner
// product, largest first. Fewer than n come back when the index has fewer items. searchK is
// the number of candidates a query collects: larger gives better recall and slower queries,
// and -1 means n * NTrees(). Querying an unbuilt index is an ErrInvalidState.
//
// Keys are any uint64 but NoKey; memory grows with the number of items, not the largest key.
// Search, SearchByItem and SearchBatch take *SearchOptions (searchK, allow-list, deny-list and
// a filter func) and return exactly min(n, accepted items) results, every one accepted.
// OpenShards searches several index files as one read-only index.
// BuildGraph adds a proximity graph to a built or loaded index, which queries then walk
// instead of the trees (SearchOptions.SetEf sets the beam width) and Save keeps in the file.
//
// A live index is a directory changed at any time by one *Writer (OpenWriter: Upsert,
// Delete, their batch forms, Sync, Compact), durably, while readers query it: Writer.Index
// sees each write at once, and Open maps a live directory (or a file) read-only, without a
// lock, catching up with later writes on Refresh. Export writes any index as one file.
//
// An *Index is safe for concurrent use: queries run in parallel, changes run alone, and
// Close waits for running calls before freeing the native index. Calls after Close return
// an error matching ErrClosed.
package ann
