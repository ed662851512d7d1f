package ann

import (
	"math"
	"math/rand"
	"path/filepath"
	"sort"
	"testing"
)

// allMetrics are the metrics every round-trip and recall test covers.
var allMetrics = []Metric{Angular, Euclidean, Manhattan, Dot, Hamming}

// dimFor is the dimension the tests use for m: bits for Hamming (two words, one partial).
func dimFor(m Metric) int {
	if m == Hamming {
		return 72
	}
	return 16
}

// dataset is n deterministic random vectors of dim values, row after row: gaussian values,
// or 0/1 bits for Hamming.
func dataset(m Metric, n, dim int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	data := make([]float32, n*dim)
	for i := range data {
		if m == Hamming {
			data[i] = float32(rng.Intn(2))
		} else {
			data[i] = float32(rng.NormFloat64())
		}
	}
	return data
}

func row(data []float32, dim, i int) []float32 { return data[i*dim : (i+1)*dim] }

// buildIndex adds every row of data as the item of its number and builds nTrees trees.
func buildIndex(t testing.TB, m Metric, data []float32, dim, nTrees int) *Index {
	t.Helper()
	idx, err := New(dim, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	for i := 0; i < len(data)/dim; i++ {
		if err := idx.AddItem(uint64(i), row(data, dim, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.SetSeed(1234); err != nil {
		t.Fatal(err)
	}
	if err := idx.Build(nTrees, -1); err != nil {
		t.Fatal(err)
	}
	return idx
}

// trueDistance is the metric computed directly, in float64, for brute force.
func trueDistance(m Metric, a, b []float32) float64 {
	var sum, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		switch m {
		case Angular:
			sum += x * y
			na += x * x
			nb += y * y
		case Euclidean:
			sum += (x - y) * (x - y)
		case Manhattan:
			sum += math.Abs(x - y)
		case Dot:
			sum += x * y
		case Hamming:
			if (x > 0.5) != (y > 0.5) {
				sum++
			}
		}
	}
	switch m {
	case Angular:
		return math.Sqrt(math.Max(0, 2-2*sum/math.Sqrt(na*nb)))
	case Euclidean:
		return math.Sqrt(sum)
	}
	return sum
}

// nearer reports whether distance a ranks before b under m (Dot: larger is nearer).
func nearer(m Metric, a, b float64) bool {
	if m == Dot {
		return a > b
	}
	return a < b
}

// bruteForce returns every item's true distance to query, and the distance of the k-th nearest.
func bruteForce(m Metric, data []float32, dim int, query []float32, k int) ([]float64, float64) {
	n := len(data) / dim
	dists := make([]float64, n)
	for i := 0; i < n; i++ {
		dists[i] = trueDistance(m, row(data, dim, i), query)
	}
	sorted := append([]float64(nil), dists...)
	sort.Slice(sorted, func(i, j int) bool { return nearer(m, sorted[i], sorted[j]) })
	return dists, sorted[k-1]
}

// closeTo compares float32 distances within 1e-4 relative, with an absolute floor near 0.
func closeTo(a, b float64) bool {
	return math.Abs(a-b) <= 1e-4*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func tempPath(t testing.TB, name string) string {
	return filepath.Join(t.TempDir(), name)
}

func mustNns(t testing.TB, idx *Index, query []float32, n, searchK int) ([]uint64, []float32) {
	t.Helper()
	ids, dists, err := idx.GetNnsByVector(query, n, searchK)
	if err != nil {
		t.Fatal(err)
	}
	return ids, dists
}
