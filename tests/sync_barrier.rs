//! `corio::sync::Barrier`: ports of the intent of CPython's
//! `test_asyncio/test_locks.py` `BarrierTests` (named at each test), on a
//! deterministic one-thread executor (`local_pool`), then rounds of tasks
//! on every worker of a runtime.
//!
//! corio's barrier has no draining state (see `Barrier`'s module docs): a
//! round's indices are handed out when the last party arrives. The ports of
//! asyncio's draining tests check what that state was for: the next round
//! fills only with new arrivals, and a released task keeps its pass.

mod common;
mod local_pool;

use common::{panic_of, poll_once, rt, watchdog, LONG};
use corio::sync::{Barrier, BrokenBarrierError};
use local_pool::{LocalPool, Log};
use std::sync::{Arc, Mutex};

type Results = Arc<Mutex<Vec<Result<usize, BrokenBarrierError>>>>;

fn waiter(b: &Arc<Barrier>, results: &Results) -> impl std::future::Future<Output = ()> {
    let (b, results) = (b.clone(), results.clone());
    async move {
        let r = b.wait().await;
        results.lock().unwrap().push(r);
    }
}

fn sorted_indices(results: &Results) -> Vec<usize> {
    let mut v: Vec<usize> = results
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.expect("broken"))
        .collect();
    v.sort();
    v
}

/// CPython: `test_barrier`, `test_context_manager`,
/// `test_filling_tasks_check_return_value`: each party gets a distinct
/// index 0..N (in arrival order, the last arrival N-1).
#[test]
fn indices_in_arrival_order() {
    let b = Arc::new(Barrier::new(5));
    let results = Results::default();
    let mut pool = LocalPool::new();
    for _ in 0..5 {
        pool.spawn(waiter(&b, &results));
    }
    pool.run_until_stalled();
    // The last arrival logs first (it does not wait), then the others in
    // the order they were woken.
    assert_eq!(
        *results.lock().unwrap(),
        [Ok(4), Ok(0), Ok(1), Ok(2), Ok(3)]
    );
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.is_broken());
}

/// CPython: `test_barrier_parties`; and `Barrier::new(0)` panics naming
/// the argument.
#[test]
fn parties() {
    assert_eq!(Barrier::new(3).parties(), 3);
    let msg = panic_of(|| Barrier::new(0));
    assert!(msg.contains("parties"), "{msg}");
}

/// CPython: `test_filling_one_task`, `test_filling_one_task_twice`.
#[test]
fn one_party_passes_at_once() {
    let b = Barrier::new(1);
    for _ in 0..2 {
        let mut w = Box::pin(b.wait());
        assert_eq!(poll_once(&mut w), std::task::Poll::Ready(Ok(0)));
        assert_eq!(b.n_waiting(), 0);
    }
    assert!(!b.is_broken());
}

/// CPython: `test_filling_task_by_task`: `n_waiting` counts the arrivals
/// of the round.
#[test]
fn filling_task_by_task() {
    let b = Arc::new(Barrier::new(3));
    let results = Results::default();
    let mut pool = LocalPool::new();
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    assert_eq!(b.n_waiting(), 1);
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    assert_eq!(b.n_waiting(), 2);
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    assert_eq!(b.n_waiting(), 0);
    assert_eq!(sorted_indices(&results), [0, 1, 2]);
}

/// CPython: `test_filling_tasks_wait_twice`, `test_wait_twice` (reuse):
/// the same parties pass the barrier round after round.
#[test]
fn reusable_across_rounds() {
    let b = Arc::new(Barrier::new(4));
    let log = Log::default();
    let mut pool = LocalPool::new();
    for i in 0..4 {
        let (b, log) = (b.clone(), log.clone());
        pool.spawn(async move {
            for round in 0..3 {
                b.wait().await.unwrap();
                log.push(format!("{round}:{i}"));
            }
        });
    }
    pool.run_until_stalled();
    let log = log.get();
    assert_eq!(log.len(), 12);
    // No one starts round r+1's log before everyone logged... round r's
    // wait is passed by all before any passes round r+1.
    for (pos, entry) in log.iter().enumerate() {
        let round: usize = entry[..1].parse().unwrap();
        assert_eq!(round, pos / 4, "{log:?}");
    }
    assert_eq!(b.n_waiting(), 0);
}

/// CPython: `test_blocking_tasks_while_draining`, `test_draining_state`:
/// the tasks released by a round that come back at once form the next
/// round with the ones that arrive later; nobody passes twice in one round.
#[test]
fn released_tasks_join_the_next_round() {
    let b = Arc::new(Barrier::new(3));
    let results = Results::default();
    let mut pool = LocalPool::new();
    for _ in 0..3 {
        let (b, results) = (b.clone(), results.clone());
        pool.spawn(async move {
            b.wait().await.unwrap();
            let r = b.wait().await;
            results.lock().unwrap().push(r);
        });
    }
    pool.run_until_stalled();
    assert_eq!(sorted_indices(&results), [0, 1, 2]);
    assert_eq!(b.n_waiting(), 0);
}

/// CPython: `test_filling_tasks_cancel_one`: a waiter cancelled while
/// the round fills no longer counts; the round completes with the next
/// arrival.
#[test]
fn filling_task_cancelled() {
    let b = Arc::new(Barrier::new(3));
    let results = Results::default();
    let mut pool = LocalPool::new();
    let t1 = pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    assert_eq!(b.n_waiting(), 2);
    pool.cancel(t1);
    assert_eq!(b.n_waiting(), 1);
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    assert_eq!(b.n_waiting(), 2);
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    assert_eq!(sorted_indices(&results), [0, 1, 2]);
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.is_broken());
}

/// CPython: `test_reset_barrier`, `test_reset_barrier_while_tasks_waiting`:
/// `reset` fails the waiters and the barrier is usable again.
#[test]
fn reset_barrier() {
    let b = Arc::new(Barrier::new(3));
    b.reset(); // nobody waits: nothing happens
    let results = Results::default();
    let mut pool = LocalPool::new();
    pool.spawn(waiter(&b, &results));
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    b.reset();
    pool.run_until_stalled();
    assert_eq!(*results.lock().unwrap(), [Err(broken()), Err(broken())]);
    assert!(!b.is_broken());
    assert_eq!(b.n_waiting(), 0);
    results.lock().unwrap().clear();
    for _ in 0..3 {
        pool.spawn(waiter(&b, &results));
    }
    pool.run_until_stalled();
    assert_eq!(sorted_indices(&results), [0, 1, 2]);
}

fn broken() -> BrokenBarrierError {
    let b = Barrier::new(2);
    b.abort();
    let mut w = Box::pin(b.wait());
    match poll_once(&mut w) {
        std::task::Poll::Ready(Err(e)) => e,
        other => panic!("{other:?}"),
    }
}

/// CPython: `test_reset_barrier_while_tasks_draining`,
/// `test_reset_barrier_when_tasks_half_draining`: a reset right after the
/// round completed, before the released tasks ran, does not take their
/// pass back; the waiters of the new round it does fail.
#[test]
fn reset_barrier_while_tasks_draining() {
    let b = Arc::new(Barrier::new(3));
    let results = Results::default();
    let mut pool = LocalPool::new();
    for _ in 0..3 {
        pool.spawn(waiter(&b, &results));
    }
    pool.tick(); // all three arrive; the last one trips the barrier
    b.reset();
    pool.run_until_stalled();
    assert_eq!(sorted_indices(&results), [0, 1, 2]);
    assert!(!b.is_broken());
    assert_eq!(b.n_waiting(), 0);
}

/// CPython: `test_abort_barrier`,
/// `test_abort_barrier_when_tasks_half_draining_half_blocking`: abort fails
/// the waiters and every later wait until `reset`
/// (`test_abort_barrier_when_exception_then_resetting`).
#[test]
fn abort_barrier() {
    let b = Arc::new(Barrier::new(3));
    let results = Results::default();
    let mut pool = LocalPool::new();
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    b.abort();
    assert!(b.is_broken());
    pool.spawn(waiter(&b, &results));
    pool.run_until_stalled();
    assert_eq!(*results.lock().unwrap(), [Err(broken()), Err(broken())]);
    assert_eq!(b.n_waiting(), 0);
    b.reset();
    assert!(!b.is_broken());
    results.lock().unwrap().clear();
    for _ in 0..3 {
        pool.spawn(waiter(&b, &results));
    }
    pool.run_until_stalled();
    assert_eq!(sorted_indices(&results), [0, 1, 2]);
}

/// Multi-core: 4 tasks on 2 workers pass 100 rounds; in every round the
/// indices are a permutation of 0..4, and nobody gets ahead by a round.
#[test]
fn rounds_on_every_worker() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let b = Arc::new(Barrier::new(4));
            let rounds = Arc::new(Mutex::new(vec![Vec::new(); 100]));
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let (b, rounds) = (b.clone(), rounds.clone());
                    corio::create_task(async move {
                        for r in 0..100 {
                            let i = b.wait().await.unwrap();
                            let mut rounds = rounds.lock().unwrap();
                            if r > 0 {
                                assert_eq!(rounds[r - 1].len(), 4, "ahead by a round");
                            }
                            rounds[r].push(i);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            for mut r in rounds.lock().unwrap().clone() {
                r.sort();
                assert_eq!(r, [0, 1, 2, 3]);
            }
        });
    });
}

/// `Send + Sync`.
#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Barrier>();
    check::<corio::sync::BarrierWait<'static>>();
}
