package ann

import "runtime"

// Searches are queries with SearchOptions (nil: the defaults). Unlike the GetNns* queries,
// which keep Annoy's semantics, a search returns exactly min(n, number of stored items the
// options accept) results, every one accepted: only accepted candidates count toward
// searchK, the walk goes on until it has n of them, and a very selective filter ends in an
// exact scan of the accepted items. Like the queries, searches read the index under its read
// lock, so any number run in parallel, with shared options or not.

// Search returns the keys of the n items nearest to query (Dim() values; 0/1 for Hamming)
// that opts accepts, nearest first, and their distances.
func (idx *Index) Search(query []float32, n int, opts *SearchOptions) ([]uint64, []float32, error) {
	var ids []uint64
	var distances []float32
	err := idx.read("Search", func(h handle) error {
		if err := idx.checkLength("query", len(query), idx.dim); err != nil {
			return err
		}
		return opts.use("Search", func(o optionsHandle) (err error) {
			ids, distances, err = results(h, n, func(ids []uint64, distances []float32) (int, error) {
				return cSearch(h, query, o, ids, distances)
			})
			runtime.KeepAlive(query)
			return err
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return ids, distances, nil
}

// SearchByItem is Search with item key's vector as the query; the item itself is returned
// too when opts accepts it. A key never added is an ErrInvalidArgument.
func (idx *Index) SearchByItem(key uint64, n int, opts *SearchOptions) ([]uint64, []float32, error) {
	var ids []uint64
	var distances []float32
	err := idx.read("SearchByItem", func(h handle) error {
		return opts.use("SearchByItem", func(o optionsHandle) (err error) {
			ids, distances, err = results(h, n, func(ids []uint64, distances []float32) (int, error) {
				return cSearchByItem(h, key, o, ids, distances)
			})
			return err
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return ids, distances, nil
}

// SearchBatch is GetNnsBatch with options: it runs len(queries)/Dim() searches (the queries
// row after row) on nThreads threads (-1: every core), and returns per query what Search
// would. A filter func runs on those threads, several calls at once.
func (idx *Index) SearchBatch(queries []float32, n int, opts *SearchOptions, nThreads int) ([][]uint64, [][]float32, error) {
	var ids [][]uint64
	var distances [][]float32
	err := idx.read("SearchBatch", func(h handle) (err error) {
		ids, distances, err = idx.batch(h, queries, n, nThreads,
			func(width int, threads int32, allIDs []uint64, allDistances []float32, counts []int) error {
				return opts.use("SearchBatch", func(o optionsHandle) error {
					return cSearchBatch(h, queries, width, o, threads, allIDs, allDistances, counts)
				})
			})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return ids, distances, nil
}
