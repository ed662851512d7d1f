package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ann "github.com/ann-project/ann/bindings/go"
)

func writeRows(t *testing.T, path string, rows, dim int, bits bool, seed int64) [][]float32 {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	data := make([]byte, 0, 4*rows*dim)
	out := make([][]float32, rows)
	for r := range out {
		for j := 0; j < dim; j++ {
			x := float32(rng.NormFloat64())
			if bits {
				x = float32(rng.Intn(2))
			}
			out[r] = append(out[r], x)
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(x))
		}
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func runText(t *testing.T, args ...string) string {
	t.Helper()
	var out strings.Builder
	if err := run(args, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// The forest's two files a build writes answer identically, in the protocol's format, and the
// answers are the library's; the third file has the same items and trees, and a graph of
// degree 16, whose answers are the library's too.
func TestBuildThenQueryEveryFile(t *testing.T) {
	for _, metric := range []string{"angular", "euclidean", "manhattan", "dot", "hamming"} {
		t.Run(metric, func(t *testing.T) {
			dim := 7
			if metric == "hamming" {
				dim = 70
			}
			dir := t.TempDir()
			vectors, queries := filepath.Join(dir, "v.f32"), filepath.Join(dir, "q.f32")
			native, annoy := filepath.Join(dir, "i.ann"), filepath.Join(dir, "i.annoy")
			graph := filepath.Join(dir, "i.graph.ann")
			writeRows(t, vectors, 100, dim, metric == "hamming", 1)
			rows := writeRows(t, queries, 4, dim, metric == "hamming", 2)
			runText(t, "build", metric, fmt.Sprint(dim), vectors, "4", "77", native, annoy, graph)
			fromNative := runText(t, "query", "native", native, metric, fmt.Sprint(dim), queries, "6", "-1")
			fromAnnoy := runText(t, "query", "annoy", annoy, metric, fmt.Sprint(dim), queries, "6", "-1")
			if fromNative != fromAnnoy {
				t.Fatalf("native:\n%s\nannoy:\n%s", fromNative, fromAnnoy)
			}
			lines := strings.Split(strings.TrimSuffix(fromNative, "\n"), "\n")
			if want := fmt.Sprintf("n_items 100 n_trees 4 dim %d metric %s", dim, metric); lines[0] != want {
				t.Fatalf("header %q, want %q", lines[0], want)
			}
			if len(lines) != 1+4+5+5 || !strings.HasPrefix(lines[5], "i0: 0:") || !strings.HasPrefix(lines[14], "v4: ") {
				t.Fatalf("lines:\n%s", fromNative)
			}
			index, err := ann.Load(native, false)
			if err != nil {
				t.Fatal(err)
			}
			defer index.Close()
			if index.Seed() != 77 {
				t.Fatalf("seed %d", index.Seed())
			}
			for q, query := range rows {
				ids, distances, err := index.GetNnsByVector(query, 6, -1)
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf("q%d:", q)
				for i, id := range ids {
					want += fmt.Sprintf(" %d:%08x", id, math.Float32bits(distances[i]))
				}
				if lines[1+q] != want {
					t.Fatalf("%q, want %q", lines[1+q], want)
				}
			}
			vector, _ := index.GetItemVector(2)
			if fields := strings.Fields(lines[12]); len(fields) != 1+dim ||
				fields[1] != fmt.Sprintf("%08x", math.Float32bits(vector[0])) {
				t.Fatalf("%q", lines[12])
			}
			if index.HasGraph() {
				t.Fatal("the forest's file has a graph")
			}

			// The graph file: read with the native loader, the same header and vectors.
			fromGraph := runText(t, "query", "native", graph, metric, fmt.Sprint(dim), queries, "6", "-1")
			graphLines := strings.Split(strings.TrimSuffix(fromGraph, "\n"), "\n")
			if len(graphLines) != len(lines) || graphLines[0] != lines[0] ||
				strings.Join(graphLines[10:], "\n") != strings.Join(lines[10:], "\n") {
				t.Fatalf("graph file:\n%s\nforest file:\n%s", fromGraph, fromNative)
			}
			withGraph, err := ann.Load(graph, false)
			if err != nil {
				t.Fatal(err)
			}
			defer withGraph.Close()
			if !withGraph.HasGraph() || withGraph.NTrees() != 4 || withGraph.Seed() != 77 {
				t.Fatalf("graph file: graph %v, %d trees, seed %d", withGraph.HasGraph(), withGraph.NTrees(), withGraph.Seed())
			}
			for q, query := range rows {
				ids, distances, err := withGraph.GetNnsByVector(query, 6, -1)
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf("q%d:", q)
				for i, id := range ids {
					want += fmt.Sprintf(" %d:%08x", id, math.Float32bits(distances[i]))
				}
				if graphLines[1+q] != want {
					t.Fatalf("graph file: %q, want %q", graphLines[1+q], want)
				}
			}
		})
	}
}

func TestFailuresCarryTheLibrarysMessage(t *testing.T) {
	dir := t.TempDir()
	queries := filepath.Join(dir, "q.f32")
	writeRows(t, queries, 2, 4, false, 3)
	missing := filepath.Join(dir, "missing.ann")
	err := run([]string{"query", "native", missing, "euclidean", "4", queries, "3", "-1"}, &strings.Builder{})
	if !errors.Is(err, ann.ErrIO) || !strings.Contains(err.Error(), "missing.ann") {
		t.Fatalf("%v", err)
	}
	vectors, native := filepath.Join(dir, "v.f32"), filepath.Join(dir, "i.ann")
	writeRows(t, vectors, 20, 4, false, 4)
	runText(t, "build", "euclidean", "4", vectors, "2", "1", native, filepath.Join(dir, "i.annoy"),
		filepath.Join(dir, "i.graph.ann"))
	err = run([]string{"query", "native", native, "angular", "4", queries, "3", "-1"}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "has metric euclidean and dim 4, not angular and 4") {
		t.Fatalf("%v", err)
	}
	err = run([]string{"query", "native", native, "euclidean", "3", queries, "3", "-1"}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "not a whole number of rows") {
		t.Fatalf("%v", err)
	}
	err = run([]string{"build", "cosinus", "4", vectors, "2", "1", native, native, native}, &strings.Builder{})
	if !errors.Is(err, ann.ErrInvalidArgument) {
		t.Fatalf("%v", err)
	}
	if err := run([]string{"query"}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("%v", err)
	}
	// The old build command line, without <out.graph.ann>, is a usage error.
	err = run([]string{"build", "euclidean", "4", vectors, "2", "1", native, filepath.Join(dir, "i.annoy")}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "<out.graph.ann>") {
		t.Fatalf("%v", err)
	}
}
