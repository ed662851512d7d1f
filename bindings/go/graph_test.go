package ann

import (
	"reflect"
	"testing"
)

// A graph over a built index: searches with a wide beam (ef) find the true neighbours, and
// the graph goes through Save and Load, answering exactly as before.
func TestGraphSearchRecallAndSaveLoad(t *testing.T) {
	const n, dim, k, nQueries = 2000, 16, 10, 20
	data := dataset(Angular, n, dim, 21)
	queries := dataset(Angular, nQueries, dim, 22)
	idx := buildIndex(t, Angular, data, dim, 5)
	if idx.HasGraph() {
		t.Fatal("a graph before BuildGraph")
	}
	if err := idx.BuildGraph(0, -1); err != nil {
		t.Fatal(err)
	}
	if !idx.HasGraph() {
		t.Fatal("no graph after BuildGraph")
	}
	if idx.NTrees() != 5 || idx.NStored() != n {
		t.Fatalf("after BuildGraph: %d trees, %d items", idx.NTrees(), idx.NStored())
	}

	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Close()
	if err := opts.SetEf(200); err != nil {
		t.Fatal(err)
	}

	hits := 0
	wantIDs := make([][]uint64, nQueries)
	wantDists := make([][]float32, nQueries)
	for q := 0; q < nQueries; q++ {
		query := row(queries, dim, q)
		truth, kth := bruteForce(Angular, data, dim, query, k)
		ids, dists, err := idx.Search(query, k, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != k {
			t.Fatalf("query %d: %d results", q, len(ids))
		}
		for i, id := range ids {
			if !closeTo(float64(dists[i]), truth[id]) {
				t.Fatalf("item %d: distance %v, true %v", id, dists[i], truth[id])
			}
			if i > 0 && dists[i] < dists[i-1] {
				t.Fatalf("not nearest first: %v", dists)
			}
			// By distance, so that ties at the cut count as hits.
			if truth[id] < kth || closeTo(kth, truth[id]) {
				hits++
			}
		}
		wantIDs[q], wantDists[q] = ids, dists
	}
	if recall := float64(hits) / (k * nQueries); recall < 0.95 {
		t.Fatalf("graph search with ef 200: mean recall %.3f, want >= 0.95", recall)
	}

	path := tempPath(t, "graph.ann")
	if err := idx.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	if !loaded.HasGraph() {
		t.Fatal("the loaded index has no graph")
	}
	if err := loaded.Verify(); err != nil {
		t.Fatal(err)
	}
	for q := 0; q < nQueries; q++ {
		ids, dists, err := loaded.Search(row(queries, dim, q), k, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids, wantIDs[q]) || !reflect.DeepEqual(dists, wantDists[q]) {
			t.Fatalf("query %d after Load: %v %v, want %v %v", q, ids, dists, wantIDs[q], wantDists[q])
		}
	}
	// A batch walks the same graph as one search at a time.
	batchIDs, _, err := loaded.SearchBatch(queries, k, opts, -1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(batchIDs, wantIDs) {
		t.Fatalf("batch %v, want %v", batchIDs, wantIDs)
	}
}

// A loaded file without a graph can get one, and a new graph replaces the old.
func TestBuildGraphOnLoadedIndex(t *testing.T) {
	const dim = 16
	data := dataset(Angular, 500, dim, 23)
	built := buildIndex(t, Angular, data, dim, 5)
	path := tempPath(t, "forest.ann")
	if err := built.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	if loaded.HasGraph() {
		t.Fatal("a graph in a file saved without one")
	}
	if err := loaded.BuildGraph(8, 2); err != nil {
		t.Fatal(err)
	}
	if err := loaded.BuildGraph(16, -1); err != nil || !loaded.HasGraph() {
		t.Fatalf("rebuilding the graph: %v, has graph %v", err, loaded.HasGraph())
	}
	// n 1 and the default searchK would give a beam of 1, a greedy walk: widen it.
	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Close()
	if err := opts.SetEf(50); err != nil {
		t.Fatal(err)
	}
	for _, key := range []uint64{0, 7, 499} {
		ids, dists, err := loaded.SearchByItem(key, 1, opts)
		if err != nil || len(ids) != 1 || ids[0] != key || dists[0] != 0 {
			t.Fatalf("item %d's nearest: %v %v %v", key, ids, dists, err)
		}
	}
}

func TestGraphErrors(t *testing.T) {
	const dim = 16
	data := dataset(Angular, 200, dim, 24)
	idx := buildIndex(t, Angular, data, dim, 5)
	expectError(t, idx.BuildGraph(1000, -1), ErrInvalidArgument, "BuildGraph")
	expectError(t, idx.BuildGraph(257, -1), ErrInvalidArgument, "BuildGraph")
	expectError(t, idx.BuildGraph(0, 0), ErrInvalidArgument, "BuildGraph")
	expectError(t, idx.BuildGraph(0, -2), ErrInvalidArgument, "BuildGraph")
	expectError(t, idx.BuildGraph(-1, -1), ErrInvalidArgument, "degree -1")
	if idx.HasGraph() {
		t.Fatal("a failed BuildGraph left a graph")
	}

	unbuilt, err := New(dim, Angular)
	if err != nil {
		t.Fatal(err)
	}
	defer unbuilt.Close()
	if err := unbuilt.AddItem(0, row(data, dim, 0)); err != nil {
		t.Fatal(err)
	}
	expectError(t, unbuilt.BuildGraph(0, -1), ErrInvalidState, "BuildGraph")
	if unbuilt.HasGraph() {
		t.Fatal("an unbuilt index has a graph")
	}

	path := tempPath(t, "shard.ann")
	if err := idx.Save(path); err != nil {
		t.Fatal(err)
	}
	shards, err := OpenShards([]string{path}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer shards.Close()
	expectError(t, shards.BuildGraph(0, -1), ErrInvalidState, "BuildGraph")

	opts, err := NewSearchOptions()
	if err != nil {
		t.Fatal(err)
	}
	expectError(t, opts.SetEf(-1), ErrInvalidArgument, "ef -1")
	if err := opts.SetEf(0); err != nil {
		t.Fatal(err)
	}
	opts.Close()
	expectError(t, opts.SetEf(10), ErrClosed, "SetEf")

	idx.Close()
	expectError(t, idx.BuildGraph(0, -1), ErrClosed, "BuildGraph")
	if idx.HasGraph() {
		t.Fatal("HasGraph after Close")
	}
}
