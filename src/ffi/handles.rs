//! The registry of live handles. Every handle given to C is recorded here, with its type's tag,
//! from the moment it is made until it is freed, and the C boundary dereferences a pointer
//! only after finding it here. NULL, garbage, already-freed and wrong-type pointers are thus
//! reported as errors and never read, and a double free is a no-op. (A freed handle whose
//! memory now holds a new handle of the same type is that new handle: undetectable, and
//! still memory-safe.)
//!
//! The registry is sharded by address so that threads calling on different handles rarely
//! share a lock; a call holds one shard's lock for one set lookup. `fork()` is safe: the
//! registry's locks are taken before a fork and released after it in both processes
//! (`pthread_atfork`), so a child never inherits a lock held by a thread it does not have.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, Once};

const SHARDS: usize = 16;

/// The live handles of one shard: (type tag, address) pairs.
type Live = BTreeSet<(u64, usize)>;
type Shard = Mutex<Live>;

static REGISTRY: [Shard; SHARDS] = [const { Mutex::new(BTreeSet::new()) }; SHARDS];

fn shard(address: usize) -> MutexGuard<'static, Live> {
    // Handles are boxes: their low bits are alignment, the next ones spread them.
    lock(&REGISTRY[(address >> 4) % SHARDS])
}

fn lock(shard: &'static Shard) -> MutexGuard<'static, Live> {
    shard.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records a new handle of the type tagged `tag` at `address`.
pub(crate) fn register(tag: u64, address: usize) {
    install_fork_handlers();
    shard(address).insert((tag, address));
}

/// True when `address` is a live handle of the type tagged `tag`.
pub(crate) fn is_live(tag: u64, address: usize) -> bool {
    shard(address).contains(&(tag, address))
}

/// Forgets the handle at `address`; true when it was a live handle of that type (so the caller
/// may free it, exactly once).
pub(crate) fn unregister(tag: u64, address: usize) -> bool {
    shard(address).remove(&(tag, address))
}

thread_local! {
    /// The registry's locks, held by the forking thread from just before `fork()` until just
    /// after it, in the parent and in the child.
    static HELD_ACROSS_FORK: RefCell<Vec<MutexGuard<'static, Live>>> =
        const { RefCell::new(Vec::new()) };
}

extern "C" fn before_fork() {
    HELD_ACROSS_FORK.with(|held| {
        let mut held = held.borrow_mut();
        // Every shard, in one order: no other code holds two at once, so this cannot deadlock.
        for shard in &REGISTRY {
            held.push(lock(shard));
        }
    });
}

extern "C" fn after_fork() {
    HELD_ACROSS_FORK.with(|held| held.borrow_mut().clear());
}

fn install_fork_handlers() {
    static INSTALLED: Once = Once::new();
    crate::fork::hold_across_fork(&INSTALLED, before_fork, after_fork);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_live_from_register_to_unregister_and_by_type() {
        let (a, b) = (0x1000usize, 0x2010usize);
        register(1, a);
        register(2, b);
        assert!(is_live(1, a) && is_live(2, b));
        assert!(!is_live(2, a), "another type's tag");
        assert!(!is_live(1, a + 16), "an address never registered");
        assert!(unregister(1, a));
        assert!(!unregister(1, a), "a second free is refused");
        assert!(!is_live(1, a));
        assert!(unregister(2, b));
    }
}
