//! The router: a background thread that moves the delta's items into the host's trees.
//!
//! Writes put their items in the delta's own small forest, so a write costs a few
//! microseconds and is found by the next query; routing an item down every tree of the host
//! costs tens of microseconds, mostly waiting for nodes to arrive from memory. The router does
//! it off the writers' threads, in batches (a node is then read once for every item reaching
//! it), outside the state's lock. Taking a batch and settling it are changes queued on the
//! state (`shared.rs`), applied by the next thread to hold it, a query's as often as not, so
//! queries never wait for the router to be scheduled. It waits a moment after being woken, so
//! that items arriving one by one are routed together.
//!
//! Fork: a child has no router (the state's lock is never inherited held: `shared.rs`). Its
//! delta keeps its items in its own forest, which queries search as well.

use super::shared::Shared;
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// Items taken at once: enough that the top levels of each tree are read once for many items,
/// few enough that taking them (a copy of each node) holds the state briefly.
const BATCH: usize = 256;
/// Items moved onto the host's lists per queued change: the thread that applies it (a query,
/// perhaps) pays for this many at most.
const SETTLE_CHUNK: usize = 32;
/// How long the router lets items gather after being woken, unless a batch is already waiting.
const GATHER: Duration = Duration::from_millis(20);

struct Signal {
    stop: AtomicBool,
    /// Set by a nudge, cleared by the router as it starts taking batches: a write that finds
    /// it set costs nothing more.
    pending: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

/// A live state's router: started by the first [`Router::nudge`], stopped when dropped.
pub(crate) struct Router {
    /// `fork::generation()` when made: a forked child has no router thread.
    process: u64,
    shared: Weak<Shared>,
    signal: Arc<Signal>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Router {
    pub fn new(shared: &Arc<Shared>) -> Router {
        Router {
            process: crate::fork::generation(),
            shared: Arc::downgrade(shared),
            signal: Arc::new(Signal {
                stop: AtomicBool::new(false),
                pending: AtomicBool::new(false),
                lock: Mutex::new(()),
                wake: Condvar::new(),
            }),
            thread: Mutex::new(None),
        }
    }

    /// Tells the router that items may be waiting (starting it the first time). A router that
    /// cannot start leaves them in the delta's forest, where queries find them all the same.
    pub fn nudge(&self) {
        if self.signal.pending.swap(true, Ordering::AcqRel)
            || self.process != crate::fork::generation()
        {
            return;
        }
        let mut thread = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        if thread.is_none() {
            match self.start() {
                Ok(handle) => *thread = Some(handle),
                Err(_) => return,
            }
        }
        let _lock = self.signal.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.signal.wake.notify_one();
    }

    /// Nudges the router if the state it routes for has items waiting.
    pub fn nudge_if_waiting(&self) {
        let waiting = self
            .shared
            .upgrade()
            .is_some_and(|s| s.read().waiting() > 0);
        if waiting {
            self.nudge();
        }
    }

    fn start(&self) -> Result<JoinHandle<()>> {
        let (shared, signal) = (self.shared.clone(), self.signal.clone());
        std::thread::Builder::new()
            .name("ann-router".into())
            .spawn(move || run(&shared, &signal))
            .map_err(|e| Error::io("cannot start the delta's router thread".to_string(), e))
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        if self.process != crate::fork::generation() {
            // A forked child: the thread is its parent's, and its locks may be held by threads
            // the child does not have. Nothing to stop or join.
            if let Some(t) = self.thread.get_mut().ok().and_then(Option::take) {
                std::mem::forget(t);
            }
            return;
        }
        self.signal.stop.store(true, Ordering::Relaxed);
        drop(self.signal.lock.lock().unwrap_or_else(|p| p.into_inner()));
        self.signal.wake.notify_one();
        let thread = self.thread.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = thread.take() {
            // The router may hold the last reference to the state for a moment, and so run
            // this drop itself: it cannot join itself.
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

fn run(shared: &Weak<Shared>, signal: &Signal) {
    loop {
        {
            let mut lock = signal.lock.lock().unwrap_or_else(|p| p.into_inner());
            while !signal.pending.load(Ordering::Acquire) && !signal.stop.load(Ordering::Relaxed) {
                lock = signal.wake.wait(lock).unwrap_or_else(|p| p.into_inner());
            }
        }
        if signal.stop.load(Ordering::Relaxed) {
            return;
        }
        let backlog = match shared.upgrade() {
            Some(s) => s.read().waiting(),
            None => return,
        };
        if backlog < BATCH {
            std::thread::sleep(GATHER);
        }
        signal.pending.store(false, Ordering::Release);
        while !signal.stop.load(Ordering::Relaxed) {
            let Some(s) = shared.upgrade() else {
                return;
            };
            if !route_one_batch(&s) {
                break;
            }
        }
    }
}

/// Takes a batch, routes it outside the lock, and queues its settling. False when nothing
/// waited.
fn route_one_batch(shared: &Shared) -> bool {
    let Some(batch) = shared.call(|state| state.batch_to_route(BATCH)).flatten() else {
        return false;
    };
    let nodes: Vec<&[u8]> = batch
        .items
        .iter()
        .map(|item| item.node.as_slice())
        .collect();
    let mut routes = batch.trees().route(&nodes);
    let generation = batch.generation;
    let mut items = batch.items;
    while !items.is_empty() {
        let n = items.len().saturating_sub(SETTLE_CHUNK);
        let (items, routes) = (items.split_off(n), routes.split_off(n));
        shared.queue(move |state| {
            state.settle(generation, &items, &routes);
        });
    }
    true
}
