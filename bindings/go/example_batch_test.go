package ann_test

import (
	"fmt"
	"log"

	ann "github.com/ann-project/ann/bindings/go"
)

// Many queries in one call, on every core: the queries go in row after row, and each row of
// the result is what GetNnsByVector would return for that query.
func ExampleIndex_GetNnsBatch() {
	index, err := ann.New(2, ann.Euclidean)
	if err != nil {
		log.Fatal(err)
	}
	defer index.Close()
	for id := 0; id < 10; id++ {
		if err := index.AddItem(uint64(id), []float32{float32(id), 0}); err != nil {
			log.Fatal(err)
		}
	}
	if err := index.Build(5, -1); err != nil {
		log.Fatal(err)
	}
	queries := []float32{
		0.1, 0, // query 0
		7.2, 0, // query 1
		4.6, 0, // query 2
	}
	ids, distances, err := index.GetNnsBatch(queries, 2, -1, -1)
	if err != nil {
		log.Fatal(err)
	}
	for q := range ids {
		fmt.Printf("query %d: ids %v, distances %.1f\n", q, ids[q], distances[q])
	}
	// Output:
	// query 0: ids [0 1], distances [0.1 0.9]
	// query 1: ids [7 8], distances [0.2 0.8]
	// query 2: ids [5 4], distances [0.4 0.6]
}

// Hamming indexes take 0/1 vectors, or packed 64-bit words: bit j of word i is bit 64*i+j.
func ExampleIndex_AddItemPacked() {
	index, err := ann.New(70, ann.Hamming) // 70 bits: 2 words
	if err != nil {
		log.Fatal(err)
	}
	defer index.Close()
	for id, words := range [][]uint64{{0b1011, 0}, {0b0011, 1 << 5}, {0, 0}} {
		if err := index.AddItemPacked(uint64(id), words); err != nil {
			log.Fatal(err)
		}
	}
	if err := index.Build(3, -1); err != nil {
		log.Fatal(err)
	}
	ids, distances, err := index.GetNnsByPacked([]uint64{0b1111, 0}, 3, -1)
	fmt.Println(ids, distances, err)
	// Output: [0 1 2] [1 3 4] <nil>
}
