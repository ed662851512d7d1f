package ann

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// A live index is a directory that one Writer changes (Upsert, Delete, Compact) while any
// number of readers, in this process or others, query it. It holds immutable segment files
// (each a normal index file), deletion markers, a write-ahead log and a manifest replaced
// atomically; no mapped file is ever changed in place. Writer.Index gives an *Index that sees
// each write as soon as the call returns; Open gives one that sees what was acknowledged
// before it opened, and later writes after Refresh.

// Durability is when a write to a live index counts as done (WriterOptions.Durability).
type Durability uint32

const (
	// DurabilitySync (the default): a write returns once it is in the log and the log is
	// synced; concurrent writes share one sync. It survives a crash of the process and a
	// power loss.
	DurabilitySync Durability = 0
	// DurabilityTimer: a write returns once it is in the log, which is synced every FlushMS
	// milliseconds (and by Sync and Close). It survives a crash of the process; a power loss
	// or a crash of the machine can lose the writes of the last FlushMS.
	DurabilityTimer Durability = 1
)

// String is "sync" or "timer".
func (d Durability) String() string {
	switch d {
	case DurabilitySync:
		return "sync"
	case DurabilityTimer:
		return "timer"
	}
	return fmt.Sprintf("Durability(%d)", uint32(d))
}

// WriterOptions are the settings of OpenWriter. The zero value (and a nil *WriterOptions)
// means the defaults: DurabilitySync, a timer of 100 ms, 50 trees per compacted segment and
// no graph.
type WriterOptions struct {
	// Durability is when a write returns: DurabilitySync or DurabilityTimer.
	Durability Durability
	// FlushMS is the time between log syncs with DurabilityTimer, 1 to 60000 ms (0: 100).
	FlushMS int
	// NTrees is the number of trees of the segments Compact builds: at least 1, or -1 for
	// Annoy's automatic count (0: 50).
	NTrees int
	// Graph makes Compact (and Export of the live index) build a graph into each new segment,
	// as Index.BuildGraph would, so that queries on compacted items walk the graph (see
	// SearchOptions.SetEf). Compaction takes longer by the graph's build time. False (the
	// default): no graph.
	Graph bool
	// GraphDegree is the most neighbours per item of that graph, at most 256 (0: 32).
	GraphDegree int
}

// Writer is the one writer of a live index directory. At most one Writer, in any process,
// has a directory open: a second OpenWriter gets an ErrInvalidState until the first is
// closed.
//
// A Writer is safe for concurrent use: its methods may run on many goroutines at once
// (libann synchronises them, and concurrent upserts share one log sync), and Compact lets
// writes and queries on other goroutines go on. Close waits for the calls in progress. A
// finalizer closes a Writer the program forgot, but the directory stays locked until the
// garbage collector gets to it: Close what you open.
type Writer struct {
	mu     sync.RWMutex // read: every call (libann synchronises them); write: Close
	h      writerHandle // nil once closed
	dir    string
	dim    int
	metric Metric
}

// OpenWriter opens the live index directory dir for writing, creating it (and its parents)
// when missing, for vectors of dim values and metric; opts may be nil (the defaults). An
// existing directory must hold the same dim and metric, else it is an ErrInvalidArgument.
// Opening replays the log: every acknowledged write is back, and a torn last record (a crash
// in the middle of a write) is cut. A directory another Writer has open (in any process) is
// an ErrInvalidState; a damaged manifest, segment or log, an ErrCorruptFile.
func OpenWriter(dir string, dim int, metric Metric, opts *WriterOptions) (*Writer, error) {
	if err := loadLibrary(); err != nil {
		return nil, err
	}
	w, err := newWriter(dir, dim, metric, opts)
	if err != nil {
		return nil, withOp("OpenWriter", err)
	}
	return w, nil
}

func newWriter(dir string, dim int, metric Metric, opts *WriterOptions) (*Writer, error) {
	if opts == nil {
		opts = &WriterOptions{}
	}
	cdim, err := toUint32("dim", dim)
	if err != nil {
		return nil, err
	}
	flushMS, err := toUint32("FlushMS", opts.FlushMS)
	if err != nil {
		return nil, err
	}
	nTrees, err := toInt32("NTrees", opts.NTrees)
	if err != nil {
		return nil, err
	}
	graphDegree, err := toUint32("GraphDegree", opts.GraphDegree)
	if err != nil {
		return nil, err
	}
	h, err := cWriterOpen(dir, cdim, metric, uint32(opts.Durability), flushMS, nTrees, opts.Graph,
		graphDegree)
	if err != nil {
		return nil, err
	}
	w := &Writer{h: h, dir: dir, dim: dim, metric: metric}
	runtime.SetFinalizer(w, finalizeWriter)
	return w, nil
}

// finalizedWriters counts the writers closed by the finalizer rather than by Close (for a test).
var finalizedWriters atomic.Int64

// finalizeWriter is the safety net for a Writer that became unreachable without Close.
func finalizeWriter(w *Writer) {
	finalizedWriters.Add(1)
	w.Close()
}

// Close syncs the log, releases the directory's lock and frees the writer. It waits for the
// calls in progress (a Compact included). It returns the sync's error, if any; the writer is
// closed either way. Closing twice is harmless, and any other method called after Close
// returns an error matching ErrClosed. Indexes from Index stay usable (and stop changing).
func (w *Writer) Close() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h == nil {
		return nil
	}
	err := cSync(w.h)
	cWriterFree(w.h)
	w.h = nil
	runtime.SetFinalizer(w, nil)
	return withOp("Close", err)
}

// call runs a C call with the writer's handle under the read lock: calls run in parallel
// (libann synchronises them) and Close cannot free the writer under one.
func (w *Writer) call(op string, call func(h writerHandle) error) error {
	if w == nil {
		return writerClosedError(op)
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.h == nil {
		return writerClosedError(op)
	}
	err := call(w.h)
	runtime.KeepAlive(w)
	return withOp(op, err)
}

// Upsert adds the item key (any uint64 but NoKey) with a vector of Dim() values, or replaces
// its vector when key is there. It returns once the write is in the log (and synced, with
// DurabilitySync); the Writer's indexes see it at once, readers after Refresh. A wrong
// length, a NaN or infinite value, or NoKey is an ErrInvalidArgument; a log that cannot be
// written (a full disk) is an ErrIO, and then nothing changed.
func (w *Writer) Upsert(key uint64, vector []float32) error {
	return w.call("Upsert", func(h writerHandle) error {
		if len(vector) != w.dim {
			return argumentError("the vector has %d values, but the index has dim %d", len(vector), w.dim)
		}
		err := cUpsert(h, key, vector)
		runtime.KeepAlive(vector)
		return err
	})
}

// UpsertBatch upserts len(keys) items: vectors holds their vectors row after row, Dim()
// values each (row i for keys[i]). The batch is one log record: after a crash, all of it is
// there or none. It fails as Upsert does, and then nothing changed.
func (w *Writer) UpsertBatch(keys []uint64, vectors []float32) error {
	return w.call("UpsertBatch", func(h writerHandle) error {
		if len(vectors) != len(keys)*w.dim {
			return argumentError("%d keys need %d values (dim %d), but there are %d",
				len(keys), len(keys)*w.dim, w.dim, len(vectors))
		}
		err := cUpsertBatch(h, keys, vectors)
		runtime.KeepAlive(keys)
		runtime.KeepAlive(vectors)
		return err
	})
}

// Delete removes the item key and reports whether it was there; a key that is not there is
// not an error, but NoKey, which is never a key, is (ErrInvalidArgument). It is durable as
// Upsert is, and no query returns key once it returns.
func (w *Writer) Delete(key uint64) (bool, error) {
	var existed bool
	err := w.call("Delete", func(h writerHandle) (err error) {
		existed, err = cDelete(h, key)
		return err
	})
	return existed, err
}

// DeleteBatch removes keys as one log record and returns how many of them were there. A
// batch holding NoKey is refused whole (ErrInvalidArgument).
func (w *Writer) DeleteBatch(keys []uint64) (int, error) {
	var deleted int
	err := w.call("DeleteBatch", func(h writerHandle) (err error) {
		deleted, err = cDeleteBatch(h, keys)
		runtime.KeepAlive(keys)
		return err
	})
	return deleted, err
}

// Sync syncs the log: every write made so far is on disk when it returns (with
// DurabilityTimer; with DurabilitySync every write already is).
func (w *Writer) Sync() error {
	return w.call("Sync", cSync)
}

// Compact folds every live item into one new segment, built on nThreads threads (-1: every
// core) with WriterOptions.NTrees trees (and a graph, with WriterOptions.Graph), switches the
// directory to it and removes the old files (readers that map them keep them until they
// Refresh or Close). It runs on the calling goroutine, so run it on one of your choosing:
// writes and queries on other goroutines go on meanwhile. On failure (a full disk, say) the
// directory keeps its current state, and the error says why.
func (w *Writer) Compact(nThreads int) error {
	return w.call("Compact", func(h writerHandle) error {
		threads, err := toInt32("nThreads", nThreads)
		if err != nil {
			return err
		}
		return cCompact(h, threads)
	})
}

// Index returns a read-only *Index on the live index that sees every write as soon as the
// write's call returns. Every query and search works on it (a deleted key is never
// returned); AddItem, Build and Save are ErrInvalidState (Export writes a file). It may
// outlive the Writer; Close it as any other Index.
func (w *Writer) Index() (*Index, error) {
	var idx *Index
	err := w.call("Index", func(h writerHandle) error {
		ih, err := cWriterIndex(h)
		if err != nil {
			return err
		}
		idx = adopt(ih, w.dim, w.metric)
		return nil
	})
	return idx, err
}

// Dir is the directory the writer was opened on. It stays available after Close.
func (w *Writer) Dir() string {
	if w == nil {
		return ""
	}
	return w.dir
}

// Dim is the number of values per vector. It stays available after Close.
func (w *Writer) Dim() int {
	if w == nil {
		return 0
	}
	return w.dim
}

// Metric is the live index's metric. It stays available after Close.
func (w *Writer) Metric() Metric {
	if w == nil {
		return 0
	}
	return w.metric
}

// Open opens path read-only: an index file (as Load), or a live index directory, which is
// read without a lock, so that readers never block or slow the writer. It sees every write
// acknowledged before the open, and later ones after Refresh. Adding, building and saving
// are ErrInvalidState (Export writes a file). A directory without a live index is an ErrIO.
func Open(path string, prefault bool) (*Index, error) {
	if err := loadLibrary(); err != nil {
		return nil, err
	}
	h, err := cOpen(path, prefault)
	if err != nil {
		return nil, withOp("Open", err)
	}
	return adoptLoaded("Open", h)
}

// Refresh brings an index from Open on a live directory up to date: the writes logged
// since, or the new segments after a Compact. It reports whether anything changed. It may
// run while other goroutines query the index: queries in progress finish on the state they
// started with, and files a compaction removed stay mapped until no query uses them. For
// other indexes (files, a Writer's indexes, shards) it changes nothing and returns false.
func (idx *Index) Refresh() (bool, error) {
	var changed bool
	err := idx.read("Refresh", func(h handle) (err error) {
		changed, err = cRefresh(h)
		return err
	})
	return changed, err
}

// Export writes every item of the index into one new immutable index file at path,
// atomically, which Load (or Open) maps: the live items of a live index, compacted into a
// fresh build with the writer's settings (with a graph when WriterOptions.Graph asked for
// one); every shard's items (with a graph when a shard has one); or a plain index as it is
// (with its graph).
func (idx *Index) Export(path string) error {
	return idx.read("Export", func(h handle) error { return cExport(h, path) })
}
