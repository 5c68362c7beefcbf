//! What every bench file builds the same way: a corio and a tokio runtime of
//! the same size, and a criterion group with the file's sample sizing.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use std::time::Duration;

pub fn corio_rt(workers: usize) -> corio::Runtime {
    corio::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

pub fn tokio_rt(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// A group of 30 samples after `warm_up`, measured for `measure`.
pub fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    warm_up: Duration,
    measure: Duration,
) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(30)
        .warm_up_time(warm_up)
        .measurement_time(measure);
    group
}
