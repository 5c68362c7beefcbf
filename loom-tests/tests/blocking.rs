//! The blocking pool (`to_thread`, `run_in_executor`): an idle thread
//! retiring while a call is submitted, shutdown racing with a submission,
//! and a call cancelled while queued. Every call either runs exactly once or
//! has its task cancelled without running; no call is lost in the queue (its
//! `Task` would never finish: loom reports the hang or the leaked `Arc`s)
//! and no pool thread is left behind (loom reports a thread that never
//! ends as a deadlock).
//!
//! One worker: loom allows five threads per model, and the worker, the
//! main thread and the pool threads all count.
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom::sync::Arc;
use loom::thread;
use loom_tests::{block_on, model, poll_once, quiet_drop};
use std::task::Poll;
use std::time::Duration;

/// A one-worker runtime with the given pool settings, started (and its
/// worker asleep) before exploration resumes, and its event loop for
/// `run_in_executor` from the main thread.
fn pool_runtime(max: usize, keep_alive: Duration) -> (corio::Runtime, corio::EventLoop) {
    loom::stop_exploring();
    let rt = corio::Builder::new()
        .worker_threads(1)
        .max_blocking_threads(max)
        .thread_keep_alive(keep_alive)
        .build()
        .unwrap();
    while rt.handle().metrics().unparked_workers > 0 {
        thread::yield_now();
    }
    let lp = rt.block_on(async { corio::get_running_loop() });
    loom::explore();
    (rt, lp)
}

/// A call that counts its runs and returns `out`.
fn counted(runs: &Arc<AtomicUsize>, out: u32) -> impl FnOnce() -> u32 + Send + 'static {
    let runs = runs.clone();
    move || {
        runs.fetch_add(1, Relaxed);
        out
    }
}

/// A keep-alive of zero: the thread that ran the first call retires as soon
/// as it is idle (under loom a reached deadline times out at once, letting
/// go of the lock meanwhile), while the second call is submitted. The
/// submission lands while the thread still runs (it queues, and the thread
/// takes it), while the thread is idle and timing out (the submitter counts
/// a wakeup for it, and the thread must take it instead of retiring), or
/// after it retired (a new thread starts). In every case the second call
/// runs, once.
#[test]
fn retire_races_with_submit() {
    model("blocking::retire_races_with_submit", || {
        let (rt, lp) = pool_runtime(1, Duration::ZERO);
        let runs = Arc::new(AtomicUsize::new(0));
        let first = lp.run_in_executor(counted(&runs, 1));
        assert_eq!(block_on(first).unwrap(), 1);
        let second = lp.run_in_executor(counted(&runs, 2));
        assert_eq!(block_on(second).unwrap(), 2);
        assert_eq!(runs.load(Relaxed), 2);
        drop(lp);
        quiet_drop(rt);
    });
}

/// A call submitted from another thread while the main thread drops the
/// runtime: the submission lands before shutdown (the call runs, or is
/// cancelled while queued) or after (cancelled at once). Once both are
/// done the task is finished, and its outcome agrees with whether the call
/// ran.
#[test]
fn shutdown_races_with_submit() {
    model("blocking::shutdown_races_with_submit", || {
        let (rt, lp) = pool_runtime(1, Duration::from_secs(10));
        let runs = Arc::new(AtomicUsize::new(0));
        let submitter = {
            let runs = runs.clone();
            thread::spawn(move || lp.run_in_executor(counted(&runs, 7)))
        };
        drop(rt);
        let mut task = submitter.join().unwrap();
        assert!(task.is_done(), "a call outlived its runtime's shutdown");
        match poll_once(&mut task) {
            Poll::Ready(Ok(out)) => {
                assert_eq!(out, 7);
                assert_eq!(runs.load(Relaxed), 1);
            }
            Poll::Ready(Err(err)) => {
                assert!(err.is_cancelled(), "{err}");
                assert_eq!(runs.load(Relaxed), 0, "a cancelled call ran");
            }
            Poll::Pending => panic!("done task pending"),
        }
    });
}

/// A call cancelled from the main thread while the pool's one thread may be
/// about to take it from the queue (behind another call): the cancel either
/// wins (the call never runs, its task is cancelled) or comes too late (the
/// call runs to completion and the task has its result: a running call
/// cannot be interrupted). `cancel` returning `false` means it was already
/// done.
#[test]
fn cancel_while_queued() {
    model("blocking::cancel_while_queued", || {
        let (rt, lp) = pool_runtime(1, Duration::from_secs(10));
        let runs = Arc::new(AtomicUsize::new(0));
        let first = lp.run_in_executor(counted(&runs, 1));
        let second = lp.run_in_executor(counted(&runs, 2));
        let asked = second.cancel();
        match block_on(second) {
            Ok(out) => {
                assert_eq!(out, 2);
                assert_eq!(runs.load(Relaxed), 2);
            }
            Err(err) => {
                assert!(err.is_cancelled(), "{err}");
                assert!(asked, "cancelled although `cancel` found it done");
                assert_eq!(runs.load(Relaxed), 1, "a cancelled call ran");
            }
        }
        assert_eq!(block_on(first).unwrap(), 1);
        drop(lp);
        quiet_drop(rt);
    });
}

/// The runtime's last owner is one of its own calls, while another call
/// may run (or its thread idle) on the pool's second thread: the drop
/// inside the call waits for the other thread only, not for its own (which
/// leaves after the call returns), and the other call runs or is cancelled.
#[test]
fn runtime_dropped_by_its_own_call() {
    model("blocking::runtime_dropped_by_its_own_call", || {
        let (rt, lp) = pool_runtime(2, Duration::from_secs(10));
        let runs = Arc::new(AtomicUsize::new(0));
        let mut other = lp.run_in_executor(counted(&runs, 3));
        let dropper = lp.run_in_executor(move || drop(rt));
        drop(lp);
        block_on(dropper).unwrap();
        // Shutdown waited for the other call, or cancelled it.
        assert!(other.is_done(), "a call outlived its runtime's shutdown");
        match poll_once(&mut other) {
            Poll::Ready(Ok(out)) => {
                assert_eq!(out, 3);
                assert_eq!(runs.load(Relaxed), 1);
            }
            Poll::Ready(Err(err)) => {
                assert!(err.is_cancelled(), "{err}");
                assert_eq!(runs.load(Relaxed), 0, "a cancelled call ran");
            }
            Poll::Pending => panic!("done task pending"),
        }
    });
}
