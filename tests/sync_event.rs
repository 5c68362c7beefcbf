//! `corio::sync::Event`: ports of the intent of CPython's
//! `test_asyncio/test_locks.py` `EventTests` (named at each test), on a
//! deterministic one-thread executor (`local_pool`), then a broadcast to
//! tasks on every worker of a runtime and to plain threads.

mod common;
mod local_pool;

use common::{poll_once, rt, watchdog, LONG};
use corio::sync::Event;
use local_pool::{LocalPool, Log};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

fn wait_and_log(ev: &Arc<Event>, log: &Log, tag: &str) -> impl Future<Output = ()> {
    let (ev, log, tag) = (ev.clone(), log.clone(), tag.to_owned());
    async move {
        ev.wait().await;
        log.push(tag);
    }
}

#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// CPython: `test_wait`. Waiters stay blocked until `set`, which releases
/// all of them, in the order they started waiting (asyncio's list order
/// differs only because its third task had not started waiting).
#[test]
fn wait_until_set() {
    let ev = Arc::new(Event::new());
    assert!(!ev.is_set());
    let log = Log::default();
    let mut pool = LocalPool::new();
    let t1 = pool.spawn(wait_and_log(&ev, &log, "1"));
    let t2 = pool.spawn(wait_and_log(&ev, &log, "2"));
    pool.run_until_stalled();
    assert!(log.get().is_empty());
    let t3 = pool.spawn(wait_and_log(&ev, &log, "3"));
    ev.set();
    pool.run_until_stalled();
    assert_eq!(log.get(), ["3", "1", "2"]);
    assert!(pool.is_done(t1) && pool.is_done(t2) && pool.is_done(t3));
}

/// CPython: `test_wait_on_set`. Waiting on a set event completes at once.
#[test]
fn wait_on_set() {
    let ev = Event::new();
    ev.set();
    let mut w = Box::pin(ev.wait());
    assert!(poll_once(&mut w).is_ready());
    assert!(ev.is_set());
}

/// CPython: `test_wait_cancel`. A cancelled wait leaves no trace: a later
/// `set` does not wake it.
#[test]
fn wait_cancel() {
    let ev = Event::new();
    let counter = Arc::new(CountWaker::default());
    let waker = Waker::from(counter.clone());
    let mut w = Box::pin(ev.wait());
    assert!(Pin::new(&mut w)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(w);
    ev.set();
    assert_eq!(counter.0.load(SeqCst), 0);
}

/// CPython: `test_clear`.
#[test]
fn clear() {
    let ev = Event::default();
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
}

/// CPython: `test_clear_with_waiters`. A waiter in line at a `set` is
/// released even though the event is cleared before it runs, exactly once
/// even when `set` is called again.
#[test]
fn clear_with_waiters() {
    let ev = Arc::new(Event::new());
    let log = Log::default();
    let mut pool = LocalPool::new();
    let t = pool.spawn(wait_and_log(&ev, &log, "1"));
    pool.run_until_stalled();
    ev.set();
    ev.clear();
    assert!(!ev.is_set());
    ev.set();
    ev.set();
    pool.run_until_stalled();
    assert_eq!(log.get(), ["1"]);
    assert!(pool.is_done(t));
}

/// Set then clear with nobody running in between: every waiter that was
/// in line completes; a waiter that starts after the `clear` waits.
#[test]
fn set_then_clear_releases_the_waiters_of_the_set() {
    let ev = Arc::new(Event::new());
    let log = Log::default();
    let mut pool = LocalPool::new();
    for tag in ["a", "b", "c"] {
        pool.spawn(wait_and_log(&ev, &log, tag));
    }
    pool.run_until_stalled();
    ev.set();
    ev.clear();
    let late = pool.spawn(wait_and_log(&ev, &log, "late"));
    pool.run_until_stalled();
    assert_eq!(log.get(), ["a", "b", "c"]);
    assert!(!pool.is_done(late));
    ev.set();
    pool.run_until_stalled();
    assert!(pool.is_done(late));
}

/// Multi-core broadcast: 500 tasks on 2 workers wait, one `set` from a
/// plain thread releases all of them; repeated over rounds.
#[test]
fn broadcast_to_many_tasks() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            for _round in 0..5 {
                let ev = Arc::new(Event::new());
                let arrived = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..500)
                    .map(|_| {
                        let (ev, arrived) = (ev.clone(), arrived.clone());
                        corio::create_task(async move {
                            arrived.fetch_add(1, SeqCst);
                            ev.wait().await;
                        })
                    })
                    .collect();
                while arrived.load(SeqCst) < 500 {
                    corio::yield_now().await;
                }
                // `set` only, no `clear`: `arrived` counts tasks that
                // started, and one can be preempted between its increment
                // and joining the waiter list. A `clear` right after the
                // `set` would then (correctly) leave that late waiter
                // waiting; `set_then_clear_releases_the_waiters_of_the_set`
                // covers set-then-clear deterministically.
                let setter = {
                    let ev = ev.clone();
                    std::thread::spawn(move || ev.set())
                };
                for t in tasks {
                    t.await.unwrap();
                }
                setter.join().unwrap();
            }
        });
    });
}

/// `Send + Sync`.
#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Event>();
    check::<corio::sync::EventWait<'static>>();
}
