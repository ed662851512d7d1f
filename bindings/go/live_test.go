package ann

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The live index tests use small Euclidean vectors and keys beyond 2^32.
const (
	liveDim  = 8
	liveBase = uint64(1) << 40
)

// liveVector is a deterministic vector of values in [-1, 1) for key at version (a replaced
// item gets a new version): splitmix64 of the key, version and position, so that no two keys
// share a vector.
func liveVector(key uint64, version int) []float32 {
	v := make([]float32, liveDim)
	state := key*0x9e3779b97f4a7c15 ^ uint64(version)<<56
	for i := range v {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		v[i] = float32(z>>40)/float32(1<<23) - 1
	}
	return v
}

// fastWrites are options for tests that do not test durability: the timer, not a sync per
// write.
var fastWrites = &WriterOptions{Durability: DurabilityTimer, FlushMS: 20, NTrees: 5}

func mustOpenWriter(t testing.TB, dir string, opts *WriterOptions) *Writer {
	t.Helper()
	w, err := OpenWriter(dir, liveDim, Euclidean, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func writerIndex(t testing.TB, w *Writer) *Index {
	t.Helper()
	idx, err := w.Index()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func openReader(t testing.TB, path string) *Index {
	t.Helper()
	idx, err := Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

// liveState is what a live index should hold: key -> vector.
type liveState map[uint64][]float32

func (s liveState) upsert(t testing.TB, w *Writer, key uint64, version int) {
	t.Helper()
	v := liveVector(key, version)
	if err := w.Upsert(key, v); err != nil {
		t.Fatal(err)
	}
	s[key] = v
}

func (s liveState) upsertBatch(t testing.TB, w *Writer, keys []uint64, version int) {
	t.Helper()
	var vectors []float32
	for _, key := range keys {
		vectors = append(vectors, liveVector(key, version)...)
	}
	if err := w.UpsertBatch(keys, vectors); err != nil {
		t.Fatal(err)
	}
	for i, key := range keys {
		s[key] = vectors[i*liveDim : (i+1)*liveDim]
	}
}

func (s liveState) delete(t testing.TB, w *Writer, key uint64) {
	t.Helper()
	_, there := s[key]
	existed, err := w.Delete(key)
	if err != nil || existed != there {
		t.Fatalf("Delete(%d) = %v, %v; want %v", key, existed, err, there)
	}
	delete(s, key)
}

func (s liveState) keys() []uint64 {
	keys := make([]uint64, 0, len(s))
	for key := range s {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// describe is the state in one line: the keys, in order, with their vectors' exact values.
func (s liveState) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stored %d", len(s))
	for _, key := range s.keys() {
		fmt.Fprintf(&b, " %d:", key)
		for i, x := range s[key] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
		}
	}
	return b.String()
}

// readState reads what idx holds through its queries: every key an exhaustive search
// returns, with its vector, and checks that each item is its own nearest neighbour.
func readState(idx *Index) (liveState, error) {
	n := idx.NStored()
	keys, _, err := idx.Search(make([]float32, liveDim), int(n)+10, nil)
	if err != nil {
		return nil, err
	}
	if uint64(len(keys)) != n {
		return nil, fmt.Errorf("a search for every item returned %d of the %d stored", len(keys), n)
	}
	opts, err := NewSearchOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Close()
	if err := opts.SetSearchK(1 << 20); err != nil {
		return nil, err
	}
	state := liveState{}
	for _, key := range keys {
		if _, repeated := state[key]; repeated {
			return nil, fmt.Errorf("key %d returned twice", key)
		}
		v, err := idx.GetItemVector(key)
		if err != nil {
			return nil, err
		}
		nearest, distances, err := idx.Search(v, 1, opts)
		if err != nil {
			return nil, err
		}
		if len(nearest) != 1 || nearest[0] != key || distances[0] != 0 {
			return nil, fmt.Errorf("the nearest item to item %d is %v at %v", key, nearest, distances)
		}
		state[key] = v
	}
	return state, nil
}

// checkState checks that idx holds exactly want, and that keys deleted are gone.
func checkState(t testing.TB, idx *Index, want liveState, deleted ...uint64) {
	t.Helper()
	got, err := readState(idx)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := got.describe(), want.describe(); g != w {
		t.Fatalf("the index holds\n%s\nwant\n%s", g, w)
	}
	for _, key := range deleted {
		if _, err := idx.GetItemVector(key); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("GetItemVector(%d) of a deleted key: %v, want ErrInvalidArgument", key, err)
		}
	}
}

func containsKey(ids []uint64, key uint64) bool {
	for _, id := range ids {
		if id == key {
			return true
		}
	}
	return false
}

// An upsert is returned by the writer's index on the next query; a deleted key never is.
func TestLiveWritesAreVisibleAtOnce(t *testing.T) {
	w := mustOpenWriter(t, filepath.Join(t.TempDir(), "live"), fastWrites)
	idx := writerIndex(t, w)
	if idx.Dim() != liveDim || idx.Metric() != Euclidean || idx.NStored() != 0 {
		t.Fatalf("a new live index: dim %d, metric %v, %d items", idx.Dim(), idx.Metric(), idx.NStored())
	}
	want := liveState{}
	for i := uint64(0); i < 40; i++ {
		key := liveBase + i*1000003
		want.upsert(t, w, key, 0)
		ids, distances, err := idx.Search(want[key], 1, nil)
		if err != nil || len(ids) != 1 || ids[0] != key || distances[0] != 0 {
			t.Fatalf("right after upserting %d, Search returned %v %v %v", key, ids, distances, err)
		}
		if got := idx.NStored(); got != i+1 {
			t.Fatalf("NStored = %d after %d upserts", got, i+1)
		}
	}
	var deleted []uint64
	for i := uint64(0); i < 40; i += 3 {
		key := liveBase + i*1000003
		want.delete(t, w, key)
		deleted = append(deleted, key)
		ids, _, err := idx.Search(liveVector(key, 0), 1000, nil)
		if err != nil || len(ids) != len(want) || containsKey(ids, key) {
			t.Fatalf("after deleting %d, Search returned %d items (want %d), err %v, deleted key returned: %v",
				key, len(ids), len(want), err, containsKey(ids, key))
		}
		ids, _ = mustNns(t, idx, liveVector(key, 0), 1000, -1)
		if containsKey(ids, key) {
			t.Fatalf("GetNnsByVector returned deleted key %d", key)
		}
	}
	checkState(t, idx, want, deleted...)

	// Searches return exactly min(n, live accepted items), filters included.
	if ids, _, err := idx.Search(make([]float32, liveDim), 5, nil); err != nil || len(ids) != 5 {
		t.Fatalf("Search n=5: %v %v", ids, err)
	}
	live := want.keys()
	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Close()
	if err := opts.SetAllowList([]uint64{deleted[0], live[0], live[1], deleted[1]}); err != nil {
		t.Fatal(err)
	}
	ids, _, err := idx.Search(make([]float32, liveDim), 10, opts)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if err != nil || len(ids) != 2 || ids[0] != live[0] || ids[1] != live[1] {
		t.Fatalf("an allow-list of 2 live and 2 deleted keys gave %v %v", ids, err)
	}
	if ids, _, err := idx.SearchByItem(live[2], 3, nil); err != nil || len(ids) != 3 || ids[0] != live[2] {
		t.Fatalf("SearchByItem: %v %v", ids, err)
	}
	batch, _, err := idx.GetNnsBatch(append(append([]float32{}, want[live[3]]...), want[live[4]]...), 1, -1, 2)
	if err != nil || batch[0][0] != live[3] || batch[1][0] != live[4] {
		t.Fatalf("GetNnsBatch: %v %v", batch, err)
	}
}

// Upserting a key that is there replaces its vector.
func TestLiveUpsertReplaces(t *testing.T) {
	w := mustOpenWriter(t, filepath.Join(t.TempDir(), "live"), fastWrites)
	idx := writerIndex(t, w)
	want := liveState{}
	want.upsertBatch(t, w, []uint64{1, 2, 3, 4, 5, 6}, 0)
	far, away := make([]float32, liveDim), make([]float32, liveDim)
	for i := range far {
		far[i], away[i] = 100, -100
	}
	if err := w.Upsert(5, far); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := idx.Search(far, 1, nil); err != nil || ids[0] != 5 {
		t.Fatalf("the item at (100, ...) is %v %v, want 5", ids, err)
	}
	if err := w.Upsert(5, away); err != nil {
		t.Fatal(err)
	}
	want[5] = away
	if ids, distances, err := idx.Search(far, 1, nil); err != nil || ids[0] == 5 || distances[0] < 50 {
		t.Fatalf("after replacing item 5, the nearest to its old vector is %v at %v (%v)", ids, distances, err)
	}
	want.upsertBatch(t, w, []uint64{2, 7}, 1) // a batch replaces too
	if idx.NStored() != 7 {
		t.Fatalf("NStored = %d, want 7", idx.NStored())
	}
	checkState(t, idx, want)
}

// Deleting a key that is not there is not an error: existed is false.
func TestLiveDeleteUnknownKey(t *testing.T) {
	w := mustOpenWriter(t, filepath.Join(t.TempDir(), "live"), fastWrites)
	if existed, err := w.Delete(42); existed || err != nil {
		t.Fatalf("Delete of a key never added: %v %v", existed, err)
	}
	want := liveState{}
	want.upsertBatch(t, w, []uint64{1, 2, 3, liveBase}, 0)
	if existed, err := w.Delete(2); !existed || err != nil {
		t.Fatalf("Delete(2): %v %v", existed, err)
	}
	if existed, err := w.Delete(2); existed || err != nil {
		t.Fatalf("Delete(2) again: %v %v", existed, err)
	}
	if n, err := w.DeleteBatch([]uint64{1, 99, liveBase, 2}); n != 2 || err != nil {
		t.Fatalf("DeleteBatch of 2 present and 2 absent keys: %d %v", n, err)
	}
	if n, err := w.DeleteBatch(nil); n != 0 || err != nil {
		t.Fatalf("DeleteBatch(nil): %d %v", n, err)
	}
	delete(want, 1)
	delete(want, liveBase)
	checkState(t, writerIndex(t, w), liveState{3: want[3]}, 1, 2, liveBase)
}

// With the default durability, everything written is there after Close and a new OpenWriter,
// and for a reader.
func TestLiveDurableAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "live") // parents are created too
	w, err := OpenWriter(dir, liveDim, Euclidean, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := liveState{}
	var keys []uint64
	for i := uint64(0); i < 30; i++ {
		keys = append(keys, liveBase+i)
	}
	want.upsertBatch(t, w, keys, 0)
	for i := uint64(30); i < 35; i++ {
		want.upsert(t, w, liveBase+i, 0)
	}
	want.upsert(t, w, liveBase+3, 1)
	want.upsert(t, w, liveBase+31, 1)
	want.delete(t, w, liveBase+4)
	want.delete(t, w, liveBase+32)
	if n, err := w.DeleteBatch([]uint64{liveBase + 5, liveBase + 6}); n != 2 || err != nil {
		t.Fatalf("DeleteBatch: %d %v", n, err)
	}
	delete(want, liveBase+5)
	delete(want, liveBase+6)
	deleted := []uint64{liveBase + 4, liveBase + 32, liveBase + 5, liveBase + 6}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal("a second Close:", err)
	}

	checkState(t, openReader(t, dir), want, deleted...)
	w = mustOpenWriter(t, dir, nil)
	checkState(t, writerIndex(t, w), want, deleted...)
	want.upsert(t, w, 7, 0)
	want.delete(t, w, liveBase)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustOpenWriter(t, dir, nil)
	checkState(t, writerIndex(t, w), want, append(deleted, liveBase)...)
}

// Timer durability: writes are visible at once; Sync makes them durable; all survive a reopen.
func TestLiveTimerDurabilityAndSync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w := mustOpenWriter(t, dir, &WriterOptions{Durability: DurabilityTimer, FlushMS: 5})
	idx := writerIndex(t, w)
	want := liveState{}
	for i := uint64(0); i < 200; i++ {
		want.upsert(t, w, i*3, 0)
	}
	if idx.NStored() != 200 {
		t.Fatalf("NStored = %d before Sync", idx.NStored())
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	checkState(t, openReader(t, dir), want)
	want.upsert(t, w, 1, 0)
	time.Sleep(30 * time.Millisecond) // the timer syncs
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustOpenWriter(t, dir, nil) // the durability is the writer's, not the directory's
	checkState(t, writerIndex(t, w), want)
	if DurabilitySync.String() != "sync" || DurabilityTimer.String() != "timer" || Durability(7).String() != "Durability(7)" {
		t.Fatal("Durability.String")
	}
}

// exhaustive are options that make a search exact.
func exhaustive(t testing.TB) *SearchOptions {
	t.Helper()
	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opts.Close() })
	if err := opts.SetSearchK(1 << 20); err != nil {
		t.Fatal(err)
	}
	return opts
}

// exactNearest is the brute-force answer: the n keys of want nearest to query, in order.
func exactNearest(want liveState, query []float32, n int) []uint64 {
	keys := want.keys()
	dist := func(key uint64) float64 { return trueDistance(Euclidean, want[key], query) }
	sort.SliceStable(keys, func(i, j int) bool { return dist(keys[i]) < dist(keys[j]) })
	return keys[:n]
}

func sameKeys(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Compaction keeps every item and the answers, while writes and queries go on; Export writes
// the same items into one file.
func TestLiveCompactionKeepsItemsAndAnswers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w := mustOpenWriter(t, dir, fastWrites)
	idx := writerIndex(t, w)
	reader := openReader(t, dir)
	want := liveState{}
	var keys []uint64
	for i := uint64(0); i < 300; i++ {
		keys = append(keys, i*i+liveBase)
	}
	want.upsertBatch(t, w, keys, 0)
	var deleted []uint64
	for i := 0; i < 300; i += 10 {
		want.delete(t, w, keys[i])
		deleted = append(deleted, keys[i])
		want.upsert(t, w, keys[i+1], 1)
	}
	opts := exhaustive(t)
	queries := make([][]float32, 10)
	before := make([][]uint64, len(queries))
	for q := range queries {
		queries[q] = liveVector(uint64(1000+q), 0)
		ids, _, err := idx.Search(queries[q], 10, opts)
		if err != nil || !sameKeys(ids, exactNearest(want, queries[q], 10)) {
			t.Fatalf("before compaction, query %d: %v %v, want %v", q, ids, err, exactNearest(want, queries[q], 10))
		}
		before[q] = ids
	}

	// Compact, while another goroutine writes and another queries.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	added := liveState{}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := uint64(0); i < 50; i++ {
			v := liveVector(5000+i, 0)
			if err := w.Upsert(5000+i, v); err != nil {
				errs <- err
				return
			}
			added[5000+i] = v
		}
	}()
	stop := make(chan struct{})
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ids, _, err := idx.Search(queries[0], 10, nil); err != nil || len(ids) != 10 {
				errs <- fmt.Errorf("a query during compaction: %v %v", ids, err)
				return
			}
		}
	}()
	err := w.Compact(2)
	close(stop)
	wg.Wait()
	close(errs)
	if err != nil {
		t.Fatal(err)
	}
	for err := range errs {
		t.Fatal(err)
	}
	if idx.NTrees() < 5 {
		t.Fatalf("after compaction with NTrees 5, the index has %d trees", idx.NTrees())
	}
	for key, v := range added {
		want[key] = v
	}
	checkState(t, idx, want, deleted...)
	for q := range queries {
		ids, _, err := idx.Search(queries[q], 10, opts)
		if err != nil || !sameKeys(ids, exactNearest(want, queries[q], 10)) {
			t.Fatalf("after compaction, query %d: %v %v, want %v", q, ids, err, exactNearest(want, queries[q], 10))
		}
	}

	// A reader opened before catches up; one opened after sees the same.
	if changed, err := reader.Refresh(); !changed || err != nil {
		t.Fatalf("Refresh after compaction: %v %v", changed, err)
	}
	checkState(t, reader, want, deleted...)
	checkState(t, openReader(t, dir), want, deleted...)

	// Export: one immutable file, which Load maps, with every live item.
	path := filepath.Join(t.TempDir(), "export.ann")
	if err := idx.Export(path); err != nil {
		t.Fatal(err)
	}
	file, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if file.NTrees() < 1 {
		t.Fatal("the exported file has no trees")
	}
	checkState(t, file, want, deleted...)
	if changed, err := file.Refresh(); changed || err != nil {
		t.Fatalf("Refresh of a file: %v %v", changed, err)
	}
}

// WriterOptions.Graph: Compact builds a graph into the new segment (the delta before it has
// none), searches walk it and still find each item's own vector first, and Export writes it
// into the file. Without the option, compaction builds no graph; a degree above 256 is
// refused.
func TestLiveCompactionBuildsAGraph(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w := mustOpenWriter(t, dir, &WriterOptions{Durability: DurabilityTimer, FlushMS: 20, NTrees: 3,
		Graph: true, GraphDegree: 16})
	idx := writerIndex(t, w)
	want := liveState{}
	var keys []uint64
	for i := uint64(0); i < 600; i++ {
		keys = append(keys, i*7+liveBase)
	}
	want.upsertBatch(t, w, keys, 0)
	if idx.HasGraph() {
		t.Fatal("a graph before Compact: the delta has none")
	}
	if err := w.Compact(2); err != nil {
		t.Fatal(err)
	}
	if !idx.HasGraph() {
		t.Fatal("no graph after Compact with WriterOptions.Graph")
	}
	if !openReader(t, dir).HasGraph() {
		t.Fatal("a reader of the compacted directory sees no graph")
	}
	checkState(t, idx, want)

	// A greedy walk (beam 1) may stop short: widen the beam, as a caller would.
	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Close()
	if err := opts.SetEf(64); err != nil {
		t.Fatal(err)
	}
	ownVectorFirst := func(name string, index *Index) {
		t.Helper()
		for i := 0; i < len(keys); i += 13 {
			ids, dists, err := index.Search(want[keys[i]], 10, opts)
			if err != nil || len(ids) != 10 || ids[0] != keys[i] || dists[0] != 0 {
				t.Fatalf("%s: item %d's own vector: %v %v %v", name, keys[i], ids, dists, err)
			}
		}
	}
	ownVectorFirst("after Compact", idx)

	// Export: a fresh build with the writer's settings, graph included.
	path := filepath.Join(t.TempDir(), "export.ann")
	if err := idx.Export(path); err != nil {
		t.Fatal(err)
	}
	file, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if !file.HasGraph() || file.NStored() != uint64(len(keys)) || file.NTrees() != 3 {
		t.Fatalf("the exported file: graph %v, %d items, %d trees", file.HasGraph(), file.NStored(), file.NTrees())
	}
	ownVectorFirst("the exported file", file)

	// Without the option, compaction and export build no graph.
	plainDir := filepath.Join(t.TempDir(), "plain")
	plain := mustOpenWriter(t, plainDir, fastWrites)
	liveState{}.upsertBatch(t, plain, keys, 0)
	if err := plain.Compact(2); err != nil {
		t.Fatal(err)
	}
	plainIdx := writerIndex(t, plain)
	if plainIdx.HasGraph() || plainIdx.NStored() != uint64(len(keys)) {
		t.Fatalf("compaction without Graph: graph %v, %d items", plainIdx.HasGraph(), plainIdx.NStored())
	}
	plainPath := filepath.Join(t.TempDir(), "plain.ann")
	if err := plainIdx.Export(plainPath); err != nil {
		t.Fatal(err)
	}
	if loaded := openReader(t, plainPath); loaded.HasGraph() {
		t.Fatal("an export without Graph has a graph")
	}

	// The degree's bounds: above 256 is the library's refusal, below 0 the binding's.
	for _, degree := range []int{257, 1000, -1} {
		err := openWriterErr(t.TempDir(), liveDim, Euclidean, &WriterOptions{Graph: true, GraphDegree: degree})
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "OpenWriter") {
			t.Errorf("GraphDegree %d: %v, want ErrInvalidArgument", degree, err)
		}
	}
	for _, opts := range []*WriterOptions{{Graph: true}, {Graph: true, GraphDegree: 256}, {GraphDegree: 8}} {
		ok, err := OpenWriter(t.TempDir(), liveDim, Euclidean, opts)
		if err != nil {
			t.Fatalf("options %+v: %v", *opts, err)
		}
		ok.Close()
	}
}

// One writer per directory: a second gets ErrInvalidState until the first is closed.
func TestLiveSecondWriterIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w, err := OpenWriter(dir, liveDim, Euclidean, fastWrites)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	second, err := OpenWriter(dir, liveDim, Euclidean, nil)
	if second != nil || !errors.Is(err, ErrInvalidState) || errors.Is(err, ErrClosed) {
		t.Fatalf("a second writer: %v, %v; want ErrInvalidState", second, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "OpenWriter" || e.Message == "" {
		t.Fatalf("the error %#v lacks its Op or message", err)
	}
	want := liveState{}
	want.upsert(t, w, 1, 0) // the first writer is unharmed
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustOpenWriter(t, dir, nil)
	checkState(t, writerIndex(t, w), want)
}

// Bad input is the binding's ErrInvalidArgument, and changes nothing.
func TestLiveBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w := mustOpenWriter(t, dir, fastWrites)
	want := liveState{}
	want.upsert(t, w, 1, 0)
	nan, inf := liveVector(2, 0), liveVector(2, 0)
	nan[3], inf[5] = float32(math.NaN()), float32(math.Inf(-1))
	good := liveVector(2, 0)
	for name, err := range map[string]error{
		"NaN":                 w.Upsert(2, nan),
		"infinity":            w.Upsert(2, inf),
		"NoKey":               w.Upsert(NoKey, good),
		"short vector":        w.Upsert(2, good[:liveDim-1]),
		"long vector":         w.Upsert(2, append(good, 1)),
		"nil vector":          w.Upsert(2, nil),
		"batch length":        w.UpsertBatch([]uint64{2, 3}, good),
		"NaN in a batch":      w.UpsertBatch([]uint64{2, 3}, append(append([]float32{}, good...), nan...)),
		"NoKey in a batch":    w.UpsertBatch([]uint64{2, NoKey}, append(append([]float32{}, good...), good...)),
		"nThreads overflow":   w.Compact(math.MaxInt32 + 1),
		"NUL in a dir":        openWriterErr("bad\x00dir", liveDim, Euclidean, nil),
		"dim 0":               openWriterErr(t.TempDir(), 0, Euclidean, nil),
		"dim -1":              openWriterErr(t.TempDir(), -1, Euclidean, nil),
		"metric 99":           openWriterErr(t.TempDir(), liveDim, Metric(99), nil),
		"FlushMS 60001":       openWriterErr(t.TempDir(), liveDim, Euclidean, &WriterOptions{Durability: DurabilityTimer, FlushMS: 60001}),
		"FlushMS -1":          openWriterErr(t.TempDir(), liveDim, Euclidean, &WriterOptions{FlushMS: -1}),
		"Durability 5":        openWriterErr(t.TempDir(), liveDim, Euclidean, &WriterOptions{Durability: 5}),
		"NTrees -2":           openWriterErr(t.TempDir(), liveDim, Euclidean, &WriterOptions{NTrees: -2}),
		"NUL in an Open path": openErr("bad\x00path"),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	// The library's defaults and bounds are accepted.
	for _, opts := range []*WriterOptions{{}, {NTrees: -1}, {Durability: DurabilityTimer, FlushMS: 1}, {FlushMS: 60000}} {
		ok, err := OpenWriter(t.TempDir(), liveDim, Euclidean, opts)
		if err != nil {
			t.Fatalf("options %+v: %v", *opts, err)
		}
		ok.Close()
	}
	idx := writerIndex(t, w)
	checkState(t, idx, want, 2, 3)

	// A read handle of a live index is read-only.
	if err := idx.AddItem(9, good); !errors.Is(err, ErrInvalidState) {
		t.Errorf("AddItem on a live index: %v, want ErrInvalidState", err)
	}
	if err := idx.Build(2, 1); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Build on a live index: %v, want ErrInvalidState", err)
	}
	if err := idx.Save(filepath.Join(t.TempDir(), "x.ann")); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Save on a live index: %v, want ErrInvalidState", err)
	}

	// Reopening with another dim or metric is refused, and leaves the directory free.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := openWriterErr(dir, liveDim+1, Euclidean, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("reopening with another dim: %v, want ErrInvalidArgument", err)
	}
	if err := openWriterErr(dir, liveDim, Angular, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("reopening with another metric: %v, want ErrInvalidArgument", err)
	}
	checkState(t, writerIndex(t, mustOpenWriter(t, dir, nil)), want)

	// Open: a directory without a live index, or no file, is an ErrIO.
	if err := openErr(t.TempDir()); !errors.Is(err, ErrIO) {
		t.Errorf("Open of an empty directory: %v, want ErrIO", err)
	}
	if err := openErr(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrIO) {
		t.Errorf("Open of a missing path: %v, want ErrIO", err)
	}
}

func openWriterErr(dir string, dim int, metric Metric, opts *WriterOptions) error {
	w, err := OpenWriter(dir, dim, metric, opts)
	if err == nil {
		w.Close()
	}
	return err
}

func openErr(path string) error {
	idx, err := Open(path, false)
	if err == nil {
		idx.Close()
	}
	return err
}

// Every method of a closed (or nil) writer is ErrClosed; its indexes stay usable.
func TestLiveWriterUseAfterClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w, err := OpenWriter(dir, liveDim, Euclidean, fastWrites)
	if err != nil {
		t.Fatal(err)
	}
	idx := writerIndex(t, w)
	want := liveState{}
	want.upsert(t, w, liveBase, 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var nilWriter *Writer
	for _, writer := range []*Writer{w, nilWriter} {
		v := liveVector(1, 0)
		_, deleteErr := writer.Delete(1)
		_, batchErr := writer.DeleteBatch([]uint64{1})
		_, indexErr := writer.Index()
		for name, err := range map[string]error{
			"Upsert": writer.Upsert(1, v), "UpsertBatch": writer.UpsertBatch([]uint64{1}, v),
			"Delete": deleteErr, "DeleteBatch": batchErr, "Sync": writer.Sync(),
			"Compact": writer.Compact(1), "Index": indexErr,
		} {
			if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrInvalidState) ||
				!strings.Contains(err.Error(), name) {
				t.Errorf("%s after Close: %v, want ErrClosed naming the method", name, err)
			}
		}
		if err := writer.Close(); err != nil {
			t.Errorf("Close again: %v", err)
		}
	}
	if w.Dim() != liveDim || w.Metric() != Euclidean || w.Dir() != dir {
		t.Errorf("after Close: Dim %d, Metric %v, Dir %q", w.Dim(), w.Metric(), w.Dir())
	}
	if nilWriter.Dim() != 0 || nilWriter.Dir() != "" || nilWriter.Metric() != 0 {
		t.Error("a nil writer's accessors")
	}
	checkState(t, idx, want) // the writer's index outlives it
	if changed, err := idx.Refresh(); changed || err != nil {
		t.Errorf("Refresh of a writer's index: %v %v", changed, err)
	}
	idx.Close()
	if _, err := idx.Refresh(); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close: %v", err)
	}
	if err := idx.Export(filepath.Join(t.TempDir(), "x.ann")); !errors.Is(err, ErrClosed) {
		t.Errorf("Export after Close: %v", err)
	}
	// The directory is free again.
	checkState(t, writerIndex(t, mustOpenWriter(t, dir, nil)), want)
}

// Writers on many goroutines (sharing log syncs), queries on the writer's index and a
// refreshing reader, all at once; then Close racing writes.
func TestLiveConcurrentWritesAndReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w, err := OpenWriter(dir, liveDim, Euclidean, nil) // synced writes: group commit
	if err != nil {
		t.Fatal(err)
	}
	idx := writerIndex(t, w)
	reader := openReader(t, dir)
	const writers, perWriter = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers+3)
	stop := make(chan struct{})
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				key := uint64(g*1000 + i)
				if err := w.Upsert(key, liveVector(key, 0)); err != nil {
					errs <- err
					return
				}
				if i%5 == 4 {
					if existed, err := w.Delete(key); !existed || err != nil {
						errs <- fmt.Errorf("Delete(%d) = %v, %v", key, existed, err)
						return
					}
				}
			}
		}(g)
	}
	var readers sync.WaitGroup
	for _, r := range []*Index{idx, reader} {
		readers.Add(1)
		go func(r *Index) {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r == reader {
					if _, err := r.Refresh(); err != nil {
						errs <- err
						return
					}
				}
				n := r.NStored()
				ids, _, err := r.Search(make([]float32, liveDim), 3, nil)
				if err != nil || (n >= 10 && len(ids) != 3) {
					errs <- fmt.Errorf("a query during writes: %v %v (%d stored)", ids, err, n)
					return
				}
			}
		}(r)
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	want := liveState{}
	for g := 0; g < writers; g++ {
		for i := 0; i < perWriter; i++ {
			if i%5 != 4 {
				key := uint64(g*1000 + i)
				want[key] = liveVector(key, 0)
			}
		}
	}
	checkState(t, idx, want)
	if _, err := reader.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkState(t, reader, want)

	// Close racing writes: each write either succeeds or is ErrClosed.
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				err := w.Upsert(uint64(10000+g*100+i), liveVector(1, 0))
				if err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	time.Sleep(time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// A Writer the program forgot to close is closed by its finalizer, which frees the directory.
func TestFinalizerClosesForgottenWriters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	before := finalizedWriters.Load()
	func() {
		w, err := OpenWriter(dir, liveDim, Euclidean, fastWrites)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Upsert(3, liveVector(3, 0)); err != nil {
			t.Fatal(err)
		}
	}()
	var w *Writer
	var err error
	for i := 0; i < 50; i++ {
		runtime.GC()
		if w, err = OpenWriter(dir, liveDim, Euclidean, nil); err == nil {
			break
		}
		if !errors.Is(err, ErrInvalidState) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the forgotten writer still holds the directory: %v", err)
	}
	defer w.Close()
	if finalizedWriters.Load() == before {
		t.Fatal("the finalizer did not run")
	}
	checkState(t, writerIndex(t, w), liveState{3: liveVector(3, 0)})
}

// Open maps a plain index file as Load does; Export of a built index writes the same items.
func TestOpenFileAndExportPlainIndex(t *testing.T) {
	data := dataset(Euclidean, 100, liveDim, 5)
	built := buildIndex(t, Euclidean, data, liveDim, 4)
	path := tempPath(t, "plain.ann")
	if err := built.Export(path); err != nil {
		t.Fatal(err)
	}
	opened := openReader(t, path)
	if opened.NStored() != 100 || opened.NTrees() != 4 || opened.Dim() != liveDim || opened.Metric() != Euclidean {
		t.Fatalf("Open of an exported file: %d items, %d trees, dim %d, %v",
			opened.NStored(), opened.NTrees(), opened.Dim(), opened.Metric())
	}
	for q := 0; q < 5; q++ {
		query := row(data, liveDim, q)
		a, da := mustNns(t, built, query, 10, -1)
		b, db := mustNns(t, opened, query, 10, -1)
		if !sameKeys(a, b) || fmt.Sprint(da) != fmt.Sprint(db) {
			t.Fatalf("query %d: built %v, opened %v", q, a, b)
		}
	}
	if changed, err := opened.Refresh(); changed || err != nil {
		t.Fatalf("Refresh of a file: %v %v", changed, err)
	}
	if err := opened.AddItem(1000, row(data, liveDim, 0)); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("AddItem on an opened file: %v", err)
	}
}

// --- a reader in another process ---

// liveReaderEnv makes this test binary a reader of the live directory it names (see
// TestMain): it opens the directory and answers commands on stdin, one line each.
const liveReaderEnv = "ANN_GO_TEST_LIVE_READER"

// liveReaderChild answers "dump" (the state, as liveState.describe), "refresh" (changed and
// the error), "writer" (whether OpenWriter is refused with ErrInvalidState) and "quit".
func liveReaderChild(dir string) int {
	idx, err := Open(dir, false)
	if err != nil {
		fmt.Println("open failed:", err)
		return 1
	}
	defer idx.Close()
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		switch in.Text() {
		case "dump":
			if state, err := readState(idx); err != nil {
				fmt.Fprintln(out, "dump failed:", err)
			} else {
				fmt.Fprintln(out, state.describe())
			}
		case "refresh":
			changed, err := idx.Refresh()
			fmt.Fprintln(out, "changed", changed, err)
		case "writer":
			w, err := OpenWriter(dir, idx.Dim(), idx.Metric(), nil)
			if err == nil {
				w.Close()
				fmt.Fprintln(out, "a second writer opened")
			} else {
				fmt.Fprintln(out, "refused, invalid state:", errors.Is(err, ErrInvalidState))
			}
		case "quit":
			return 0
		default:
			fmt.Fprintln(out, "unknown command", in.Text())
		}
		out.Flush()
	}
	return 2
}

// liveReader is a child process reading a live directory.
type liveReader struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     *bufio.Writer
	out    *bufio.Scanner
	stderr strings.Builder
}

func startLiveReader(t *testing.T, dir string) *liveReader {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	r := &liveReader{t: t, cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^$")}
	r.cmd.Env = append(os.Environ(), liveReaderEnv+"="+dir)
	r.cmd.Stderr = &r.stderr
	stdin, err := r.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		r.cmd.Wait()
	})
	r.in = bufio.NewWriter(stdin)
	r.out = bufio.NewScanner(stdout)
	r.out.Buffer(make([]byte, 1<<16), 1<<24)
	return r
}

// ask sends a command and returns the child's answer.
func (r *liveReader) ask(command string) string {
	r.t.Helper()
	if _, err := r.in.WriteString(command + "\n"); err != nil {
		r.t.Fatal(err)
	}
	if err := r.in.Flush(); err != nil {
		r.t.Fatal(err)
	}
	if !r.out.Scan() {
		r.t.Fatalf("the reader process ended (%v): %s", r.out.Err(), r.stderr.String())
	}
	return r.out.Text()
}

// quit ends the child, which must exit cleanly.
func (r *liveReader) quit() {
	r.t.Helper()
	if _, err := r.in.WriteString("quit\n"); err != nil {
		r.t.Fatal(err)
	}
	if err := r.in.Flush(); err != nil {
		r.t.Fatal(err)
	}
	if err := r.cmd.Wait(); err != nil {
		r.t.Fatalf("the reader process: %v: %s", err, r.stderr.String())
	}
}

func (r *liveReader) expect(command, want string) {
	r.t.Helper()
	if got := r.ask(command); got != want {
		r.t.Fatalf("the reader process answered %q with\n%s\nwant\n%s", command, got, want)
	}
}

// A reader in another process opens the directory without a lock, sees what was written,
// and sees later writes, and a compaction, after Refresh.
func TestLiveReaderInAnotherProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	w := mustOpenWriter(t, dir, &WriterOptions{NTrees: 3}) // synced writes
	want := liveState{}
	var keys []uint64
	for i := uint64(0); i < 20; i++ {
		keys = append(keys, liveBase+i*i)
	}
	want.upsertBatch(t, w, keys, 0)

	reader := startLiveReader(t, dir)
	reader.expect("dump", want.describe())
	reader.expect("writer", "refused, invalid state: true") // our writer holds the directory

	// More writes: seen after a refresh.
	for i := uint64(20); i < 30; i++ {
		want.upsert(t, w, liveBase+i*i, 0)
	}
	want.upsert(t, w, keys[0], 1)
	want.delete(t, w, keys[1])
	want.delete(t, w, keys[2])
	reader.expect("refresh", "changed true <nil>")
	reader.expect("dump", want.describe())
	reader.expect("refresh", "changed false <nil>")

	// A compaction: the reader keeps working on the files it maps, and catches up.
	if err := w.Compact(1); err != nil {
		t.Fatal(err)
	}
	reader.expect("dump", want.describe())
	reader.expect("refresh", "changed true <nil>")
	reader.expect("dump", want.describe())

	// Writes after the compaction.
	want.upsert(t, w, 7, 0)
	want.upsert(t, w, keys[3], 2)
	want.delete(t, w, keys[4])
	reader.expect("refresh", "changed true <nil>")
	reader.expect("dump", want.describe())

	// Once the writer is closed, the directory is free for another process's writer.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	reader.expect("writer", "a second writer opened")
	reader.quit()
}
