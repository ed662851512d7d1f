package ann

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Index is an approximate nearest-neighbour index: built in memory (New, AddItem, Build),
// memory-mapped from a file (Load, LoadAnnoy, Open, OpenShards), or a read-only view of a
// live index (Writer.Index, Open of a live directory).
//
// An Index is safe for concurrent use. Queries and other reads run in parallel; methods that
// change the index (AddItem, SetSeed, Build, BuildGraph, Unbuild, Unload, OnDiskBuild) wait
// for them and run alone, as libann requires. Close frees the native index at once; a
// finalizer frees it if the program forgets, but that may be much later, so Close what you
// open.
type Index struct {
	mu     sync.RWMutex // read: calls on a const ann_index *; write: the others and Close
	h      handle       // nil once closed
	dim    int          // fixed for the handle's life, even across Unload
	metric Metric
}

// NoKey is the one uint64 that is not a key: every other value, 2^40, 2^63+5 or a string's
// hash, may name an item. Adding it is an ErrInvalidArgument.
const NoKey uint64 = math.MaxUint64

// New creates an empty index for vectors of dim values (dim bits for Hamming). dim must be
// between 1 and 2^24.
func New(dim int, metric Metric) (*Index, error) {
	if err := loadLibrary(); err != nil {
		return nil, err
	}
	cdim, err := toUint32("dim", dim)
	if err != nil {
		return nil, withOp("New", err)
	}
	h, err := cNew(cdim, metric)
	if err != nil {
		return nil, withOp("New", err)
	}
	return adopt(h, dim, metric), nil
}

// Load memory-maps the index file at path read-only. Loading costs O(1) and checks the
// header (Verify checks the rest); prefault reads the whole file in now rather than a page
// at a time. Processes that load one file share its pages. The file records the dim and
// metric. A missing file is an ErrIO; a file that is not an index, an ErrCorruptFile.
func Load(path string, prefault bool) (*Index, error) {
	if err := loadLibrary(); err != nil {
		return nil, err
	}
	h, err := cLoad(path, prefault)
	if err != nil {
		return nil, withOp("Load", err)
	}
	return adoptLoaded("Load", h)
}

// LoadAnnoy memory-maps a header-less index file written by Annoy 1.17.3 (or by SaveAnnoy).
// Such files do not record their dim and metric: pass the ones the file was built with.
// Queries return Annoy's results.
func LoadAnnoy(path string, dim int, metric Metric, prefault bool) (*Index, error) {
	if err := loadLibrary(); err != nil {
		return nil, err
	}
	cdim, err := toUint32("dim", dim)
	if err != nil {
		return nil, withOp("LoadAnnoy", err)
	}
	h, err := cLoadAnnoy(path, cdim, metric, prefault)
	if err != nil {
		return nil, withOp("LoadAnnoy", err)
	}
	return adoptLoaded("LoadAnnoy", h)
}

// OpenShards memory-maps several index files (written by Save, of one metric and dim, no key
// in two of them) as one read-only index: every query, search, batch and item call covers all
// of them, and results merge exactly as one index holding every item would order them (by
// distance, ties to the smaller key). NItems is the largest key + 1 over the shards, NStored
// and NTrees their sums. Adding, building and saving are ErrInvalidState. Checking that keys
// do not repeat reads every shard's keys, unlike Load's O(1). An empty list, shards of
// different dims or metrics, or a key in two shards is an ErrInvalidArgument; a missing or
// damaged file fails as in Load. Close the index as any other.
func OpenShards(paths []string, prefault bool) (*Index, error) {
	if err := loadLibrary(); err != nil {
		return nil, err
	}
	h, err := cOpenShards(paths, prefault)
	if err != nil {
		return nil, withOp("OpenShards", err)
	}
	return adoptLoaded("OpenShards", h)
}

// adoptLoaded wraps a loaded handle, asking the library for the dim and metric.
func adoptLoaded(op string, h handle) (*Index, error) {
	dim, err := cDim(h)
	if err == nil {
		var metric Metric
		if metric, err = cMetric(h); err == nil {
			return adopt(h, int(dim), metric), nil
		}
	}
	cFree(h)
	return nil, withOp(op, err)
}

// adopt makes h owned by a new Index, with a finalizer as a safety net.
func adopt(h handle, dim int, metric Metric) *Index {
	idx := &Index{h: h, dim: dim, metric: metric}
	runtime.SetFinalizer(idx, finalize)
	return idx
}

// finalized counts the indexes freed by the finalizer rather than by Close (for a test).
var finalized atomic.Int64

// finalize is the safety net for an Index that became unreachable without Close.
func finalize(idx *Index) {
	finalized.Add(1)
	idx.Close()
}

// Close frees the native index and its memory or file mapping. It waits for calls running on
// other goroutines. Closing twice is harmless, and any other method called after Close
// returns an error matching ErrClosed (the accessors without an error return zero).
func (idx *Index) Close() error {
	if idx == nil {
		return nil
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if idx.h != nil {
		cFree(idx.h)
		idx.h = nil
		runtime.SetFinalizer(idx, nil)
	}
	return nil
}

// read runs call with the handle while holding the read lock, so that Close cannot free the
// index under it; call may run concurrently with other reads.
func (idx *Index) read(op string, call func(h handle) error) error {
	if idx == nil {
		return closedError(op)
	}
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	if idx.h == nil {
		return closedError(op)
	}
	err := call(idx.h)
	runtime.KeepAlive(idx)
	return withOp(op, err)
}

// write runs call with the handle while holding the write lock: libann needs exclusive
// access to an index it changes.
func (idx *Index) write(op string, call func(h handle) error) error {
	if idx == nil {
		return closedError(op)
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if idx.h == nil {
		return closedError(op)
	}
	err := call(idx.h)
	runtime.KeepAlive(idx)
	return withOp(op, err)
}

// AddItem adds, or replaces, the item with key id (any uint64 but NoKey) with a vector of
// Dim() values. Memory and file size grow with the number of items, not the largest key:
// keys up to 2^31-2 that fill at least half of 0..max key keep Annoy's layout (SaveAnnoy
// works; keys never added are holes that queries skip), other keys are stored compactly. For
// Hamming, values above 0.5 are 1-bits. Adding to a built or loaded index is an
// ErrInvalidState (Unbuild first); a wrong length, a NaN or NoKey is an ErrInvalidArgument.
func (idx *Index) AddItem(id uint64, vector []float32) error {
	return idx.write("AddItem", func(h handle) error {
		if err := idx.checkLength("vector", len(vector), idx.dim); err != nil {
			return err
		}
		err := cAddItem(h, id, vector)
		runtime.KeepAlive(vector)
		return err
	})
}

// AddItemPacked adds item id of a Hamming index from packed 64-bit words: bit j of word i
// is bit 64*i+j. It takes (Dim()+63)/64 words, and bits past Dim() must be 0.
func (idx *Index) AddItemPacked(id uint64, words []uint64) error {
	return idx.write("AddItemPacked", func(h handle) error {
		err := cAddItemPacked(h, id, words)
		runtime.KeepAlive(words)
		return err
	})
}

// SetSeed sets the seed of the next build. One seed always gives the same index, whatever
// the number of threads; the default seed is fixed, so builds repeat without calling this.
func (idx *Index) SetSeed(seed uint64) error {
	return idx.write("SetSeed", func(h handle) error { return cSetSeed(h, seed) })
}

// Build builds nTrees trees (-1: until the index has twice as many nodes as items) on
// nThreads threads (-1: every core). More trees give better recall and a larger file.
// Building a built or loaded index is an ErrInvalidState.
func (idx *Index) Build(nTrees, nThreads int) error {
	return idx.write("Build", func(h handle) error {
		trees, err := toInt32("nTrees", nTrees)
		if err != nil {
			return err
		}
		threads, err := toInt32("nThreads", nThreads)
		if err != nil {
			return err
		}
		return cBuild(h, trees, threads)
	})
}

// BuildGraph adds a proximity graph over the items of a built or loaded index: queries and
// searches then walk it instead of the trees (SearchOptions.SetEf sets its beam width), Save
// writes it into the file and Load maps it with the rest. degree is the most neighbours per
// item (0: the default, 32; at most 256); nThreads -1 uses every core, and one seed gives the
// same graph whatever the number of threads. It replaces an earlier graph; SaveAnnoy still
// writes the trees only. A degree above 256 or nThreads of 0 or below -1 is an
// ErrInvalidArgument; an index not built yet, shards (OpenShards) and a live index are an
// ErrInvalidState (build the graph on each file, or on an exported one).
func (idx *Index) BuildGraph(degree, nThreads int) error {
	return idx.write("BuildGraph", func(h handle) error {
		d, err := toUint32("degree", degree)
		if err != nil {
			return err
		}
		threads, err := toInt32("nThreads", nThreads)
		if err != nil {
			return err
		}
		return cBuildGraph(h, d, threads)
	})
}

// Unbuild drops the trees but keeps the items, so that more can be added and the index built
// again. It does nothing on an index that is not built; a loaded index is an ErrInvalidState.
func (idx *Index) Unbuild() error {
	return idx.write("Unbuild", cUnbuild)
}

// Unload releases the index's memory or file mapping and leaves it empty, with the same dim
// and metric, ready for new items. Unlike Close, the Index stays usable.
func (idx *Index) Unload() error {
	return idx.write("Unload", cUnload)
}

// OnDiskBuild makes the index build straight into the file at path (created or truncated)
// instead of into memory, for indexes larger than RAM. Call it before Build; items added
// before or after go to the file, and Build then finishes the file and maps it read-only.
func (idx *Index) OnDiskBuild(path string) error {
	return idx.write("OnDiskBuild", func(h handle) error { return cOnDiskBuild(h, path) })
}

// Save writes a built index to path, atomically: a temporary file beside path is written,
// synced and renamed over it, so readers that mapped the old file keep working.
func (idx *Index) Save(path string) error {
	return idx.read("Save", func(h handle) error { return cSave(h, path) })
}

// SaveAnnoy writes a built index as the header-less file that Annoy 1.17.3 loads (atomically,
// like Save). That form does not record the dim, metric or seed, nor keys: keys that do not
// fit Annoy's layout (see AddItem) are an ErrInvalidState.
func (idx *Index) SaveAnnoy(path string) error {
	return idx.read("SaveAnnoy", func(h handle) error { return cSaveAnnoy(h, path) })
}

// Verify checks a built or loaded index completely (the body checksum, then every tree's
// structure), reading the whole file. Damage is an ErrCorruptFile saying what is wrong.
func (idx *Index) Verify() error {
	return idx.read("Verify", cVerify)
}

// NItems is the largest key added plus 1 (0 when empty, and after Close): Annoy's n_items
// for keys added densely from 0, keys never added included. NStored counts the items.
func (idx *Index) NItems() uint64 {
	var n uint64
	_ = idx.read("NItems", func(h handle) (err error) { n, err = cNItems(h); return err })
	return n
}

// NStored is the number of items stored, each key counted once (0 after Close).
func (idx *Index) NStored() uint64 {
	var n uint64
	_ = idx.read("NStored", func(h handle) (err error) { n, err = cNStored(h); return err })
	return n
}

// NTrees is the number of trees: 0 before Build, and after Close.
func (idx *Index) NTrees() int {
	var n uint32
	_ = idx.read("NTrees", func(h handle) (err error) { n, err = cNTrees(h); return err })
	return int(n)
}

// HasGraph reports whether the index has a graph: from BuildGraph, or loaded from a file
// saved with one (false after Close).
func (idx *Index) HasGraph() bool {
	var has bool
	_ = idx.read("HasGraph", func(h handle) (err error) { has, err = cHasGraph(h); return err })
	return has
}

// Seed is the seed the next Build uses or, for a loaded index, the one it was built with
// (0 after Close).
func (idx *Index) Seed() uint64 {
	var seed uint64
	_ = idx.read("Seed", func(h handle) (err error) { seed, err = cSeed(h); return err })
	return seed
}

// Dim is the number of values per vector (bits for Hamming). It never changes, so it stays
// available after Close.
func (idx *Index) Dim() int {
	if idx == nil {
		return 0
	}
	return idx.dim
}

// Metric is the index's metric. It never changes, so it stays available after Close.
func (idx *Index) Metric() Metric {
	if idx == nil {
		return 0
	}
	return idx.metric
}

// checkLength catches a slice of the wrong length, which C, given only a pointer, cannot.
func (idx *Index) checkLength(what string, got, want int) error {
	if got != want {
		return argumentError("the %s has %d values, but the index has dim %d", what, got, want)
	}
	return nil
}

func toUint32(name string, v int) (uint32, error) {
	if v < 0 || uint64(v) > math.MaxUint32 {
		return 0, argumentError("%s %d is out of range", name, v)
	}
	return uint32(v), nil
}

func toInt32(name string, v int) (int32, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, argumentError("%s %d is out of range", name, v)
	}
	return int32(v), nil
}
