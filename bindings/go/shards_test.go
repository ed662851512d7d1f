package ann

import (
	"fmt"
	"reflect"
	"testing"
)

// saveShard builds an index of the rows whose numbers are listed, under filterKey keys, and
// saves it.
func saveShard(t *testing.T, m Metric, data []float32, dim int, rows []int, name string) string {
	t.Helper()
	idx, err := New(dim, m)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	for _, i := range rows {
		if err := idx.AddItem(filterKey(i), row(data, dim, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.SetSeed(uint64(len(rows))); err != nil {
		t.Fatal(err)
	}
	if err := idx.Build(5, 1); err != nil {
		t.Fatal(err)
	}
	path := tempPath(t, name)
	if err := idx.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Shards answer every query form exactly as one index holding all their items, when searchK
// covers every item.
func TestShardsEqualOneIndex(t *testing.T) {
	const n, dim, nShards = 600, 8, 3
	for _, m := range []Metric{Euclidean, Angular, Dot} {
		t.Run(m.String(), func(t *testing.T) {
			data := dataset(m, n, dim, 51)
			var all []int
			shardRows := make([][]int, nShards)
			for i := 0; i < n; i++ {
				all = append(all, i)
				shardRows[i%nShards] = append(shardRows[i%nShards], i)
			}
			paths := make([]string, nShards)
			for s := range paths {
				paths[s] = saveShard(t, m, data, dim, shardRows[s], fmt.Sprintf("shard%d.ann", s))
			}
			one, err := Load(saveShard(t, m, data, dim, all, "one.ann"), false)
			if err != nil {
				t.Fatal(err)
			}
			defer one.Close()
			shards, err := OpenShards(paths, true)
			if err != nil {
				t.Fatal(err)
			}
			defer shards.Close()
			if shards.NStored() != n || shards.NTrees() != 5*nShards || shards.NItems() != filterKey(n-1)+1 ||
				shards.Dim() != dim || shards.Metric() != m {
				t.Fatalf("shards: %d stored, %d trees, %d items, dim %d, %v",
					shards.NStored(), shards.NTrees(), shards.NItems(), shards.Dim(), shards.Metric())
			}
			searchK := n * shards.NTrees() * 4
			opts := newOptions(t)
			if err := opts.SetSearchK(searchK); err != nil {
				t.Fatal(err)
			}
			filtered := newOptions(t)
			if err := filtered.SetSearchK(searchK); err != nil {
				t.Fatal(err)
			}
			if err := filtered.SetFilter(func(key uint64) bool { return (key-filterKey(0))/7919%5 == 1 }); err != nil {
				t.Fatal(err)
			}
			queries := dataset(m, 6, dim, 52)
			same := func(what string, ids1 []uint64, d1 []float32, err1 error, ids2 []uint64, d2 []float32, err2 error) {
				t.Helper()
				if err1 != nil || err2 != nil || len(ids1) == 0 || !reflect.DeepEqual(ids1, ids2) || !reflect.DeepEqual(d1, d2) {
					t.Fatalf("%s: one index %v %v %v; shards %v %v %v", what, ids1, d1, err1, ids2, d2, err2)
				}
			}
			for q := 0; q < 6; q++ {
				query := row(queries, dim, q)
				a, da, ea := one.GetNnsByVector(query, 20, searchK)
				b, db, eb := shards.GetNnsByVector(query, 20, searchK)
				same("GetNnsByVector", a, da, ea, b, db, eb)
				for _, o := range []*SearchOptions{opts, filtered} {
					a, da, ea = one.Search(query, 20, o)
					b, db, eb = shards.Search(query, 20, o)
					same("Search", a, da, ea, b, db, eb)
				}
				key := filterKey(q * 97)
				a, da, ea = one.GetNnsByItem(key, 20, searchK)
				b, db, eb = shards.GetNnsByItem(key, 20, searchK)
				same("GetNnsByItem", a, da, ea, b, db, eb)
				a, da, ea = one.SearchByItem(key, 20, filtered)
				b, db, eb = shards.SearchByItem(key, 20, filtered)
				same("SearchByItem", a, da, ea, b, db, eb)
				va, ea := one.GetItemVector(key)
				vb, eb := shards.GetItemVector(key)
				if ea != nil || eb != nil || !reflect.DeepEqual(va, vb) || !reflect.DeepEqual(vb, row(data, dim, q*97)) {
					t.Fatalf("GetItemVector %d: %v %v / %v %v", key, va, ea, vb, eb)
				}
				dA, ea := one.GetDistance(key, filterKey(1))
				dB, eb := shards.GetDistance(key, filterKey(1))
				if ea != nil || eb != nil || dA != dB {
					t.Fatalf("GetDistance: %v %v / %v %v", dA, ea, dB, eb)
				}
			}
			ba, bda, ea := one.SearchBatch(queries, 15, filtered, 2)
			bb, bdb, eb := shards.SearchBatch(queries, 15, filtered, 2)
			if ea != nil || eb != nil || !reflect.DeepEqual(ba, bb) || !reflect.DeepEqual(bda, bdb) {
				t.Fatalf("SearchBatch: %v %v / %v %v", ba, ea, bb, eb)
			}
			ga, gda, ea := one.GetNnsBatch(queries, 15, searchK, 2)
			gb, gdb, eb := shards.GetNnsBatch(queries, 15, searchK, 2)
			if ea != nil || eb != nil || !reflect.DeepEqual(ga, gb) || !reflect.DeepEqual(gda, gdb) {
				t.Fatalf("GetNnsBatch: %v %v / %v %v", ga, ea, gb, eb)
			}
		})
	}
}

// Bad shard lists and changes to shards are clear errors.
func TestShardErrors(t *testing.T) {
	const dim = 4
	data := dataset(Euclidean, 40, dim, 53)
	a := saveShard(t, Euclidean, data, dim, []int{0, 1, 2, 3, 4}, "a.ann")
	b := saveShard(t, Euclidean, data, dim, []int{5, 6, 7}, "b.ann")
	overlapping := saveShard(t, Euclidean, data, dim, []int{7, 8}, "overlap.ann")
	angular := saveShard(t, Angular, data, dim, []int{10, 11}, "angular.ann")
	wide := saveShard(t, Euclidean, dataset(Euclidean, 40, dim+2, 54), dim+2, []int{20, 21}, "wide.ann")

	_, err := OpenShards(nil, false)
	expectError(t, err, ErrInvalidArgument, "OpenShards")
	_, err = OpenShards([]string{}, false)
	expectError(t, err, ErrInvalidArgument, "OpenShards")
	_, err = OpenShards([]string{a, wide}, false)
	expectError(t, err, ErrInvalidArgument, "OpenShards")
	_, err = OpenShards([]string{a, angular}, false)
	expectError(t, err, ErrInvalidArgument, "OpenShards")
	_, err = OpenShards([]string{a, b, overlapping}, false)
	expectError(t, err, ErrInvalidArgument, fmt.Sprint(filterKey(7)))
	_, err = OpenShards([]string{a, a}, false)
	expectError(t, err, ErrInvalidArgument, "OpenShards")
	_, err = OpenShards([]string{a, tempPath(t, "missing.ann")}, false)
	expectError(t, err, ErrIO, "OpenShards")
	_, err = OpenShards([]string{a, "bad\x00path"}, false)
	expectError(t, err, ErrInvalidArgument, "NUL")

	shards, err := OpenShards([]string{a, b}, false)
	if err != nil {
		t.Fatal(err)
	}
	expectError(t, shards.Save(tempPath(t, "out.ann")), ErrInvalidState, "Save")
	expectError(t, shards.SaveAnnoy(tempPath(t, "out.annoy")), ErrInvalidState, "SaveAnnoy")
	expectError(t, shards.AddItem(99, row(data, dim, 9)), ErrInvalidState, "AddItem")
	expectError(t, shards.Build(2, 1), ErrInvalidState, "Build")
	expectError(t, shards.Unbuild(), ErrInvalidState, "Unbuild")
	_, err = shards.GetItemVector(filterKey(9))
	expectError(t, err, ErrInvalidArgument, "never added")
	if ids, _, err := shards.Search(row(data, dim, 6), 100, nil); err != nil || len(ids) != 8 {
		t.Fatalf("search over 8 items: %v %v", ids, err)
	}
	shards.Close()
	_, _, err = shards.Search(row(data, dim, 6), 1, nil)
	expectError(t, err, ErrClosed, "Search")

	// One shard is an ordinary read-only index.
	single, err := OpenShards([]string{b}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	if ids, _, err := single.GetNnsByItem(filterKey(6), 1, -1); err != nil || ids[0] != filterKey(6) {
		t.Fatalf("one shard: %v %v", ids, err)
	}
}
