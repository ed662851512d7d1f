package ann_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	ann "github.com/ann-project/ann/bindings/go"
)

// Any uint64 is a key (but ann.NoKey); a search with options returns exactly
// min(n, accepted) results; shards are several files searched as one index.
func ExampleIndex_Search() {
	dir, err := os.MkdirTemp("", "ann-search")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Two shards, built apart (by two machines, say), with keys far beyond 2^31.
	var paths []string
	for shard := 0; shard < 2; shard++ {
		index, err := ann.New(2, ann.Euclidean)
		if err != nil {
			log.Fatal(err)
		}
		for i := shard; i < 10; i += 2 {
			key := uint64(1)<<40 + uint64(i) // a sparse 64-bit key
			if err := index.AddItem(key, []float32{float32(i), 0}); err != nil {
				log.Fatal(err)
			}
		}
		if err := index.Build(5, -1); err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("shard%d.ann", shard))
		if err := index.Save(path); err != nil {
			log.Fatal(err)
		}
		fmt.Println("shard", shard, "stores", index.NStored(), "items")
		index.Close()
		paths = append(paths, path)
	}

	shards, err := ann.OpenShards(paths, false) // one read-only index over both files
	if err != nil {
		log.Fatal(err)
	}
	defer shards.Close()
	fmt.Println("stored:", shards.NStored(), "trees:", shards.NTrees())

	opts, err := ann.NewSearchOptions()
	if err != nil {
		log.Fatal(err)
	}
	defer opts.Close() // reusable, and safe to share between goroutines until then
	// Only odd items, never item 7: a Go func (called from libann's threads) and a deny-list.
	if err := opts.SetFilter(func(key uint64) bool { return key%2 == 1 }); err != nil {
		log.Fatal(err)
	}
	if err := opts.SetDenyList([]uint64{1<<40 + 7}); err != nil {
		log.Fatal(err)
	}
	ids, distances, err := shards.Search([]float32{6.2, 0}, 3, opts)
	if err != nil {
		log.Fatal(err)
	}
	for i, id := range ids {
		fmt.Printf("item %d (key 2^40+%d) at %.1f\n", id, id-(1<<40), distances[i])
	}
	// n larger than what the filter accepts: every accepted item, no more.
	ids, _, err = shards.Search([]float32{6.2, 0}, 100, opts)
	fmt.Println(len(ids), err)
	// Output:
	// shard 0 stores 5 items
	// shard 1 stores 5 items
	// stored: 10 trees: 10
	// item 1099511627781 (key 2^40+5) at 1.2
	// item 1099511627785 (key 2^40+9) at 2.8
	// item 1099511627779 (key 2^40+3) at 3.2
	// 4 <nil>
}
