// Command interop is the Go program of the cross-language test (tests/interop, protocol in
// bindings/README.md): it builds an index from raw float32 rows, or queries an index file and
// prints the answers in a form every language's program prints byte for byte.
//
//	interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy> <out.graph.ann>
//	interop query <native|annoy> <index file> <metric> <dim> <queries.f32> <n> <search_k>
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	ann "github.com/ann-project/ann/bindings/go"
)

const usage = `usage:
  interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy> <out.graph.ann>
  interop query <native|annoy> <index file> <metric> <dim> <queries.f32> <n> <search_k>`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
}

// graphDegree is the protocol's degree of the graph in <out.graph.ann>.
const graphDegree = 16

// run executes one command, writing its answers to stdout.
func run(args []string, stdout io.Writer) error {
	switch {
	case len(args) == 9 && args[0] == "build":
		return build(args[1:])
	case len(args) == 8 && args[0] == "query":
		out := bufio.NewWriter(stdout)
		if err := query(args[1:], out); err != nil {
			return err
		}
		return out.Flush()
	}
	return fmt.Errorf("bad arguments %q\n%s", args, usage)
}

// build: adds row i as item i, sets the seed, builds with the default thread count, and
// writes both file forms; then builds a graph of degree 16 (default thread count) and writes
// ann's file again, with the graph.
func build(args []string) error {
	metric, dim, err := metricAndDim(args[0], args[1])
	if err != nil {
		return err
	}
	vectors, err := readRows(args[2], dim)
	if err != nil {
		return err
	}
	nTrees, err := strconv.Atoi(args[3])
	if err != nil {
		return fmt.Errorf("n_trees %q: %w", args[3], err)
	}
	seed, err := strconv.ParseUint(args[4], 10, 64)
	if err != nil {
		return fmt.Errorf("seed %q: %w", args[4], err)
	}
	index, err := ann.New(dim, metric)
	if err != nil {
		return err
	}
	defer index.Close()
	for i, vector := range vectors {
		if err := index.AddItem(uint64(i), vector); err != nil {
			return err
		}
	}
	if err := index.SetSeed(seed); err != nil {
		return err
	}
	if err := index.Build(nTrees, -1); err != nil {
		return err
	}
	if err := index.Save(args[5]); err != nil {
		return err
	}
	if err := index.SaveAnnoy(args[6]); err != nil {
		return err
	}
	if err := index.BuildGraph(graphDegree, -1); err != nil {
		return err
	}
	return index.Save(args[7])
}

// query: loads the file, then prints the header line, one q line per query row, and the
// i and v lines of the first five items.
func query(args []string, out io.Writer) error {
	kind, path := args[0], args[1]
	metric, dim, err := metricAndDim(args[2], args[3])
	if err != nil {
		return err
	}
	queries, err := readRows(args[4], dim)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(args[5])
	if err != nil {
		return fmt.Errorf("n %q: %w", args[5], err)
	}
	searchK, err := strconv.Atoi(args[6])
	if err != nil {
		return fmt.Errorf("search_k %q: %w", args[6], err)
	}
	index, err := open(kind, path, metric, dim)
	if err != nil {
		return err
	}
	defer index.Close()

	fmt.Fprintf(out, "n_items %d n_trees %d dim %d metric %s\n",
		index.NItems(), index.NTrees(), index.Dim(), index.Metric())
	for q, vector := range queries {
		ids, distances, err := index.GetNnsByVector(vector, n, searchK)
		if err != nil {
			return err
		}
		printNeighbours(out, fmt.Sprintf("q%d:", q), ids, distances)
	}
	items := index.NItems()
	if items > 5 {
		items = 5
	}
	for i := uint64(0); i < items; i++ {
		ids, distances, err := index.GetNnsByItem(i, n, searchK)
		if err != nil {
			return err
		}
		printNeighbours(out, fmt.Sprintf("i%d:", i), ids, distances)
	}
	for i := uint64(0); i < items; i++ {
		vector, err := index.GetItemVector(i)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "v%d:", i)
		for _, x := range vector {
			fmt.Fprintf(out, " %08x", math.Float32bits(x))
		}
		fmt.Fprintln(out)
	}
	return nil
}

// open loads a native file, which must have the given metric and dim, or an Annoy file,
// which takes them.
func open(kind, path string, metric ann.Metric, dim int) (*ann.Index, error) {
	switch kind {
	case "native":
		index, err := ann.Load(path, false)
		if err != nil {
			return nil, err
		}
		if index.Metric() != metric || index.Dim() != dim {
			index.Close()
			return nil, fmt.Errorf("%s has metric %s and dim %d, not %s and %d",
				path, index.Metric(), index.Dim(), metric, dim)
		}
		return index, nil
	case "annoy":
		return ann.LoadAnnoy(path, dim, metric, false)
	}
	return nil, fmt.Errorf("file kind %q is neither native nor annoy", kind)
}

func printNeighbours(out io.Writer, label string, ids []uint64, distances []float32) {
	fmt.Fprint(out, label)
	for i, id := range ids {
		fmt.Fprintf(out, " %d:%08x", id, math.Float32bits(distances[i]))
	}
	fmt.Fprintln(out)
}

func metricAndDim(metricName, dimText string) (ann.Metric, int, error) {
	metric, err := ann.ParseMetric(metricName)
	if err != nil {
		return 0, 0, err
	}
	dim, err := strconv.Atoi(dimText)
	if err != nil || dim <= 0 {
		return 0, 0, fmt.Errorf("dim %q is not a positive number", dimText)
	}
	return metric, dim, nil
}

// readRows reads raw little-endian float32 values, dim per row.
func readRows(path string, dim int) ([][]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data)%(4*dim) != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of rows of %d float32 values",
			path, len(data), dim)
	}
	values := make([]float32, len(data)/4)
	for i := range values {
		values[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	rows := make([][]float32, len(values)/dim)
	for r := range rows {
		rows[r] = values[r*dim : (r+1)*dim]
	}
	return rows, nil
}
