package ann

// The bad-input matrix: every exported function and method of this package, called with each
// kind of bad input of include/ann_errors.md as Go expresses it (nil slices, options and
// funcs, "" and NUL in strings, out-of-range metrics, durabilities, keys, dims, counts and
// thread counts, NaN and infinity, wrong lengths, every wrong state, use after Close). Each
// case must give the documented error (the sentinel, and nothing else; an Op naming the
// method; a message saying what is wrong) or, where the input is allowed (n = 0, a huge
// searchK, nil options), the documented result; never a panic. After every case, every
// fixture index must answer a query exactly as before.
//
// The matrix is checked against the package itself: TestBadInputMatrixCoversTheAPI parses the
// package's source for every exported function and method, and fails when one has no case
// here (or no case passing each of its nil-able or string parameters as its zero value), so a
// function added later must be added to badInputMatrix. TestBadInputAfterClose calls every
// method of a closed and of a nil *Index, *SearchOptions and *Writer through reflection, so a
// method added later is covered there without a table entry.
//
// Output buffers: this package takes none (results are slices it allocates at the size libann
// needs), so ANN_STATUS_BUFFER_TOO_SMALL cannot arise here.

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// badCase is one bad input to one entry point.
type badCase struct {
	api  string // the entry point: "New", or "Index.AddItem"
	name string // what is bad about the input
	// run makes the call. For a case that must fail, it returns the call's error. For a case
	// that must succeed (want nil), it returns nil, or an error saying what was wrong with the
	// result.
	run func(f *matrixFixture) error
	// want is the sentinel the error must match (and no other, but ErrInvalidState for
	// ErrClosed); nil: the call must succeed.
	want error
	// says are fragments the error's message must contain (case-insensitive), so that it
	// says what is wrong.
	says []string
	// nilArg is the parameter (1-based, after the receiver) this case passes as its zero
	// value: nil, or "" for a string. 0: none.
	nilArg int
	// known, when set, is a library behaviour this case pins down that contradicts
	// include/ann_errors.md or ann.h; it is reported, and the case asserts what happens now, so
	// that a fix shows up here as a failure to update.
	known string
}

// noBadInput lists the exported functions and methods that take no input that can be bad,
// with the reason; their use after Close is covered by TestBadInputAfterClose.
var noBadInput = map[string]string{
	"NewSearchOptions":       "no arguments",
	"Version":                "no arguments",
	"ABIVersion":             "no arguments",
	"LibraryPath":            "no arguments",
	"Index.Close":            "no arguments; closing twice is in TestBadInputAfterClose",
	"Index.Dim":              "no arguments",
	"Index.Metric":           "no arguments",
	"Index.NItems":           "no arguments",
	"Index.NStored":          "no arguments",
	"Index.NTrees":           "no arguments",
	"Index.HasGraph":         "no arguments",
	"Index.Seed":             "no arguments",
	"SearchOptions.Close":    "no arguments; closing twice is in TestBadInputAfterClose",
	"Writer.Close":           "no arguments; closing twice is in TestBadInputAfterClose",
	"Writer.Sync":            "no arguments",
	"Writer.Index":           "no arguments",
	"Writer.Dir":             "no arguments",
	"Writer.Dim":             "no arguments",
	"Writer.Metric":          "no arguments",
	"Error.Error":            "no arguments",
	"FilterPanicError.Error": "no arguments",
}

// apiFuncs are the package-level functions, by name, for their signatures (Go's reflection
// cannot list a package's functions: TestBadInputMatrixCoversTheAPI checks this list against
// the source).
var apiFuncs = map[string]interface{}{
	"New": New, "Load": Load, "LoadAnnoy": LoadAnnoy, "OpenShards": OpenShards, "Open": Open,
	"OpenWriter": OpenWriter, "FileInfo": FileInfo, "ParseMetric": ParseMetric,
	"NewSearchOptions": NewSearchOptions, "Version": Version, "ABIVersion": ABIVersion,
	"LibraryPath": LibraryPath,
}

// apiTypes are the exported types with methods (checked against the source too).
var apiTypes = []reflect.Type{
	reflect.TypeOf((*Index)(nil)), reflect.TypeOf((*SearchOptions)(nil)),
	reflect.TypeOf((*Writer)(nil)), reflect.TypeOf((*Metric)(nil)),
	reflect.TypeOf((*Durability)(nil)), reflect.TypeOf((*FileKind)(nil)),
	reflect.TypeOf((*Status)(nil)), reflect.TypeOf((*Error)(nil)),
	reflect.TypeOf((*FilterPanicError)(nil)),
}

const (
	mxDim    = 4
	mxItems  = 50
	mxHamDim = 72 // two words, the second partial
	mxHamN   = 30
)

// matrixFixture holds an index in every state, the files the cases need, and the answers the
// indexes gave before the cases ran.
type matrixFixture struct {
	t       *testing.T
	dir     string
	data    []float32 // mxItems rows of mxDim, item i = row i
	query   []float32 // near row 0
	hamData []float32
	hamQ    []float32

	built, loaded, unbuilt, graph, shards *Index
	hamming, hamUnbuilt                   *Index
	writer                                *Writer
	live, reader                          *Index // writer.Index(), and Open of its directory
	opts                                  *SearchOptions

	path, annoyPath, hamPath, liveDir string // files of built, of hamming; the live directory
	missing, garbage, empty, damaged  string // files that are no index
	emptyDir, noDir                   string // a directory without an index; a path in none
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	t.Helper()
	f := &matrixFixture{t: t, dir: t.TempDir()}
	f.data = dataset(Euclidean, mxItems, mxDim, 71)
	f.query = append([]float32(nil), row(f.data, mxDim, 0)...)
	f.query[0] += 0.01
	f.hamData = dataset(Hamming, mxHamN, mxHamDim, 72)
	f.hamQ = row(f.hamData, mxHamDim, 1)

	f.built = buildIndex(t, Euclidean, f.data, mxDim, 5)
	f.graph = buildIndex(t, Euclidean, f.data, mxDim, 5)
	must(t, f.graph.BuildGraph(8, 1))
	f.hamming = buildIndex(t, Hamming, f.hamData, mxHamDim, 3)
	f.unbuilt = f.fresh(mxDim, Euclidean, mxItems)
	f.hamUnbuilt = f.freshHamming()

	f.path = f.file("built.ann")
	f.annoyPath = f.file("built.annoy")
	f.hamPath = f.file("hamming.ann")
	must(t, f.built.Save(f.path))
	must(t, f.built.SaveAnnoy(f.annoyPath))
	must(t, f.hamming.Save(f.hamPath))
	f.loaded = f.cleanup(Load(f.path, false))
	f.shards = f.cleanup(OpenShards([]string{f.path}, false))

	f.liveDir = f.file("live")
	w, err := OpenWriter(f.liveDir, mxDim, Euclidean, fastWrites)
	must(t, err)
	f.writer = w
	t.Cleanup(func() { w.Close() })
	keys := make([]uint64, 20)
	for i := range keys {
		keys[i] = uint64(i)
	}
	must(t, w.UpsertBatch(keys, f.data[:20*mxDim]))
	must(t, w.Sync())
	f.live = f.cleanup(w.Index())
	f.reader = f.cleanup(Open(f.liveDir, false))

	opts, err := NewSearchOptions()
	must(t, err)
	t.Cleanup(func() { opts.Close() })
	// State a failed setter would visibly lose: item 0 is the query's nearest, 1 the next.
	must(t, opts.SetSearchK(500))
	must(t, opts.SetDenyList([]uint64{0}))
	must(t, opts.SetFilter(func(key uint64) bool { return key != 1 }))
	f.opts = opts

	f.missing = f.file("missing.ann")
	f.noDir = f.file("no/such/dir/x.ann")
	f.emptyDir = f.file("empty-dir")
	must(t, os.Mkdir(f.emptyDir, 0o755))
	f.garbage = f.write("garbage.ann", []byte(strings.Repeat("not an index ", 100)))
	f.empty = f.write("empty.ann", nil)
	bytes, err := os.ReadFile(f.path)
	must(t, err)
	bytes[20] ^= 0xff // the header
	f.damaged = f.write("damaged.ann", bytes)
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *matrixFixture) file(name string) string { return filepath.Join(f.dir, name) }

func (f *matrixFixture) write(name string, content []byte) string {
	path := f.file(name)
	must(f.t, os.WriteFile(path, content, 0o600))
	return path
}

// cleanup closes idx when the test ends; it fails the test if err is not nil.
func (f *matrixFixture) cleanup(idx *Index, err error) *Index {
	f.t.Helper()
	must(f.t, err)
	f.t.Cleanup(func() { idx.Close() })
	return idx
}

// fresh is a new unbuilt index holding the first n rows of f.data (dim mxDim) or zeros.
func (f *matrixFixture) fresh(dim int, metric Metric, n int) *Index {
	f.t.Helper()
	idx := f.cleanup(New(dim, metric))
	for i := 0; i < n; i++ {
		v := make([]float32, dim)
		if dim == mxDim {
			copy(v, row(f.data, mxDim, i))
		}
		must(f.t, idx.AddItem(uint64(i), v))
	}
	return idx
}

func (f *matrixFixture) freshHamming() *Index {
	f.t.Helper()
	idx := f.cleanup(New(mxHamDim, Hamming))
	for i := 0; i < mxHamN; i++ {
		must(f.t, idx.AddItem(uint64(i), row(f.hamData, mxHamDim, i)))
	}
	return idx
}

// freshBuilt is a new built index of f.data.
func (f *matrixFixture) freshBuilt() *Index {
	f.t.Helper()
	idx := f.fresh(mxDim, Euclidean, mxItems)
	must(f.t, idx.Build(3, 1))
	return idx
}

func (f *matrixFixture) freshOptions() *SearchOptions {
	f.t.Helper()
	o, err := NewSearchOptions()
	must(f.t, err)
	f.t.Cleanup(func() { o.Close() })
	return o
}

// freshWriter is a writer of a new live directory, with f.data's first 10 rows.
func (f *matrixFixture) freshWriter() (*Writer, string) {
	f.t.Helper()
	dir := filepath.Join(f.t.TempDir(), "live")
	w, err := OpenWriter(dir, mxDim, Euclidean, fastWrites)
	must(f.t, err)
	f.t.Cleanup(func() { w.Close() })
	for i := 0; i < 10; i++ {
		must(f.t, w.Upsert(uint64(i), row(f.data, mxDim, i)))
	}
	return w, dir
}

// snapshot is what every fixture answers: the cases must leave it exactly as it was.
func (f *matrixFixture) snapshot() map[string]string {
	s := map[string]string{}
	for name, idx := range map[string]*Index{
		"built": f.built, "loaded": f.loaded, "graph": f.graph, "shards": f.shards,
		"live": f.live, "reader": f.reader,
	} {
		s[name] = describe(idx, f.query, f.opts)
	}
	s["hamming"] = describe(f.hamming, f.hamQ, nil)
	for name, idx := range map[string]*Index{"unbuilt": f.unbuilt, "hamUnbuilt": f.hamUnbuilt} {
		var b strings.Builder
		fmt.Fprintf(&b, "stored %d items %d trees %d graph %v dim %d metric %v; items",
			idx.NStored(), idx.NItems(), idx.NTrees(), idx.HasGraph(), idx.Dim(), idx.Metric())
		describeItems(&b, idx)
		s[name] = b.String()
	}
	return s
}

// describe is an index's answers: a query, a search with opts, its counts and its items.
func describe(idx *Index, query []float32, opts *SearchOptions) string {
	ids, dists, err := idx.GetNnsByVector(query, 10, -1)
	sIDs, sDists, sErr := idx.Search(query, 10, opts)
	var b strings.Builder
	fmt.Fprintf(&b, "nns %v %v %v; search %v %v %v; stored %d items %d trees %d graph %v dim %d metric %v; items",
		ids, dists, err, sIDs, sDists, sErr, idx.NStored(), idx.NItems(), idx.NTrees(),
		idx.HasGraph(), idx.Dim(), idx.Metric())
	describeItems(&b, idx)
	return b.String()
}

// describeItems writes every item's vector, and the error for the key past the last.
func describeItems(b *strings.Builder, idx *Index) {
	for key := uint64(0); key <= idx.NItems(); key++ {
		v, err := idx.GetItemVector(key)
		fmt.Fprintf(b, " %d:%v %v", key, v, err)
	}
}

// Helpers that keep only a call's error.
// errOf keeps a call's error, and closes what the call opened if it did not fail.
func errOf[A any](a A, err error) error {
	if closer, ok := any(a).(interface{ Close() error }); ok && err == nil {
		closer.Close()
	}
	return err
}

func errOf2[A, B any](_ A, _ B, err error) error { return err }

// expectNone checks that a successful query returned no results.
func expectNone(ids []uint64, dists []float32, err error) error {
	return expectCount(ids, dists, err, 0)
}

// replaceAt returns a copy of v with v[i] = x.
func replaceAt(v []float32, i int, x float32) []float32 {
	c := append([]float32(nil), v...)
	c[i] = x
	return c
}

var (
	nan    = float32(math.NaN())
	posInf = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
)

// expectCount checks a successful query's result count.
func expectCount(ids []uint64, dists []float32, err error, count int) error {
	if err != nil {
		return err
	}
	if len(ids) != count || len(dists) != count {
		return fmt.Errorf("%d ids and %d distances, want %d", len(ids), len(dists), count)
	}
	return nil
}

// expectExact checks that a query returned the true n nearest of f.data to f.query.
func (f *matrixFixture) expectExact(ids []uint64, dists []float32, err error, n int) error {
	if err := expectCount(ids, dists, err, n); err != nil {
		return err
	}
	all, _ := bruteForce(Euclidean, f.data, mxDim, f.query, 1)
	sorted := append([]float64(nil), all...)
	sort.Float64s(sorted)
	for i, id := range ids {
		if !closeTo(all[id], sorted[i]) || !closeTo(float64(dists[i]), sorted[i]) {
			return fmt.Errorf("result %d is item %d at %v; the true %d-th nearest is at %v",
				i, id, dists[i], i, sorted[i])
		}
	}
	return nil
}

// expectBatch checks a successful batch's shape.
func expectBatch(ids [][]uint64, dists [][]float32, err error, rows, perRow int) error {
	if err != nil {
		return err
	}
	if len(ids) != rows || len(dists) != rows {
		return fmt.Errorf("%d and %d rows, want %d", len(ids), len(dists), rows)
	}
	for q := range ids {
		if err := expectCount(ids[q], dists[q], nil, perRow); err != nil {
			return fmt.Errorf("row %d: %v", q, err)
		}
	}
	return nil
}

// theSame checks that a query answers as want does.
func theSame(ids []uint64, dists []float32, err error, wantIDs []uint64, wantDists []float32) error {
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(dists, wantDists) {
		return fmt.Errorf("%v %v, want %v %v", ids, dists, wantIDs, wantDists)
	}
	return nil
}

// The message fragments of each kind of bad input.
var (
	saysDim       = []string{"dimension must be between 1 and 16777216"}
	saysRange     = []string{"out of range"}
	saysMetric    = []string{"unknown metric value 99"}
	saysNeverAdd  = []string{"does not exist", "never added"}
	saysReserved  = []string{"reserved"}
	saysNaN       = []string{"NaN", "finite"}
	saysPosInf    = []string{"inf", "finite"}
	saysNegInf    = []string{"-inf", "finite"}
	saysSearchK   = []string{"search_k must be -1 (default) or at least 0"}
	saysThreads   = []string{"n_threads must be -1 (all cores) or at least 1"}
	saysTrees     = []string{"n_trees must be -1"}
	saysNegative  = []string{"negative"}
	saysNotBuilt  = []string{"not built"}
	saysBuilt     = []string{"already built", "unbuild"}
	saysAddBuilt  = []string{"cannot add items to a built index", "unbuild"}
	saysLoaded    = []string{"loaded index", "read-only"}
	saysLiveRead  = []string{"read handle of a live index", "upsert through its writer"}
	saysLiveSave  = []string{"cannot save a live index", "export"}
	saysShardSave = []string{"sharded index", "export"}
	saysGraphOne  = []string{"a graph is built over one index"}
	saysEmptyPath = []string{"empty path"}
	saysNUL       = []string{"NUL byte"}
	saysHamming   = []string{"hamming"}
	saysWords     = []string{"72 bits in 2 words"}
	saysPastDim   = []string{"bits beyond the index's 72 bits"}
	saysOnDisk    = []string{"on_disk_build must be called before build"}
)

// vectorCases are the bad vectors of an entry point taking one vector of mxDim values.
func vectorCases(api string, nilArg int, call func(f *matrixFixture, v []float32) error) []badCase {
	good := func(f *matrixFixture) []float32 { return row(f.data, mxDim, 7) }
	return []badCase{
		{api: api, name: "nil vector", nilArg: nilArg, want: ErrInvalidArgument, says: []string{"has 0 values", "dim 4"},
			run: func(f *matrixFixture) error { return call(f, nil) }},
		{api: api, name: "empty vector", want: ErrInvalidArgument, says: []string{"has 0 values"},
			run: func(f *matrixFixture) error { return call(f, []float32{}) }},
		{api: api, name: "too short", want: ErrInvalidArgument, says: []string{"has 3 values", "dim 4"},
			run: func(f *matrixFixture) error { return call(f, good(f)[:3]) }},
		{api: api, name: "too long", want: ErrInvalidArgument, says: []string{"has 5 values", "dim 4"},
			run: func(f *matrixFixture) error { return call(f, append(append([]float32{}, good(f)...), 1)) }},
		{api: api, name: "NaN", want: ErrInvalidArgument, says: saysNaN,
			run: func(f *matrixFixture) error { return call(f, replaceAt(good(f), 2, nan)) }},
		{api: api, name: "+Inf", want: ErrInvalidArgument, says: saysPosInf,
			run: func(f *matrixFixture) error { return call(f, replaceAt(good(f), 0, posInf)) }},
		{api: api, name: "-Inf", want: ErrInvalidArgument, says: saysNegInf,
			run: func(f *matrixFixture) error { return call(f, replaceAt(good(f), 3, negInf)) }},
	}
}

// batchCases are the bad query batches of GetNnsBatch and SearchBatch.
func batchCases(api string, call func(f *matrixFixture, queries []float32, n, nThreads int) ([][]uint64, [][]float32, error)) []badCase {
	two := func(f *matrixFixture) []float32 { return append([]float32(nil), f.data[:2*mxDim]...) }
	return []badCase{
		{api: api, name: "nil queries: no rows", nilArg: 1, want: nil,
			run: func(f *matrixFixture) error {
				ids, dists, err := call(f, nil, 5, 1)
				return expectBatch(ids, dists, err, 0, 0)
			}},
		{api: api, name: "not a whole number of rows", want: ErrInvalidArgument, says: []string{"7 values", "not a multiple", "dim 4"},
			run: func(f *matrixFixture) error { return errOf2(call(f, two(f)[:7], 5, 1)) }},
		{api: api, name: "NaN in the second row", want: ErrInvalidArgument, says: append([]string{"query 1"}, saysNaN...),
			run: func(f *matrixFixture) error { return errOf2(call(f, replaceAt(two(f), 5, nan), 5, 1)) }},
		{api: api, name: "+Inf", want: ErrInvalidArgument, says: saysPosInf,
			run: func(f *matrixFixture) error { return errOf2(call(f, replaceAt(two(f), 0, posInf), 5, 1)) }},
		{api: api, name: "-Inf in the second row", want: ErrInvalidArgument, says: append([]string{"query 1"}, saysNegInf...),
			run: func(f *matrixFixture) error { return errOf2(call(f, replaceAt(two(f), 7, negInf), 5, 1)) }},
		{api: api, name: "n -1", want: ErrInvalidArgument, says: append([]string{"n -1"}, saysNegative...),
			run: func(f *matrixFixture) error { return errOf2(call(f, two(f), -1, 1)) }},
		{api: api, name: "n 0: empty rows", want: nil,
			run: func(f *matrixFixture) error {
				ids, dists, err := call(f, two(f), 0, 1)
				return expectBatch(ids, dists, err, 2, 0)
			}},
		{api: api, name: "n MaxInt: every item", want: nil,
			run: func(f *matrixFixture) error {
				ids, dists, err := call(f, two(f), math.MaxInt, 1)
				return expectBatch(ids, dists, err, 2, mxItems)
			}},
		{api: api, name: "nThreads 0", want: ErrInvalidArgument, says: saysThreads,
			run: func(f *matrixFixture) error { return errOf2(call(f, two(f), 5, 0)) }},
		{api: api, name: "nThreads -2", want: ErrInvalidArgument, says: saysThreads,
			run: func(f *matrixFixture) error { return errOf2(call(f, two(f), 5, -2)) }},
		{api: api, name: "nThreads MaxInt32+1", want: ErrInvalidArgument, says: append([]string{"nThreads 2147483648"}, saysRange...),
			run: func(f *matrixFixture) error { return errOf2(call(f, two(f), 5, math.MaxInt32+1)) }},
	}
}

// pathCases are the bad paths of an entry point taking one path.
func pathCases(api string, nilArg int, call func(f *matrixFixture, path string) error) []badCase {
	return []badCase{
		{api: api, name: `path ""`, nilArg: nilArg, want: ErrIO, says: saysEmptyPath,
			run: func(f *matrixFixture) error { return call(f, "") }},
		{api: api, name: "NUL in the path", want: ErrInvalidArgument, says: saysNUL,
			run: func(f *matrixFixture) error { return call(f, f.file("bad\x00.ann")) }},
	}
}

// badInputMatrix is every case, grouped by entry point.
func badInputMatrix() []badCase {
	var cases []badCase
	add := func(c ...badCase) { cases = append(cases, c...) }

	// ------------------------------------------------------------ package functions

	add(
		badCase{api: "New", name: "dim 0", want: ErrInvalidArgument, says: append([]string{"got 0"}, saysDim...),
			run: func(f *matrixFixture) error { return errOf(New(0, Euclidean)) }},
		badCase{api: "New", name: "dim -1", want: ErrInvalidArgument, says: append([]string{"dim -1"}, saysRange...),
			run: func(f *matrixFixture) error { return errOf(New(-1, Euclidean)) }},
		badCase{api: "New", name: "dim 2^24+1", want: ErrInvalidArgument, says: append([]string{"got 16777217"}, saysDim...),
			run: func(f *matrixFixture) error { return errOf(New(1<<24+1, Euclidean)) }},
		badCase{api: "New", name: "dim 2^33 (no uint32)", want: ErrInvalidArgument, says: append([]string{"dim 8589934592"}, saysRange...),
			run: func(f *matrixFixture) error { return errOf(New(1<<33, Euclidean)) }},
		badCase{api: "New", name: "Metric(99)", want: ErrInvalidArgument, says: append([]string{"expected 0 (angular) to 4 (hamming)"}, saysMetric...),
			run: func(f *matrixFixture) error { return errOf(New(mxDim, Metric(99))) }},
		badCase{api: "New", name: "Metric(MaxUint32)", want: ErrInvalidArgument, says: []string{"unknown metric value 4294967295"},
			run: func(f *matrixFixture) error { return errOf(New(mxDim, Metric(math.MaxUint32))) }},
		badCase{api: "New", name: "dim 1 works", want: nil, run: func(f *matrixFixture) error {
			idx := f.cleanup(New(1, Euclidean))
			for i := 0; i < 10; i++ {
				if err := idx.AddItem(uint64(i), []float32{float32(i)}); err != nil {
					return err
				}
			}
			if err := idx.Build(3, 1); err != nil {
				return err
			}
			ids, _, err := idx.GetNnsByVector([]float32{6.9}, 2, -1)
			return theSame(ids, nil, err, []uint64{7, 6}, nil)
		}},
		badCase{api: "New", name: "dim 65536 works", want: nil, run: func(f *matrixFixture) error {
			idx := f.cleanup(New(65536, Euclidean))
			for i := 0; i < 3; i++ {
				v := make([]float32, 65536)
				v[i*1000] = 1
				if err := idx.AddItem(uint64(i), v); err != nil {
					return err
				}
			}
			if err := idx.Build(2, 1); err != nil {
				return err
			}
			ids, dists, err := idx.GetNnsByItem(2, 1, -1)
			return theSame(ids, dists, err, []uint64{2}, []float32{0})
		}},
		badCase{api: "New", name: "dim 2^24 (the largest) is accepted", want: nil, run: func(f *matrixFixture) error {
			idx := f.cleanup(New(1<<24, Dot))
			if idx.Dim() != 1<<24 || idx.NStored() != 0 {
				return fmt.Errorf("dim %d, %d stored", idx.Dim(), idx.NStored())
			}
			return nil
		}},
	)
	add(pathCases("Load", 1, func(f *matrixFixture, path string) error { return errOf(Load(path, false)) })...)
	add(
		badCase{api: "Load", name: "missing file", want: ErrIO, says: []string{"missing.ann", "No such file"},
			run: func(f *matrixFixture) error { return errOf(Load(f.missing, true)) }},
		badCase{api: "Load", name: "a directory", want: ErrIO, says: []string{"cannot map"},
			run: func(f *matrixFixture) error { return errOf(Load(f.emptyDir, false)) }},
		badCase{api: "Load", name: "not an index", want: ErrCorruptFile, says: []string{"garbage.ann"},
			run: func(f *matrixFixture) error { return errOf(Load(f.garbage, false)) }},
		badCase{api: "Load", name: "empty file", want: ErrCorruptFile, says: []string{"empty"},
			run: func(f *matrixFixture) error { return errOf(Load(f.empty, false)) }},
		badCase{api: "Load", name: "damaged header", want: ErrCorruptFile, says: []string{"damaged.ann"},
			run: func(f *matrixFixture) error { return errOf(Load(f.damaged, false)) }},
	)
	add(pathCases("LoadAnnoy", 1, func(f *matrixFixture, path string) error {
		return errOf(LoadAnnoy(path, mxDim, Euclidean, false))
	})...)
	add(
		badCase{api: "LoadAnnoy", name: "missing file", want: ErrIO, says: []string{"missing.ann"},
			run: func(f *matrixFixture) error { return errOf(LoadAnnoy(f.missing, mxDim, Euclidean, false)) }},
		badCase{api: "LoadAnnoy", name: "dim 0", want: ErrInvalidArgument, says: saysDim,
			run: func(f *matrixFixture) error { return errOf(LoadAnnoy(f.annoyPath, 0, Euclidean, false)) }},
		badCase{api: "LoadAnnoy", name: "dim -1", want: ErrInvalidArgument, says: saysRange,
			run: func(f *matrixFixture) error { return errOf(LoadAnnoy(f.annoyPath, -1, Euclidean, false)) }},
		badCase{api: "LoadAnnoy", name: "dim 2^24+1", want: ErrInvalidArgument, says: saysDim,
			run: func(f *matrixFixture) error { return errOf(LoadAnnoy(f.annoyPath, 1<<24+1, Euclidean, false)) }},
		badCase{api: "LoadAnnoy", name: "Metric(99)", want: ErrInvalidArgument, says: saysMetric,
			run: func(f *matrixFixture) error { return errOf(LoadAnnoy(f.annoyPath, mxDim, Metric(99), false)) }},
		badCase{api: "LoadAnnoy", name: "a dim the file's size does not fit", want: ErrCorruptFile, says: []string{"built.annoy"},
			run: func(f *matrixFixture) error { return errOf(LoadAnnoy(f.annoyPath, 7, Euclidean, false)) }},
		badCase{api: "LoadAnnoy", name: "empty file", want: ErrCorruptFile, says: []string{"empty"},
			run: func(f *matrixFixture) error { return errOf(LoadAnnoy(f.empty, mxDim, Euclidean, false)) }},
	)
	add(
		badCase{api: "OpenShards", name: "nil paths", nilArg: 1, want: ErrInvalidArgument, says: []string{"at least one index file"},
			run: func(f *matrixFixture) error { return errOf(OpenShards(nil, false)) }},
		badCase{api: "OpenShards", name: "no paths", want: ErrInvalidArgument, says: []string{"at least one index file"},
			run: func(f *matrixFixture) error { return errOf(OpenShards([]string{}, false)) }},
		badCase{api: "OpenShards", name: `path ""`, want: ErrIO, says: append([]string{"paths[0]"}, saysEmptyPath...),
			run: func(f *matrixFixture) error { return errOf(OpenShards([]string{""}, false)) }},
		badCase{api: "OpenShards", name: "NUL in the second path", want: ErrInvalidArgument, says: saysNUL,
			run: func(f *matrixFixture) error { return errOf(OpenShards([]string{f.path, "x\x00"}, false)) }},
		badCase{api: "OpenShards", name: "a missing file", want: ErrIO, says: []string{"missing.ann"},
			run: func(f *matrixFixture) error { return errOf(OpenShards([]string{f.path, f.missing}, false)) }},
		badCase{api: "OpenShards", name: "not an index", want: ErrCorruptFile, says: []string{"garbage.ann"},
			run: func(f *matrixFixture) error { return errOf(OpenShards([]string{f.garbage}, false)) }},
		badCase{api: "OpenShards", name: "one file twice: keys in two shards", want: ErrInvalidArgument, says: []string{"key 0 is in both", "must not repeat"},
			run: func(f *matrixFixture) error { return errOf(OpenShards([]string{f.path, f.path}, true)) }},
		badCase{api: "OpenShards", name: "shards of different metrics and dims", want: ErrInvalidArgument, says: []string{"hamming"},
			run: func(f *matrixFixture) error { return errOf(OpenShards([]string{f.path, f.hamPath}, false)) }},
	)
	add(pathCases("Open", 1, func(f *matrixFixture, path string) error { return errOf(Open(path, false)) })...)
	add(
		badCase{api: "Open", name: "missing path", want: ErrIO, says: []string{"missing.ann"},
			run: func(f *matrixFixture) error { return errOf(Open(f.missing, false)) }},
		badCase{api: "Open", name: "a directory without a live index", want: ErrIO, says: []string{"empty-dir"},
			run: func(f *matrixFixture) error { return errOf(Open(f.emptyDir, false)) }},
		badCase{api: "Open", name: "not an index", want: ErrCorruptFile, says: []string{"garbage.ann"},
			run: func(f *matrixFixture) error { return errOf(Open(f.garbage, true)) }},
	)
	openWriter := func(f *matrixFixture, dim int, metric Metric, opts *WriterOptions) error {
		return openWriterErr(filepath.Join(f.t.TempDir(), "live"), dim, metric, opts)
	}
	add(
		badCase{api: "OpenWriter", name: `dir ""`, nilArg: 1, want: ErrIO, says: saysEmptyPath,
			run: func(f *matrixFixture) error { return openWriterErr("", mxDim, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "NUL in dir", want: ErrInvalidArgument, says: saysNUL,
			run: func(f *matrixFixture) error { return openWriterErr(f.file("x\x00"), mxDim, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "dir is a file", want: ErrIO, says: []string{"garbage.ann"},
			run: func(f *matrixFixture) error { return openWriterErr(f.garbage, mxDim, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "dim 0", want: ErrInvalidArgument, says: saysDim,
			run: func(f *matrixFixture) error { return openWriter(f, 0, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "dim -1", want: ErrInvalidArgument, says: saysRange,
			run: func(f *matrixFixture) error { return openWriter(f, -1, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "dim 2^24+1", want: ErrInvalidArgument, says: saysDim,
			run: func(f *matrixFixture) error { return openWriter(f, 1<<24+1, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "Metric(99)", want: ErrInvalidArgument, says: saysMetric,
			run: func(f *matrixFixture) error { return openWriter(f, mxDim, Metric(99), nil) }},
		badCase{api: "OpenWriter", name: "Durability(7)", want: ErrInvalidArgument, says: []string{"unknown durability 7"},
			run: func(f *matrixFixture) error { return openWriter(f, mxDim, Euclidean, &WriterOptions{Durability: 7}) }},
		badCase{api: "OpenWriter", name: "FlushMS 60001", want: ErrInvalidArgument, says: []string{"flush_ms must be between 1 and 60000"},
			run: func(f *matrixFixture) error {
				return openWriter(f, mxDim, Euclidean, &WriterOptions{Durability: DurabilityTimer, FlushMS: 60001})
			}},
		badCase{api: "OpenWriter", name: "FlushMS -1", want: ErrInvalidArgument, says: append([]string{"FlushMS -1"}, saysRange...),
			run: func(f *matrixFixture) error { return openWriter(f, mxDim, Euclidean, &WriterOptions{FlushMS: -1}) }},
		badCase{api: "OpenWriter", name: "NTrees -2", want: ErrInvalidArgument, says: saysTrees,
			run: func(f *matrixFixture) error { return openWriter(f, mxDim, Euclidean, &WriterOptions{NTrees: -2}) }},
		badCase{api: "OpenWriter", name: "NTrees MaxInt32+1", want: ErrInvalidArgument, says: saysRange,
			run: func(f *matrixFixture) error {
				return openWriter(f, mxDim, Euclidean, &WriterOptions{NTrees: math.MaxInt32 + 1})
			}},
		badCase{api: "OpenWriter", name: "GraphDegree 257", want: ErrInvalidArgument, says: []string{"degree 257 is above the largest, 256"},
			run: func(f *matrixFixture) error {
				return openWriter(f, mxDim, Euclidean, &WriterOptions{Graph: true, GraphDegree: 257})
			}},
		badCase{api: "OpenWriter", name: "GraphDegree -1", want: ErrInvalidArgument, says: saysRange,
			run: func(f *matrixFixture) error { return openWriter(f, mxDim, Euclidean, &WriterOptions{GraphDegree: -1}) }},
		badCase{api: "OpenWriter", name: "nil options: the defaults", nilArg: 4, want: nil,
			run: func(f *matrixFixture) error { return openWriterErr(f.t.TempDir(), mxDim, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "a second writer", want: ErrInvalidState, says: []string{"already open for writing"},
			run: func(f *matrixFixture) error { return openWriterErr(f.liveDir, mxDim, Euclidean, nil) }},
		badCase{api: "OpenWriter", name: "another dim than the directory's", want: ErrInvalidArgument, says: []string{"dim 4, not euclidean of dim 5"},
			run: func(f *matrixFixture) error {
				w, dir := f.freshWriter()
				must(f.t, w.Close())
				return openWriterErr(dir, mxDim+1, Euclidean, nil)
			}},
		badCase{api: "OpenWriter", name: "another metric than the directory's", want: ErrInvalidArgument, says: []string{"not angular of dim 4"},
			run: func(f *matrixFixture) error {
				w, dir := f.freshWriter()
				must(f.t, w.Close())
				return openWriterErr(dir, mxDim, Angular, nil)
			}},
	)
	add(pathCases("FileInfo", 1, func(f *matrixFixture, path string) error { return errOf(FileInfo(path)) })...)
	add(
		badCase{api: "FileInfo", name: "missing file", want: ErrIO, says: []string{"missing.ann"},
			run: func(f *matrixFixture) error { return errOf(FileInfo(f.missing)) }},
		badCase{api: "FileInfo", name: "damaged header", want: ErrCorruptFile, says: []string{"damaged.ann"},
			run: func(f *matrixFixture) error { return errOf(FileInfo(f.damaged)) }},
		badCase{api: "FileInfo", name: "an empty file is of unknown kind", want: nil, run: func(f *matrixFixture) error {
			info, err := FileInfo(f.empty)
			if err == nil && (info.Kind != FileUnknown || info.Dim != 0) {
				return fmt.Errorf("%+v", info)
			}
			return err
		}},
	)
	add(
		badCase{api: "ParseMetric", name: `name ""`, nilArg: 1, want: ErrInvalidArgument, says: []string{`unknown metric ""`, "angular"},
			run: func(f *matrixFixture) error { return errOf(ParseMetric("")) }},
		badCase{api: "ParseMetric", name: "no metric's name", want: ErrInvalidArgument, says: []string{`unknown metric "cosinus"`},
			run: func(f *matrixFixture) error { return errOf(ParseMetric("cosinus")) }},
		badCase{api: "ParseMetric", name: "upper case", want: ErrInvalidArgument, says: []string{`unknown metric "ANGULAR"`},
			run: func(f *matrixFixture) error { return errOf(ParseMetric("ANGULAR")) }},
		badCase{api: "ParseMetric", name: "NUL in the name", want: ErrInvalidArgument, says: saysNUL,
			run: func(f *matrixFixture) error { return errOf(ParseMetric("angular\x00")) }},
	)

	// ------------------------------------------------------------ Index: adding and building

	add(vectorCases("Index.AddItem", 2, func(f *matrixFixture, v []float32) error { return f.unbuilt.AddItem(7, v) })...)
	addStates := func(api string, call func(f *matrixFixture, idx *Index) error, says map[string][]string) {
		on := func(pick func(f *matrixFixture) *Index) func(f *matrixFixture) error {
			return func(m *matrixFixture) error { return call(m, pick(m)) }
		}
		for _, state := range []struct {
			name string
			pick func(f *matrixFixture) *Index
		}{
			{"built", func(m *matrixFixture) *Index { return m.built }},
			{"loaded", func(m *matrixFixture) *Index { return m.loaded }},
			{"unbuilt", func(m *matrixFixture) *Index { return m.unbuilt }},
			{"shards", func(m *matrixFixture) *Index { return m.shards }},
			{"live", func(m *matrixFixture) *Index { return m.live }},
			{"reader", func(m *matrixFixture) *Index { return m.reader }},
		} {
			if fragments, ok := says[state.name]; ok {
				add(badCase{api: api, name: "on a " + state.name + " index", want: ErrInvalidState, says: fragments, run: on(state.pick)})
			}
		}
	}
	addStates("Index.AddItem", func(_ *matrixFixture, idx *Index) error { return idx.AddItem(7, make([]float32, mxDim)) }, map[string][]string{
		"built": saysAddBuilt, "loaded": saysLoaded, "shards": saysLoaded, "live": saysLiveRead, "reader": saysLiveRead,
	})
	add(
		badCase{api: "Index.AddItem", name: "the reserved key NoKey", want: ErrInvalidArgument, says: saysReserved,
			run: func(f *matrixFixture) error { return f.unbuilt.AddItem(NoKey, make([]float32, mxDim)) }},
		badCase{api: "Index.AddItemPacked", name: "nil words", nilArg: 2, want: ErrInvalidArgument, says: append([]string{"got 0 words"}, saysWords...),
			run: func(f *matrixFixture) error { return f.hamUnbuilt.AddItemPacked(3, nil) }},
		badCase{api: "Index.AddItemPacked", name: "1 word of 2", want: ErrInvalidArgument, says: append([]string{"got 1 words"}, saysWords...),
			run: func(f *matrixFixture) error { return f.hamUnbuilt.AddItemPacked(3, []uint64{1}) }},
		badCase{api: "Index.AddItemPacked", name: "3 words of 2", want: ErrInvalidArgument, says: append([]string{"got 3 words"}, saysWords...),
			run: func(f *matrixFixture) error { return f.hamUnbuilt.AddItemPacked(3, []uint64{1, 2, 3}) }},
		badCase{api: "Index.AddItemPacked", name: "bits past dim", want: ErrInvalidArgument, says: saysPastDim,
			run: func(f *matrixFixture) error { return f.hamUnbuilt.AddItemPacked(3, []uint64{1, 1 << 8}) }},
		badCase{api: "Index.AddItemPacked", name: "the reserved key NoKey", want: ErrInvalidArgument, says: saysReserved,
			run: func(f *matrixFixture) error { return f.hamUnbuilt.AddItemPacked(NoKey, []uint64{1, 1}) }},
		badCase{api: "Index.AddItemPacked", name: "another metric", want: ErrInvalidArgument, says: saysHamming,
			run: func(f *matrixFixture) error { return f.unbuilt.AddItemPacked(3, []uint64{1}) }},
		badCase{api: "Index.AddItemPacked", name: "on a built index", want: ErrInvalidState, says: saysAddBuilt,
			run: func(f *matrixFixture) error { return f.hamming.AddItemPacked(3, []uint64{1, 1}) }},
	)
	add(
		badCase{api: "Index.SetSeed", name: "seed MaxUint64 is a seed like any other", want: nil, run: func(f *matrixFixture) error {
			idx := f.fresh(mxDim, Euclidean, 5)
			if err := idx.SetSeed(math.MaxUint64); err != nil || idx.Seed() != math.MaxUint64 {
				return fmt.Errorf("seed %d, %v", idx.Seed(), err)
			}
			return nil
		}},
		badCase{api: "Index.SetSeed", name: "on a loaded index", want: ErrInvalidState,
			says: []string{"keeps the seed it was built with"},
			run: func(f *matrixFixture) error {
				return f.cleanup(Load(f.path, false)).SetSeed(99)
			}},
	)
	for _, c := range []struct {
		name      string
		trees, th int
		says      []string
	}{
		{"nTrees 0", 0, 1, saysTrees}, {"nTrees -2", -2, 1, saysTrees},
		{"nTrees MinInt32", math.MinInt32, 1, saysTrees},
		{"nTrees MaxInt32+1", math.MaxInt32 + 1, 1, append([]string{"nTrees 2147483648"}, saysRange...)},
		{"nThreads 0", 3, 0, saysThreads}, {"nThreads -2", 3, -2, saysThreads},
		{"nThreads MaxInt32+1", 3, math.MaxInt32 + 1, append([]string{"nThreads 2147483648"}, saysRange...)},
	} {
		c := c
		add(badCase{api: "Index.Build", name: c.name, want: ErrInvalidArgument, says: c.says,
			run: func(f *matrixFixture) error { return f.unbuilt.Build(c.trees, c.th) }})
	}
	addStates("Index.Build", func(_ *matrixFixture, idx *Index) error { return idx.Build(3, 1) }, map[string][]string{
		"built": saysBuilt, "loaded": saysLoaded, "shards": saysLoaded, "live": saysLoaded, "reader": saysLoaded,
	})
	for _, c := range []struct {
		name       string
		degree, th int
		says       []string
	}{
		{"degree 257", 257, 1, []string{"degree 257 is above the largest, 256"}},
		{"degree -1", -1, 1, append([]string{"degree -1"}, saysRange...)},
		{"degree 2^33", 1 << 33, 1, saysRange},
		{"nThreads 0", 0, 0, saysThreads},
		{"nThreads -2", 0, -2, saysThreads},
	} {
		c := c
		add(badCase{api: "Index.BuildGraph", name: c.name, want: ErrInvalidArgument, says: c.says,
			run: func(f *matrixFixture) error { return f.built.BuildGraph(c.degree, c.th) }})
	}
	addStates("Index.BuildGraph", func(_ *matrixFixture, idx *Index) error { return idx.BuildGraph(8, 1) }, map[string][]string{
		"unbuilt": {"not built", "build the forest first"}, "shards": saysGraphOne, "live": saysGraphOne, "reader": saysGraphOne,
	})
	addStates("Index.Unbuild", func(_ *matrixFixture, idx *Index) error { return idx.Unbuild() }, map[string][]string{
		"loaded": saysLoaded, "shards": saysLoaded, "live": saysLoaded, "reader": saysLoaded,
	})
	add(
		badCase{api: "Index.Unbuild", name: "on an unbuilt index: nothing to do", want: nil,
			run: func(f *matrixFixture) error { return f.unbuilt.Unbuild() }},
		badCase{api: "Index.Unload", name: "on a live read handle", want: nil,
			known: "ann_unload on a read handle of a live index succeeds and turns it into an empty " +
				"in-memory index that ann_add_item and ann_build accept and ann_refresh no longer " +
				"updates, where every other write through a read handle is ANN_STATUS_INVALID_STATE",
			run: func(f *matrixFixture) error {
				idx := f.cleanup(f.writer.Index())
				if err := idx.Unload(); err != nil {
					return err
				}
				if err := idx.AddItem(5, make([]float32, mxDim)); err != nil || idx.NStored() != 1 {
					return fmt.Errorf("after Unload: AddItem %v, %d stored", err, idx.NStored())
				}
				return nil
			}},
	)
	add(pathCases("Index.OnDiskBuild", 1, func(f *matrixFixture, path string) error {
		return f.fresh(mxDim, Euclidean, 3).OnDiskBuild(path)
	})...)
	add(
		badCase{api: "Index.OnDiskBuild", name: "a directory that does not exist", want: ErrIO, says: []string{"no/such/dir"},
			run: func(f *matrixFixture) error { return f.fresh(mxDim, Euclidean, 3).OnDiskBuild(f.noDir) }},
		badCase{api: "Index.OnDiskBuild", name: "twice", want: ErrInvalidState, says: []string{"already being built on disk"},
			run: func(f *matrixFixture) error {
				idx := f.fresh(mxDim, Euclidean, 3)
				must(f.t, idx.OnDiskBuild(f.file("ondisk-once.ann")))
				return idx.OnDiskBuild(f.file("ondisk-twice.ann"))
			}},
	)
	addStates("Index.OnDiskBuild", func(f *matrixFixture, idx *Index) error { return idx.OnDiskBuild(f.file("never.ann")) }, map[string][]string{
		"built": saysOnDisk, "loaded": saysOnDisk, "shards": saysOnDisk, "live": saysOnDisk, "reader": saysOnDisk,
	})

	// ------------------------------------------------------------ Index: files

	add(pathCases("Index.Save", 1, func(f *matrixFixture, path string) error { return f.built.Save(path) })...)
	add(badCase{api: "Index.Save", name: "a directory that does not exist", want: ErrIO, says: []string{"no/such/dir"},
		run: func(f *matrixFixture) error { return f.built.Save(f.noDir) }})
	addStates("Index.Save", func(f *matrixFixture, idx *Index) error { return idx.Save(f.file("never.ann")) }, map[string][]string{
		"unbuilt": saysNotBuilt, "shards": saysShardSave, "live": saysLiveSave, "reader": saysLiveSave,
	})
	add(pathCases("Index.SaveAnnoy", 1, func(f *matrixFixture, path string) error { return f.built.SaveAnnoy(path) })...)
	add(
		badCase{api: "Index.SaveAnnoy", name: "a directory that does not exist", want: ErrIO, says: []string{"no/such/dir"},
			run: func(f *matrixFixture) error { return f.built.SaveAnnoy(f.noDir) }},
		badCase{api: "Index.SaveAnnoy", name: "keys Annoy cannot hold", want: ErrInvalidState, says: []string{"do not fit Annoy's layout"},
			run: func(f *matrixFixture) error {
				idx := f.cleanup(New(mxDim, Euclidean))
				must(f.t, idx.AddItem(1<<40, make([]float32, mxDim)))
				must(f.t, idx.Build(1, 1))
				return idx.SaveAnnoy(f.file("sparse.annoy"))
			}},
	)
	addStates("Index.SaveAnnoy", func(f *matrixFixture, idx *Index) error { return idx.SaveAnnoy(f.file("never.annoy")) }, map[string][]string{
		"unbuilt": saysNotBuilt, "shards": saysShardSave, "live": {"cannot save_annoy a live index"}, "reader": {"cannot save_annoy a live index"},
	})
	addStates("Index.Verify", func(_ *matrixFixture, idx *Index) error { return idx.Verify() }, map[string][]string{"unbuilt": saysNotBuilt})
	add(badCase{api: "Index.Verify", name: "a damaged body", want: ErrCorruptFile, says: []string{"checksum"},
		run: func(f *matrixFixture) error {
			bytes, err := os.ReadFile(f.path)
			must(f.t, err)
			bytes[len(bytes)-10] ^= 0xff
			return f.cleanup(Load(f.write("body.ann", bytes), false)).Verify()
		}})
	add(pathCases("Index.Export", 1, func(f *matrixFixture, path string) error { return f.built.Export(path) })...)
	add(badCase{api: "Index.Export", name: "a directory that does not exist", want: ErrIO, says: []string{"no/such/dir"},
		run: func(f *matrixFixture) error { return f.live.Export(f.noDir) }})
	addStates("Index.Export", func(f *matrixFixture, idx *Index) error { return idx.Export(f.file("never.ann")) }, map[string][]string{
		"unbuilt": saysNotBuilt,
	})
	add(badCase{api: "Index.Refresh", name: "on a plain index: nothing changes", want: nil, run: func(f *matrixFixture) error {
		for _, idx := range []*Index{f.unbuilt, f.built, f.loaded, f.shards, f.live} {
			if changed, err := idx.Refresh(); err != nil || changed {
				return fmt.Errorf("Refresh: %v, %v", changed, err)
			}
		}
		return nil
	}})

	// ------------------------------------------------------------ Index: queries

	add(vectorCases("Index.GetNnsByVector", 1, func(f *matrixFixture, v []float32) error {
		return errOf2(f.built.GetNnsByVector(v, 5, -1))
	})...)
	add(
		badCase{api: "Index.GetNnsByVector", name: "n -1", want: ErrInvalidArgument, says: []string{"n -1 is negative"},
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByVector(f.query, -1, -1)) }},
		badCase{api: "Index.GetNnsByVector", name: "n MinInt", want: ErrInvalidArgument, says: saysNegative,
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByVector(f.query, math.MinInt, -1)) }},
		badCase{api: "Index.GetNnsByVector", name: "n 0: no results", want: nil,
			run: func(f *matrixFixture) error { return expectNone(f.built.GetNnsByVector(f.query, 0, -1)) }},
		badCase{api: "Index.GetNnsByVector", name: "n MaxInt: every item", want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.built.GetNnsByVector(f.query, math.MaxInt, math.MaxInt64)
			return expectCount(ids, dists, err, mxItems)
		}},
		badCase{api: "Index.GetNnsByVector", name: "searchK -2", want: ErrInvalidArgument, says: append([]string{"got -2"}, saysSearchK...),
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByVector(f.query, 5, -2)) }},
		badCase{api: "Index.GetNnsByVector", name: "searchK MinInt", want: ErrInvalidArgument, says: saysSearchK,
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByVector(f.query, 5, math.MinInt)) }},
		badCase{api: "Index.GetNnsByVector", name: "searchK MaxInt: exhaustive", want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.built.GetNnsByVector(f.query, 10, math.MaxInt)
			return f.expectExact(ids, dists, err, 10)
		}},
		badCase{api: "Index.GetNnsByVector", name: "on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.unbuilt.GetNnsByVector(f.query, 5, -1)) }},
		badCase{api: "Index.GetNnsByVector", name: "n 0 on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.unbuilt.GetNnsByVector(f.query, 0, -1)) }},
	)
	add(
		badCase{api: "Index.GetNnsByItem", name: "the reserved key NoKey", want: ErrInvalidArgument, says: append([]string{"18446744073709551615"}, saysNeverAdd...),
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByItem(NoKey, 5, -1)) }},
		badCase{api: "Index.GetNnsByItem", name: "a key never added", want: ErrInvalidArgument, says: append([]string{"item 50"}, saysNeverAdd...),
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByItem(mxItems, 5, -1)) }},
		badCase{api: "Index.GetNnsByItem", name: "key 2^63", want: ErrInvalidArgument, says: saysNeverAdd,
			run: func(f *matrixFixture) error { return errOf2(f.live.GetNnsByItem(1<<63, 5, -1)) }},
		badCase{api: "Index.GetNnsByItem", name: "a key never added, on shards", want: ErrInvalidArgument, says: saysNeverAdd,
			run: func(f *matrixFixture) error { return errOf2(f.shards.GetNnsByItem(mxItems, 5, -1)) }},
		badCase{api: "Index.GetNnsByItem", name: "n -1", want: ErrInvalidArgument, says: saysNegative,
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByItem(0, -1, -1)) }},
		badCase{api: "Index.GetNnsByItem", name: "searchK -2", want: ErrInvalidArgument, says: saysSearchK,
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByItem(0, 5, -2)) }},
		badCase{api: "Index.GetNnsByItem", name: "n 0: no results", want: nil,
			run: func(f *matrixFixture) error { return expectNone(f.built.GetNnsByItem(0, 0, -1)) }},
		badCase{api: "Index.GetNnsByItem", name: "n MaxInt and searchK MaxInt64: every item", want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.loaded.GetNnsByItem(0, math.MaxInt, math.MaxInt64)
			return expectCount(ids, dists, err, mxItems)
		}},
		badCase{api: "Index.GetNnsByItem", name: "on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.unbuilt.GetNnsByItem(0, 5, -1)) }},
	)
	add(
		badCase{api: "Index.GetNnsByPacked", name: "nil words", nilArg: 1, want: ErrInvalidArgument, says: append([]string{"got 0 words"}, saysWords...),
			run: func(f *matrixFixture) error { return errOf2(f.hamming.GetNnsByPacked(nil, 5, -1)) }},
		badCase{api: "Index.GetNnsByPacked", name: "1 word of 2", want: ErrInvalidArgument, says: saysWords,
			run: func(f *matrixFixture) error { return errOf2(f.hamming.GetNnsByPacked([]uint64{1}, 5, -1)) }},
		badCase{api: "Index.GetNnsByPacked", name: "3 words of 2", want: ErrInvalidArgument, says: saysWords,
			run: func(f *matrixFixture) error { return errOf2(f.hamming.GetNnsByPacked([]uint64{1, 2, 3}, 5, -1)) }},
		badCase{api: "Index.GetNnsByPacked", name: "bits past dim", want: ErrInvalidArgument, says: saysPastDim,
			run: func(f *matrixFixture) error {
				return errOf2(f.hamming.GetNnsByPacked([]uint64{0, math.MaxUint64}, 5, -1))
			}},
		badCase{api: "Index.GetNnsByPacked", name: "n -1", want: ErrInvalidArgument, says: saysNegative,
			run: func(f *matrixFixture) error { return errOf2(f.hamming.GetNnsByPacked([]uint64{1, 1}, -1, -1)) }},
		badCase{api: "Index.GetNnsByPacked", name: "searchK -2", want: ErrInvalidArgument, says: saysSearchK,
			run: func(f *matrixFixture) error { return errOf2(f.hamming.GetNnsByPacked([]uint64{1, 1}, 5, -2)) }},
		badCase{api: "Index.GetNnsByPacked", name: "another metric", want: ErrInvalidArgument, says: saysHamming,
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsByPacked([]uint64{1}, 5, -1)) }},
		badCase{api: "Index.GetNnsByPacked", name: "on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.hamUnbuilt.GetNnsByPacked([]uint64{1, 1}, 5, -1)) }},
		badCase{api: "Index.GetNnsByPacked", name: "n 0: no results", want: nil,
			run: func(f *matrixFixture) error { return expectNone(f.hamming.GetNnsByPacked([]uint64{1, 1}, 0, -1)) }},
		badCase{api: "Index.GetNnsByPacked", name: "n MaxInt and searchK MaxInt64: every item", want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.hamming.GetNnsByPacked([]uint64{1, 1}, math.MaxInt, math.MaxInt64)
			return expectCount(ids, dists, err, mxHamN)
		}},
	)
	add(batchCases("Index.GetNnsBatch", func(f *matrixFixture, queries []float32, n, nThreads int) ([][]uint64, [][]float32, error) {
		return f.built.GetNnsBatch(queries, n, -1, nThreads)
	})...)
	add(
		badCase{api: "Index.GetNnsBatch", name: "searchK -2", want: ErrInvalidArgument, says: saysSearchK,
			run: func(f *matrixFixture) error { return errOf2(f.built.GetNnsBatch(f.query, 5, -2, 1)) }},
		badCase{api: "Index.GetNnsBatch", name: "searchK MaxInt: exhaustive", want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.built.GetNnsBatch(f.query, 10, math.MaxInt, 1)
			if err := expectBatch(ids, dists, err, 1, 10); err != nil {
				return err
			}
			return f.expectExact(ids[0], dists[0], nil, 10)
		}},
		badCase{api: "Index.GetNnsBatch", name: "on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.unbuilt.GetNnsBatch(f.query, 5, -1, 1)) }},
	)
	add(vectorCases("Index.Search", 1, func(f *matrixFixture, v []float32) error {
		return errOf2(f.built.Search(v, 5, f.opts))
	})...)
	add(
		badCase{api: "Index.Search", name: "nil options: the defaults", nilArg: 3, want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.built.Search(f.query, 10, nil)
			return f.expectExact(ids, dists, err, 10)
		}},
		badCase{api: "Index.Search", name: "n -1", want: ErrInvalidArgument, says: saysNegative,
			run: func(f *matrixFixture) error { return errOf2(f.built.Search(f.query, -1, nil)) }},
		badCase{api: "Index.Search", name: "n 0: no results", want: nil,
			run: func(f *matrixFixture) error { return expectNone(f.built.Search(f.query, 0, f.opts)) }},
		badCase{api: "Index.Search", name: "n MaxInt: exactly every accepted item", want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.built.Search(f.query, math.MaxInt, f.opts)
			return expectCount(ids, dists, err, mxItems-2) // f.opts refuses items 0 and 1
		}},
		badCase{api: "Index.Search", name: "on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.unbuilt.Search(f.query, 5, nil)) }},
		badCase{api: "Index.Search", name: "a panicking filter func", want: ErrFilterPanic, says: []string{"the filter panicked", "a bad filter"},
			run: func(f *matrixFixture) error {
				o := f.freshOptions()
				must(f.t, o.SetFilter(func(uint64) bool { panic("a bad filter") }))
				return errOf2(f.built.Search(f.query, 5, o))
			}},
	)
	add(
		badCase{api: "Index.SearchByItem", name: "the reserved key NoKey", want: ErrInvalidArgument, says: saysNeverAdd,
			run: func(f *matrixFixture) error { return errOf2(f.built.SearchByItem(NoKey, 5, f.opts)) }},
		badCase{api: "Index.SearchByItem", name: "a key never added", want: ErrInvalidArgument, says: append([]string{"item 50"}, saysNeverAdd...),
			run: func(f *matrixFixture) error { return errOf2(f.reader.SearchByItem(mxItems, 5, nil)) }},
		badCase{api: "Index.SearchByItem", name: "nil options: the defaults", nilArg: 3, want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.built.SearchByItem(0, 1, nil)
			return theSame(ids, dists, err, []uint64{0}, []float32{0})
		}},
		badCase{api: "Index.SearchByItem", name: "n -1", want: ErrInvalidArgument, says: saysNegative,
			run: func(f *matrixFixture) error { return errOf2(f.built.SearchByItem(0, -1, nil)) }},
		badCase{api: "Index.SearchByItem", name: "n 0: no results", want: nil,
			run: func(f *matrixFixture) error { return expectNone(f.built.SearchByItem(0, 0, nil)) }},
		badCase{api: "Index.SearchByItem", name: "on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.unbuilt.SearchByItem(0, 5, nil)) }},
	)
	add(batchCases("Index.SearchBatch", func(f *matrixFixture, queries []float32, n, nThreads int) ([][]uint64, [][]float32, error) {
		return f.built.SearchBatch(queries, n, nil, nThreads)
	})...)
	add(
		badCase{api: "Index.SearchBatch", name: "nil options: the defaults", nilArg: 3, want: nil, run: func(f *matrixFixture) error {
			ids, dists, err := f.built.SearchBatch(f.query, 10, nil, 1)
			if err := expectBatch(ids, dists, err, 1, 10); err != nil {
				return err
			}
			return f.expectExact(ids[0], dists[0], nil, 10)
		}},
		badCase{api: "Index.SearchBatch", name: "on an unbuilt index", want: ErrInvalidState, says: saysNotBuilt,
			run: func(f *matrixFixture) error { return errOf2(f.unbuilt.SearchBatch(f.query, 5, nil, 1)) }},
	)

	// ------------------------------------------------------------ Index: items

	for _, c := range []struct {
		name string
		key  uint64
		pick func(f *matrixFixture) *Index
	}{
		{"the reserved key NoKey", NoKey, func(f *matrixFixture) *Index { return f.built }},
		{"a key never added", mxItems, func(f *matrixFixture) *Index { return f.built }},
		{"key 2^63 (loaded)", 1 << 63, func(f *matrixFixture) *Index { return f.loaded }},
		{"a key never added (unbuilt)", mxItems, func(f *matrixFixture) *Index { return f.unbuilt }},
		{"a key never added (live)", 20, func(f *matrixFixture) *Index { return f.live }},
	} {
		c := c
		add(badCase{api: "Index.GetItemVector", name: c.name, want: ErrInvalidArgument, says: saysNeverAdd,
			run: func(f *matrixFixture) error { return errOf(c.pick(f).GetItemVector(c.key)) }})
	}
	add(
		badCase{api: "Index.GetItemPacked", name: "the reserved key NoKey", want: ErrInvalidArgument, says: saysNeverAdd,
			run: func(f *matrixFixture) error { return errOf(f.hamming.GetItemPacked(NoKey)) }},
		badCase{api: "Index.GetItemPacked", name: "a key never added", want: ErrInvalidArgument, says: append([]string{"item 30"}, saysNeverAdd...),
			run: func(f *matrixFixture) error { return errOf(f.hamming.GetItemPacked(mxHamN)) }},
		badCase{api: "Index.GetItemPacked", name: "another metric", want: ErrInvalidArgument, says: saysHamming,
			run: func(f *matrixFixture) error { return errOf(f.built.GetItemPacked(0)) }},
	)
	for _, c := range []struct {
		name string
		i, j uint64
	}{
		{"j is NoKey", 0, NoKey}, {"i is NoKey", NoKey, 0}, {"j never added", 0, mxItems}, {"i is 2^63", 1 << 63, 1},
	} {
		c := c
		add(badCase{api: "Index.GetDistance", name: c.name, want: ErrInvalidArgument, says: saysNeverAdd,
			run: func(f *matrixFixture) error { return errOf(f.built.GetDistance(c.i, c.j)) }})
	}

	// ------------------------------------------------------------ SearchOptions

	for _, k := range []int{-2, math.MinInt} {
		k := k
		add(badCase{api: "SearchOptions.SetSearchK", name: fmt.Sprintf("searchK %d", k), want: ErrInvalidArgument, says: saysSearchK,
			run: func(f *matrixFixture) error { return f.opts.SetSearchK(k) }})
	}
	add(
		badCase{api: "SearchOptions.SetSearchK", name: "searchK MaxInt: exhaustive", want: nil, run: func(f *matrixFixture) error {
			o := f.freshOptions()
			must(f.t, o.SetSearchK(math.MaxInt))
			ids, dists, err := f.built.Search(f.query, 10, o)
			return f.expectExact(ids, dists, err, 10)
		}},
		badCase{api: "SearchOptions.SetEf", name: "ef -1", want: ErrInvalidArgument, says: []string{"ef -1 is out of range"},
			run: func(f *matrixFixture) error { return f.opts.SetEf(-1) }},
		badCase{api: "SearchOptions.SetEf", name: "ef MinInt", want: ErrInvalidArgument, says: saysRange,
			run: func(f *matrixFixture) error { return f.opts.SetEf(math.MinInt) }},
		badCase{api: "SearchOptions.SetEf", name: "ef MaxInt on a graph", want: nil, run: func(f *matrixFixture) error {
			o := f.freshOptions()
			must(f.t, o.SetEf(math.MaxInt))
			ids, dists, err := f.graph.Search(f.query, 10, o)
			return f.expectExact(ids, dists, err, 10)
		}},
		badCase{api: "SearchOptions.SetAllowList", name: "nil: accepts nothing", nilArg: 1, want: nil, run: func(f *matrixFixture) error {
			o := f.freshOptions()
			must(f.t, o.SetAllowList(nil))
			return expectNone(f.built.Search(f.query, 5, o))
		}},
		badCase{api: "SearchOptions.SetAllowList", name: "NoKey and keys never added: accept nothing", want: nil, run: func(f *matrixFixture) error {
			o := f.freshOptions()
			must(f.t, o.SetAllowList([]uint64{NoKey, mxItems, 1 << 63}))
			return expectNone(f.built.Search(f.query, 5, o))
		}},
		badCase{api: "SearchOptions.SetDenyList", name: "nil: denies nothing", nilArg: 1, want: nil, run: func(f *matrixFixture) error {
			o := f.freshOptions()
			must(f.t, o.SetDenyList(nil))
			ids, dists, err := f.built.Search(f.query, 10, o)
			return f.expectExact(ids, dists, err, 10)
		}},
		badCase{api: "SearchOptions.SetDenyList", name: "NoKey and keys never added: deny nothing", want: nil, run: func(f *matrixFixture) error {
			o := f.freshOptions()
			must(f.t, o.SetDenyList([]uint64{NoKey, mxItems}))
			ids, dists, err := f.built.Search(f.query, 10, o)
			return f.expectExact(ids, dists, err, 10)
		}},
		badCase{api: "SearchOptions.SetFilter", name: "nil: removes the filter", nilArg: 1, want: nil, run: func(f *matrixFixture) error {
			o := f.freshOptions()
			must(f.t, o.SetFilter(func(uint64) bool { return false }))
			must(f.t, o.SetFilter(nil))
			ids, dists, err := f.built.Search(f.query, 10, o)
			return f.expectExact(ids, dists, err, 10)
		}},
		badCase{api: "SearchOptions.SetFilter", name: "a func that panics, in a batch on library threads", want: ErrFilterPanic, says: []string{"the filter panicked"},
			run: func(f *matrixFixture) error {
				o := f.freshOptions()
				must(f.t, o.SetFilter(func(key uint64) bool {
					if key == 3 {
						panic(errors.New("key 3 is cursed"))
					}
					return true
				}))
				return errOf2(f.built.SearchBatch(f.data[:8*mxDim], 10, o, 2))
			}},
	)

	// ------------------------------------------------------------ Writer

	add(vectorCases("Writer.Upsert", 2, func(f *matrixFixture, v []float32) error { return f.writer.Upsert(30, v) })...)
	add(badCase{api: "Writer.Upsert", name: "the reserved key NoKey", want: ErrInvalidArgument, says: saysReserved,
		run: func(f *matrixFixture) error { return f.writer.Upsert(NoKey, make([]float32, mxDim)) }})
	batch := func(f *matrixFixture, n int) []float32 {
		return append([]float32(nil), f.data[40*mxDim:(40+n)*mxDim]...)
	}
	add(
		badCase{api: "Writer.UpsertBatch", name: "nil keys, one row", nilArg: 1, want: ErrInvalidArgument, says: []string{"0 keys need 0 values", "there are 4"},
			run: func(f *matrixFixture) error { return f.writer.UpsertBatch(nil, batch(f, 1)) }},
		badCase{api: "Writer.UpsertBatch", name: "two keys, nil vectors", nilArg: 2, want: ErrInvalidArgument, says: []string{"2 keys need 8 values", "there are 0"},
			run: func(f *matrixFixture) error { return f.writer.UpsertBatch([]uint64{30, 31}, nil) }},
		badCase{api: "Writer.UpsertBatch", name: "one row short", want: ErrInvalidArgument, says: []string{"2 keys need 8 values", "there are 7"},
			run: func(f *matrixFixture) error { return f.writer.UpsertBatch([]uint64{30, 31}, batch(f, 2)[:7]) }},
		badCase{api: "Writer.UpsertBatch", name: "NaN in the second row", want: ErrInvalidArgument, says: saysNaN,
			run: func(f *matrixFixture) error {
				return f.writer.UpsertBatch([]uint64{30, 31}, replaceAt(batch(f, 2), 6, nan))
			}},
		badCase{api: "Writer.UpsertBatch", name: "+Inf", want: ErrInvalidArgument, says: saysPosInf,
			run: func(f *matrixFixture) error {
				return f.writer.UpsertBatch([]uint64{30, 31}, replaceAt(batch(f, 2), 1, posInf))
			}},
		badCase{api: "Writer.UpsertBatch", name: "NoKey as the second key", want: ErrInvalidArgument, says: saysReserved,
			run: func(f *matrixFixture) error { return f.writer.UpsertBatch([]uint64{30, NoKey}, batch(f, 2)) }},
		badCase{api: "Writer.UpsertBatch", name: "nil keys and nil vectors: nothing to do", want: nil,
			run: func(f *matrixFixture) error { return f.writer.UpsertBatch(nil, nil) }},
	)
	add(
		badCase{api: "Writer.Delete", name: "a key never added: not there, no error", want: nil, run: func(f *matrixFixture) error {
			if existed, err := f.writer.Delete(1 << 63); err != nil || existed {
				return fmt.Errorf("existed %v, %v", existed, err)
			}
			return nil
		}},
		badCase{api: "Writer.Delete", name: "the reserved key NoKey", want: ErrInvalidArgument, says: saysReserved,
			run: func(f *matrixFixture) error {
				existed, err := f.writer.Delete(NoKey)
				if existed {
					return fmt.Errorf("existed %v, %v", existed, err)
				}
				return err
			}},
		badCase{api: "Writer.DeleteBatch", name: "nil keys: nothing to do", nilArg: 1, want: nil, run: func(f *matrixFixture) error {
			if n, err := f.writer.DeleteBatch(nil); err != nil || n != 0 {
				return fmt.Errorf("deleted %d, %v", n, err)
			}
			return nil
		}},
		badCase{api: "Writer.DeleteBatch", name: "keys never added", want: nil,
			run: func(f *matrixFixture) error {
				if n, err := f.writer.DeleteBatch([]uint64{1 << 63, mxItems}); err != nil || n != 0 {
					return fmt.Errorf("deleted %d, %v", n, err)
				}
				return nil
			}},
		badCase{api: "Writer.DeleteBatch", name: "NoKey among keys: refused whole", want: ErrInvalidArgument, says: saysReserved,
			run: func(f *matrixFixture) error {
				n, err := f.writer.DeleteBatch([]uint64{1 << 63, NoKey})
				if n != 0 {
					return fmt.Errorf("deleted %d, %v", n, err)
				}
				return err
			}},
	)
	for _, c := range []struct {
		name    string
		threads int
		says    []string
	}{
		{"nThreads 0", 0, saysThreads}, {"nThreads -2", -2, saysThreads},
		{"nThreads MaxInt32+1", math.MaxInt32 + 1, saysRange},
	} {
		c := c
		add(badCase{api: "Writer.Compact", name: c.name, want: ErrInvalidArgument, says: c.says,
			run: func(f *matrixFixture) error { return f.writer.Compact(c.threads) }})
	}

	// ------------------------------------------------------------ value types

	add(
		badCase{api: "Metric.String", name: "Metric(99)", want: nil, run: func(*matrixFixture) error {
			return equalString(Metric(99).String(), "Metric(99)")
		}},
		badCase{api: "Durability.String", name: "Durability(7)", want: nil, run: func(*matrixFixture) error {
			return equalString(Durability(7).String(), "Durability(7)")
		}},
		badCase{api: "FileKind.String", name: "FileKind(9)", want: nil, run: func(*matrixFixture) error {
			return equalString(FileKind(9).String(), "FileKind(9)")
		}},
		badCase{api: "Status.String", name: "Status(99)", want: nil, run: func(*matrixFixture) error {
			return equalString(Status(99).String(), "ANN_STATUS_UNKNOWN")
		}},
		badCase{api: "Error.Is", name: "nil target, and a status out of range", nilArg: 1, want: nil, run: func(*matrixFixture) error {
			e := &Error{Status: Status(99), Message: "m"}
			if e.Is(nil) || e.Is(ErrInvalidArgument) || (&Error{Status: StatusIO}).Is(nil) || e.Error() != "ann: m" {
				return fmt.Errorf("Is(nil) %v, Is(ErrInvalidArgument) %v, Error() %q", e.Is(nil), e.Is(ErrInvalidArgument), e.Error())
			}
			return nil
		}},
		badCase{api: "FilterPanicError.Is", name: "nil target", nilArg: 1, want: nil, run: func(*matrixFixture) error {
			if (&FilterPanicError{Value: 1}).Is(nil) {
				return errors.New("a FilterPanicError is nil")
			}
			return nil
		}},
		badCase{api: "FilterPanicError.Unwrap", name: "a value that is no error", want: nil, run: func(*matrixFixture) error {
			if err := (&FilterPanicError{Value: nil}).Unwrap(); err != nil {
				return fmt.Errorf("Unwrap %v", err)
			}
			return nil
		}},
	)
	return cases
}

func equalString(got, want string) error {
	if got != want {
		return fmt.Errorf("%q, want %q", got, want)
	}
	return nil
}

// runCase runs a case's call, turning a panic into a failure.
func runCase(f *matrixFixture, c badCase) (err error, panicked interface{}) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return c.run(f), nil
}

// checkBadInputError asserts that err is the documented error: it matches want and no other
// sentinel, names the method, and its message says every fragment.
func checkBadInputError(t *testing.T, c badCase, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("succeeded; want an error matching %v", c.want)
		return
	}
	if !errors.Is(err, c.want) {
		t.Errorf("%v (%T), want an error matching %v", err, err, c.want)
		return
	}
	for _, other := range append(sentinels[1:], ErrClosed, ErrFilterPanic, ErrLibrary) {
		if other != c.want && errors.Is(err, other) && !(c.want == ErrClosed && other == ErrInvalidState) {
			t.Errorf("%v also matches %v", err, other)
		}
	}
	message := err.Error()
	op := c.api[strings.LastIndex(c.api, ".")+1:]
	var e *Error
	var p *FilterPanicError
	switch {
	case errors.As(err, &e):
		if e.Op != op || strings.TrimSpace(e.Message) == "" {
			t.Errorf("error %q: Op %q, want %q, and a message", err, e.Op, op)
		}
		message = e.Message
	case errors.As(err, &p):
		if p.Op == "" || len(p.Stack) == 0 {
			t.Errorf("filter panic %q without its search or its stack", err)
		}
	default:
		t.Errorf("error %v is a %T, not an *ann.Error", err, err)
	}
	for _, fragment := range c.says {
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(fragment)) {
			t.Errorf("the message %q does not say %q", message, fragment)
		}
	}
}

// TestBadInputMatrix runs every case and checks that no fixture changed.
func TestBadInputMatrix(t *testing.T) {
	f := newMatrixFixture(t)
	before := f.snapshot()
	cases := badInputMatrix()
	seen := map[string]bool{}
	for _, c := range cases {
		c := c
		id := c.api + "/" + c.name
		if seen[id] {
			t.Fatalf("two cases are named %q", id)
		}
		seen[id] = true
		t.Run(id, func(t *testing.T) {
			// Subtests share f; its cleanups and failures belong to the subtest that made them.
			outer := f.t
			f.t = t
			defer func() { f.t = outer }()
			err, panicked := runCase(f, c)
			if panicked != nil {
				t.Fatalf("panicked: %v", panicked)
			}
			if c.known != "" {
				t.Logf("known issue, reported: %s", c.known)
			}
			if c.want == nil {
				if err != nil {
					t.Errorf("%v; want success (known: %q)", err, c.known)
				}
			} else {
				checkBadInputError(t, c, err)
			}
			after := f.snapshot()
			for name, was := range before {
				if after[name] != was {
					t.Errorf("the %s fixture changed:\nbefore %s\nafter  %s", name, was, after[name])
				}
			}
			before = after // report a change once
		})
	}
	t.Logf("%d bad-input cases", len(cases))
}

// TestBadInputAfterClose calls every method of a closed and of a nil *Index, *SearchOptions
// and *Writer, found by reflection, with zero arguments: each returns an error matching
// ErrClosed (and ErrInvalidState) that names the method, or, for methods without an error,
// zero values (Dim, Metric and Dir keep theirs); Close returns nil, again and again.
func TestBadInputAfterClose(t *testing.T) {
	f := newMatrixFixture(t)
	before := f.snapshot()

	closedIndex := f.freshBuilt()
	must(t, closedIndex.Close())
	closedOptions := f.freshOptions()
	must(t, closedOptions.SetFilter(func(uint64) bool { return true }))
	must(t, closedOptions.Close())
	closedWriter, dir := f.freshWriter()
	must(t, closedWriter.Close())
	// Accessors that keep their values after Close (documented), by method.
	kept := map[string]interface{}{
		"Index.Dim": mxDim, "Index.Metric": Euclidean,
		"Writer.Dim": mxDim, "Writer.Metric": Euclidean, "Writer.Dir": dir,
	}

	cases := 0
	for _, receiver := range []struct {
		name  string
		value reflect.Value
	}{
		{"closed", reflect.ValueOf(closedIndex)}, {"nil", reflect.ValueOf((*Index)(nil))},
		{"closed", reflect.ValueOf(closedOptions)}, {"nil", reflect.ValueOf((*SearchOptions)(nil))},
		{"closed", reflect.ValueOf(closedWriter)}, {"nil", reflect.ValueOf((*Writer)(nil))},
	} {
		typ := receiver.value.Type()
		for i := 0; i < typ.NumMethod(); i++ {
			method := typ.Method(i)
			api := typ.Elem().Name() + "." + method.Name
			cases++
			t.Run(receiver.name+" "+api, func(t *testing.T) {
				args := []reflect.Value{receiver.value}
				for a := 1; a < method.Type.NumIn(); a++ {
					args = append(args, reflect.Zero(method.Type.In(a)))
				}
				var results []reflect.Value
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("panicked: %v", p)
						}
					}()
					results = method.Func.Call(args)
				}()
				last := method.Type.NumOut() - 1
				returnsError := last >= 0 && method.Type.Out(last) == reflect.TypeOf((*error)(nil)).Elem()
				switch {
				case method.Name == "Close":
					if !results[0].IsNil() {
						t.Errorf("Close: %v", results[0].Interface())
					}
				case returnsError:
					err, _ := results[last].Interface().(error)
					checkBadInputError(t, badCase{api: api, want: ErrClosed, says: []string{"closed"}}, err)
					if !errors.Is(err, ErrInvalidState) {
						t.Errorf("%v does not match ErrInvalidState", err)
					}
					for _, r := range results[:last] {
						if !r.IsZero() {
							t.Errorf("a result %v beside the error", r.Interface())
						}
					}
				default:
					want, keeps := kept[api]
					for _, r := range results {
						if receiver.name == "closed" && keeps {
							if !reflect.DeepEqual(r.Interface(), want) {
								t.Errorf("%v, want %v kept after Close", r.Interface(), want)
							}
						} else if !r.IsZero() {
							t.Errorf("%v, want the zero value", r.Interface())
						}
					}
				}
			})
		}
	}
	// Closing again, and closing the fixtures' siblings, changed nothing else.
	for _, c := range []interface{ Close() error }{closedIndex, closedOptions, closedWriter} {
		if err := c.Close(); err != nil {
			t.Errorf("a third Close: %v", err)
		}
	}
	if after := f.snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("closing other objects changed a fixture:\nbefore %v\nafter  %v", before, after)
	}
	// The writer's directory is free again, with its items.
	w, err := OpenWriter(dir, mxDim, Euclidean, nil)
	must(t, err)
	defer w.Close()
	idx := writerIndex(t, w)
	if idx.NStored() != 10 {
		t.Errorf("the closed writer's directory holds %d items, want 10", idx.NStored())
	}
	t.Logf("%d use-after-close cases", cases)
}

// exportedAPI parses the package's source (not its tests) for its exported functions and the
// exported methods of its exported types, as "Func" and "Type.Method".
func exportedAPI(t *testing.T) (funcs []string, types map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(info os.FileInfo) bool {
		return !strings.HasSuffix(info.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	types = map[string]bool{}
	for _, pkg := range pkgs {
		for _, file := range pkg.Files {
			for _, decl := range file.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || !fn.Name.IsExported() {
					continue
				}
				if fn.Recv == nil {
					funcs = append(funcs, fn.Name.Name)
					continue
				}
				recv := fn.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if ident, ok := recv.(*ast.Ident); ok && ident.IsExported() {
					funcs = append(funcs, ident.Name+"."+fn.Name.Name)
					types[ident.Name] = true
				}
			}
		}
	}
	sort.Strings(funcs)
	return funcs, types
}

// TestBadInputMatrixCoversTheAPI fails, naming what to add, when an exported function or
// method has no case in badInputMatrix (and no reason in noBadInput), or no case passing one
// of its nil-able or string parameters as its zero value.
func TestBadInputMatrixCoversTheAPI(t *testing.T) {
	funcs, types := exportedAPI(t)
	signatures := map[string]reflect.Type{}
	for name, fn := range apiFuncs {
		signatures[name] = reflect.TypeOf(fn)
	}
	listed := map[string]bool{}
	for _, typ := range apiTypes {
		listed[typ.Elem().Name()] = true
		for i := 0; i < typ.NumMethod(); i++ {
			m := typ.Method(i)
			in := []reflect.Type{}
			for a := 1; a < m.Type.NumIn(); a++ { // without the receiver
				in = append(in, m.Type.In(a))
			}
			signatures[typ.Elem().Name()+"."+m.Name] = reflect.FuncOf(in, nil, m.Type.IsVariadic())
		}
	}
	for name := range types {
		if !listed[name] {
			t.Errorf("the exported type %s has methods: add it to apiTypes in badinput_test.go", name)
		}
	}
	cases := map[string][]badCase{}
	for _, c := range badInputMatrix() {
		cases[c.api] = append(cases[c.api], c)
	}
	inSource := map[string]bool{}
	for _, name := range funcs {
		inSource[name] = true
		sig, ok := signatures[name]
		if !ok {
			t.Errorf("%s is exported but not in apiFuncs (functions) or apiTypes (methods) of badinput_test.go: add it", name)
			continue
		}
		_, exempt := noBadInput[name]
		if len(cases[name]) == 0 && !exempt {
			t.Errorf("%s has no bad-input case: add its cases to badInputMatrix in badinput_test.go "+
				"(or, if it takes no input that can be bad, a reason to noBadInput)", name)
		}
		if len(cases[name]) > 0 && exempt {
			t.Errorf("%s has cases and is in noBadInput too", name)
		}
		for a := 0; a < sig.NumIn(); a++ {
			switch sig.In(a).Kind() {
			case reflect.Slice, reflect.Ptr, reflect.Func, reflect.Map, reflect.Interface, reflect.Chan, reflect.String:
			default:
				continue
			}
			found := false
			for _, c := range cases[name] {
				found = found || c.nilArg == a+1
			}
			if !found {
				t.Errorf("%s: no case passes parameter %d (%v) as nil (or \"\"): add one to badInputMatrix with nilArg %d",
					name, a+1, sig.In(a), a+1)
			}
		}
	}
	for name := range cases {
		if !inSource[name] {
			t.Errorf("badInputMatrix has cases for %s, which the package does not export", name)
		}
	}
	for name := range noBadInput {
		if !inSource[name] {
			t.Errorf("noBadInput names %s, which the package does not export", name)
		}
	}
	for name := range apiFuncs {
		if !inSource[name] {
			t.Errorf("apiFuncs names %s, which the package does not export", name)
		}
	}
}
