//! Synchronization primitive benchmarks (asyncio's `Semaphore`, `Lock` and
//! `Event`): corio against tokio. The queues (`Queue` against tokio's `mpsc`
//! and `async-channel`, tokio's `sync_mpsc.rs` sizes) are in `queue.rs`.
//!
//! Each workload is one criterion group with the functions `corio` and
//! `tokio`, doing the same work on a runtime of `NUM_WORKERS` worker threads
//! (2, the core count of the machine they were written on). Only one runtime
//! exists at a time, so the two never compete for the CPU. As in `tasks.rs`, every iteration runs its work in one
//! spawned task that the bench thread waits for, so both runtimes run it on
//! their worker fast paths.
//!
//! The sizes are those of tokio's own `sync_semaphore.rs` and
//! `sync_notify.rs` benches. Where tokio's iteration is a handful of
//! operations (6 acquisitions), it is repeated `ROUNDS` times per iteration so
//! that the primitive, not the bench thread's round trip into the runtime,
//! dominates.
//!
//! * `semaphore_uncontended`: one task acquires and releases one permit of a
//!   10-permit semaphore 6 × `ROUNDS` times.
//! * `semaphore_contended`: 6 tasks share a 5-permit semaphore; each acquires
//!   a permit `ROUNDS` times and holds it across a `yield_now`, so that the
//!   sixth task really waits and is handed a released permit.
//! * `mutex_contended`: 64 tasks on both workers each lock a `Mutex<u64>`
//!   100 times and increment it.
//! * `event_broadcast_500`: 500 tasks wait on an `Event`; the time measured
//!   is from `set()` until every waiter has run to completion and been
//!   joined. Spawning the waiters and letting them register is set-up, not
//!   measured (`iter_custom`). tokio: a `Notify` and a flag, the waiters
//!   registered with `Notified::enable` and woken by `notify_waiters`.
//!
//! ```text
//! cargo bench --bench sync                        # everything, ~1.5 minutes
//! cargo bench --bench sync -- mutex_contended     # one workload
//! python3 benches/ratios.py                       # corio/tokio median ratios
//! ```

mod common;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use std::future::poll_fn;
use std::future::Future;
use std::pin::pin;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Worker threads of all runtimes: the core count of a 2-core machine.
const NUM_WORKERS: usize = 2;

/// How many times a workload of only a few operations (tokio's 6 acquisitions)
/// is repeated in one iteration.
const ROUNDS: usize = 1_000;

fn corio_rt() -> corio::Runtime {
    common::corio_rt(NUM_WORKERS)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    common::tokio_rt(NUM_WORKERS)
}

/// Runs `body` as a task of `rt` and waits for it from the bench thread.
fn on_corio<F>(rt: &corio::Runtime, body: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(rt.spawn(body)).unwrap()
}

/// Runs `body` as a task of `rt` and waits for it from the bench thread.
fn on_tokio<F>(rt: &tokio::runtime::Runtime, body: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(rt.spawn(body)).unwrap()
}

/// A group sized so that the whole file runs in about 1.5 minutes.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    common::group(c, name, Duration::from_secs(2), Duration::from_secs(5))
}

/// tokio's `uncontended`: permits of a 10-permit semaphore, acquired and
/// released one at a time by one task, so no acquisition ever waits.
fn semaphore_uncontended(c: &mut Criterion) {
    const PERMITS: usize = 10;
    const ACQUIRES: usize = 6 * ROUNDS;

    let mut group = group(c, "semaphore_uncontended");

    {
        let rt = corio_rt();
        let sem = Arc::new(corio::sync::Semaphore::new(PERMITS));
        group.bench_function("corio", |b| {
            b.iter(|| {
                let sem = sem.clone();
                on_corio(&rt, async move {
                    for _ in 0..ACQUIRES {
                        let permit = sem.acquire().await;
                        drop(permit);
                    }
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
        group.bench_function("tokio", |b| {
            b.iter(|| {
                let sem = sem.clone();
                on_tokio(&rt, async move {
                    for _ in 0..ACQUIRES {
                        let permit = sem.acquire().await.unwrap();
                        drop(permit);
                    }
                });
            });
        });
    }

    group.finish();
}

/// tokio's `contended_concurrent_multi` (6 tasks, 5 permits), each task
/// acquiring `ROUNDS` times. A permit is held across a yield: without an
/// await while holding it, two workers never hold more than two permits at
/// once and nobody would ever wait.
fn semaphore_contended(c: &mut Criterion) {
    const PERMITS: usize = 5;
    const TASKS: usize = 6;

    let mut group = group(c, "semaphore_contended");

    {
        let rt = corio_rt();
        let sem = Arc::new(corio::sync::Semaphore::new(PERMITS));
        group.bench_function("corio", |b| {
            b.iter(|| {
                let sem = sem.clone();
                on_corio(&rt, async move {
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let sem = sem.clone();
                            corio::spawn(async move {
                                for _ in 0..ROUNDS {
                                    let permit = sem.acquire().await;
                                    corio::yield_now().await;
                                    drop(permit);
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
        group.bench_function("tokio", |b| {
            b.iter(|| {
                let sem = sem.clone();
                on_tokio(&rt, async move {
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let sem = sem.clone();
                            tokio::spawn(async move {
                                for _ in 0..ROUNDS {
                                    let permit = sem.acquire().await.unwrap();
                                    tokio::task::yield_now().await;
                                    drop(permit);
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                });
            });
        });
    }

    group.finish();
}

/// Many tasks on both workers incrementing one counter under an async mutex.
/// The critical section has no await: contention comes from the other core,
/// and once one task waits, fairness makes every later locker queue too.
fn mutex_contended(c: &mut Criterion) {
    const TASKS: u64 = 64;
    const LOCKS: u64 = 100;

    let mut group = group(c, "mutex_contended");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter(|| {
                on_corio(&rt, async {
                    let counter = Arc::new(corio::sync::Mutex::new(0u64));
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let counter = counter.clone();
                            corio::spawn(async move {
                                for _ in 0..LOCKS {
                                    *counter.lock().await += 1;
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                    assert_eq!(*counter.lock().await, TASKS * LOCKS);
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    let counter = Arc::new(tokio::sync::Mutex::new(0u64));
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let counter = counter.clone();
                            tokio::spawn(async move {
                                for _ in 0..LOCKS {
                                    *counter.lock().await += 1;
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                    assert_eq!(*counter.lock().await, TASKS * LOCKS);
                });
            });
        });
    }

    group.finish();
}

/// Waiters of the broadcast workload: tokio's largest `notify_waiters` size.
const WAITERS: usize = 500;

/// Polls `fut` once in the current task's context.
async fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    let mut fut = Some(fut);
    poll_fn(|cx| Poll::Ready(fut.take().unwrap().poll(cx))).await
}

/// Yields until `registered` reaches `WAITERS`, so that every waiter is in
/// the wait list before the broadcast (the last one may still be between its
/// count and its return to the scheduler, which costs nothing measurable).
async fn until_registered<Y, F>(registered: &AtomicUsize, yield_now: Y)
where
    Y: Fn() -> F,
    F: Future<Output = ()>,
{
    // Acquire: pairs with the waiters' Release, though only the count matters.
    while registered.load(Ordering::Acquire) < WAITERS {
        yield_now().await;
    }
}

/// `WAITERS` tasks blocked on one `Event` (tokio: a `Notify`), woken at once.
/// Only the broadcast is timed: from `set()` until every waiter has finished
/// and been joined.
fn event_broadcast_500(c: &mut Criterion) {
    let mut group = group(c, "event_broadcast_500");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += on_corio(&rt, async {
                        let event = Arc::new(corio::sync::Event::new());
                        let registered = Arc::new(AtomicUsize::new(0));
                        let waiters: Vec<_> = (0..WAITERS)
                            .map(|_| {
                                let event = event.clone();
                                let registered = registered.clone();
                                corio::spawn(async move {
                                    let mut wait = pin!(event.wait());
                                    // The event is set only once every
                                    // waiter is registered: this first poll
                                    // is the registration.
                                    assert!(poll_once(wait.as_mut()).await.is_pending());
                                    // Release: see `until_registered`.
                                    registered.fetch_add(1, Ordering::Release);
                                    wait.await;
                                })
                            })
                            .collect();
                        until_registered(&registered, corio::yield_now).await;
                        let start = Instant::now();
                        event.set();
                        for waiter in waiters {
                            waiter.await.unwrap();
                        }
                        start.elapsed()
                    });
                }
                total
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += on_tokio(&rt, async {
                        // `Notify` has no state of its own: the flag is the
                        // event's, checked after registering so that a
                        // waiter cannot miss the broadcast.
                        let notify = Arc::new(tokio::sync::Notify::new());
                        let is_set = Arc::new(AtomicBool::new(false));
                        let registered = Arc::new(AtomicUsize::new(0));
                        let waiters: Vec<_> = (0..WAITERS)
                            .map(|_| {
                                let notify = notify.clone();
                                let is_set = is_set.clone();
                                let registered = registered.clone();
                                tokio::spawn(async move {
                                    let mut notified = pin!(notify.notified());
                                    notified.as_mut().enable();
                                    // Release: see `until_registered`.
                                    registered.fetch_add(1, Ordering::Release);
                                    // Acquire: pairs with the setter's Release.
                                    if !is_set.load(Ordering::Acquire) {
                                        notified.await;
                                    }
                                })
                            })
                            .collect();
                        until_registered(&registered, tokio::task::yield_now).await;
                        let start = Instant::now();
                        // Release: what the setter did is seen by a waiter
                        // that finds the flag set without waiting.
                        is_set.store(true, Ordering::Release);
                        notify.notify_waiters();
                        for waiter in waiters {
                            waiter.await.unwrap();
                        }
                        start.elapsed()
                    });
                }
                total
            });
        });
    }

    group.finish();
}

criterion_group!(
    sync,
    semaphore_uncontended,
    semaphore_contended,
    mutex_contended,
    event_broadcast_500
);
criterion_main!(sync);
