//! `corio::sync::Semaphore` and `BoundedSemaphore`: ports of the intent of
//! CPython's `test_asyncio/test_locks.py` `SemaphoreTests` (named at each
//! test), run on a deterministic one-thread executor (`local_pool`) where
//! they assert exact orders, then what a multi-core runtime adds: permits
//! shared by tasks on every worker and by plain threads, with cancellations.

mod common;
mod local_pool;

use common::{poll_once, rt, watchdog, LONG};
use corio::sync::{BoundedSemaphore, Semaphore};
use local_pool::{yield_once, LocalPool, Log};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// A task that acquires a permit, logs `tag`, and keeps the permit.
fn acquire_and_keep(
    sem: &Arc<Semaphore>,
    log: &Log,
    tag: &str,
) -> impl std::future::Future<Output = ()> {
    let (sem, log, tag) = (sem.clone(), log.clone(), tag.to_owned());
    async move {
        sem.acquire().await.forget();
        log.push(tag);
    }
}

/// CPython: `test_acquire`. Two of three permits taken; of three tasks
/// that then acquire, only the first gets in; two releases admit exactly
/// the next two, in order (asyncio only checks "two of them"), and a
/// fourth task that came later still waits.
#[test]
fn acquire_in_fifo_order() {
    let sem = Arc::new(Semaphore::new(3));
    sem.try_acquire().unwrap().forget();
    sem.try_acquire().unwrap().forget();
    assert!(!sem.locked());
    let log = Log::default();
    let mut pool = LocalPool::new();
    let t: Vec<_> = ["1", "2", "3"]
        .iter()
        .map(|tag| pool.spawn(acquire_and_keep(&sem, &log, tag)))
        .collect();
    pool.run_until_stalled();
    assert_eq!(log.get(), ["1"]);
    assert!(sem.locked());
    assert_eq!(sem.available(), 0);
    let t4 = pool.spawn(acquire_and_keep(&sem, &log, "4"));
    pool.run_until_stalled();
    sem.release();
    sem.release();
    // Handed over: no free permit for anyone else meanwhile.
    assert_eq!(sem.available(), 0);
    assert!(sem.try_acquire().is_none());
    pool.run_until_stalled();
    assert_eq!(log.get(), ["1", "2", "3"]);
    assert!(t.iter().all(|&id| pool.is_done(id)));
    assert!(!pool.is_done(t4));
    assert!(sem.locked());
    sem.release();
    pool.run_until_stalled();
    assert_eq!(log.get(), ["1", "2", "3", "4"]);
    assert_eq!(sem.available(), 0);
}

/// CPython: `test_acquire_cancel`. A waiter cancelled while waiting leaves
/// no trace: the next release makes the permit free, not owed to it.
#[test]
fn acquire_cancel() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll_once(&mut waiter).is_pending());
    drop(waiter);
    drop(held);
    assert_eq!(sem.available(), 1);
    assert!(!sem.locked());
    assert!(sem.try_acquire().is_some());
}

/// CPython: `test_acquire_cancel_before_awoken`. Four waiters; the first
/// two are cancelled, then one release: the third gets it, the fourth
/// still waits.
#[test]
fn acquire_cancel_before_awoken() {
    let sem = Arc::new(Semaphore::new(0));
    let log = Log::default();
    let mut pool = LocalPool::new();
    let t: Vec<_> = ["1", "2", "3", "4"]
        .iter()
        .map(|tag| pool.spawn(acquire_and_keep(&sem, &log, tag)))
        .collect();
    pool.run_until_stalled();
    pool.cancel(t[0]);
    pool.cancel(t[1]);
    sem.release();
    pool.run_until_stalled();
    assert_eq!(log.get(), ["3"]);
    assert!(!pool.is_done(t[3]));
    pool.cancel(t[3]);
    assert_eq!(sem.available(), 0);
}

/// The handoff variant of `test_acquire_cancel_before_awoken`: the permit
/// is handed to the first waiter, which is cancelled before it runs; the
/// permit passes on to the second, and nobody else can take it meanwhile.
#[test]
fn permit_handed_to_a_cancelled_waiter_passes_on() {
    let sem = Arc::new(Semaphore::new(0));
    let log = Log::default();
    let mut pool = LocalPool::new();
    let t1 = pool.spawn(acquire_and_keep(&sem, &log, "1"));
    let t2 = pool.spawn(acquire_and_keep(&sem, &log, "2"));
    pool.run_until_stalled();
    sem.release();
    assert_eq!(pool.woken(), 1, "only the front waiter is woken");
    assert!(sem.try_acquire().is_none(), "the permit is owed to t1");
    pool.cancel(t1);
    assert_eq!(pool.woken(), 2, "the handoff woke t2");
    pool.run_until_stalled();
    assert_eq!(log.get(), ["2"]);
    assert!(pool.is_done(t2));
    assert_eq!(sem.available(), 0);
}

/// CPython: `test_acquire_hang`. First waiter cancelled, then a release:
/// the second waiter gets it (no hang), and the semaphore is then locked.
#[test]
fn acquire_hang() {
    let sem = Arc::new(Semaphore::new(0));
    let log = Log::default();
    let mut pool = LocalPool::new();
    let t1 = pool.spawn(acquire_and_keep(&sem, &log, "1"));
    let t2 = pool.spawn(acquire_and_keep(&sem, &log, "2"));
    pool.run_until_stalled();
    pool.cancel(t1);
    sem.release();
    pool.run_until_stalled();
    assert!(sem.locked());
    assert!(pool.is_done(t2));
    assert_eq!(log.get(), ["2"]);
}

/// CPython: `test_acquire_no_hang`. A holder releases (handing the permit
/// to a waiting task) and then cancels that task before it runs: the
/// permit comes back, and a new acquire gets it at once.
#[test]
fn acquire_no_hang() {
    let sem = Arc::new(Semaphore::new(1));
    let mut pool = LocalPool::new();
    let got = Arc::new(AtomicUsize::new(0));
    let s = sem.clone();
    let held = pool.spawn(async move {
        let _p = s.acquire().await;
        yield_once().await;
    });
    let (s, g) = (sem.clone(), got.clone());
    let t2 = pool.spawn(async move {
        let _p = s.acquire().await;
        g.fetch_add(1, SeqCst);
    });
    pool.tick(); // the holder takes the permit and yields; t2 waits
    pool.tick(); // the holder releases, handing the permit to t2
    assert!(pool.is_done(held));
    pool.cancel(t2);
    assert_eq!(got.load(SeqCst), 0);
    assert_eq!(sem.available(), 1);
    let mut again = Box::pin(sem.acquire());
    assert!(poll_once(&mut again).is_ready());
}

/// CPython: `test_release_not_acquired`. A bounded semaphore refuses a
/// release above its initial value and stays as it was.
#[test]
fn bounded_release_not_acquired() {
    let sem = BoundedSemaphore::new(1);
    let err = sem.release().unwrap_err();
    assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
    assert_eq!(sem.available(), 1);
    let p = sem.try_acquire().unwrap();
    drop(p);
    assert!(sem.release().is_err());
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.bound(), 1);
}

/// A stray release while a guard is out succeeds (below the bound); the
/// guard's return then cannot push the count past the bound.
#[test]
fn bounded_guard_after_stray_release_stays_within_bound() {
    let sem = BoundedSemaphore::new(2);
    let p = sem.try_acquire().unwrap();
    assert_eq!(sem.release(), Ok(()));
    drop(p);
    assert_eq!(sem.available(), 2);
}

/// CPython: `test_release_no_waiters`.
#[test]
fn release_no_waiters() {
    let sem = Semaphore::new(1);
    sem.try_acquire().unwrap().forget();
    assert!(sem.locked());
    sem.release();
    assert!(!sem.locked());
    // A plain semaphore may go above its start.
    sem.release();
    assert_eq!(sem.available(), 2);
}

/// CPython: `test_semaphore` / `test_context_manager`: the guard gives the
/// permit back when dropped.
#[test]
fn guard_releases_on_drop() {
    let sem = Semaphore::new(2);
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    assert!(sem.locked());
    assert!(sem.try_acquire().is_none());
    drop(a);
    assert_eq!(sem.available(), 1);
    drop(b);
    assert_eq!(sem.available(), 2);
    assert_eq!(Semaphore::default().available(), 1);
}

/// CPython: `test_acquire_fifo_order`. Three tasks each acquire, yield,
/// release, twice: the permit goes round in arrival order.
#[test]
fn acquire_fifo_order() {
    let sem = Arc::new(Semaphore::new(1));
    let log = Log::default();
    let mut pool = LocalPool::new();
    for tag in ["c1", "c2", "c3"] {
        let (sem, log) = (sem.clone(), log.clone());
        pool.spawn(async move {
            for round in 1..=2 {
                let p = sem.acquire().await;
                log.push(format!("{tag}_{round}"));
                yield_once().await;
                drop(p);
            }
        });
    }
    pool.run_until_stalled();
    assert_eq!(log.get(), ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]);
    assert_eq!(sem.available(), 1);
}

/// CPython: `test_acquire_fifo_order_2`. Two releases serve the two
/// waiters in order (each is handed its permit at once, so nobody can take
/// them); the first then releases and re-acquires. In asyncio the woken
/// waiter only takes its permit when it runs, so the re-acquire waits for
/// it, and the log reads 1, 2, 3, 4. Here the third task already holds its
/// permit, and the permit the second task gave back is free, so the
/// re-acquire succeeds without waiting: acquisition order is the same
/// (3 was served before 4), the log reads 1, 2, 4, 3.
#[test]
fn acquire_fifo_order_2() {
    let sem = Arc::new(Semaphore::new(1));
    let log = Log::default();
    let mut pool = LocalPool::new();
    pool.spawn(acquire_and_keep(&sem, &log, "1"));
    let (s, l) = (sem.clone(), log.clone());
    pool.spawn(async move {
        s.acquire().await.forget();
        l.push("2");
        s.release();
        s.acquire().await.forget();
        l.push("4");
    });
    pool.spawn(acquire_and_keep(&sem, &log, "3"));
    pool.run_until_stalled();
    sem.release();
    sem.release();
    assert_eq!(pool.woken(), 2);
    assert_eq!(sem.available(), 0, "both permits are handed over");
    pool.run_until_stalled();
    assert_eq!(log.get(), ["1", "2", "4", "3"]);
    assert_eq!(sem.available(), 0);
}

/// CPython: `test_acquire_fifo_order_3`. The first waiter is cancelled
/// before any release; two releases admit the other two, in order.
#[test]
fn acquire_fifo_order_3() {
    let sem = Arc::new(Semaphore::new(0));
    let log = Log::default();
    let mut pool = LocalPool::new();
    let t1 = pool.spawn(acquire_and_keep(&sem, &log, "1"));
    pool.spawn(acquire_and_keep(&sem, &log, "2"));
    pool.spawn(acquire_and_keep(&sem, &log, "3"));
    pool.run_until_stalled();
    pool.cancel(t1);
    pool.run_until_stalled();
    sem.release();
    sem.release();
    pool.run_until_stalled();
    assert_eq!(log.get(), ["2", "3"]);
}

/// `acquire_many`: a large request at the front holds back smaller ones
/// behind it (no barging, no starvation), and a cancelled large request
/// lets them through at once.
#[test]
fn acquire_many_keeps_the_line() {
    let sem = Arc::new(Semaphore::new(1));
    let log = Log::default();
    let mut pool = LocalPool::new();
    let (s, l) = (sem.clone(), log.clone());
    let big = pool.spawn(async move {
        s.acquire_many(3).await.forget();
        l.push("big");
    });
    pool.spawn(acquire_and_keep(&sem, &log, "small"));
    pool.run_until_stalled();
    assert!(log.get().is_empty(), "the small request barged");
    assert_eq!(sem.available(), 1);
    assert!(sem.locked());
    assert!(sem.try_acquire().is_none());
    pool.cancel(big);
    pool.run_until_stalled();
    assert_eq!(log.get(), ["small"]);
    assert_eq!(sem.available(), 0);
    assert_eq!(sem.try_acquire_many(0).unwrap().num_permits(), 0);
}

/// Multi-core: 16 tasks on 2 workers, each taking a permit of 3 200 times
/// (some acquires cancelled by a zero timeout): never more than 3 holders
/// at once, and all permits are back at the end.
#[test]
fn stress_tasks_on_every_worker() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(3));
            let inside = Arc::new(AtomicUsize::new(0));
            let max = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..16)
                .map(|i| {
                    let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
                    corio::create_task(async move {
                        for j in 0..200 {
                            if (i + j) % 7 == 0 {
                                // A cancelled acquire: may or may not have
                                // got the permit; either way it is returned.
                                let _ = corio::wait_for(sem.acquire(), Duration::ZERO).await;
                                continue;
                            }
                            let _p = sem.acquire().await;
                            let now = inside.fetch_add(1, SeqCst) + 1;
                            max.fetch_max(now, SeqCst);
                            corio::yield_now().await;
                            inside.fetch_sub(1, SeqCst);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert!(max.load(SeqCst) <= 3, "max holders {}", max.load(SeqCst));
            assert_eq!(sem.available(), 3);
            assert!(!sem.locked());
        });
    });
}

/// Outside any runtime: plain threads block on the semaphore's futures.
#[test]
fn usable_from_plain_threads() {
    watchdog(LONG, || {
        let sem = Arc::new(Semaphore::new(1));
        let counter = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (sem, counter) = (sem.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        let _p = block_on_thread(sem.acquire());
                        let v = counter.load(SeqCst);
                        counter.store(v + 1, SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter.load(SeqCst), 2000);
        assert_eq!(sem.available(), 1);
    });
}

/// Drives `fut` on the calling thread, parking between polls.
fn block_on_thread<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// `Send + Sync`, as the tasks above need.
#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Semaphore>();
    check::<BoundedSemaphore>();
    check::<corio::sync::SemaphorePermit<'static>>();
    check::<corio::sync::SemaphoreAcquire<'static>>();
}
