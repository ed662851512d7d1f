package ann_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	ann "github.com/ann-project/ann/bindings/go"
)

// Build an index, save it, memory-map the file and query it.
func Example() {
	index, err := ann.New(3, ann.Angular) // or ann.ParseMetric("cosine")
	if err != nil {
		log.Fatal(err)
	}
	defer index.Close()
	vectors := [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.7, 0.7, 0}}
	for id, vector := range vectors {
		if err := index.AddItem(uint64(id), vector); err != nil {
			log.Fatal(err)
		}
	}
	if err := index.SetSeed(42); err != nil {
		log.Fatal(err)
	}
	if err := index.Build(10, -1); err != nil { // 10 trees, on every core
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ann-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vectors.ann")
	if err := index.Save(path); err != nil {
		log.Fatal(err)
	}

	loaded, err := ann.Load(path, false) // a memory map, O(1); true prefaults the pages
	if err != nil {
		log.Fatal(err)
	}
	defer loaded.Close() // safe to share: query from any number of goroutines
	ids, distances, err := loaded.GetNnsByVector([]float32{0.9, 0.6, 0}, 3, -1)
	if err != nil {
		log.Fatal(err)
	}
	for i, id := range ids {
		fmt.Printf("id %d at distance %.4f\n", id, distances[i])
	}
	similar, _, err := loaded.GetNnsByItem(0, 2, 1000) // searchK 1000: more candidates
	fmt.Println(similar, err)
	batch, _, err := loaded.GetNnsBatch([]float32{1, 0.1, 0, 0, 0.1, 1}, 1, -1, -1) // 2 queries
	fmt.Println(batch, err)

	_, err = loaded.GetItemVector(42)
	fmt.Println(errors.Is(err, ann.ErrInvalidArgument)) // an id never added
	// Output:
	// id 3 at distance 0.1971
	// id 0 at distance 0.5796
	// id 1 at distance 0.9437
	// [0 3] <nil>
	// [[0] [2]] <nil>
	// true
}
