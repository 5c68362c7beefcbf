//! `corio::sync::Lock` and `Mutex<T>`: ports of the intent of CPython's
//! `test_asyncio/test_locks.py` `LockTests` (named at each test), plus what
//! a multi-threaded runtime adds: FIFO handoff across workers, cancellation
//! racing with release, use from plain threads, and exact counts under
//! contention from both cores.
//!
//! Most ordering and cancellation tests poll the futures by hand with
//! counting wakers: the interleaving is then exactly the one the test
//! names, with no scheduler in between.
//!
//! `test_release_not_acquired` has no port: releasing is dropping a guard,
//! and only the holder has one.

mod common;

use common::{rt, watchdog, LONG};
use corio::sync::{Lock, LockGuard, Mutex, MutexGuard};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

/// Counts wakeups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future under test, polled by hand with its own counting waker.
struct Polled<F> {
    fut: Pin<Box<F>>,
    wakes: Arc<CountWaker>,
}

impl<F: Future> Polled<F> {
    fn new(fut: F) -> Polled<F> {
        Polled {
            fut: Box::pin(fut),
            wakes: Arc::new(CountWaker::default()),
        }
    }

    fn poll(&mut self) -> Poll<F::Output> {
        let waker = Waker::from(self.wakes.clone());
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }

    fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }

    fn wakes(&self) -> usize {
        self.wakes.0.load(SeqCst)
    }
}

/// Blocks a plain thread (no runtime) on `fut`.
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

#[test]
fn lock_and_guards_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Lock>();
    send_sync::<LockGuard<'static>>();
    send_sync::<Mutex<Vec<u8>>>();
    send_sync::<MutexGuard<'static, Vec<u8>>>();
    send::<corio::sync::Acquire<'static>>();
    send::<corio::sync::MutexLock<'static, Vec<u8>>>();
    // A `Cell` may move between threads but not be shared: so may the mutex
    // around it be shared, and its guard be sent.
    send_sync::<Mutex<Cell<u8>>>();
    send::<MutexGuard<'static, Cell<u8>>>();
}

// test_lock, test_context_manager: acquire, locked(), release on drop.
#[test]
fn acquire_and_release() {
    let lock = Lock::new();
    assert!(!lock.locked());
    let guard = Polled::new(lock.acquire()).ready();
    assert!(lock.locked());
    assert!(lock.try_acquire().is_none());
    drop(guard);
    assert!(!lock.locked());
    let guard = lock.try_acquire().expect("a free lock is taken at once");
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());
}

// test_release_no_waiters: release with nobody waiting frees the lock.
#[test]
fn release_no_waiters() {
    let lock = Lock::new();
    let mut a = Polled::new(lock.acquire());
    drop(a.ready());
    assert!(!lock.locked());
    assert_eq!(a.wakes(), 0);
}

// test_acquire: waiters arriving over time get the lock in arrival order,
// each release hands it to the front one (it stays locked), and a newcomer
// arriving while it is handed over waits behind the others.
#[test]
fn acquire_is_fifo_with_waiters_arriving_over_time() {
    let lock = Lock::new();
    let first = lock.try_acquire().unwrap();
    let mut w1 = Polled::new(lock.acquire());
    let mut w2 = Polled::new(lock.acquire());
    assert!(w1.poll().is_pending());
    assert!(w2.poll().is_pending());

    drop(first);
    assert!(lock.locked(), "handed over, not freed");
    assert_eq!((w1.wakes(), w2.wakes()), (1, 0));
    // No barging: the lock is w1's although w1 has not run yet.
    assert!(lock.try_acquire().is_none());
    let mut w3 = Polled::new(lock.acquire());
    assert!(w3.poll().is_pending());

    let g1 = w1.ready();
    assert!(w2.poll().is_pending());
    let mut w4 = Polled::new(lock.acquire());
    assert!(w4.poll().is_pending());
    drop(g1);
    assert_eq!((w2.wakes(), w3.wakes(), w4.wakes()), (1, 0, 0));
    assert!(w3.poll().is_pending());
    drop(w2.ready());
    assert_eq!((w3.wakes(), w4.wakes()), (1, 0));
    drop(w3.ready());
    drop(w4.ready());
    assert!(!lock.locked());
}

// test_acquire on a runtime: tasks on two workers, each queued before the
// next is spawned, run their critical sections in that order.
#[test]
fn acquire_is_fifo_across_workers() {
    watchdog(LONG, || {
        rt(2).block_on(async {
            let lock = Arc::new(Lock::new());
            let order = Arc::new(std::sync::Mutex::new(Vec::new()));
            let guard = lock.acquire().await;
            let mut tasks = Vec::new();
            for i in 0..6 {
                let (queued, is_queued) = common::oneshot();
                let (lock, order) = (lock.clone(), order.clone());
                tasks.push(corio::create_task(async move {
                    let mut acquire = lock.acquire();
                    let mut queued = Some(queued);
                    let _guard = std::future::poll_fn(|cx| {
                        let poll = Pin::new(&mut acquire).poll(cx);
                        if let Some(q) = queued.take() {
                            q.send(());
                        }
                        poll
                    })
                    .await;
                    order.lock().unwrap().push(i);
                    corio::yield_now().await;
                }));
                is_queued.await.unwrap();
            }
            drop(guard);
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.lock().unwrap(), (0..6).collect::<Vec<_>>());
            assert!(!lock.locked());
        })
    });
}

// test_acquire_cancel: a waiter cancelled while waiting never holds the lock.
#[test]
fn acquire_cancel() {
    let lock = Lock::new();
    let guard = lock.try_acquire().unwrap();
    let mut w = Polled::new(lock.acquire());
    assert!(w.poll().is_pending());
    drop(w);
    drop(guard);
    assert!(!lock.locked(), "the cancelled waiter got the lock");
    assert!(lock.try_acquire().is_some());
}

// test_cancel_race: A holds, B and C wait; B is cancelled in the same moment
// A releases. Whichever lands first, C ends up with the lock, and B never
// holds it.
#[test]
fn cancel_race() {
    for release_first in [true, false] {
        let lock = Lock::new();
        let a = lock.try_acquire().unwrap();
        let mut b = Polled::new(lock.acquire());
        let mut c = Polled::new(lock.acquire());
        assert!(b.poll().is_pending());
        assert!(c.poll().is_pending());
        if release_first {
            drop(a);
            drop(b);
        } else {
            drop(b);
            drop(a);
        }
        assert!(lock.locked());
        assert_eq!(c.wakes(), 1, "release_first: {release_first}");
        drop(c.ready());
        assert!(!lock.locked());
    }
}

// test_cancel_release_race: three waiters; the first is cancelled and the
// lock released in one go: exactly one waiter (the second) takes it.
#[test]
fn cancel_release_race() {
    let lock = Lock::new();
    let held = lock.try_acquire().unwrap();
    let mut t: Vec<_> = (0..3).map(|_| Polled::new(lock.acquire())).collect();
    for w in &mut t {
        assert!(w.poll().is_pending());
    }
    let t1 = t.remove(0);
    // trigger(): cancel t1, then release.
    drop(t1);
    drop(held);
    let g2 = t[0].ready();
    assert!(
        t[1].poll().is_pending(),
        "two waiters took the lock at once"
    );
    assert_eq!(t[1].wakes(), 0);
    // Cleanup: t3 is cancelled and leaves no trace.
    drop(t);
    drop(g2);
    assert!(!lock.locked());
}

// test_finished_waiter_cancelled: the lock is handed to B, which is
// cancelled before it runs: it passes on to C.
#[test]
fn finished_waiter_cancelled() {
    let lock = Lock::new();
    let held = lock.try_acquire().unwrap();
    let mut b = Polled::new(lock.acquire());
    assert!(b.poll().is_pending());
    let mut c = Polled::new(lock.acquire());
    assert!(c.poll().is_pending());
    drop(held);
    assert_eq!(b.wakes(), 1);
    drop(b);
    assert!(lock.locked());
    assert_eq!(c.wakes(), 1);
    drop(c.ready());
    assert!(!lock.locked());
}

// As above with nobody behind: the lock handed to a cancelled waiter
// becomes free.
#[test]
fn handed_to_cancelled_waiter_with_nobody_behind_frees_it() {
    let lock = Lock::new();
    let held = lock.try_acquire().unwrap();
    let mut b = Polled::new(lock.acquire());
    assert!(b.poll().is_pending());
    drop(held);
    drop(b);
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_some());
}

// A waiter cancelled from the middle of the line: the others keep their order.
#[test]
fn cancel_from_the_middle_keeps_order() {
    let lock = Lock::new();
    let held = lock.try_acquire().unwrap();
    let mut w: Vec<_> = (0..3).map(|_| Polled::new(lock.acquire())).collect();
    for x in &mut w {
        assert!(x.poll().is_pending());
    }
    let mut last = w.pop().unwrap();
    drop(w.pop());
    let mut first = w.pop().unwrap();
    drop(held);
    assert_eq!((first.wakes(), last.wakes()), (1, 0));
    drop(first.ready());
    assert_eq!(last.wakes(), 1);
    drop(last.ready());
}

// A future that completed must not be polled again (it would mint a second
// guard): it panics instead.
#[test]
fn polling_a_completed_acquire_panics() {
    let lock = Lock::new();
    let mut a = Polled::new(lock.acquire());
    let guard = a.ready();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.poll().is_ready()));
    assert!(err.is_err());
    drop(guard);
}

#[test]
fn mutex_value_access() {
    let mut m = Mutex::new(vec![1]);
    m.get_mut().push(2);
    {
        let mut g = Polled::new(m.lock()).ready();
        g.push(3);
        assert!(m.locked());
        assert!(m.try_lock().is_none());
        assert_eq!(format!("{m:?}"), "Mutex { value: <locked> }");
    }
    assert_eq!(format!("{m:?}"), "Mutex { value: [1, 2, 3] }");
    assert_eq!(*m.try_lock().unwrap(), [1, 2, 3]);
    assert_eq!(m.into_inner(), [1, 2, 3]);
}

// test_finished_waiter_cancelled for `Mutex<T>`: the value is never touched
// by a cancelled waiter, and the next one sees the holder's writes.
#[test]
fn mutex_handoff_skips_cancelled_waiter() {
    let m = Mutex::new(0);
    let mut held = m.try_lock().unwrap();
    let mut b = Polled::new(m.lock());
    let mut c = Polled::new(m.lock());
    assert!(b.poll().is_pending());
    assert!(c.poll().is_pending());
    *held = 7;
    drop(held);
    drop(b);
    let mut g = c.ready();
    assert_eq!(*g, 7);
    *g += 1;
    drop(g);
    drop(c);
    assert_eq!(m.into_inner(), 8);
}

/// A `u64` that only a `Lock` protects: the stress test's point is that the
/// lock alone makes these non-atomic read-modify-writes exclusive.
struct Unprotected(Cell<u64>);

// SAFETY (of the test): every access happens while holding the test's
// `Lock`, which orders them one after another.
unsafe impl Sync for Unprotected {}

const TASKS: u64 = 8;
const ROUNDS: u64 = 10_000;

// Stress: 8 tasks x 10 000 acquisitions on 2 workers, with a yield inside
// the critical section now and then so that waiters queue up and handoffs
// happen across workers. The count is exact only if the lock excludes.
#[test]
fn stress_lock_exact_count() {
    watchdog(LONG * 6, || {
        let lock = Arc::new(Lock::new());
        let count = Arc::new(Unprotected(Cell::new(0)));
        rt(2).block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (lock, count) = (lock.clone(), count.clone());
                    corio::create_task(async move {
                        for i in 0..ROUNDS {
                            let _guard = lock.acquire().await;
                            let v = count.0.get();
                            if i % 64 == 0 {
                                corio::yield_now().await;
                            }
                            count.0.set(v + 1);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(count.0.get(), TASKS * ROUNDS);
        assert!(!lock.locked());
    });
}

// The same for `Mutex<u64>`, with two plain threads (no runtime) contending
// too: the mutex is a plain future that works anywhere.
#[test]
fn stress_mutex_exact_count_tasks_and_threads() {
    watchdog(LONG * 6, || {
        let m = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        block_on(async {
                            let mut g = m.lock().await;
                            let v = *g;
                            std::hint::spin_loop();
                            *g = v + 1;
                        });
                    }
                })
            })
            .collect();
        rt(2).block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let m = m.clone();
                    corio::create_task(async move {
                        for i in 0..ROUNDS {
                            let mut g = m.lock().await;
                            let v = *g;
                            if i % 64 == 0 {
                                corio::yield_now().await;
                            }
                            *g = v + 1;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), (TASKS + 2) * ROUNDS);
    });
}

// Cancellation under load: tasks that time out while queued never hold the
// lock and never strand it; everyone else still gets through.
#[test]
fn stress_cancelled_waiters_never_strand_the_lock() {
    watchdog(LONG * 6, || {
        let m = Arc::new(Mutex::new(0u64));
        let got = rt(2).block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|k| {
                    let m = m.clone();
                    corio::create_task(async move {
                        let mut got = 0u64;
                        for i in 0..2_000u64 {
                            if (i + k) % 3 == 0 {
                                // Give up at once unless it is ours already.
                                let r = corio::timeout(std::time::Duration::ZERO, m.lock()).await;
                                if let Ok(mut g) = r {
                                    *g += 1;
                                    got += 1;
                                }
                            } else {
                                let mut g = m.lock().await;
                                corio::yield_now().await;
                                *g += 1;
                                got += 1;
                            }
                        }
                        got
                    })
                })
                .collect();
            let mut got = 0;
            for t in tasks {
                got += t.await.unwrap();
            }
            got
        });
        assert!(!m.locked());
        assert_eq!(*m.try_lock().unwrap(), got);
    });
}
