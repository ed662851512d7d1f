//! The lock on a live index's state, shared by its writer, its read handles and its router.
//!
//! Queries read the state; writes change it. Two things make a plain `RwLock` slow here:
//!
//! - **Starvation.** A thread that queries back to back releases the lock and takes it again
//!   before a woken writer runs, so a writer could wait forever. A write must therefore keep
//!   new queries out until it is done.
//! - **Hand-off.** Keeping queries out until a writing *thread* is done makes them wait on that
//!   thread being scheduled. With more threads than cores (a query thread, a writer, the router,
//!   the log's timer), the writer is often descheduled at that moment: a query thread then
//!   waited 155 µs per write on average for a write that held the state 13 µs, and queries
//!   lost 15% of their speed at 1,800 upserts/s (a probe on the lock, in a harness like
//!   `bench/live.cpp`'s: one thread querying, one upserting).
//!
//! So a logged write does not wait for the lock: the writer appends it to a queue of pending
//! writes, in log order, and whichever thread next finds the state free applies every pending
//! write: the writer itself, or a query about to start (which would have waited for it
//! anyway). A query that finds writes pending and cannot apply them (other queries still read
//! the state) waits until they are applied, so a write waits for the queries already running,
//! never for those after it, and the writer returns only once its write is applied: the next
//! query sees it. In the same harness queries then lost 8%, at 2,000 to 2,300 upserts/s (the
//! writer, no longer waiting on its turn, wrote faster). The router queues its changes the same
//! way. The other changes to the state (a compaction's switch, a reader's refresh) take it
//! exclusively, as a write did before: they announce themselves, so new queries wait, and
//! apply the queued changes first, so they see the state in log order.
//!
//! Waiting is done awake: spinning for up to 100 µs, then yielding, and only then sleeping; a
//! thread put to sleep and woken on a virtual machine can take 100 µs to run again.
//!
//! Fork: every exclusive hold of the state happens under `FORK_GATE`, which `fork()` takes
//! first (`pthread_atfork`), so a child never inherits the state write-locked by a thread it
//! does not have. A child may inherit changes queued by its parent's threads and a running
//! query's read lock: its queries then read without waiting for what they cannot apply.

use super::state::LiveState;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::TryLockError;
use std::sync::{Arc, Mutex, MutexGuard, Once, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// What a live index's state tells its lock: whether the router has work.
pub(crate) trait Routable {
    /// Items waiting for the router.
    fn waiting(&self) -> usize;
}

impl Routable for LiveState {
    fn waiting(&self) -> usize {
        LiveState::waiting(self)
    }
}

pub(crate) struct Shared<T = LiveState> {
    /// `fork::generation()` when made: in a forked child, changes queued or announced by the
    /// parent's threads will never be applied, and the state may stay read-locked by a query
    /// the child does not have.
    process: u64,
    /// Exclusive users (a compaction, a reader's refresh) waiting for the state or holding it.
    exclusive: AtomicUsize,
    /// Changes not applied yet: how many, and which, in the order they were queued.
    n_queued: AtomicUsize,
    queue: Mutex<Vec<Job<T>>>,
    /// Whether the delta had items for the router when changes were last applied.
    routable: AtomicBool,
    state: RwLock<T>,
}

/// A queued change to the state.
type Job<T> = Box<dyn FnOnce(&mut T) + Send>;

/// The state, held exclusively; the queued changes are applied, and new queries wait until it
/// is dropped.
pub(crate) struct WriteGuard<'a, T> {
    held: Option<Exclusive<'a, T>>,
    exclusive: &'a AtomicUsize,
}

/// The state's write lock, and the fork gate taken before it (dropped after it).
struct Exclusive<'a, T> {
    state: RwLockWriteGuard<'a, T>,
    _gate: MutexGuard<'static, ()>,
}

impl<T> std::ops::Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.held.as_ref().expect("held until dropped").state
    }
}

impl<T> std::ops::DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.held.as_mut().expect("held until dropped").state
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.held.take());
        self.exclusive.fetch_sub(1, Ordering::AcqRel);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T: Routable + 'static> Shared<T> {
    pub(crate) fn new(state: T) -> Arc<Shared<T>> {
        Arc::new(Shared {
            process: crate::fork::generation(),
            exclusive: AtomicUsize::new(0),
            n_queued: AtomicUsize::new(0),
            queue: Mutex::new(Vec::new()),
            routable: AtomicBool::new(false),
            state: RwLock::new(state),
        })
    }

    /// The state for a query: waits for exclusive users, and for queued changes (applying
    /// them itself when no one else reads).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        let mut back_off = BackOff::new();
        loop {
            let exclusive = self.exclusive.load(Ordering::Acquire) > 0;
            if !exclusive && self.n_queued.load(Ordering::Acquire) == 0
                || self.process != crate::fork::generation()
            {
                // Nothing to wait for; or a forked child, where what it would wait for (or
                // apply, under a queue lock a parent's thread may have held) was its parent's:
                // it reads the state as it was at the fork (a stale read lock does not block).
                return self.state.read().unwrap_or_else(|p| p.into_inner());
            }
            if !exclusive {
                if let Some(mut held) = self.try_exclusive() {
                    self.apply_queued(&mut held.state);
                    continue;
                }
            }
            back_off.wait();
        }
    }

    /// The state, exclusively, with every queued change applied. New queries wait until the
    /// guard is dropped; this waits for the queries already running.
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        self.exclusive.fetch_add(1, Ordering::AcqRel);
        let mut back_off = BackOff::new();
        let mut held = loop {
            match self.try_exclusive() {
                Some(held) => break held,
                None => back_off.wait(),
            }
        };
        self.apply_queued(&mut held.state);
        WriteGuard {
            held: Some(held),
            exclusive: &self.exclusive,
        }
    }

    /// Queues `change`, to be applied by whichever thread next holds the state, after the
    /// changes queued before it. A panic in it is caught (and the change lost).
    pub(crate) fn queue(&self, change: impl FnOnce(&mut T) + Send + 'static) {
        let job: Job<T> = Box::new(move |state| {
            let _ = catch_unwind(AssertUnwindSafe(|| change(state)));
        });
        lock(&self.queue).push(job);
        self.n_queued.fetch_add(1, Ordering::AcqRel);
    }

    /// Queues `change` (as `queue`) and returns the ticket to wait for its result with.
    pub(crate) fn submit<R: Send + 'static>(
        &self,
        change: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> Ticket<R> {
        let slot = Arc::new(Slot::default());
        let filled = slot.clone();
        self.queue(move |state| {
            // Filled even if `change` panics, so the caller never waits forever.
            let result = catch_unwind(AssertUnwindSafe(|| change(state))).ok();
            *lock(&filled.value) = Some(result);
            filled.done.store(true, Ordering::Release);
        });
        Ticket(slot)
    }

    /// Waits until the change `ticket` was given for is applied (applying the queue itself
    /// when the state is free); returns what it returned, or `None` if it panicked.
    pub(crate) fn wait<R>(&self, ticket: Ticket<R>) -> Option<R> {
        let mut back_off = BackOff::new();
        while !ticket.0.done.load(Ordering::Acquire) {
            match self.try_exclusive() {
                Some(mut held) => self.apply_queued(&mut held.state),
                None => back_off.wait(),
            }
        }
        let result = lock(&ticket.0.value).take();
        result.flatten()
    }

    /// Queues `change` and waits for its result (see `wait`).
    pub(crate) fn call<R: Send + 'static>(
        &self,
        change: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> Option<R> {
        let ticket = self.submit(change);
        self.wait(ticket)
    }

    /// True when the delta had items for the router after the last changes applied.
    pub(crate) fn waiting_for_router(&self) -> bool {
        self.routable.load(Ordering::Acquire)
    }

    /// The state's write lock, if no one holds the state, with the fork gate.
    fn try_exclusive(&self) -> Option<Exclusive<'_, T>> {
        let gate = try_fork_gate()?;
        let state = match self.state.try_write() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(Exclusive { state, _gate: gate })
    }

    /// Applies every queued change to `state`, in order.
    fn apply_queued(&self, state: &mut T) {
        loop {
            let jobs = std::mem::take(&mut *lock(&self.queue));
            if jobs.is_empty() {
                return;
            }
            let n = jobs.len();
            for job in jobs {
                job(state);
            }
            self.routable.store(state.waiting() > 0, Ordering::Release);
            self.n_queued.fetch_sub(n, Ordering::AcqRel);
        }
    }
}

/// What waits for a queued change's result.
pub(crate) struct Ticket<R>(Arc<Slot<R>>);

/// Where a queued change's result waits for its caller.
struct Slot<R> {
    done: AtomicBool,
    value: Mutex<Option<Option<R>>>,
}

impl<R> Default for Slot<R> {
    fn default() -> Self {
        Slot {
            done: AtomicBool::new(false),
            value: Mutex::new(None),
        }
    }
}

/// Waits a little longer each time: spins for `SPIN`, then yields the core until `YIELD`, then
/// sleeps, so a long wait (a reader replaying many records) does not hold a core.
struct BackOff {
    start: Instant,
    round: u32,
}

const SPIN: Duration = Duration::from_micros(100);
const YIELD: Duration = Duration::from_millis(2);

impl BackOff {
    fn new() -> BackOff {
        BackOff {
            start: Instant::now(),
            round: 0,
        }
    }

    fn wait(&mut self) {
        self.round = self.round.wrapping_add(1);
        if !self.round.is_multiple_of(64) {
            std::hint::spin_loop();
            return;
        }
        let waited = self.start.elapsed();
        if waited < SPIN {
            std::hint::spin_loop();
        } else if waited < YIELD {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

/// Taken before the state's write lock of any live index and released after it, and by
/// `fork()` first.
static FORK_GATE: Mutex<()> = Mutex::new(());

thread_local! {
    static HELD_ACROSS_FORK: RefCell<Option<MutexGuard<'static, ()>>> = const { RefCell::new(None) };
}

/// The gate, unless another thread holds it (it holds it briefly: it is changing some live
/// state, or forking).
fn try_fork_gate() -> Option<MutexGuard<'static, ()>> {
    install_fork_handlers();
    match FORK_GATE.try_lock() {
        Ok(gate) => Some(gate),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

extern "C" fn before_fork() {
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some(lock(&FORK_GATE)));
}

extern "C" fn after_fork() {
    HELD_ACROSS_FORK.with(|held| held.borrow_mut().take());
}

fn install_fork_handlers() {
    static INSTALLED: Once = Once::new();
    crate::fork::hold_across_fork(&INSTALLED, before_fork, after_fork);
}

#[cfg(test)]
mod tests;
