//! Scheduler benchmarks: corio and tokio side by side.
//!
//! The workloads and their sizes are those of tokio's own
//! `benches/rt_multi_threaded.rs` (the criterion version, with
//! `NUM_WORKERS = 4`, `NUM_SPAWN = 10_000`, `STALL_DUR = 10µs`). Each workload
//! is one criterion group with two functions, `corio` and `tokio`, doing the
//! same work on a runtime of `NUM_WORKERS` worker threads. Only one runtime
//! exists at a time, so the two never compete for the CPU.
//!
//! Like tokio's, these are regression benches of scheduler internals, not a
//! measure of real-world performance.
//!
//! ```text
//! cargo bench --bench scheduler                  # everything, ~2-3 minutes
//! cargo bench --bench scheduler -- ping_pong     # one workload
//! python3 benches/ratios.py                      # corio/tokio median ratios
//! ```

mod common;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Worker threads of both runtimes: tokio's bench uses 4 (more than the cores
/// of small machines; kept so that the numbers compare with tokio's).
const NUM_WORKERS: usize = 4;
/// Tasks spawned per iteration by the `spawn_many_*` workloads.
const NUM_SPAWN: usize = 10_000;
/// CPU time burnt per turn by the busy tasks of `spawn_many_remote_busy1`.
const STALL_DUR: Duration = Duration::from_micros(10);

fn corio_rt() -> corio::Runtime {
    common::corio_rt(NUM_WORKERS)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    common::tokio_rt(NUM_WORKERS)
}

/// Busy work without a timer: spin for `STALL_DUR`, letting the OS run other
/// threads meanwhile (tokio's `stall`).
fn stall() {
    let now = Instant::now();
    while now.elapsed() < STALL_DUR {
        std::thread::yield_now();
    }
}

/// A group sized so that the whole file runs in about 2-3 minutes.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    common::group(c, name, Duration::from_secs(2), Duration::from_secs(7))
}

/// The block_on thread spawns `NUM_SPAWN` empty tasks, the last of which to
/// run signals a channel the block_on thread waits on.
fn spawn_many_local(c: &mut Criterion) {
    let mut group = group(c, "spawn_many_local");

    {
        let rt = corio_rt();
        let (tx, rx) = mpsc::sync_channel(1000);
        let rem = Arc::new(AtomicUsize::new(0));
        group.bench_function("corio", |b| {
            b.iter(|| {
                rem.store(NUM_SPAWN, Relaxed);
                rt.block_on(async {
                    for _ in 0..NUM_SPAWN {
                        let tx = tx.clone();
                        let rem = rem.clone();
                        corio::spawn(async move {
                            if 1 == rem.fetch_sub(1, Relaxed) {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                    rx.recv().unwrap();
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        let (tx, rx) = mpsc::sync_channel(1000);
        let rem = Arc::new(AtomicUsize::new(0));
        group.bench_function("tokio", |b| {
            b.iter(|| {
                rem.store(NUM_SPAWN, Relaxed);
                rt.block_on(async {
                    for _ in 0..NUM_SPAWN {
                        let tx = tx.clone();
                        let rem = rem.clone();
                        tokio::spawn(async move {
                            if 1 == rem.fetch_sub(1, Relaxed) {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                    rx.recv().unwrap();
                });
            });
        });
    }

    group.finish();
}

/// `NUM_SPAWN` empty tasks spawned from outside the runtime, onto idle
/// workers, then joined one by one from `block_on`.
fn spawn_many_remote_idle(c: &mut Criterion) {
    let mut group = group(c, "spawn_many_remote_idle");

    {
        let rt = corio_rt();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        group.bench_function("corio", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        group.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            });
        });
    }

    group.finish();
}

/// As `spawn_many_remote_idle`, but every worker is kept busy by
/// `2 * NUM_WORKERS` tasks that loop on "yield, then burn `STALL_DUR` of CPU".
/// Yielding is a lower notification priority than spawning: the spawned tasks
/// should not wait behind the yielders.
fn spawn_many_remote_busy1(c: &mut Criterion) {
    let mut group = group(c, "spawn_many_remote_busy1");
    // Criterion runs at least one iteration per sample, and an iteration can
    // be slow here (corio's spawned tasks wait behind the yielders: ~1.7 s an
    // iteration at the time of writing), so keep the sample count minimal.
    group.sample_size(10);

    {
        let rt = corio_rt();
        let rt_handle = rt.handle();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        let flag = Arc::new(AtomicBool::new(true));
        for _ in 0..(2 * NUM_WORKERS) {
            let flag = flag.clone();
            rt.spawn(async move {
                while flag.load(Relaxed) {
                    corio::yield_now().await;
                    stall();
                }
            });
        }
        group.bench_function("corio", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt_handle.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            });
        });
        flag.store(false, Relaxed);
    }

    {
        let rt = tokio_rt();
        let rt_handle = rt.handle();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        let flag = Arc::new(AtomicBool::new(true));
        for _ in 0..(2 * NUM_WORKERS) {
            let flag = flag.clone();
            rt.spawn(async move {
                while flag.load(Relaxed) {
                    tokio::task::yield_now().await;
                    stall();
                }
            });
        }
        group.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt_handle.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            });
        });
        flag.store(false, Relaxed);
    }

    group.finish();
}

/// 200 tasks spawned from outside, each yielding 1000 times; the bench
/// thread waits for all of them on a channel.
fn yield_many(c: &mut Criterion) {
    const NUM_YIELD: usize = 1_000;
    const TASKS: usize = 200;

    let mut group = group(c, "yield_many");

    group.bench_function("corio", |b| {
        let rt = corio_rt();
        let (tx, rx) = mpsc::sync_channel(TASKS);
        b.iter(|| {
            for _ in 0..TASKS {
                let tx = tx.clone();
                rt.spawn(async move {
                    for _ in 0..NUM_YIELD {
                        corio::yield_now().await;
                    }
                    tx.send(()).unwrap();
                });
            }
            for _ in 0..TASKS {
                rx.recv().unwrap();
            }
        });
    });

    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        let (tx, rx) = mpsc::sync_channel(TASKS);
        b.iter(|| {
            for _ in 0..TASKS {
                let tx = tx.clone();
                rt.spawn(async move {
                    for _ in 0..NUM_YIELD {
                        tokio::task::yield_now().await;
                    }
                    tx.send(()).unwrap();
                });
            }
            for _ in 0..TASKS {
                rx.recv().unwrap();
            }
        });
    });

    group.finish();
}

/// One task spawns 1000 tasks; each spawns a partner and the two exchange a
/// message each way over `tokio::sync::oneshot` (runtime-agnostic, so both
/// runtimes do the same work). The last pair to finish signals the bench
/// thread.
fn ping_pong(c: &mut Criterion) {
    const NUM_PINGS: usize = 1_000;

    let mut group = group(c, "ping_pong");

    {
        let rt = corio_rt();
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        let rem = Arc::new(AtomicUsize::new(0));
        group.bench_function("corio", |b| {
            b.iter(|| {
                let done_tx = done_tx.clone();
                let rem = rem.clone();
                rem.store(NUM_PINGS, Relaxed);
                rt.block_on(async {
                    corio::spawn(async move {
                        for _ in 0..NUM_PINGS {
                            let rem = rem.clone();
                            let done_tx = done_tx.clone();
                            corio::spawn(async move {
                                let (tx1, rx1) = oneshot::channel();
                                let (tx2, rx2) = oneshot::channel();
                                corio::spawn(async move {
                                    rx1.await.unwrap();
                                    tx2.send(()).unwrap();
                                });
                                tx1.send(()).unwrap();
                                rx2.await.unwrap();
                                if 1 == rem.fetch_sub(1, Relaxed) {
                                    done_tx.send(()).unwrap();
                                }
                            });
                        }
                    });
                    done_rx.recv().unwrap();
                });
            });
        });
    }

    {
        let rt = tokio_rt();
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        let rem = Arc::new(AtomicUsize::new(0));
        group.bench_function("tokio", |b| {
            b.iter(|| {
                let done_tx = done_tx.clone();
                let rem = rem.clone();
                rem.store(NUM_PINGS, Relaxed);
                rt.block_on(async {
                    tokio::spawn(async move {
                        for _ in 0..NUM_PINGS {
                            let rem = rem.clone();
                            let done_tx = done_tx.clone();
                            tokio::spawn(async move {
                                let (tx1, rx1) = oneshot::channel();
                                let (tx2, rx2) = oneshot::channel();
                                tokio::spawn(async move {
                                    rx1.await.unwrap();
                                    tx2.send(()).unwrap();
                                });
                                tx1.send(()).unwrap();
                                rx2.await.unwrap();
                                if 1 == rem.fetch_sub(1, Relaxed) {
                                    done_tx.send(()).unwrap();
                                }
                            });
                        }
                    });
                    done_rx.recv().unwrap();
                });
            });
        });
    }

    group.finish();
}

/// A chain of 1000 tasks, each spawning the next from inside the runtime;
/// the last signals the bench thread.
fn chained_spawn(c: &mut Criterion) {
    const ITER: usize = 1_000;

    fn corio_iter(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            corio::spawn(async move {
                corio_iter(done_tx, n - 1);
            });
        }
    }

    fn tokio_iter(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            tokio::spawn(async move {
                tokio_iter(done_tx, n - 1);
            });
        }
    }

    let mut group = group(c, "chained_spawn");

    group.bench_function("corio", |b| {
        let rt = corio_rt();
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        b.iter(|| {
            let done_tx = done_tx.clone();
            rt.block_on(async {
                corio::spawn(async move {
                    corio_iter(done_tx, ITER);
                });
                done_rx.recv().unwrap();
            });
        });
    });

    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        b.iter(|| {
            let done_tx = done_tx.clone();
            rt.block_on(async {
                tokio::spawn(async move {
                    tokio_iter(done_tx, ITER);
                });
                done_rx.recv().unwrap();
            });
        });
    });

    group.finish();
}

criterion_group!(
    scheduler,
    spawn_many_local,
    spawn_many_remote_idle,
    spawn_many_remote_busy1,
    yield_many,
    ping_pong,
    chained_spawn,
);
criterion_main!(scheduler);
