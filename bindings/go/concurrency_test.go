package ann

import (
	"errors"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"
)

// 32 goroutines query one loaded index at once and get exactly the serial answers.
func TestConcurrentQueriesEqualSerialOnes(t *testing.T) {
	const dim, goroutines, nQueries = 16, 32, 50
	data := dataset(Angular, 2000, dim, 21)
	path := tempPath(t, "shared.ann")
	if err := buildIndex(t, Angular, data, dim, 10).Save(path); err != nil {
		t.Fatal(err)
	}
	idx, err := Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	queries := dataset(Angular, nQueries, dim, 22)
	wantIDs := make([][]uint64, nQueries)
	wantDists := make([][]float32, nQueries)
	for q := range wantIDs {
		wantIDs[q], wantDists[q] = mustNns(t, idx, row(queries, dim, q), 10, -1)
	}

	var wg sync.WaitGroup
	failures := make(chan string, goroutines)
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			for i := 0; i < nQueries; i++ {
				q := (g + i) % nQueries
				ids, dists, err := idx.GetNnsByVector(row(queries, dim, q), 10, -1)
				byItem, _, err2 := idx.GetNnsByItem(uint64(q), 3, -1)
				if err != nil || err2 != nil || !reflect.DeepEqual(ids, wantIDs[q]) ||
					!reflect.DeepEqual(dists, wantDists[q]) || byItem[0] != uint64(q) {
					failures <- "goroutine result differs from the serial one"
					return
				}
			}
		}(g)
	}
	close(start)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Fatal(f)
	}
}

// Close while other goroutines query: each query either completes with the right answer or
// reports ErrClosed; nothing crashes, and Close waits for the queries it overlaps.
func TestCloseRacingQueries(t *testing.T) {
	const dim = 16
	data := dataset(Euclidean, 1000, dim, 23)
	queries := dataset(Euclidean, 8, dim, 24)
	for round := 0; round < 5; round++ {
		idx := buildIndex(t, Euclidean, data, dim, 5)
		want, _ := mustNns(t, idx, row(queries, dim, 0), 10, -1)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var bad []error
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					var ids []uint64
					var err error
					if i%2 == 0 {
						ids, _, err = idx.GetNnsByVector(row(queries, dim, 0), 10, -1)
					} else {
						var rows [][]uint64
						rows, _, err = idx.GetNnsBatch(queries, 10, -1, 2)
						if err == nil {
							ids = rows[0]
						}
					}
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil || !reflect.DeepEqual(ids, want) {
						mu.Lock()
						bad = append(bad, err)
						mu.Unlock()
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round) * time.Millisecond)
		if err := idx.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Fatalf("round %d: queries failed: %v", round, bad)
		}
	}
}

// Changes wait for queries (libann needs exclusive access to change an index): adding and
// rebuilding while other goroutines query is safe, and every query sees a consistent index.
func TestChangesWhileQuerying(t *testing.T) {
	const dim = 8
	data := dataset(Manhattan, 400, dim, 25)
	idx := buildIndex(t, Manhattan, data[:200*dim], dim, 3)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ids, _, err := idx.GetNnsByVector(row(data, dim, 0), 5, -1)
				if err != nil && !errors.Is(err, ErrInvalidState) { // unbuilt for a moment
					t.Error(err)
					return
				}
				if err == nil && ids[0] != 0 {
					t.Errorf("ids %v", ids)
					return
				}
			}
		}()
	}
	for i := 200; i < 400; i += 50 {
		if err := idx.Unbuild(); err != nil {
			t.Fatal(err)
		}
		for j := i; j < i+50; j++ {
			if err := idx.AddItem(uint64(j), row(data, dim, j)); err != nil {
				t.Fatal(err)
			}
		}
		if err := idx.Build(3, -1); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if idx.NItems() != 400 {
		t.Fatalf("%d items", idx.NItems())
	}
}

// An Index the program forgot to close is freed by its finalizer, without a crash.
func TestFinalizerFreesForgottenIndexes(t *testing.T) {
	before := finalized.Load()
	for i := 0; i < 50; i++ {
		idx, err := New(4, Dot)
		if err != nil {
			t.Fatal(err)
		}
		if err := idx.AddItem(0, []float32{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20 && finalized.Load()-before < 50; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := finalized.Load() - before; n < 40 {
		t.Fatalf("the finalizer freed %d of 50 forgotten indexes", n)
	}
}
