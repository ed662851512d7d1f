package ann

import (
	"errors"
	"hash/fnv"
	"math"
	"reflect"
	"strings"
	"testing"
)

// stringKey is a string's 64-bit FNV-1a hash: the kind of key callers use for documents.
func stringKey(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// sparseKeys are keys far beyond Annoy's 2^31-2, and none of them dense.
func sparseKeys() []uint64 {
	keys := []uint64{1 << 40, 1<<63 + 5, math.MaxUint64 - 1, 3, 1<<40 + 1}
	for _, s := range []string{"alpha", "beta", "gamma", "delta", "epsilon"} {
		keys = append(keys, stringKey(s)|1<<62) // |1<<62: never dense, never NoKey
	}
	return keys
}

// Sparse 64-bit keys are stored, saved, loaded and queried as themselves.
func TestSparseKeysRoundTrip(t *testing.T) {
	const dim = 6
	keys := sparseKeys()
	data := dataset(Euclidean, len(keys), dim, 31)
	idx, err := New(dim, Euclidean)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	var largest uint64
	for i, key := range keys {
		if err := idx.AddItem(key, row(data, dim, i)); err != nil {
			t.Fatalf("key %d: %v", key, err)
		}
		if key > largest {
			largest = key
		}
	}
	if idx.NStored() != uint64(len(keys)) || idx.NItems() != largest+1 {
		t.Fatalf("before build: n stored %d, n items %d", idx.NStored(), idx.NItems())
	}
	if err := idx.Build(4, 1); err != nil {
		t.Fatal(err)
	}
	path := tempPath(t, "sparse.ann")
	if err := idx.Save(path); err != nil {
		t.Fatal(err)
	}
	expectError(t, idx.SaveAnnoy(tempPath(t, "sparse.annoy")), ErrInvalidState, "Annoy's layout")
	// The header of a file with sparse keys counts its items (Load gives the largest key + 1).
	if info, err := FileInfo(path); err != nil || info.Kind != FileNative || info.NItems != uint64(len(keys)) {
		t.Fatalf("file info %+v, %v", info, err)
	}

	loaded, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	if err := loaded.Verify(); err != nil {
		t.Fatal(err)
	}
	if loaded.NStored() != uint64(len(keys)) || loaded.NItems() != largest+1 {
		t.Fatalf("loaded: n stored %d, n items %d", loaded.NStored(), loaded.NItems())
	}
	searchK := len(keys) * 4 * 4
	for _, index := range []*Index{idx, loaded} {
		for i, key := range keys {
			vector, err := index.GetItemVector(key)
			if err != nil || !reflect.DeepEqual(vector, row(data, dim, i)) {
				t.Fatalf("key %d: vector %v, %v; want %v", key, vector, err, row(data, dim, i))
			}
			ids, dists, err := index.GetNnsByItem(key, 3, searchK)
			if err != nil || len(ids) != 3 || ids[0] != key || dists[0] != 0 {
				t.Fatalf("key %d: nns by item %v %v %v", key, ids, dists, err)
			}
			ids, _, err = index.SearchByItem(key, len(keys)+5, nil)
			if err != nil || len(ids) != len(keys) || ids[0] != key {
				t.Fatalf("key %d: search by item %v %v", key, ids, err)
			}
			want := trueDistance(Euclidean, row(data, dim, i), row(data, dim, 0))
			if d, err := index.GetDistance(key, keys[0]); err != nil || !closeTo(float64(d), want) {
				t.Fatalf("distance %d-%d: %v %v, want %v", key, keys[0], d, err, want)
			}
		}
		// Every result is one of the keys, each once.
		ids, _, err := index.GetNnsByVector(row(data, dim, 2), len(keys), searchK)
		if err != nil || len(ids) != len(keys) || !sameSet(ids, keys) {
			t.Fatalf("nns by vector %v %v", ids, err)
		}
	}
}

// sameSet reports whether a and b hold the same keys, each once.
func sameSet(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[uint64]int, len(a))
	for _, k := range a {
		seen[k]++
	}
	for _, k := range b {
		if seen[k] != 1 {
			return false
		}
		seen[k]++
	}
	return true
}

// Only NoKey (UINT64_MAX) is refused; a key never added is an ErrInvalidArgument everywhere.
func TestKeyErrors(t *testing.T) {
	idx, _ := New(2, Angular)
	defer idx.Close()
	expectError(t, idx.AddItem(NoKey, []float32{1, 0}), ErrInvalidArgument, "AddItem")
	for _, key := range []uint64{1 << 31, 1 << 40, 1<<63 + 5, NoKey - 1} {
		if err := idx.AddItem(key, []float32{1, float32(key % 7)}); err != nil {
			t.Fatalf("key %d: %v", key, err)
		}
	}
	if err := idx.Build(2, 1); err != nil {
		t.Fatal(err)
	}
	for _, missing := range []uint64{0, 1<<40 + 1, NoKey} {
		_, err := idx.GetItemVector(missing)
		expectError(t, err, ErrInvalidArgument, "never added")
		if !errors.Is(err, ErrInvalidArgument) || !containsAll(err.Error(), "does not exist", "never added") {
			t.Fatalf("key %d: %v", missing, err)
		}
		_, _, err = idx.GetNnsByItem(missing, 2, -1)
		expectError(t, err, ErrInvalidArgument, "GetNnsByItem")
		_, _, err = idx.SearchByItem(missing, 2, nil)
		expectError(t, err, ErrInvalidArgument, "SearchByItem")
		_, err = idx.GetDistance(1<<40, missing)
		expectError(t, err, ErrInvalidArgument, "GetDistance")
	}
}

// NItems is the largest key + 1, holes included; NStored counts the items.
func TestNStored(t *testing.T) {
	idx, _ := New(2, Euclidean)
	if idx.NStored() != 0 {
		t.Fatalf("empty: n stored %d", idx.NStored())
	}
	for _, key := range []uint64{0, 4, 9} {
		if err := idx.AddItem(key, []float32{float32(key), 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.AddItem(4, []float32{4, 2}); err != nil { // a replacement counts once
		t.Fatal(err)
	}
	if idx.NStored() != 3 || idx.NItems() != 10 {
		t.Fatalf("n stored %d, n items %d", idx.NStored(), idx.NItems())
	}
	if err := idx.Build(2, 1); err != nil {
		t.Fatal(err)
	}
	path := tempPath(t, "holes.annoy")
	if err := idx.SaveAnnoy(path); err != nil { // dense enough for Annoy's layout
		t.Fatal(err)
	}
	idx.Close()
	if idx.NStored() != 0 {
		t.Fatalf("after Close: n stored %d", idx.NStored())
	}
	annoy, err := LoadAnnoy(path, 2, Euclidean, false)
	if err != nil {
		t.Fatal(err)
	}
	defer annoy.Close()
	if annoy.NItems() != 10 || annoy.NStored() != 3 {
		t.Fatalf("annoy file: n items %d, n stored %d", annoy.NItems(), annoy.NStored())
	}
	ids, _, err := annoy.Search([]float32{4, 2}, 10, nil)
	if err != nil || len(ids) != 3 || ids[0] != 4 {
		t.Fatalf("annoy file: search %v %v", ids, err)
	}
}

func containsAll(s string, fragments ...string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return true
}
