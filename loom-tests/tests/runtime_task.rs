//! The task state machine on a real one-worker runtime, through the public
//! API: `Task::cancel` and dropping the `Task` racing with the worker polling
//! and completing the task, and with a wake from an outside thread.
//! (`task_state.rs` checks the same transitions without the runtime around
//! them, at a fraction of the cost.)
#![cfg(loom)]

use loom::thread;
use loom_tests::{block_on, model, signal, Probe};

fn runtime() -> corio::Runtime {
    corio::Builder::new().worker_threads(1).build().unwrap()
}

/// `cancel` from the main thread while the worker polls the task and an
/// outside thread wakes it; then awaiting the handle gives an outcome that
/// agrees with `cancel`'s answer.
#[test]
fn cancel_races_with_poll_and_wake() {
    model("runtime_task::cancel_races_with_poll_and_wake", || {
        let rt = runtime();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = rt.spawn(probe.track(async move {
            rx.await;
            8
        }));
        let waker = thread::spawn(move || tx.fire());
        let asked = task.cancel();
        let res = block_on(task);
        waker.join().unwrap();
        match res {
            Ok(out) => {
                assert_eq!(out.value, 8);
                assert_eq!(probe.completed(), 1);
            }
            Err(err) => {
                assert!(err.is_cancelled(), "{err}");
                assert!(asked, "cancelled although `cancel` found it done");
                assert_eq!(probe.completed(), 0);
                assert_eq!(probe.future_drops(), 1);
            }
        }
        drop(rt);
        probe.assert_all_dropped(1);
    });
}

/// The `Task` dropped (detached) by the main thread while the worker
/// completes the task, and the runtime shut down right after: the output is
/// dropped exactly once, by whichever side owns it.
#[test]
fn task_dropped_while_completing() {
    model("runtime_task::task_dropped_while_completing", || {
        let rt = runtime();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = rt.spawn(probe.track(async move {
            tx.fire();
            2
        }));
        rt.block_on(async move {
            drop(task);
            rx.await;
        });
        drop(rt);
        // The poll that fired also returned `Ready`: shutdown waits for it.
        assert_eq!(probe.completed(), 1);
        probe.assert_all_dropped(1);
    });
}
