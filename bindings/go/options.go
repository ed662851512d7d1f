package ann

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// SearchOptions are the effort and the filter of Search, SearchByItem and SearchBatch: a
// searchK, an ef (for indexes with a graph), an allow-list, a deny-list and a filter func. A
// key may be returned when it is in the allow-list (if one was set), not in the deny-list, and
// the filter func (if any) returns true for it. Unlike GetNnsByVector, a search with options
// returns exactly min(n, number of stored items the options accept) results, every one
// accepted.
//
// Options are reusable and safe for concurrent use: any number of searches, on any indexes,
// may share one SearchOptions. A setter or Close waits for the searches using the options,
// and a search uses the options as they were when it started. Close frees the native object
// at once; a finalizer frees it if the program forgets. A nil *SearchOptions means the
// defaults wherever a search takes one.
type SearchOptions struct {
	mu     sync.RWMutex  // read: searches using the options; write: setters and Close
	h      optionsHandle // nil once closed
	filter *filter       // the filter func libann calls, or nil
	handle cgo.Handle    // filter's handle, libann's context for it (0: no filter)
}

// NewSearchOptions makes options with the defaults: searchK -1 (n * NTrees()), ef 0 (derived
// from searchK), no filter.
func NewSearchOptions() (*SearchOptions, error) {
	if err := loadLibrary(); err != nil {
		return nil, err
	}
	h, err := cSearchOptionsNew()
	if err != nil {
		return nil, withOp("NewSearchOptions", err)
	}
	o := &SearchOptions{h: h}
	runtime.SetFinalizer(o, finalizeOptions)
	return o, nil
}

// finalizedOptions counts the options freed by the finalizer rather than by Close (for a test).
var finalizedOptions atomic.Int64

// finalizeOptions is the safety net for options that became unreachable without Close.
func finalizeOptions(o *SearchOptions) {
	finalizedOptions.Add(1)
	o.Close()
}

// Close frees the native options. It waits for searches using them; closing twice is
// harmless, and a later setter or search with these options returns an error matching
// ErrClosed.
func (o *SearchOptions) Close() error {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.h != nil {
		cSearchOptionsFree(o.h)
		o.h = nil
		o.dropFilter()
		runtime.SetFinalizer(o, nil)
	}
	return nil
}

// SetSearchK sets how many accepted candidates a search collects: larger gives better recall
// and slower searches; -1 (the default) means n * NTrees(). Below -1 is an ErrInvalidArgument.
func (o *SearchOptions) SetSearchK(searchK int) error {
	return o.write("SetSearchK", func(h optionsHandle) error { return cSetSearchK(h, int64(searchK)) })
}

// SetEf sets the beam width of a graph search (see Index.BuildGraph): how many nodes the walk
// keeps, at least n; larger gives better recall and slower searches. 0 (the default) derives
// it from searchK as max(n, 32, searchK/16). Indexes without a graph ignore it. Below 0 is an
// ErrInvalidArgument.
func (o *SearchOptions) SetEf(ef int) error {
	return o.write("SetEf", func(h optionsHandle) error {
		if ef < 0 {
			return argumentError("ef %d is out of range", ef)
		}
		return cSetEf(h, uint64(ef))
	})
}

// SetAllowList restricts results to keys: only they may be returned. The list is copied;
// order and repeats do not matter. An empty (or nil) list accepts nothing. It replaces an
// earlier allow-list; an allow-list cannot be removed, so make new options to search without
// one. A search whose allow-list is no longer than searchK scores those items directly.
func (o *SearchOptions) SetAllowList(keys []uint64) error {
	return o.write("SetAllowList", func(h optionsHandle) error {
		err := cSetAllowList(h, keys)
		runtime.KeepAlive(keys)
		return err
	})
}

// SetDenyList keeps keys out of the results. The list is copied; order and repeats do not
// matter; an empty (or nil) list denies nothing. It replaces an earlier deny-list.
func (o *SearchOptions) SetDenyList(keys []uint64) error {
	return o.write("SetDenyList", func(h optionsHandle) error {
		err := cSetDenyList(h, keys)
		runtime.KeepAlive(keys)
		return err
	})
}

// SetFilter makes searches return only keys for which accept returns true; nil removes the
// filter. It replaces an earlier filter.
//
// accept runs during searches, on threads libann creates as well as the caller's, and
// several calls run at once in batch searches and in searches sharing these options: it must
// be safe for concurrent use, and fast (it may run for many keys per search). It may run
// queries, but must not call methods of these options nor Close an index being searched
// (both wait for the search: a deadlock), nor call runtime.Goexit (t.FailNow, for one).
//
// A panic in accept refuses that key, and the search then fails with a *FilterPanicError
// (matching ErrFilterPanic) holding the first panic's value and stack, instead of returning
// results. Searches sharing the options that run while the panic happens all report it.
func (o *SearchOptions) SetFilter(accept func(key uint64) bool) error {
	return o.write("SetFilter", func(h optionsHandle) error {
		if accept == nil {
			if err := cSetFilter(h, 0); err != nil {
				return err
			}
			o.dropFilter()
			return nil
		}
		f := &filter{accept: accept, running: make(map[*filterRun]struct{})}
		handle := cgo.NewHandle(f)
		if err := cSetFilter(h, uintptr(handle)); err != nil {
			handle.Delete()
			return err
		}
		o.dropFilter()
		o.filter, o.handle = f, handle
		return nil
	})
}

// dropFilter forgets the filter libann no longer calls (the caller holds the write lock).
func (o *SearchOptions) dropFilter() {
	if o.handle != 0 {
		o.handle.Delete()
	}
	o.filter, o.handle = nil, 0
}

// write runs a setter with the handle, alone: libann needs exclusive access to change options.
func (o *SearchOptions) write(op string, call func(h optionsHandle) error) error {
	if o == nil {
		return optionsClosedError(op)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.h == nil {
		return optionsClosedError(op)
	}
	err := call(o.h)
	runtime.KeepAlive(o)
	return withOp(op, err)
}

// use runs a search with the options' handle (nil for nil options: the defaults) under the
// read lock, so that neither a setter nor Close changes them under the search. A panic of the
// filter during the search is its error, in place of call's.
func (o *SearchOptions) use(op string, call func(h optionsHandle) error) error {
	if o == nil {
		return call(nil)
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.h == nil {
		return optionsClosedError(op)
	}
	var run *filterRun
	if o.filter != nil {
		run = o.filter.start()
	}
	err := call(o.h)
	if run != nil {
		if panicked := o.filter.finish(run); panicked != nil {
			copied := *panicked // shared by the searches it was reported to
			copied.Op = op
			err = &copied
		}
	}
	runtime.KeepAlive(o)
	return err
}

// filter is a filter func as libann calls it (through annGoAccept), with the searches now
// running with it, to which a panic of the func is reported.
type filter struct {
	accept  func(key uint64) bool
	mu      sync.Mutex
	running map[*filterRun]struct{}
}

// filterRun is one search running with a filter: the first panic during it, if any.
type filterRun struct{ panicked *FilterPanicError }

func (f *filter) start() *filterRun {
	run := &filterRun{}
	f.mu.Lock()
	f.running[run] = struct{}{}
	f.mu.Unlock()
	return run
}

func (f *filter) finish(run *filterRun) *FilterPanicError {
	f.mu.Lock()
	delete(f.running, run)
	f.mu.Unlock()
	return run.panicked
}

// call runs the func on key; a panic refuses the key and is recorded for the running searches.
func (f *filter) call(key uint64) (accepted bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		value := recover() // nil after panic(nil) before Go 1.21: still a panic
		if value == nil {
			value = "panic(nil)"
		}
		e := &FilterPanicError{Key: key, Value: value, Stack: debug.Stack()}
		f.mu.Lock()
		for run := range f.running {
			if run.panicked == nil {
				run.panicked = e
			}
		}
		f.mu.Unlock()
		accepted = false
	}()
	accepted = f.accept(key)
	returned = true
	return accepted
}

// ErrFilterPanic matches the error of a search whose filter func (SetFilter) panicked.
var ErrFilterPanic = errors.New("ann: the search filter panicked")

// FilterPanicError is the error of a search whose filter func panicked: the search ran to
// its end with the key refused, and its results were dropped. It matches ErrFilterPanic;
// when the panic's value is an error, errors.Is and errors.As see that error too.
type FilterPanicError struct {
	Op    string      // the search that failed, e.g. "Search"
	Key   uint64      // the key the filter panicked on (the first panic's)
	Value interface{} // the value passed to panic
	Stack []byte      // the stack of the panicking filter call
}

func (e *FilterPanicError) Error() string {
	return fmt.Sprintf("ann: %s: the filter panicked on key %d: %v", e.Op, e.Key, e.Value)
}

// Is reports whether target is ErrFilterPanic.
func (e *FilterPanicError) Is(target error) bool { return target == ErrFilterPanic }

// Unwrap returns the panic's value when it is an error.
func (e *FilterPanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
