package ann

import (
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// filterKey is the key of row i in the filter tests: sparse, beyond 2^40.
func filterKey(i int) uint64 { return 1<<40 + uint64(i)*7919 }

// filterFixture is an index of 2000 items under sparse keys, and its rows.
func filterFixture(t *testing.T) (*Index, []float32, []uint64) {
	t.Helper()
	const n, dim = 2000, 8
	data := dataset(Euclidean, n, dim, 41)
	idx, err := New(dim, Euclidean)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = filterKey(i)
		if err := idx.AddItem(keys[i], row(data, dim, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.Build(8, 2); err != nil {
		t.Fatal(err)
	}
	return idx, data, keys
}

func newOptions(t testing.TB) *SearchOptions {
	t.Helper()
	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opts.Close() })
	return opts
}

// exactFiltered is the brute-force answer: the n accepted keys nearest to query.
func exactFiltered(data []float32, dim int, keys []uint64, query []float32, n int, accept func(uint64) bool) []uint64 {
	type scored struct {
		key uint64
		d   float64
	}
	var all []scored
	for i, key := range keys {
		if accept(key) {
			all = append(all, scored{key, trueDistance(Euclidean, row(data, dim, i), query)})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].d < all[j].d })
	if len(all) > n {
		all = all[:n]
	}
	out := make([]uint64, len(all))
	for i, s := range all {
		out[i] = s.key
	}
	return out
}

// checkFiltered asserts a search's answer: exactly min(n, accepted) distinct results, all
// accepted, nearest first.
func checkFiltered(t *testing.T, what string, ids []uint64, dists []float32, n, accepted int, accept func(uint64) bool) {
	t.Helper()
	want := n
	if accepted < want {
		want = accepted
	}
	if len(ids) != want || len(dists) != want {
		t.Fatalf("%s: %d results (%d distances), want min(%d, %d) = %d", what, len(ids), len(dists), n, accepted, want)
	}
	seen := make(map[uint64]bool, len(ids))
	for i, id := range ids {
		if !accept(id) || seen[id] {
			t.Fatalf("%s: result %d (key %d) is not accepted, or repeated", what, i, id)
		}
		seen[id] = true
		if i > 0 && dists[i] < dists[i-1] {
			t.Fatalf("%s: distances out of order %v", what, dists)
		}
	}
}

// Allow-list, deny-list and filter func at selectivities from one item to all of them return
// exactly min(n, accepted) results, none outside the filter, n below and above the count.
func TestFilterSelectivities(t *testing.T) {
	idx, data, keys := filterFixture(t)
	const dim = 8
	rng := rand.New(rand.NewSource(42))
	query := dataset(Euclidean, 1, dim, 43)
	for _, accepted := range []int{1, 2, 200, 2000} { // 1 item, 0.1%, 10%, 100%
		perm := rng.Perm(len(keys))
		allowed := make([]uint64, accepted)
		inSet := make(map[uint64]bool, accepted)
		for i := range allowed {
			allowed[i] = keys[perm[i]]
			inSet[allowed[i]] = true
		}
		var denied []uint64
		for _, key := range keys {
			if !inSet[key] {
				denied = append(denied, key)
			}
		}
		accept := func(key uint64) bool { return inSet[key] }

		allow := newOptions(t)
		// Repeats and order do not matter: the list is normalised.
		if err := allow.SetAllowList(append(append([]uint64(nil), allowed...), allowed[0])); err != nil {
			t.Fatal(err)
		}
		deny := newOptions(t)
		if err := deny.SetDenyList(denied); err != nil {
			t.Fatal(err)
		}
		pred := newOptions(t)
		if err := pred.SetFilter(accept); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 10, accepted + 7} {
			for name, opts := range map[string]*SearchOptions{"allow-list": allow, "deny-list": deny, "filter": pred} {
				what := fmt.Sprintf("%s, %d accepted, n %d", name, accepted, n)
				ids, dists, err := idx.Search(query, n, opts)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				checkFiltered(t, what, ids, dists, n, accepted, accept)
				if accepted <= 2 && !reflect.DeepEqual(ids, exactFiltered(data, dim, keys, query, n, accept)) {
					t.Fatalf("%s: %v is not the exact answer", what, ids)
				}
				ids, dists, err = idx.SearchByItem(allowed[0], n, opts)
				if err != nil || ids[0] != allowed[0] {
					t.Fatalf("%s by item: %v %v", what, ids, err)
				}
				checkFiltered(t, what+" by item", ids, dists, n, accepted, accept)
			}
		}
	}
}

// The three filters combine: allowed, not denied, and accepted by the func.
func TestFiltersCombine(t *testing.T) {
	idx, data, keys := filterFixture(t)
	opts := newOptions(t)
	if err := opts.SetAllowList(keys[:100]); err != nil {
		t.Fatal(err)
	}
	if err := opts.SetDenyList(keys[:10]); err != nil {
		t.Fatal(err)
	}
	if err := opts.SetFilter(func(key uint64) bool { return (key-filterKey(0))/7919%2 == 0 }); err != nil {
		t.Fatal(err)
	}
	if err := opts.SetSearchK(10000); err != nil {
		t.Fatal(err)
	}
	accept := func(key uint64) bool {
		i := int((key - filterKey(0)) / 7919)
		return i >= 10 && i < 100 && i%2 == 0
	}
	query := row(data, 8, 500)
	ids, dists, err := idx.Search(query, 100, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiltered(t, "combined", ids, dists, 100, 45, accept)
	// Removing the func widens the filter back to allow minus deny.
	if err := opts.SetFilter(nil); err != nil {
		t.Fatal(err)
	}
	ids, dists, err = idx.Search(query, 100, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiltered(t, "without the func", ids, dists, 100, 90, func(key uint64) bool {
		i := int((key - filterKey(0)) / 7919)
		return i >= 10 && i < 100
	})
	// An empty allow-list accepts nothing; an empty deny-list denies nothing.
	empty := newOptions(t)
	if err := empty.SetDenyList(nil); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := idx.Search(query, 5, empty); err != nil || len(ids) != 5 {
		t.Fatalf("empty deny-list: %v %v", ids, err)
	}
	if err := empty.SetAllowList([]uint64{}); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := idx.Search(query, 5, empty); err != nil || len(ids) != 0 {
		t.Fatalf("empty allow-list: %v %v", ids, err)
	}
	_ = keys
}

// Nil options are the defaults; searchK is checked; unlike GetNns, Search returns n results.
func TestSearchDefaults(t *testing.T) {
	idx, data, _ := filterFixture(t)
	query := row(data, 8, 3)
	ids, dists, err := idx.Search(query, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFiltered(t, "nil options", ids, dists, 10, 2000, func(uint64) bool { return true })
	if ids[0] != filterKey(3) || dists[0] != 0 {
		t.Fatalf("nearest %d at %v", ids[0], dists[0])
	}
	opts := newOptions(t)
	expectError(t, opts.SetSearchK(-2), ErrInvalidArgument, "SetSearchK")
	if err := opts.SetSearchK(-1); err != nil {
		t.Fatal(err)
	}
	_, _, err = idx.Search(query[:3], 10, opts)
	expectError(t, err, ErrInvalidArgument, "has 3 values")
	_, _, err = idx.Search(query, -1, opts)
	expectError(t, err, ErrInvalidArgument, "negative")
	_, _, err = idx.SearchBatch(make([]float32, 9), 3, opts, 1)
	expectError(t, err, ErrInvalidArgument, "not a multiple")
	_, _, err = idx.SearchBatch(make([]float32, 8), 3, opts, 0)
	expectError(t, err, ErrInvalidArgument, "SearchBatch")
	ids, _, err = idx.Search(query, 0, opts)
	if err != nil || len(ids) != 0 {
		t.Fatalf("n 0: %v %v", ids, err)
	}
	unbuilt, _ := New(8, Euclidean)
	defer unbuilt.Close()
	_, _, err = unbuilt.Search(query, 1, opts)
	expectError(t, err, ErrInvalidState, "Search")
}

// The filter func runs on libann's threads in a batch, several at once, and each row is
// what Search returns for that query.
func TestFilterFuncInBatch(t *testing.T) {
	idx, _, keys := filterFixture(t)
	const dim, nQueries = 8, 24
	var calls atomic.Int64
	accept := func(key uint64) bool {
		calls.Add(1)
		return (key-filterKey(0))/7919%10 == 3
	}
	opts := newOptions(t)
	if err := opts.SetFilter(accept); err != nil {
		t.Fatal(err)
	}
	queries := dataset(Euclidean, nQueries, dim, 44)
	for _, threads := range []int{1, 4, -1} {
		calls.Store(0)
		ids, dists, err := idx.SearchBatch(queries, 15, opts, threads)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != nQueries || calls.Load() == 0 {
			t.Fatalf("%d threads: %d rows, %d calls", threads, len(ids), calls.Load())
		}
		for q := range ids {
			checkFiltered(t, fmt.Sprintf("%d threads, row %d", threads, q), ids[q], dists[q], 15, 200,
				func(key uint64) bool { return (key-filterKey(0))/7919%10 == 3 })
			single, singleDists, err := idx.Search(row(queries, dim, q), 15, opts)
			if err != nil || !reflect.DeepEqual(single, ids[q]) || !reflect.DeepEqual(singleDists, dists[q]) {
				t.Fatalf("%d threads, row %d: batch %v, single %v %v", threads, q, ids[q], single, err)
			}
		}
	}
	// Allow-lists in a batch too: one accepted item, larger n.
	if err := opts.SetAllowList(keys[7:8]); err != nil {
		t.Fatal(err)
	}
	if err := opts.SetFilter(nil); err != nil {
		t.Fatal(err)
	}
	ids, _, err := idx.SearchBatch(queries, 5, opts, 2)
	if err != nil {
		t.Fatal(err)
	}
	for q := range ids {
		if !reflect.DeepEqual(ids[q], []uint64{keys[7]}) {
			t.Fatalf("row %d: %v", q, ids[q])
		}
	}
}

// The filter func may query the index it filters.
func TestFilterFuncQueriesTheIndex(t *testing.T) {
	idx, data, keys := filterFixture(t)
	opts := newOptions(t)
	if err := opts.SetFilter(func(key uint64) bool {
		v, err := idx.GetItemVector(key)
		return err == nil && v[0] > 0
	}); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for i := range keys {
		if data[i*8] > 0 {
			accepted++
		}
	}
	ids, dists, err := idx.Search(row(data, 8, 0), accepted+3, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiltered(t, "filter reading vectors", ids, dists, accepted+3, accepted, func(key uint64) bool {
		return data[int((key-filterKey(0))/7919)*8] > 0
	})
}

var errFilterTest = errors.New("filter test failure")

// A panic in the filter func refuses the key and becomes the search's error: no crash, in
// single searches and in batches on several threads; the options stay usable.
func TestFilterPanicIsReported(t *testing.T) {
	idx, data, keys := filterFixture(t)
	opts := newOptions(t)
	bad := keys[5]
	if err := opts.SetFilter(func(key uint64) bool {
		if key == bad {
			panic(errFilterTest)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	ids, dists, err := idx.Search(row(data, 8, 5), 10, opts)
	var fp *FilterPanicError
	if !errors.Is(err, ErrFilterPanic) || !errors.Is(err, errFilterTest) || !errors.As(err, &fp) {
		t.Fatalf("got %v, want a FilterPanicError wrapping errFilterTest", err)
	}
	if ids != nil || dists != nil || fp.Key != bad || fp.Op != "Search" || len(fp.Stack) == 0 ||
		!containsAll(err.Error(), "Search", "panicked", fmt.Sprint(bad), "filter test failure") {
		t.Fatalf("error %q: key %d, op %q, results %v", err, fp.Key, fp.Op, ids)
	}
	_, _, err = idx.SearchByItem(bad, 3, opts)
	if !errors.As(err, &fp) || fp.Op != "SearchByItem" {
		t.Fatalf("by item: %v", err)
	}
	// In a batch, every query meets the bad key (the filter accepts all others): many panics
	// on libann's threads, one error.
	_, _, err = idx.SearchBatch(dataset(Euclidean, 16, 8, 45), 2000, opts, 4)
	if !errors.As(err, &fp) || fp.Op != "SearchBatch" || fp.Key != bad {
		t.Fatalf("batch: %v", err)
	}
	// A panic with a value that is not an error.
	if err := opts.SetFilter(func(key uint64) bool { panic(fmt.Sprintf("no key %d", key)) }); err != nil {
		t.Fatal(err)
	}
	_, _, err = idx.Search(row(data, 8, 0), 3, opts)
	if !errors.As(err, &fp) || fp.Value != fmt.Sprintf("no key %d", fp.Key) || errors.Unwrap(err) != nil {
		t.Fatalf("string panic: %v", err)
	}
	// The options recover with a filter that does not panic.
	if err := opts.SetFilter(func(uint64) bool { return true }); err != nil {
		t.Fatal(err)
	}
	ids, dists, err = idx.Search(row(data, 8, 5), 10, opts)
	if err != nil || ids[0] != keys[5] {
		t.Fatalf("after the panics: %v %v", ids, err)
	}
	checkFiltered(t, "after the panics", ids, dists, 10, 2000, func(uint64) bool { return true })
}

// Closed options are an ErrClosed error, never a crash: setters, searches, a second Close.
func TestSearchOptionsClose(t *testing.T) {
	idx, data, _ := filterFixture(t)
	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	if err := opts.SetFilter(func(uint64) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := opts.Close(); err != nil {
		t.Fatal(err)
	}
	if err := opts.Close(); err != nil {
		t.Fatal(err)
	}
	if opts.handle != 0 || opts.filter != nil {
		t.Fatal("Close kept the filter's handle")
	}
	expectError(t, opts.SetSearchK(10), ErrClosed, "SetSearchK")
	expectError(t, opts.SetAllowList([]uint64{1}), ErrClosed, "SetAllowList")
	expectError(t, opts.SetDenyList([]uint64{1}), ErrClosed, "SetDenyList")
	expectError(t, opts.SetFilter(nil), ErrClosed, "SetFilter")
	_, _, err = idx.Search(row(data, 8, 0), 3, opts)
	expectError(t, err, ErrClosed, "Search")
	_, _, err = idx.SearchByItem(filterKey(0), 3, opts)
	expectError(t, err, ErrClosed, "SearchByItem")
	_, _, err = idx.SearchBatch(row(data, 8, 0), 3, opts, 1)
	expectError(t, err, ErrClosed, "SearchBatch")
	var none *SearchOptions
	expectError(t, none.SetSearchK(1), ErrClosed, "SetSearchK")
	if err := none.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed index with good options is the index's ErrClosed.
	live := newOptions(t)
	closed := buildIndex(t, Euclidean, data[:80], 8, 2)
	closed.Close()
	_, _, err = closed.Search(row(data, 8, 0), 3, live)
	expectError(t, err, ErrClosed, "index is closed")
}

// Goroutines share one options object, filter func included, and get the serial answers;
// then Close races searches: each completes or reports ErrClosed.
func TestSharedOptionsConcurrently(t *testing.T) {
	idx, data, _ := filterFixture(t)
	opts := newOptions(t)
	accept := func(key uint64) bool { return (key-filterKey(0))/7919%4 != 0 }
	if err := opts.SetFilter(accept); err != nil {
		t.Fatal(err)
	}
	if err := opts.SetDenyList([]uint64{filterKey(1), filterKey(2)}); err != nil {
		t.Fatal(err)
	}
	const nQueries = 16
	want := make([][]uint64, nQueries)
	for q := range want {
		ids, _, err := idx.Search(row(data, 8, q), 10, opts)
		if err != nil {
			t.Fatal(err)
		}
		want[q] = ids
	}
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				q := (g + i) % nQueries
				ids, _, err := idx.Search(row(data, 8, q), 10, opts)
				if err != nil || !reflect.DeepEqual(ids, want[q]) {
					failures.Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d shared-options searches differ from the serial ones", failures.Load())
	}

	racing, _ := NewSearchOptions()
	if err := racing.SetFilter(accept); err != nil {
		t.Fatal(err)
	}
	var bad atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				q := (g + i) % nQueries
				ids, _, err := idx.Search(row(data, 8, q), 10, racing)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil || len(ids) != 10 {
					bad.Add(1)
					return
				}
			}
		}(g)
	}
	racing.Close()
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d searches failed otherwise than ErrClosed", bad.Load())
	}
}

// Options the program forgot to close are freed by their finalizer, filter handle included.
func TestFinalizerFreesForgottenOptions(t *testing.T) {
	before := finalizedOptions.Load()
	for i := 0; i < 50; i++ {
		opts, err := NewSearchOptions()
		if err != nil {
			t.Fatal(err)
		}
		if err := opts.SetFilter(func(uint64) bool { return false }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20 && finalizedOptions.Load()-before < 50; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := finalizedOptions.Load() - before; n < 40 {
		t.Fatalf("the finalizer freed %d of 50 forgotten options", n)
	}
}
