package ann

import "runtime"

// Queries read the index under its read lock, so any number run in parallel. Inputs are
// passed to C in place (zero-copy); results are Go slices, allocated at most as long as the
// index has items, so a large n costs nothing. searchK and the order of results are
// described in the package documentation.

// GetNnsByVector returns the ids of the n items nearest to query (Dim() values; 0/1 for
// Hamming) and their distances.
func (idx *Index) GetNnsByVector(query []float32, n int, searchK int) ([]uint64, []float32, error) {
	var ids []uint64
	var distances []float32
	err := idx.read("GetNnsByVector", func(h handle) error {
		if err := idx.checkLength("query", len(query), idx.dim); err != nil {
			return err
		}
		var err error
		ids, distances, err = results(h, n, func(ids []uint64, distances []float32) (int, error) {
			return cNns(h, query, int64(searchK), ids, distances)
		})
		runtime.KeepAlive(query)
		return err
	})
	return ids, distances, err
}

// GetNnsByItem returns the n items nearest to item id, and their distances. The item itself
// comes first, at distance 0, for every metric but Dot. An id never added is an
// ErrInvalidArgument.
func (idx *Index) GetNnsByItem(id uint64, n int, searchK int) ([]uint64, []float32, error) {
	var ids []uint64
	var distances []float32
	err := idx.read("GetNnsByItem", func(h handle) (err error) {
		ids, distances, err = results(h, n, func(ids []uint64, distances []float32) (int, error) {
			return cNnsByItem(h, id, int64(searchK), ids, distances)
		})
		return err
	})
	return ids, distances, err
}

// GetNnsByPacked is GetNnsByVector for a Hamming index, with the query as packed 64-bit
// words (see AddItemPacked).
func (idx *Index) GetNnsByPacked(words []uint64, n int, searchK int) ([]uint64, []float32, error) {
	var ids []uint64
	var distances []float32
	err := idx.read("GetNnsByPacked", func(h handle) (err error) {
		ids, distances, err = results(h, n, func(ids []uint64, distances []float32) (int, error) {
			return cNnsPacked(h, words, int64(searchK), ids, distances)
		})
		runtime.KeepAlive(words)
		return err
	})
	return ids, distances, err
}

// GetNnsBatch runs many queries at once on nThreads threads (-1: every core). queries holds
// the query vectors row after row, Dim() values each, so len(queries)/Dim() queries. It
// returns, per query, the ids and distances GetNnsByVector would return: rows of one
// allocation, so a batch costs two allocations (plus the row headers) however many queries.
func (idx *Index) GetNnsBatch(queries []float32, n, searchK, nThreads int) ([][]uint64, [][]float32, error) {
	var ids [][]uint64
	var distances [][]float32
	err := idx.read("GetNnsBatch", func(h handle) (err error) {
		ids, distances, err = idx.batch(h, queries, n, nThreads,
			func(width int, threads int32, allIDs []uint64, allDistances []float32, counts []int) error {
				return cNnsBatch(h, queries, width, int64(searchK), threads, allIDs, allDistances, counts)
			})
		return err
	})
	return ids, distances, err
}

// batchQuery runs a batch of len(counts) queries with rows of width slots.
type batchQuery func(width int, threads int32, ids []uint64, distances []float32, counts []int) error

// batch checks a batch's arguments, allocates its results, runs it, and cuts the rows.
func (idx *Index) batch(h handle, queries []float32, n, nThreads int, run batchQuery) ([][]uint64, [][]float32, error) {
	if len(queries)%idx.dim != 0 {
		return nil, nil, argumentError("the queries have %d values, not a multiple of the index's dim %d",
			len(queries), idx.dim)
	}
	threads, err := toInt32("nThreads", nThreads)
	if err != nil {
		return nil, nil, err
	}
	width, err := resultWidth(h, n)
	if err != nil {
		return nil, nil, err
	}
	nQueries := len(queries) / idx.dim
	allIDs := make([]uint64, nQueries*width)
	allDistances := make([]float32, nQueries*width)
	counts := make([]int, nQueries)
	err = run(width, threads, allIDs, allDistances, counts)
	runtime.KeepAlive(queries)
	if err != nil {
		return nil, nil, err
	}
	ids := make([][]uint64, nQueries)
	distances := make([][]float32, nQueries)
	for q, count := range counts {
		start, end := q*width, q*width+count
		// Capacity ends at the row, so appending to a row cannot overwrite the next one.
		ids[q] = allIDs[start:end:end]
		distances[q] = allDistances[start:end:end]
	}
	return ids, distances, nil
}

// GetItemVector returns a copy of item id's vector (0/1 values for Hamming). An id never
// added is an ErrInvalidArgument.
func (idx *Index) GetItemVector(id uint64) ([]float32, error) {
	var vector []float32
	err := idx.read("GetItemVector", func(h handle) error {
		out := make([]float32, idx.dim)
		if err := cItemVector(h, id, out); err != nil {
			return err
		}
		vector = out
		return nil
	})
	return vector, err
}

// GetItemPacked returns item id of a Hamming index as packed 64-bit words (see
// AddItemPacked). Another metric is an ErrInvalidArgument.
func (idx *Index) GetItemPacked(id uint64) ([]uint64, error) {
	var words []uint64
	err := idx.read("GetItemPacked", func(h handle) error {
		out := make([]uint64, (idx.dim+63)/64)
		count, err := cItemPacked(h, id, out)
		if err != nil {
			return err
		}
		words = out[:count]
		return nil
	})
	return words, err
}

// GetDistance returns the distance between items i and j, as a query would report it.
func (idx *Index) GetDistance(i, j uint64) (float32, error) {
	var d float32
	err := idx.read("GetDistance", func(h handle) (err error) { d, err = cDistance(h, i, j); return err })
	return d, err
}

// results allocates room for the answer of a query for n neighbours, runs it, and trims.
func results(h handle, n int, query func([]uint64, []float32) (int, error)) ([]uint64, []float32, error) {
	width, err := resultWidth(h, n)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]uint64, width)
	distances := make([]float32, width)
	count, err := query(ids, distances)
	if err != nil {
		return nil, nil, err
	}
	return ids[:count], distances[:count], nil
}

// resultWidth is the room a query for n neighbours needs: n, but no more than the index
// stores items, since no query returns more.
func resultWidth(h handle, n int) (int, error) {
	if n < 0 {
		return 0, argumentError("n %d is negative", n)
	}
	items, err := cNStored(h)
	if err != nil {
		return 0, err
	}
	if uint64(n) > items {
		return int(items), nil
	}
	return n, nil
}
