package ann

// The callback libann calls to run a SearchOptions' filter. It lives in a file of its own
// because cgo forbids definitions in the preamble of a file that exports Go functions.

// #include <stdint.h>
import "C"

import "runtime/cgo"

// annGoAccept runs the filter whose cgo.Handle is context on key (1: accepted). libann calls
// it through annc_accept (capi.go) from the searching threads: the goroutine's own thread for
// most searches, threads libann created for batches and shards, several at once; cgo runs it
// on the Go runtime either way. A panic in the filter is recovered (see filter.call): letting
// it unwind into Rust's frames would crash the process.
//
//export annGoAccept
func annGoAccept(key C.uint64_t, context C.uintptr_t) C.int {
	f := cgo.Handle(context).Value().(*filter)
	if f.call(uint64(key)) {
		return 1
	}
	return 0
}
