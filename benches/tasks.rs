//! Task API benchmarks (asyncio's `gather`, `TaskGroup`, `to_thread` and
//! `Future`): corio and tokio side by side.
//!
//! Each workload is one criterion group with two functions, `corio` and
//! `tokio`, doing the same work on a runtime of `NUM_WORKERS` worker threads
//! (2, the core count of the machine they were written on). Only one runtime
//! exists at a time, so the two never compete for the CPU.
//!
//! Every iteration runs its work in one spawned task that the bench thread
//! waits for, as a program would (a task group or a promise lives in some
//! task); this also puts both runtimes on their worker fast paths (local
//! queue, deferred yields) rather than on the `block_on` thread.
//!
//! * `gather_all_ready`: `gather_all` of 10 000 futures that are ready at
//!   once; tokio: `futures_util::future::join_all`.
//! * `gather_all_pending`: the same, but each future awaits its runtime's
//!   `yield_now` once, so each is pending once and woken.
//! * `task_group_10k`: a `TaskGroup` creates 10 000 children that return
//!   `Ok(())` at once, then `join`s them; tokio: a `JoinSet`, drained with
//!   `join_next`.
//! * `to_thread_1k`: 1 000 `to_thread` calls of a trivial closure, all made
//!   first, then awaited in order; tokio: `spawn_blocking`. Both blocking
//!   pools keep their default cap (512 threads) and keep-alive (10 s), so
//!   after the warm-up the threads are there and this measures handing work
//!   to the pool and back.
//! * `promise_round_trip`: 1 000 times in a row, create a `Promise<u64>`,
//!   spawn a task that sets it, and await it by value; tokio: a `oneshot`.
//!
//! ```text
//! cargo bench --bench tasks                       # everything, ~2 minutes
//! cargo bench --bench tasks -- task_group_10k     # one workload
//! python3 benches/ratios.py                       # corio/tokio median ratios
//! ```

mod common;

use corio::sync::Promise;
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use futures_util::future::join_all;
use std::future::Future;
use std::hint::black_box;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Worker threads of both runtimes: the core count of a 2-core machine.
const NUM_WORKERS: usize = 2;

fn corio_rt() -> corio::Runtime {
    common::corio_rt(NUM_WORKERS)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    common::tokio_rt(NUM_WORKERS)
}

/// Runs `body` as a task of `rt` and waits for it from the bench thread.
fn on_corio<F>(rt: &corio::Runtime, body: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    rt.block_on(rt.spawn(body)).unwrap();
}

/// Runs `body` as a task of `rt` and waits for it from the bench thread.
fn on_tokio<F>(rt: &tokio::runtime::Runtime, body: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    rt.block_on(rt.spawn(body)).unwrap();
}

/// A group sized so that the whole file runs in about 2 minutes.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    common::group(c, name, Duration::from_secs(2), Duration::from_secs(7))
}

/// Futures per gather in the `gather_all_*` workloads.
const GATHERED: usize = 10_000;

/// `gather_all` (tokio: `join_all`) of `GATHERED` futures that are ready on
/// their first poll.
fn gather_all_ready(c: &mut Criterion) {
    let mut group = group(c, "gather_all_ready");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter(|| {
                on_corio(&rt, async {
                    let out = corio::gather_all((0..GATHERED).map(std::future::ready)).await;
                    assert_eq!(out[GATHERED - 1], GATHERED - 1);
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    let out = join_all((0..GATHERED).map(std::future::ready)).await;
                    assert_eq!(out[GATHERED - 1], GATHERED - 1);
                });
            });
        });
    }

    group.finish();
}

/// `gather_all` (tokio: `join_all`) of `GATHERED` futures that each yield
/// once: pending on the first poll, woken, ready on the second. Each runtime
/// uses its own `yield_now`. (tokio's hands the wake to its scheduler for
/// after the poll; a child woken during its own poll would make `join_all`'s
/// `FuturesUnordered` return `Pending` after every two such children.)
fn gather_all_pending(c: &mut Criterion) {
    let mut group = group(c, "gather_all_pending");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter(|| {
                on_corio(&rt, async {
                    let out = corio::gather_all((0..GATHERED).map(|i| async move {
                        corio::yield_now().await;
                        i
                    }))
                    .await;
                    assert_eq!(out[GATHERED - 1], GATHERED - 1);
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    let out = join_all((0..GATHERED).map(|i| async move {
                        tokio::task::yield_now().await;
                        i
                    }))
                    .await;
                    assert_eq!(out[GATHERED - 1], GATHERED - 1);
                });
            });
        });
    }

    group.finish();
}

/// A `TaskGroup` (tokio: a `JoinSet`) of 10 000 children that succeed at
/// once, created from one task and then joined.
fn task_group_10k(c: &mut Criterion) {
    const CHILDREN: usize = 10_000;

    let mut group = group(c, "task_group_10k");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter(|| {
                on_corio(&rt, async {
                    let tg = corio::TaskGroup::new();
                    for _ in 0..CHILDREN {
                        // The handle is dropped: the group alone tracks the
                        // child, as in asyncio's `async with` block.
                        tg.create_task(async { Ok::<_, std::io::Error>(()) });
                    }
                    tg.join().await.unwrap();
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    let mut set = JoinSet::new();
                    for _ in 0..CHILDREN {
                        set.spawn(async { Ok::<_, std::io::Error>(()) });
                    }
                    while let Some(res) = set.join_next().await {
                        res.unwrap().unwrap();
                    }
                });
            });
        });
    }

    group.finish();
}

/// 1 000 blocking calls of a trivial closure, all started, then awaited in
/// order.
fn to_thread_1k(c: &mut Criterion) {
    const CALLS: u64 = 1_000;

    // Work small enough that the pool's hand-offs dominate.
    fn work(i: u64) -> u64 {
        black_box(i).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    let mut group = group(c, "to_thread_1k");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter(|| {
                on_corio(&rt, async {
                    let calls: Vec<_> = (0..CALLS)
                        .map(|i| corio::to_thread(move || work(i)))
                        .collect();
                    for (i, call) in (0..CALLS).zip(calls) {
                        assert_eq!(call.await.unwrap(), work(i));
                    }
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    let calls: Vec<_> = (0..CALLS)
                        .map(|i| tokio::task::spawn_blocking(move || work(i)))
                        .collect();
                    for (i, call) in (0..CALLS).zip(calls) {
                        assert_eq!(call.await.unwrap(), work(i));
                    }
                });
            });
        });
    }

    group.finish();
}

/// 1 000 round trips in a row: make a promise (tokio: a oneshot), spawn a
/// task that sets it, await it.
fn promise_round_trip(c: &mut Criterion) {
    const ROUND_TRIPS: u64 = 1_000;

    let mut group = group(c, "promise_round_trip");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter(|| {
                on_corio(&rt, async {
                    for i in 0..ROUND_TRIPS {
                        let promise = Promise::new();
                        let setter = promise.clone();
                        corio::spawn(async move { setter.set_result(i).unwrap() });
                        assert_eq!(promise.await.unwrap(), i);
                    }
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    for i in 0..ROUND_TRIPS {
                        let (tx, rx) = oneshot::channel();
                        tokio::spawn(async move { tx.send(i).unwrap() });
                        assert_eq!(rx.await.unwrap(), i);
                    }
                });
            });
        });
    }

    group.finish();
}

criterion_group!(
    tasks,
    gather_all_ready,
    gather_all_pending,
    task_group_10k,
    to_thread_1k,
    promise_round_trip
);
criterion_main!(tasks);
