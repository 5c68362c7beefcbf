//! `corio::sync::Condition`: ports of the intent of CPython's
//! `test_asyncio/test_locks.py` `ConditionTests` (named at each test), over
//! `Mutex<T>` guards (and `Lock` guards), plus a multi-core
//! producer/consumer stress test.
//!
//! As in `sync_lock.rs`, the ordering and cancellation tests poll futures by
//! hand, so each interleaving is exactly the one named. A task that in
//! Python "returns holding the lock" here returns its guard, and the test's
//! `cond.release()` is dropping that guard.
//!
//! No ports: `test_wait_unacquired`, `test_wait_for_unacquired`,
//! `test_notify_unacquired` (a wait takes a guard, so the lock is held by
//! construction, and `notify` needs no lock); `test_wait_cancel_contested`
//! (a Rust future dropped while taking the lock back returns no guard, so
//! "the lock is held after cancellation" has no meaning; what it passes on
//! is tested in `wait_cancel_after_notify`).

mod common;

use common::{rt, watchdog, LONG};
use corio::sync::{Condition, Lock, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Counts wakeups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future under test, polled by hand with its own counting waker.
struct Polled<'a, T> {
    fut: Pin<Box<dyn Future<Output = T> + 'a>>,
    wakes: Arc<CountWaker>,
}

impl<'a, T> Polled<'a, T> {
    fn new(fut: impl Future<Output = T> + 'a) -> Polled<'a, T> {
        Polled {
            fut: Box::pin(fut),
            wakes: Arc::new(CountWaker::default()),
        }
    }

    fn poll(&mut self) -> Poll<T> {
        let waker = Waker::from(self.wakes.clone());
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }

    #[track_caller]
    fn pending(&mut self) {
        assert!(
            self.poll().is_pending(),
            "expected the future to be pending"
        );
    }

    #[track_caller]
    fn ready(&mut self) -> T {
        match self.poll() {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }

    fn wakes(&self) -> usize {
        self.wakes.0.load(SeqCst)
    }
}

/// A task that locks `m`, waits on `cond` once, and returns holding the
/// lock (its guard), tagged `tag`.
fn waiter<'a>(
    m: &'a Mutex<Vec<u32>>,
    cond: &'a Condition,
    tag: u32,
) -> Polled<'a, MutexGuard<'a, Vec<u32>>> {
    Polled::new(async move {
        let g = m.lock().await;
        let mut g = cond.wait(g).await;
        g.push(tag);
        g
    })
}

#[test]
fn condition_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Condition>();
    send::<corio::sync::ConditionWait<'static, MutexGuard<'static, u8>>>();
    send::<corio::sync::ConditionWait<'static, corio::sync::LockGuard<'static>>>();
}

// test_wait: each notified waiter returns once it has the lock back, in the
// order they started waiting; a notify while the notifier holds the lock
// lets the waiter run only after the release.
#[test]
fn wait() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    let mut t: Vec<_> = (1..=3).map(|i| waiter(&m, &cond, i)).collect();
    for w in &mut t {
        w.pending();
    }
    assert!(!m.locked(), "waiting releases the lock");

    let g = m.try_lock().unwrap();
    cond.notify(1);
    assert_eq!(t[0].wakes(), 1);
    t[0].pending(); // notified, but the lock is ours
    assert!(g.is_empty());
    drop(g); // cond.release()
    let g1 = t[0].ready();
    assert_eq!(*g1, [1]);
    assert!(m.locked());

    cond.notify(2);
    t[1].pending();
    t[2].pending();
    drop(g1);
    let g2 = t[1].ready();
    assert_eq!(*g2, [1, 2]);
    t[2].pending();
    drop(g2);
    let g3 = t[2].ready();
    assert_eq!(*g3, [1, 2, 3]);
    drop(g3);
    assert!(!m.locked());
}

// test_wait_for: the predicate is checked after every notification and the
// wait returns only once it holds.
#[test]
fn wait_for() {
    let m = Mutex::new(false);
    let cond = Condition::new();
    let mut t = Polled::new(async {
        let g = cond.wait_for(m.lock().await, |ready| *ready).await;
        assert!(*g);
    });
    t.pending();

    cond.notify(1);
    t.pending(); // woken, predicate false, waiting again
    assert_eq!(t.wakes(), 1);
    assert!(!m.locked());

    *m.try_lock().unwrap() = true;
    cond.notify(1);
    t.ready();
    assert!(!m.locked());
}

// The contract's shape: `wait_for(g, |v| *v >= 3)`, already true: returns
// at once without releasing the lock.
#[test]
fn wait_for_already_true_keeps_the_lock() {
    let m = Mutex::new(5);
    let cond = Condition::new();
    let mut t = Polled::new(async {
        let g = m.lock().await;
        cond.wait_for(g, |v| *v >= 3).await
    });
    let g = t.ready();
    assert_eq!(*g, 5);
    assert!(m.locked());
}

// test_notify: notify(1) wakes one; then notify(1) and notify(2048) wake
// the rest, in order.
#[test]
fn notify() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    let mut t: Vec<_> = (1..=3).map(|i| waiter(&m, &cond, i)).collect();
    for w in &mut t {
        w.pending();
    }
    cond.notify(1);
    assert_eq!(t.iter().map(Polled::wakes).collect::<Vec<_>>(), [1, 0, 0]);
    drop(t[0].ready());
    t[1].pending();

    cond.notify(1);
    cond.notify(2048);
    assert_eq!(t.iter().map(Polled::wakes).collect::<Vec<_>>(), [1, 1, 1]);
    drop(t[1].ready());
    let g = t[2].ready();
    assert_eq!(*g, [1, 2, 3]);
}

// test_notify_all: every waiter wakes, and they take the lock in turn.
#[test]
fn notify_all() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    let mut t: Vec<_> = (1..=3).map(|i| waiter(&m, &cond, i)).collect();
    for w in &mut t {
        w.pending();
    }
    cond.notify_all();
    assert_eq!(t.iter().map(Polled::wakes).collect::<Vec<_>>(), [1, 1, 1]);
    let g1 = t[0].ready();
    t[1].pending();
    t[2].pending();
    drop(g1);
    drop(t[1].ready());
    let g3 = t[2].ready();
    assert_eq!(*g3, [1, 2, 3]);
}

// A notify with nobody waiting is lost (as in asyncio): a later waiter waits.
#[test]
fn notify_without_waiters_is_lost() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    cond.notify_all();
    cond.notify(5);
    let mut w = waiter(&m, &cond, 1);
    w.pending();
    assert_eq!(w.wakes(), 0);
    cond.notify(1);
    assert_eq!(*w.ready(), [1]);
}

// test_wait_cancel: a wait cancelled while waiting leaves no waiter behind
// (the next notify goes to the next waiter) and does not hold the lock.
#[test]
fn wait_cancel() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    let mut cancelled = waiter(&m, &cond, 1);
    cancelled.pending();
    drop(cancelled);
    assert!(!m.locked());
    let mut next = waiter(&m, &cond, 2);
    next.pending();
    cond.notify(1);
    assert_eq!(*next.ready(), [2]);
}

// test_cancelled_wakeup and test_cancelled_error_wakeup (CPython 3.12+,
// gh-112202): a waiter notified, then cancelled before it ran, passes the
// notification on to the next waiter in line.
#[test]
fn cancelled_wakeup_passes_notification_on() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    let mut t: Vec<_> = (1..=3).map(|i| waiter(&m, &cond, i)).collect();
    for w in &mut t {
        w.pending();
    }
    cond.notify(1);
    let first = t.remove(0);
    assert_eq!(first.wakes(), 1);
    drop(first);
    assert_eq!(t.iter().map(Polled::wakes).collect::<Vec<_>>(), [1, 0]);
    assert_eq!(*t[0].ready(), [2]);
}

// test_wait_cancel_after_notify (bpo-32841): notified, then cancelled while
// taking the lock back: the lock is not left held by it, and the
// notification (never seen by the caller) goes on to the next waiter.
#[test]
fn wait_cancel_after_notify() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    let mut first = waiter(&m, &cond, 1);
    let mut second = waiter(&m, &cond, 2);
    first.pending();
    second.pending();
    let held = m.try_lock().unwrap();
    cond.notify(1);
    first.pending(); // now queued on the lock
    drop(first);
    assert_eq!(second.wakes(), 1, "the notification was not passed on");
    drop(held);
    assert!(!m.locked(), "the cancelled waiter was handed the lock");
    assert_eq!(*second.ready(), [2]);
}

// As above, with the lock handed to the notified waiter before it is
// cancelled: the lock passes on too.
#[test]
fn wait_cancel_after_notify_and_lock_handoff() {
    let m = Mutex::new(Vec::new());
    let cond = Condition::new();
    let mut first = waiter(&m, &cond, 1);
    first.pending();
    let held = m.try_lock().unwrap();
    cond.notify(1);
    first.pending();
    let mut contender = Polled::new(m.lock());
    contender.pending();
    drop(held); // hands the lock to `first`
    drop(first); // which passes it on
    assert_eq!(contender.wakes(), 1);
    let g = contender.ready();
    assert!(g.is_empty());
}

// Dropped before its first poll, a wait only releases the lock.
#[test]
fn unpolled_wait_releases_the_lock() {
    let m = Mutex::new(0);
    let cond = Condition::new();
    let w = cond.wait(m.try_lock().unwrap());
    assert!(m.locked());
    drop(w);
    assert!(!m.locked());
}

// "Condition over a Lock": the same protocol with `Lock` guards.
#[test]
fn wait_with_lock_guard() {
    let lock = Lock::new();
    let cond = Condition::new();
    let mut t = Polled::new(async {
        let g = lock.acquire().await;
        cond.wait(g).await
    });
    t.pending();
    assert!(!lock.locked());
    let held = lock.try_acquire().unwrap();
    cond.notify_all();
    t.pending();
    drop(held);
    let g = t.ready();
    assert!(lock.locked());
    drop(g);
    assert!(!lock.locked());
}

// test_timeout_in_block: a wait under a timeout times out, releasing the
// lock and leaving no waiter behind.
#[test]
fn timeout_in_block() {
    watchdog(LONG, || {
        rt(2).block_on(async {
            let m = Mutex::new(0);
            let cond = Condition::new();
            let g = m.lock().await;
            let r = corio::wait_for(cond.wait(g), Duration::from_millis(20)).await;
            assert!(r.is_err());
            assert!(!m.locked());
            // The timed-out waiter is gone: a notify reaches no one and the
            // condition works on.
            cond.notify(1);
            let g = m.lock().await;
            let r = corio::wait_for(cond.wait(g), Duration::ZERO).await;
            assert!(r.is_err());
        })
    });
}

// Multi-core: producers and consumers on two workers over one
// `Mutex<VecDeque>` and a condition, notify(1) per item. Every item is
// consumed exactly once, and no consumer is left waiting (no lost wakeup).
#[test]
fn stress_producer_consumer() {
    const PRODUCERS: u64 = 2;
    const CONSUMERS: u64 = 4;
    const ITEMS: u64 = 5_000;
    struct Shared {
        queue: Mutex<(VecDeque<u64>, u64)>, // items, producers done
        cond: Condition,
    }
    watchdog(LONG * 6, || {
        let shared = Arc::new(Shared {
            queue: Mutex::new((VecDeque::new(), 0)),
            cond: Condition::new(),
        });
        let (sum, count) = rt(2).block_on(async {
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let s = shared.clone();
                    corio::create_task(async move {
                        let (mut sum, mut count) = (0u64, 0u64);
                        loop {
                            let g = s.queue.lock().await;
                            let mut g = s
                                .cond
                                .wait_for(g, |(q, done)| !q.is_empty() || *done == PRODUCERS)
                                .await;
                            match g.0.pop_front() {
                                Some(v) => {
                                    sum += v;
                                    count += 1;
                                }
                                None => return (sum, count),
                            }
                        }
                    })
                })
                .collect();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let s = shared.clone();
                    corio::create_task(async move {
                        for i in 0..ITEMS {
                            s.queue.lock().await.0.push_back(p * ITEMS + i);
                            s.cond.notify(1);
                            if i % 128 == 0 {
                                corio::yield_now().await;
                            }
                        }
                        s.queue.lock().await.1 += 1;
                        s.cond.notify_all();
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            let (mut sum, mut count) = (0, 0);
            for c in consumers {
                let (s, n) = c.await.unwrap();
                sum += s;
                count += n;
            }
            (sum, count)
        });
        let n = PRODUCERS * ITEMS;
        assert_eq!(count, n);
        assert_eq!(sum, n * (n - 1) / 2);
    });
}
