package ann

import (
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// Every metric: a saved and loaded index (native, and Annoy's header-less form) answers
// exactly as the index that wrote it, and reports its settings.
func TestSaveLoadRoundTripEveryMetric(t *testing.T) {
	for _, m := range allMetrics {
		t.Run(m.String(), func(t *testing.T) {
			dim := dimFor(m)
			data := dataset(m, 300, dim, 1)
			queries := dataset(m, 20, dim, 2)
			built := buildIndex(t, m, data, dim, 8)
			native, annoy := tempPath(t, "index.ann"), tempPath(t, "index.annoy")
			if err := built.Save(native); err != nil {
				t.Fatal(err)
			}
			if err := built.SaveAnnoy(annoy); err != nil {
				t.Fatal(err)
			}
			loaded, err := Load(native, false)
			if err != nil {
				t.Fatal(err)
			}
			defer loaded.Close()
			fromAnnoy, err := LoadAnnoy(annoy, dim, m, true)
			if err != nil {
				t.Fatal(err)
			}
			defer fromAnnoy.Close()

			if loaded.Dim() != dim || loaded.Metric() != m || loaded.NItems() != 300 ||
				loaded.NTrees() != built.NTrees() || loaded.Seed() != 1234 {
				t.Fatalf("loaded: dim %d metric %v items %d trees %d seed %d",
					loaded.Dim(), loaded.Metric(), loaded.NItems(), loaded.NTrees(), loaded.Seed())
			}
			if fromAnnoy.NItems() != 300 || fromAnnoy.NTrees() != built.NTrees() {
				t.Fatalf("annoy: items %d trees %d", fromAnnoy.NItems(), fromAnnoy.NTrees())
			}
			for _, idx := range []*Index{loaded, fromAnnoy} {
				if err := idx.Verify(); err != nil {
					t.Fatal(err)
				}
				for q := 0; q < 20; q++ {
					query := row(queries, dim, q)
					wantIDs, wantDists := mustNns(t, built, query, 10, -1)
					ids, dists := mustNns(t, idx, query, 10, -1)
					if !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(dists, wantDists) {
						t.Fatalf("query %d: %v %v, want %v %v", q, ids, dists, wantIDs, wantDists)
					}
				}
				for _, id := range []uint64{0, 7, 299} {
					want, _ := built.GetItemVector(id)
					got, err := idx.GetItemVector(id)
					if err != nil || !reflect.DeepEqual(got, want) {
						t.Fatalf("item %d: %v %v, want %v", id, got, err, want)
					}
					wantIDs, wantDists, _ := built.GetNnsByItem(id, 5, 100)
					ids, dists, err := idx.GetNnsByItem(id, 5, 100)
					if err != nil || !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(dists, wantDists) {
						t.Fatalf("by item %d: %v %v %v, want %v %v", id, ids, dists, err, wantIDs, wantDists)
					}
				}
			}
			info, err := FileInfo(native)
			if err != nil {
				t.Fatal(err)
			}
			if info.Kind != FileNative || info.Metric != m || info.Dim != dim || info.NItems != 300 ||
				info.NTrees != built.NTrees() || info.Seed != 1234 || info.NodeSize <= 0 ||
				info.NNodes < 300 || info.FormatVersion == 0 {
				t.Fatalf("file info %+v", info)
			}
			stat, _ := os.Stat(native)
			if info.FileSize != uint64(stat.Size()) {
				t.Fatalf("file size %d, stat says %d", info.FileSize, stat.Size())
			}
			annoyInfo, err := FileInfo(annoy)
			if err != nil || annoyInfo.Kind != FileAnnoy || annoyInfo.Dim != 0 {
				t.Fatalf("annoy file info %+v %v", annoyInfo, err)
			}
		})
	}
}

func TestSeedMakesBuildsRepeatable(t *testing.T) {
	data := dataset(Euclidean, 200, 8, 3)
	a := buildIndex(t, Euclidean, data, 8, 5)
	b := buildIndex(t, Euclidean, data, 8, 5)
	pa, pb := tempPath(t, "a.ann"), tempPath(t, "b.ann")
	if err := a.Save(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(pb); err != nil {
		t.Fatal(err)
	}
	ba, _ := os.ReadFile(pa)
	bb, _ := os.ReadFile(pb)
	if len(ba) == 0 || !reflect.DeepEqual(ba, bb) {
		t.Fatal("one seed gave two different files")
	}
	idx, _ := New(8, Euclidean)
	defer idx.Close()
	if err := idx.SetSeed(99); err != nil || idx.Seed() != 99 {
		t.Fatalf("seed %d, %v", idx.Seed(), err)
	}
}

// expectError asserts that err matches the sentinel and carries a message.
func expectError(t *testing.T, err error, sentinel error, fragment string) {
	t.Helper()
	var e *Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error matching %v", err, sentinel)
	}
	if e.Op == "" || e.Message == "" || !strings.Contains(err.Error(), fragment) {
		t.Fatalf("error %q (op %q) lacks %q", err, e.Op, fragment)
	}
	for _, other := range sentinels[1:] {
		if other != sentinel && errors.Is(err, other) && !(sentinel == ErrClosed && other == ErrInvalidState) {
			t.Fatalf("%v also matches %v", err, other)
		}
	}
}

func TestInvalidArguments(t *testing.T) {
	_, err := New(0, Angular)
	expectError(t, err, ErrInvalidArgument, "New")
	_, err = New(-1, Angular)
	expectError(t, err, ErrInvalidArgument, "dim -1")
	_, err = New(1<<24+1, Euclidean)
	expectError(t, err, ErrInvalidArgument, "New")
	_, err = New(4, Metric(5))
	expectError(t, err, ErrInvalidArgument, "New")
	_, err = ParseMetric("cosinus")
	expectError(t, err, ErrInvalidArgument, "cosinus")

	idx, err := New(4, Euclidean)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	expectError(t, idx.AddItem(0, []float32{1, 2, 3}), ErrInvalidArgument, "has 3 values")
	expectError(t, idx.AddItem(0, nil), ErrInvalidArgument, "has 0 values")
	expectError(t, idx.AddItem(0, []float32{1, float32(math.NaN()), 0, 0}), ErrInvalidArgument, "NaN")
	expectError(t, idx.AddItem(0, []float32{1, float32(math.Inf(1)), 0, 0}), ErrInvalidArgument, "AddItem")
	expectError(t, idx.AddItem(NoKey, []float32{1, 2, 3, 4}), ErrInvalidArgument, "AddItem")
	expectError(t, idx.AddItemPacked(0, []uint64{1}), ErrInvalidArgument, "hamming")
	for i := 0; i < 10; i++ {
		if err := idx.AddItem(uint64(i), []float32{float32(i), 0, 0, 1}); err != nil {
			t.Fatal(err)
		}
	}
	expectError(t, idx.Build(0, -1), ErrInvalidArgument, "Build")
	expectError(t, idx.Build(5, -2), ErrInvalidArgument, "Build")
	expectError(t, idx.Build(math.MaxInt32+1, 1), ErrInvalidArgument, "out of range")
	if err := idx.Build(5, 2); err != nil {
		t.Fatal(err)
	}
	_, _, err = idx.GetNnsByVector([]float32{1, 2, 3, 4, 5}, 3, -1)
	expectError(t, err, ErrInvalidArgument, "has 5 values")
	_, _, err = idx.GetNnsByVector([]float32{1, 2, float32(math.NaN()), 4}, 3, -1)
	expectError(t, err, ErrInvalidArgument, "NaN")
	_, _, err = idx.GetNnsByVector([]float32{1, 2, 3, 4}, -1, -1)
	expectError(t, err, ErrInvalidArgument, "negative")
	_, _, err = idx.GetNnsByVector([]float32{1, 2, 3, 4}, 3, -2)
	expectError(t, err, ErrInvalidArgument, "GetNnsByVector")
	_, _, err = idx.GetNnsByItem(10, 3, -1)
	expectError(t, err, ErrInvalidArgument, "GetNnsByItem")
	_, err = idx.GetItemVector(42)
	expectError(t, err, ErrInvalidArgument, "42")
	_, err = idx.GetDistance(0, 42)
	expectError(t, err, ErrInvalidArgument, "GetDistance")
	_, err = idx.GetItemPacked(0)
	expectError(t, err, ErrInvalidArgument, "hamming")
	_, _, err = idx.GetNnsByPacked([]uint64{0}, 3, -1)
	expectError(t, err, ErrInvalidArgument, "hamming")
	_, _, err = idx.GetNnsBatch(make([]float32, 7), 3, -1, 1)
	expectError(t, err, ErrInvalidArgument, "not a multiple")
	_, _, err = idx.GetNnsBatch(make([]float32, 8), 3, -1, 0)
	expectError(t, err, ErrInvalidArgument, "GetNnsBatch")
	expectError(t, idx.Save("bad\x00path"), ErrInvalidArgument, "NUL")
}

// A hole (an id never added) is reported, not returned as zeros.
func TestHolesAreErrors(t *testing.T) {
	idx, _ := New(2, Euclidean)
	defer idx.Close()
	if err := idx.AddItem(0, []float32{0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := idx.AddItem(4, []float32{1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := idx.Build(2, 1); err != nil {
		t.Fatal(err)
	}
	if idx.NItems() != 5 {
		t.Fatalf("n items %d", idx.NItems())
	}
	_, err := idx.GetItemVector(2)
	expectError(t, err, ErrInvalidArgument, "GetItemVector")
	ids, _ := mustNns(t, idx, []float32{0.9, 0.9}, 10, -1)
	if !reflect.DeepEqual(ids, []uint64{4, 0}) {
		t.Fatalf("ids %v skip holes", ids)
	}
}

func TestStateErrors(t *testing.T) {
	idx, _ := New(3, Angular)
	defer idx.Close()
	_, _, err := idx.GetNnsByVector([]float32{1, 0, 0}, 1, -1)
	expectError(t, err, ErrInvalidState, "GetNnsByVector")
	expectError(t, idx.Save(tempPath(t, "unbuilt.ann")), ErrInvalidState, "Save")
	expectError(t, idx.SaveAnnoy(tempPath(t, "unbuilt.annoy")), ErrInvalidState, "SaveAnnoy")
	expectError(t, idx.Verify(), ErrInvalidState, "Verify")
	for i, v := range [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} {
		if err := idx.AddItem(uint64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.Build(4, 1); err != nil {
		t.Fatal(err)
	}
	expectError(t, idx.Build(4, 1), ErrInvalidState, "Build")
	expectError(t, idx.AddItem(3, []float32{1, 1, 1}), ErrInvalidState, "unbuild")
	expectError(t, idx.OnDiskBuild(tempPath(t, "x.ann")), ErrInvalidState, "OnDiskBuild")

	// Unbuild returns to adding; the items stay.
	if err := idx.Unbuild(); err != nil || idx.NTrees() != 0 || idx.NItems() != 3 {
		t.Fatalf("unbuild: %v, %d trees, %d items", err, idx.NTrees(), idx.NItems())
	}
	if err := idx.AddItem(3, []float32{1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := idx.Build(4, 1); err != nil {
		t.Fatal(err)
	}
	path := tempPath(t, "index.ann")
	if err := idx.Save(path); err != nil {
		t.Fatal(err)
	}

	loaded, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	expectError(t, loaded.AddItem(9, []float32{1, 1, 1}), ErrInvalidState, "AddItem")
	expectError(t, loaded.Build(2, 1), ErrInvalidState, "Build")
	expectError(t, loaded.Unbuild(), ErrInvalidState, "Unbuild")

	// Unload leaves an empty index of the same dim and metric, ready for new items.
	if err := loaded.Unload(); err != nil {
		t.Fatal(err)
	}
	if loaded.NItems() != 0 || loaded.Dim() != 3 || loaded.Metric() != Angular {
		t.Fatalf("after unload: %d items", loaded.NItems())
	}
	if err := loaded.AddItem(0, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := loaded.Build(1, 1); err != nil {
		t.Fatal(err)
	}
}

func TestFileErrors(t *testing.T) {
	missing := tempPath(t, "missing.ann")
	_, err := Load(missing, false)
	expectError(t, err, ErrIO, "Load")
	_, err = LoadAnnoy(missing, 4, Euclidean, false)
	expectError(t, err, ErrIO, "LoadAnnoy")
	_, err = FileInfo(missing)
	expectError(t, err, ErrIO, "FileInfo")

	garbage := tempPath(t, "garbage.ann")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not an index ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(garbage, false)
	expectError(t, err, ErrCorruptFile, "Load")
	_, err = LoadAnnoy(garbage, 7, Euclidean, false) // 1300 bytes: not a whole number of nodes
	expectError(t, err, ErrCorruptFile, "LoadAnnoy")
	_, err = LoadAnnoy(garbage, 0, Euclidean, false)
	expectError(t, err, ErrInvalidArgument, "LoadAnnoy")

	// A native file whose body is damaged loads (O(1)), and Verify finds the damage.
	data := dataset(Euclidean, 100, 4, 5)
	idx := buildIndex(t, Euclidean, data, 4, 3)
	path := tempPath(t, "damaged.ann")
	if err := idx.Save(path); err != nil {
		t.Fatal(err)
	}
	bytes, _ := os.ReadFile(path)
	bytes[len(bytes)-10] ^= 0xff
	if err := os.WriteFile(path, bytes, 0o600); err != nil {
		t.Fatal(err)
	}
	damaged, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer damaged.Close()
	expectError(t, damaged.Verify(), ErrCorruptFile, "Verify")

	// A damaged header is refused by Load and by FileInfo.
	bytes[20] ^= 0xff
	if err := os.WriteFile(path, bytes, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path, false)
	expectError(t, err, ErrCorruptFile, "Load")
	_, err = FileInfo(path)
	expectError(t, err, ErrCorruptFile, "FileInfo")

	expectError(t, idx.Save(tempPath(t, "no/such/dir/x.ann")), ErrIO, "Save")
}

func TestOnDiskBuild(t *testing.T) {
	data := dataset(Manhattan, 200, 6, 7)
	path := tempPath(t, "ondisk.ann")
	idx, _ := New(6, Manhattan)
	defer idx.Close()
	if err := idx.AddItem(0, row(data, 6, 0)); err != nil {
		t.Fatal(err)
	}
	if err := idx.OnDiskBuild(path); err != nil {
		t.Fatal(err)
	}
	if info, err := FileInfo(path); err == nil && info.Kind == FileNative {
		t.Fatal("an unfinished on-disk build looks like an index")
	}
	for i := 1; i < 200; i++ {
		if err := idx.AddItem(uint64(i), row(data, 6, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.SetSeed(1234); err != nil {
		t.Fatal(err)
	}
	if err := idx.Build(5, -1); err != nil {
		t.Fatal(err)
	}
	if err := idx.Verify(); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	inMemory := buildIndex(t, Manhattan, data, 6, 5)
	for q := 0; q < 10; q++ {
		want, _ := mustNns(t, inMemory, row(data, 6, q), 5, -1)
		got, _ := mustNns(t, loaded, row(data, 6, q), 5, -1)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("on-disk %v, in memory %v", got, want)
		}
	}
}

func TestUseAfterCloseIsAnError(t *testing.T) {
	idx := buildIndex(t, Angular, dataset(Angular, 50, 4, 9), 4, 2)
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	_, _, err := idx.GetNnsByVector([]float32{1, 2, 3, 4}, 3, -1)
	expectError(t, err, ErrClosed, "GetNnsByVector")
	if !errors.Is(err, ErrInvalidState) {
		t.Fatal("a closed index is not an invalid state")
	}
	expectError(t, idx.AddItem(0, []float32{1, 2, 3, 4}), ErrClosed, "AddItem")
	expectError(t, idx.Build(1, 1), ErrClosed, "Build")
	expectError(t, idx.Save(tempPath(t, "closed.ann")), ErrClosed, "Save")
	expectError(t, idx.Verify(), ErrClosed, "Verify")
	expectError(t, idx.Unload(), ErrClosed, "Unload")
	_, _, err = idx.GetNnsBatch([]float32{1, 2, 3, 4}, 3, -1, 1)
	expectError(t, err, ErrClosed, "GetNnsBatch")
	_, err = idx.GetItemVector(0)
	expectError(t, err, ErrClosed, "GetItemVector")
	if idx.NItems() != 0 || idx.NTrees() != 0 || idx.Seed() != 0 {
		t.Fatal("accessors of a closed index are not zero")
	}
	if idx.Dim() != 4 || idx.Metric() != Angular {
		t.Fatal("dim and metric are lost after Close")
	}
	var none *Index
	expectError(t, none.Verify(), ErrClosed, "Verify")
	if none.Close() != nil || none.NItems() != 0 {
		t.Fatal("a nil *Index is not a closed one")
	}
}
