//! The state's lock: queued changes apply once each, in order, whichever thread applies them;
//! queries see a change once its caller has its result; a panicking change is reported and the
//! lock stays usable; back-to-back queries do not starve writers.

use super::*;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// A stand-in for the live state: the changes applied, in order.
#[derive(Default)]
struct Log {
    applied: Vec<u64>,
    routable: usize,
}

impl Routable for Log {
    fn waiting(&self) -> usize {
        self.routable
    }
}

#[test]
fn changes_apply_once_each_in_queue_order_whoever_applies_them() {
    let shared = Shared::new(Log::default());
    // Writers queue under a lock, as the writer does under the log's, then wait outside it.
    let order = Mutex::new(0u64);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let state = shared.read();
                    // What a query sees is always a prefix of the queue: nothing skipped.
                    assert!(state
                        .applied
                        .iter()
                        .enumerate()
                        .all(|(i, &n)| i as u64 == n));
                }
            });
        }
        let writers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..500 {
                        let (n, ticket) = {
                            let mut next = lock(&order);
                            let n = *next;
                            *next += 1;
                            (
                                n,
                                shared.submit(move |log: &mut Log| {
                                    log.applied.push(n);
                                    n * 2
                                }),
                            )
                        };
                        assert_eq!(shared.wait(ticket), Some(n * 2));
                        // Once the caller has its result, every query sees the change.
                        assert!(shared.read().applied.len() as u64 > n);
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    let applied = &shared.read().applied;
    assert_eq!(applied.len(), 2000);
    assert!(applied.iter().enumerate().all(|(i, &n)| i as u64 == n));
}

#[test]
fn a_query_applies_the_changes_waiting_for_it() {
    let shared = Shared::new(Log::default());
    shared.queue(|log| log.applied.push(7));
    shared.queue(|log| log.routable = 3);
    assert_eq!(shared.read().applied, vec![7]);
    assert_eq!(shared.n_queued.load(Ordering::Acquire), 0);
    assert!(shared.waiting_for_router());
}

#[test]
fn exclusive_access_sees_every_queued_change_first() {
    let shared = Shared::new(Log::default());
    shared.queue(|log| log.applied.push(1));
    let mut state = shared.write();
    assert_eq!(state.applied, vec![1]);
    state.applied.push(2);
    drop(state);
    assert_eq!(shared.call(|log| log.applied.clone()), Some(vec![1, 2]));
}

#[test]
fn a_panicking_change_is_reported_and_the_lock_stays_usable() {
    let shared = Shared::new(Log::default());
    assert_eq!(
        shared.call(|_: &mut Log| -> u32 { panic!("a bug in a change") }),
        None
    );
    shared.queue(|_| panic!("a bug in a queued change"));
    assert_eq!(
        shared.call(|log| {
            log.applied.push(9);
            log.applied.len()
        }),
        Some(1)
    );
    assert_eq!(shared.read().applied, vec![9]);
}

#[test]
fn back_to_back_queries_do_not_starve_a_writer() {
    let shared = Shared::new(Log::default());
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let _state = shared.read();
                    // A long query: the lock is free only between queries, for an instant.
                    std::thread::sleep(Duration::from_micros(300));
                }
            });
        }
        std::thread::sleep(Duration::from_millis(5));
        for n in 0..50 {
            assert_eq!(shared.call(move |log| log.applied.push(n)), Some(()));
        }
        let mut state = shared.write();
        state.applied.push(50);
        drop(state);
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(shared.read().applied, (0..=50).collect::<Vec<u64>>());
}
