//! Timer benchmarks: corio and tokio side by side.
//!
//! Each workload is one criterion group with two functions, `corio` and
//! `tokio`, doing the same work on a runtime of `NUM_WORKERS` worker threads
//! (2, the core count of the machine they were written on). Only one runtime
//! exists at a time, so the two never compete for the CPU.
//!
//! * `timers_100k`: 100 000 tasks, each sleeping once, deadlines spread over
//!   1..=50 ms; the time until the last has fired (at least 50 ms).
//! * `timeout_create_cancel`: one task runs 10 000 `timeout(60 s, f)` where
//!   `f` completes on its second poll, so each timer is registered and then
//!   cancelled.
//! * `cross_thread_wake_latency`: a std thread wakes a task through
//!   `tokio::sync::Notify` and waits on a std channel for its answer; one
//!   round trip per iteration.
//!
//! ```text
//! cargo bench --bench time                       # everything, ~2 minutes
//! cargo bench --bench time -- timers_100k        # one workload
//! python3 benches/ratios.py                      # corio/tokio median ratios
//! ```

mod common;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Notify;

/// Worker threads of both runtimes: the core count of a 2-core machine.
const NUM_WORKERS: usize = 2;

fn corio_rt() -> corio::Runtime {
    common::corio_rt(NUM_WORKERS)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    common::tokio_rt(NUM_WORKERS)
}

/// A group sized so that the whole file runs in about 2 minutes.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    common::group(c, name, Duration::from_secs(3), Duration::from_secs(10))
}

/// Counts finished tasks down; the last one signals the bench thread.
struct Countdown {
    remaining: AtomicUsize,
    done: mpsc::SyncSender<()>,
}

impl Countdown {
    fn new(done: mpsc::SyncSender<()>) -> Arc<Countdown> {
        Arc::new(Countdown {
            remaining: AtomicUsize::new(0),
            done,
        })
    }

    fn arm(&self, n: usize) {
        self.remaining.store(n, Relaxed);
    }

    fn count(&self) {
        if self.remaining.fetch_sub(1, AcqRel) == 1 {
            self.done.send(()).unwrap();
        }
    }
}

const NUM_TIMERS: usize = 100_000;
const MAX_DELAY_MS: u64 = 50;

/// The delay of timer `i`: 1..=`MAX_DELAY_MS` ms, round robin.
fn delay(i: usize) -> Duration {
    Duration::from_millis(1 + i as u64 % MAX_DELAY_MS)
}

/// One task spawns `NUM_TIMERS` tasks that each sleep once, for 1..=50 ms
/// (2 000 timers per millisecond slot), then count down; the bench thread
/// waits for the last. The floor is 50 ms (plus the spawning); what is above
/// it is the cost of inserting, firing and waking, and how late the last
/// timer fires.
///
/// Spread deadlines rather than one shared deadline: a server's timeouts are
/// spread over time, and spreading exercises the wheel (50 level-0 slots,
/// level-1 slots and their cascades when the range crosses a 64 ms boundary)
/// and 50 timed wake-ups of the event loops. Equal deadlines would put all
/// 100 000 timers in a single slot and measure one burst of wake-ups. Each
/// task creates its `Sleep` in its own first poll, so every deadline lies in
/// the future when it is polled and every timer really goes into the wheel.
fn timers_100k(c: &mut Criterion) {
    let mut group = group(c, "timers_100k");
    // An iteration takes more than 50 ms: same number of iterations in every
    // sample, instead of criterion's linear ramp (which would take minutes).
    group.sampling_mode(SamplingMode::Flat).sample_size(20);

    {
        let rt = corio_rt();
        let (tx, rx) = mpsc::sync_channel(1);
        let countdown = Countdown::new(tx);
        group.bench_function("corio", |b| {
            b.iter(|| {
                countdown.arm(NUM_TIMERS);
                let countdown = countdown.clone();
                rt.spawn(async move {
                    for i in 0..NUM_TIMERS {
                        let countdown = countdown.clone();
                        corio::spawn(async move {
                            corio::sleep(delay(i)).await;
                            countdown.count();
                        });
                    }
                });
                rx.recv().unwrap();
            });
        });
    }

    {
        let rt = tokio_rt();
        let (tx, rx) = mpsc::sync_channel(1);
        let countdown = Countdown::new(tx);
        group.bench_function("tokio", |b| {
            b.iter(|| {
                countdown.arm(NUM_TIMERS);
                let countdown = countdown.clone();
                rt.spawn(async move {
                    for i in 0..NUM_TIMERS {
                        let countdown = countdown.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay(i)).await;
                            countdown.count();
                        });
                    }
                });
                rx.recv().unwrap();
            });
        });
    }

    group.finish();
}

/// Pending on its first poll (waking its task at once), ready on the second:
/// a timeout around it registers its timer (tokio does so only on the first
/// poll of its `Sleep`) and cancels it on the second poll.
struct ReadyOnSecondPoll {
    polled: bool,
}

impl Future for ReadyOnSecondPoll {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.polled {
            Poll::Ready(7)
        } else {
            self.polled = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn ready_on_second_poll() -> ReadyOnSecondPoll {
    ReadyOnSecondPoll { polled: false }
}

/// Timeouts created per iteration of `timeout_create_cancel`.
const NUM_TIMEOUTS: usize = 10_000;

/// One task (not the `block_on` thread: timers of a worker's own task are the
/// common case) runs `NUM_TIMEOUTS` timeouts of 60 s one after the other,
/// each around a future that completes on its second poll: per timeout, a
/// timer inserted, a self-wake and a second poll, and the timer cancelled.
fn timeout_create_cancel(c: &mut Criterion) {
    let mut group = group(c, "timeout_create_cancel");

    {
        let rt = corio_rt();
        group.bench_function("corio", |b| {
            b.iter(|| {
                let task = rt.spawn(async {
                    let mut sum = 0;
                    for _ in 0..NUM_TIMEOUTS {
                        sum += corio::timeout(Duration::from_secs(60), ready_on_second_poll())
                            .await
                            .unwrap();
                    }
                    sum
                });
                let sum = rt.block_on(task).unwrap();
                assert_eq!(sum as usize, 7 * NUM_TIMEOUTS);
            });
        });
    }

    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| {
            b.iter(|| {
                let task = rt.spawn(async {
                    let mut sum = 0;
                    for _ in 0..NUM_TIMEOUTS {
                        sum +=
                            tokio::time::timeout(Duration::from_secs(60), ready_on_second_poll())
                                .await
                                .unwrap();
                    }
                    sum
                });
                let sum = rt.block_on(task).unwrap();
                assert_eq!(sum as usize, 7 * NUM_TIMEOUTS);
            });
        });
    }

    group.finish();
}

/// A task on the runtime waits on a `tokio::sync::Notify` (runtime-agnostic,
/// so both runtimes wake it the same way) and answers on a std channel. The
/// bench thread notifies and blocks on the answer: one iteration is one
/// round trip std thread -> task -> std thread, so it includes waking a
/// worker parked in its event loop (when it had time to park) and the bench
/// thread's own futex wake-up.
fn cross_thread_wake_latency(c: &mut Criterion) {
    let mut group = group(c, "cross_thread_wake_latency");

    {
        let rt = corio_rt();
        let notify = Arc::new(Notify::new());
        let (tx, rx) = mpsc::sync_channel(1);
        let waiter = notify.clone();
        let _task = rt.spawn(async move {
            loop {
                waiter.notified().await;
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
        group.bench_function("corio", |b| {
            b.iter(|| {
                notify.notify_one();
                rx.recv().unwrap();
            });
        });
    }

    {
        let rt = tokio_rt();
        let notify = Arc::new(Notify::new());
        let (tx, rx) = mpsc::sync_channel(1);
        let waiter = notify.clone();
        let _task = rt.spawn(async move {
            loop {
                waiter.notified().await;
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
        group.bench_function("tokio", |b| {
            b.iter(|| {
                notify.notify_one();
                rx.recv().unwrap();
            });
        });
    }

    group.finish();
}

criterion_group!(
    time,
    timers_100k,
    timeout_create_cancel,
    cross_thread_wake_latency,
);
criterion_main!(time);
