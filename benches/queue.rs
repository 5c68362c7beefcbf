//! Queue benchmarks: `corio::queue::Queue` against `tokio::sync::mpsc` and
//! `async-channel`, many producers into one consumer.
//!
//! Each group moves `PRODUCERS × PER_PRODUCER` items (5 × 1 000) from
//! producer tasks to one consumer task, on a runtime of `NUM_WORKERS`
//! worker threads (2, the core count of the machine they were written on):
//!
//! * `corio`: a `Queue` on a corio runtime;
//! * `tokio`: a `tokio::sync::mpsc` channel on a tokio runtime;
//! * `async_channel`: an `async-channel` channel on a corio runtime (the
//!   same scheduler as `corio`, so this compares the queues alone).
//!
//! Groups: `queue_bounded_100` (capacity 100) and `queue_unbounded`.
//!
//! ```text
//! cargo bench --bench queue
//! ```

mod common;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Worker threads of both runtimes: the core count of a 2-core machine.
const NUM_WORKERS: usize = 2;
const PRODUCERS: u64 = 5;
const PER_PRODUCER: u64 = 1_000;
/// The sum of every item sent, checked by the consumer.
const SUM: u64 = {
    let n = PRODUCERS * PER_PRODUCER;
    n * (n - 1) / 2
};

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    common::group(c, name, Duration::from_secs(2), Duration::from_secs(5))
}

fn on_corio<F: Future<Output = ()> + Send + 'static>(rt: &corio::Runtime, body: F) {
    rt.block_on(rt.spawn(body)).unwrap();
}

fn on_tokio<F: Future<Output = ()> + Send + 'static>(rt: &tokio::runtime::Runtime, body: F) {
    rt.block_on(rt.spawn(body)).unwrap();
}

/// Producer `p`'s items.
fn items(p: u64) -> std::ops::Range<u64> {
    p * PER_PRODUCER..(p + 1) * PER_PRODUCER
}

async fn corio_queue(maxsize: usize) {
    let q = Arc::new(corio::queue::Queue::new(maxsize));
    for p in 0..PRODUCERS {
        let q = q.clone();
        corio::spawn(async move {
            for i in items(p) {
                q.put(i).await.unwrap();
            }
        });
    }
    let mut sum = 0;
    for _ in 0..PRODUCERS * PER_PRODUCER {
        sum += q.get().await.unwrap();
    }
    assert_eq!(sum, SUM);
}

async fn async_channel(rx: async_channel::Receiver<u64>, tx: async_channel::Sender<u64>) {
    for p in 0..PRODUCERS {
        let tx = tx.clone();
        corio::spawn(async move {
            for i in items(p) {
                tx.send(i).await.unwrap();
            }
        });
    }
    drop(tx);
    let mut sum = 0;
    while let Ok(i) = rx.recv().await {
        sum += i;
    }
    assert_eq!(sum, SUM);
}

fn queue_bounded_100(c: &mut Criterion) {
    let mut group = group(c, "queue_bounded_100");
    {
        let rt = common::corio_rt(NUM_WORKERS);
        group.bench_function("corio", |b| b.iter(|| on_corio(&rt, corio_queue(100))));
        group.bench_function("async_channel", |b| {
            b.iter(|| {
                let (tx, rx) = async_channel::bounded(100);
                on_corio(&rt, async_channel(rx, tx));
            })
        });
    }
    {
        let rt = common::tokio_rt(NUM_WORKERS);
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    let (tx, mut rx) = tokio::sync::mpsc::channel(100);
                    for p in 0..PRODUCERS {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            for i in items(p) {
                                tx.send(i).await.unwrap();
                            }
                        });
                    }
                    drop(tx);
                    let mut sum = 0;
                    while let Some(i) = rx.recv().await {
                        sum += i;
                    }
                    assert_eq!(sum, SUM);
                })
            })
        });
    }
    group.finish();
}

fn queue_unbounded(c: &mut Criterion) {
    let mut group = group(c, "queue_unbounded");
    {
        let rt = common::corio_rt(NUM_WORKERS);
        group.bench_function("corio", |b| b.iter(|| on_corio(&rt, corio_queue(0))));
        group.bench_function("async_channel", |b| {
            b.iter(|| {
                let (tx, rx) = async_channel::unbounded();
                on_corio(&rt, async_channel(rx, tx));
            })
        });
    }
    {
        let rt = common::tokio_rt(NUM_WORKERS);
        group.bench_function("tokio", |b| {
            b.iter(|| {
                on_tokio(&rt, async {
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                    for p in 0..PRODUCERS {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            for i in items(p) {
                                tx.send(i).unwrap();
                            }
                        });
                    }
                    drop(tx);
                    let mut sum = 0;
                    while let Some(i) = rx.recv().await {
                        sum += i;
                    }
                    assert_eq!(sum, SUM);
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, queue_bounded_100, queue_unbounded);
criterion_main!(benches);
