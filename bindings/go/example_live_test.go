package ann_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	ann "github.com/ann-project/ann/bindings/go"
)

// A live index: upsert and delete at any time, durably, while readers (in this process or
// others) keep querying. No rebuild-and-rename.
func ExampleOpenWriter() {
	tmp, err := os.MkdirTemp("", "ann-live")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "vectors") // a directory, created when missing

	// One writer per directory. nil options: every write is synced before it returns.
	writer, err := ann.OpenWriter(dir, 2, ann.Euclidean, &ann.WriterOptions{NTrees: 10})
	if err != nil {
		log.Fatal(err)
	}
	defer writer.Close()
	for key := uint64(0); key < 5; key++ {
		if err := writer.Upsert(key, []float32{float32(key), 0}); err != nil {
			log.Fatal(err)
		}
	}
	index, err := writer.Index() // sees every write as soon as it returns
	if err != nil {
		log.Fatal(err)
	}
	defer index.Close()
	ids, _, err := index.Search([]float32{3.1, 0}, 2, nil)
	fmt.Println("nearest:", ids, err)

	existed, err := writer.Delete(3)
	fmt.Println("deleted 3:", existed, err)
	if err := writer.Upsert(4, []float32{3, 0}); err != nil { // replaces item 4's vector
		log.Fatal(err)
	}
	ids, distances, err := index.Search([]float32{3.1, 0}, 2, nil)
	fmt.Printf("nearest: %v at %.1f %v\n", ids, distances, err)

	// A reader: what another process does, without a lock and without slowing the writer.
	reader, err := ann.Open(dir, false)
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close()
	fmt.Println("the reader sees", reader.NStored(), "items")
	if err := writer.Upsert(10, []float32{10, 0}); err != nil {
		log.Fatal(err)
	}
	// Fold the writes into a new segment of 10 trees (run it on a goroutine of your choosing:
	// writes and queries go on meanwhile).
	if err := writer.Compact(-1); err != nil {
		log.Fatal(err)
	}
	changed, err := reader.Refresh() // catch up with the writes and the compaction
	fmt.Println("refreshed:", changed, err, "items:", reader.NStored())

	// A snapshot as one immutable file, which Load maps (to ship elsewhere, say).
	path := filepath.Join(tmp, "vectors.ann")
	if err := reader.Export(path); err != nil {
		log.Fatal(err)
	}
	file, err := ann.Load(path, false)
	if err != nil {
		log.Fatal(err)
	}
	defer file.Close()
	fmt.Println("exported:", file.NStored(), "items,", file.NTrees(), "trees")
	// Output:
	// nearest: [3 4] <nil>
	// deleted 3: true <nil>
	// nearest: [4 2] at [0.1 1.1] <nil>
	// the reader sees 4 items
	// refreshed: true <nil> items: 5
	// exported: 5 items, 10 trees
}
