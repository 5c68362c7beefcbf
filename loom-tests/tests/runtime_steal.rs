//! Work stealing on a real two-worker runtime: tasks queued on one worker, or
//! pushed to the injector, are taken by whichever worker gets there first,
//! and each runs exactly once (a task run twice, or never, fails the probe's
//! counts or deadlocks the wait).
//!
//! Threads: the main thread and two workers. Both models start from idle
//! workers and do not explore shutdown (`idle_runtime`, `quiet_drop`): what
//! they explore is the stealing.
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering::AcqRel};
use loom::sync::{Arc, Mutex};
use loom_tests::{block_on, idle_runtime, model, quiet_drop, signal, Probe, Sender, Tracked};
use std::future::Future;

/// `n` tracked futures; the last of them to finish fires the returned
/// signal, so that the main thread waits once for all of them.
fn countdown(
    probe: &Probe,
    n: usize,
) -> (Vec<Tracked<impl Future<Output = ()>>>, loom_tests::Receiver) {
    let (tx, rx) = signal();
    let left = Arc::new(AtomicUsize::new(n));
    let tx: Arc<Mutex<Option<Sender>>> = Arc::new(Mutex::new(Some(tx)));
    let futures = (0..n)
        .map(|_| {
            let left = left.clone();
            let tx = tx.clone();
            probe.track(async move {
                if left.fetch_sub(1, AcqRel) == 1 {
                    tx.lock().unwrap().take().expect("fired twice").fire();
                }
            })
        })
        .collect();
    (futures, rx)
}

/// A task spawns two children on its worker: both go to that worker's run
/// queue, and the second wakes the other worker, which may steal either
/// while the first worker runs the other one. Each runs exactly once.
#[test]
fn local_spawns_stolen_run_once() {
    model("runtime_steal::local_spawns_stolen_run_once", || {
        let rt = idle_runtime(2);
        let probe = Probe::new();
        let (children, all_done) = countdown(&probe, 2);
        let parent = rt.spawn(async move {
            for child in children {
                drop(corio::create_task(child));
            }
        });
        drop(parent);
        block_on(all_done);
        quiet_drop(rt);
        assert_eq!(probe.completed(), 2);
        probe.assert_all_dropped(2);
    });
}

/// Three tasks pushed to the injector from outside: a worker takes a batch
/// (one to run, one moved to its own run queue, where the other worker can
/// steal it) while the other worker takes from the injector too. Each runs
/// exactly once.
#[test]
fn injected_batch_stolen_run_once() {
    model("runtime_steal::injected_batch_stolen_run_once", || {
        let rt = idle_runtime(2);
        let probe = Probe::new();
        let (tasks, all_done) = countdown(&probe, 3);
        for task in tasks {
            drop(rt.spawn(task));
        }
        block_on(all_done);
        quiet_drop(rt);
        assert_eq!(probe.completed(), 3);
        probe.assert_all_dropped(3);
    });
}
