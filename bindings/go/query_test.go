package ann

import (
	"math"
	"reflect"
	"sort"
	"testing"
)

// Every metric against brute force: with a large searchK the index finds the true
// neighbours, in order, and reports their true distances.
func TestRecallAgainstBruteForce(t *testing.T) {
	const n, k, nQueries = 1000, 10, 40
	for _, m := range allMetrics {
		t.Run(m.String(), func(t *testing.T) {
			dim := dimFor(m)
			data := dataset(m, n, dim, 11)
			queries := dataset(m, nQueries, dim, 12)
			idx := buildIndex(t, m, data, dim, 10)
			hits := 0
			for q := 0; q < nQueries; q++ {
				query := row(queries, dim, q)
				truth, kth := bruteForce(m, data, dim, query, k)
				ids, dists := mustNns(t, idx, query, k, n*10)
				if len(ids) != k {
					t.Fatalf("%d results", len(ids))
				}
				for i, id := range ids {
					if !closeTo(float64(dists[i]), truth[id]) {
						t.Fatalf("item %d: distance %v, true %v", id, dists[i], truth[id])
					}
					if i > 0 && nearer(m, float64(dists[i]), float64(dists[i-1])) {
						t.Fatalf("not nearest first: %v", dists)
					}
					// By distance, so that ties at the cut (common for hamming) count as hits.
					if !nearer(m, kth, truth[id]) || closeTo(kth, truth[id]) {
						hits++
					}
				}
			}
			if recall := float64(hits) / (k * nQueries); recall < 0.99 {
				t.Fatalf("recall %.3f", recall)
			}
		})
	}
}

func TestItemIsItsOwnNearestNeighbour(t *testing.T) {
	for _, m := range []Metric{Angular, Euclidean, Manhattan, Hamming} {
		dim := dimFor(m)
		idx := buildIndex(t, m, dataset(m, 200, dim, 13), dim, 5)
		for i := uint64(0); i < 200; i += 17 {
			ids, dists, err := idx.GetNnsByItem(i, 1, -1)
			if err != nil || len(ids) != 1 || dists[0] != 0 || (m != Hamming && ids[0] != i) {
				t.Fatalf("%v item %d: %v %v %v", m, i, ids, dists, err)
			}
		}
	}
}

func TestDistancesAndVectors(t *testing.T) {
	for _, m := range allMetrics {
		dim := dimFor(m)
		data := dataset(m, 30, dim, 14)
		idx := buildIndex(t, m, data, dim, 2)
		for _, pair := range [][2]int{{0, 1}, {3, 29}, {7, 7}} {
			d, err := idx.GetDistance(uint64(pair[0]), uint64(pair[1]))
			want := trueDistance(m, row(data, dim, pair[0]), row(data, dim, pair[1]))
			if err != nil || !closeTo(float64(d), want) {
				t.Fatalf("%v distance %v: %v %v, want %v", m, pair, d, err, want)
			}
		}
		v, err := idx.GetItemVector(5)
		if err != nil || !reflect.DeepEqual(v, row(data, dim, 5)) {
			t.Fatalf("%v vector %v %v", m, v, err)
		}
	}
}

// Asking for more neighbours than there are items returns them all; n = 0 returns none.
func TestResultCounts(t *testing.T) {
	idx := buildIndex(t, Euclidean, dataset(Euclidean, 5, 3, 15), 3, 2)
	ids, dists := mustNns(t, idx, []float32{0, 0, 0}, 1<<40, -1)
	if len(ids) != 5 || len(dists) != 5 {
		t.Fatalf("%v %v", ids, dists)
	}
	sorted := append([]uint64(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	if !reflect.DeepEqual(sorted, []uint64{0, 1, 2, 3, 4}) {
		t.Fatalf("ids %v", ids)
	}
	ids, _ = mustNns(t, idx, []float32{0, 0, 0}, 0, -1)
	if len(ids) != 0 {
		t.Fatalf("n = 0 gave %v", ids)
	}
}

func TestBatchEqualsSingleQueries(t *testing.T) {
	for _, m := range allMetrics {
		dim := dimFor(m)
		idx := buildIndex(t, m, dataset(m, 500, dim, 16), dim, 5)
		queries := dataset(m, 30, dim, 17)
		for _, threads := range []int{1, 3, -1} {
			ids, dists, err := idx.GetNnsBatch(queries, 10, -1, threads)
			if err != nil || len(ids) != 30 || len(dists) != 30 {
				t.Fatalf("%v: %d rows, %v", m, len(ids), err)
			}
			for q := range ids {
				wantIDs, wantDists := mustNns(t, idx, row(queries, dim, q), 10, -1)
				if !reflect.DeepEqual(ids[q], wantIDs) || !reflect.DeepEqual(dists[q], wantDists) {
					t.Fatalf("%v row %d: %v, single query %v", m, q, ids[q], wantIDs)
				}
			}
		}
	}
	idx := buildIndex(t, Euclidean, dataset(Euclidean, 3, 2, 18), 2, 2)
	ids, _, err := idx.GetNnsBatch([]float32{0, 0, 1, 1}, 10, -1, -1)
	if err != nil || len(ids) != 2 || len(ids[0]) != 3 || len(ids[1]) != 3 {
		t.Fatalf("short rows %v %v", ids, err)
	}
	ids[0] = append(ids[0], 99) // rows do not share capacity
	if ids[1][0] == 99 {
		t.Fatal("appending to a row overwrote the next one")
	}
	ids, _, err = idx.GetNnsBatch(nil, 10, -1, -1)
	if err != nil || len(ids) != 0 {
		t.Fatalf("empty batch: %v %v", ids, err)
	}
}

// pack turns 0/1 values into the words of AddItemPacked: bit j of word i is bit 64*i+j.
func pack(bits []float32) []uint64 {
	words := make([]uint64, (len(bits)+63)/64)
	for i, b := range bits {
		if b > 0.5 {
			words[i/64] |= 1 << (i % 64)
		}
	}
	return words
}

func TestPackedHamming(t *testing.T) {
	const dim = 72
	data := dataset(Hamming, 300, dim, 19)
	fromFloats := buildIndex(t, Hamming, data, dim, 5)
	packed, _ := New(dim, Hamming)
	defer packed.Close()
	for i := 0; i < 300; i++ {
		if err := packed.AddItemPacked(uint64(i), pack(row(data, dim, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := packed.SetSeed(1234); err != nil {
		t.Fatal(err)
	}
	if err := packed.Build(5, -1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i += 37 {
		words, err := packed.GetItemPacked(uint64(i))
		if err != nil || !reflect.DeepEqual(words, pack(row(data, dim, i))) {
			t.Fatalf("item %d: %x %v", i, words, err)
		}
		v, _ := packed.GetItemVector(uint64(i))
		if !reflect.DeepEqual(v, row(data, dim, i)) {
			t.Fatalf("item %d unpacked: %v", i, v)
		}
	}
	queries := dataset(Hamming, 10, dim, 20)
	for q := 0; q < 10; q++ {
		query := row(queries, dim, q)
		wantIDs, wantDists := mustNns(t, fromFloats, query, 8, -1)
		ids, dists, err := packed.GetNnsByPacked(pack(query), 8, -1)
		if err != nil || !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(dists, wantDists) {
			t.Fatalf("query %d: %v %v %v, want %v %v", q, ids, dists, err, wantIDs, wantDists)
		}
	}
	expectError(t, packed.AddItemPacked(0, []uint64{1}), ErrInvalidArgument, "AddItemPacked")
	expectError(t, packed.AddItemPacked(0, nil), ErrInvalidArgument, "AddItemPacked")
	_, _, err := packed.GetNnsByPacked([]uint64{1, 2, 3}, 3, -1)
	expectError(t, err, ErrInvalidArgument, "GetNnsByPacked")
	// A set bit past dim is refused rather than silently dropped.
	if err := packed.Unbuild(); err != nil {
		t.Fatal(err)
	}
	expectError(t, packed.AddItemPacked(0, []uint64{0, math.MaxUint64}), ErrInvalidArgument, "AddItemPacked")
}
