//! Queries allocate nothing once a thread's scratch space has grown: counted by a global
//! allocator, through the Rust API and through the C API, with and without compact codes.
mod common;

use ann::ffi::*;
use ann::{Index, Metric};
use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter is a
// thread-local `Cell` with a const initialiser, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations made on this thread by `f`.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn queries_allocate_nothing_once_warm() {
    let dir = tempfile::tempdir().unwrap();
    // Euclidean has compact codes, manhattan does not: both query paths are covered, and the
    // graph's walk with and without codes.
    for (metric, graph) in [
        (Metric::Euclidean, false),
        (Metric::Manhattan, false),
        (Metric::Euclidean, true),
        (Metric::Manhattan, true),
    ] {
        let data = SplitMix64::new(21).vectors(3000, 32, metric);
        let path = dir.path().join(format!("{metric}-{graph}.ann"));
        let mut built = build_index(metric, 32, &data, 10, 1, 2);
        if graph {
            built.build_graph(0, 1).unwrap();
        }
        built.save(&path).unwrap();
        let index = Index::load(&path, false).unwrap();
        let queries = SplitMix64::new(22).vectors(50, 32, metric);
        let mut out = Vec::with_capacity(100);
        let mut run = |search_k| {
            for q in &queries {
                out.clear();
                index
                    .search_vector_into(q, 100, search_k, &mut out)
                    .unwrap();
            }
        };
        run(Some(30_000)); // grows the scratch space to its largest
                           // The counter sees allocations: returning a new Vec makes one.
        let fresh = allocations(|| drop(index.get_nns_by_vector(&queries[0], 10, None)));
        assert!(fresh >= 1, "the counting allocator is not counting");
        assert_eq!(allocations(|| run(Some(30_000))), 0, "{metric}, Rust API");
        assert_eq!(allocations(|| run(None)), 0, "{metric}, Rust API");

        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let mut handle = std::ptr::null_mut();
        assert_eq!(ann_load(c_path.as_ptr(), false, &mut handle), ANN_STATUS_OK);
        let (mut ids, mut distances, mut count) = ([0u64; 100], [0f32; 100], 0usize);
        let mut c_run = || {
            for q in &queries {
                let status = ann_get_nns(
                    handle,
                    q.as_ptr(),
                    100,
                    30_000,
                    ids.as_mut_ptr(),
                    distances.as_mut_ptr(),
                    &mut count,
                );
                assert_eq!(status, ANN_STATUS_OK);
            }
        };
        c_run();
        assert_eq!(allocations(&mut c_run), 0, "{metric}, C API");
        ann_free(handle);
    }
}
