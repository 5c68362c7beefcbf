//! Runtime shutdown (dropping the `Runtime`) racing with work arriving from
//! an outside thread: every task ends up done (completed or cancelled), its
//! future is dropped exactly once, and no notification is stranded in a
//! queue nobody drains (that would keep the task, and through it the
//! runtime, alive: loom reports the leaked `Arc`s).
#![cfg(loom)]

use loom::thread;
use loom_tests::{idle_runtime, model, poll_once, signal, Probe};
use std::task::Poll;

fn runtime(workers: usize) -> corio::Runtime {
    corio::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// `Handle::spawn` from an outside thread while the main thread drops the
/// runtime. The spawn lands before shutdown (the task runs, or is
/// cancelled by shutdown) or after it (the task is cancelled at once); in
/// every case the returned `Task` is done once both sides are finished.
fn spawn_races_with_shutdown(rt: corio::Runtime) {
    let probe = Probe::new();
    let spawner = {
        let handle = rt.handle().clone();
        let probe = probe.clone();
        thread::spawn(move || handle.spawn(probe.track(async { 9 })))
    };
    drop(rt);
    let mut task = spawner.join().unwrap();
    assert!(task.is_done(), "a task outlived its runtime's shutdown");
    match poll_once(&mut task) {
        Poll::Ready(Ok(out)) => {
            assert_eq!(out.value, 9);
            assert_eq!(probe.completed(), 1);
        }
        Poll::Ready(Err(err)) => {
            assert!(err.is_cancelled(), "{err}");
            assert_eq!(probe.completed(), 0);
        }
        Poll::Pending => panic!("done task pending"),
    }
    drop(task);
    probe.assert_all_dropped(1);
}

/// One worker, start-up included.
#[test]
fn spawn_races_with_shutdown_one_worker() {
    model(
        "runtime_shutdown::spawn_races_with_shutdown_one_worker",
        || spawn_races_with_shutdown(runtime(1)),
    );
}

/// Two idle workers: both exit, the last one cancels what is left, while
/// the spawn's notify may wake either.
#[test]
fn spawn_races_with_shutdown_two_workers() {
    model(
        "runtime_shutdown::spawn_races_with_shutdown_two_workers",
        || spawn_races_with_shutdown(idle_runtime(2)),
    );
}

/// Two workers still starting (searching, parking, waking each other for
/// the new task) when the main thread spawns and at once drops the runtime:
/// both workers exit (a lost shutdown wakeup hangs the drop, which loom
/// reports as a deadlock), and the task is done, run or cancelled.
#[test]
fn spawn_then_shutdown_while_workers_start() {
    model(
        "runtime_shutdown::spawn_then_shutdown_while_workers_start",
        || {
            let rt = runtime(2);
            let probe = Probe::new();
            let mut task = rt.spawn(probe.track(async { 1 }));
            drop(rt);
            assert!(task.is_done(), "a task outlived its runtime's shutdown");
            match poll_once(&mut task) {
                Poll::Ready(Ok(_)) => assert_eq!(probe.completed(), 1),
                Poll::Ready(Err(err)) => {
                    assert!(err.is_cancelled(), "{err}");
                    assert_eq!(probe.completed(), 0);
                }
                Poll::Pending => panic!("done task pending"),
            }
            drop(task);
            probe.assert_all_dropped(1);
        },
    );
}

/// A task waiting on a signal that an outside thread fires while the main
/// thread drops the runtime: the wake pushes to the injector concurrently
/// with shutdown draining it.
#[test]
fn wake_races_with_shutdown() {
    model("runtime_shutdown::wake_races_with_shutdown", || {
        let rt = runtime(1);
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = rt.spawn(probe.track(rx));
        let waker = thread::spawn(move || tx.fire());
        drop(rt);
        waker.join().unwrap();
        assert!(task.is_done(), "a task outlived its runtime's shutdown");
        drop(task);
        assert!(probe.completed() <= 1);
        probe.assert_all_dropped(1);
    });
}

/// As above, with the `Task` handle dropped by the waking thread (so the
/// last reference may go on either side).
#[test]
fn wake_and_detach_race_with_shutdown() {
    model(
        "runtime_shutdown::wake_and_detach_race_with_shutdown",
        || {
            let rt = runtime(1);
            let probe = Probe::new();
            let (tx, rx) = signal();
            let task = rt.spawn(probe.track(rx));
            let waker = thread::spawn(move || {
                tx.fire();
                drop(task);
            });
            drop(rt);
            waker.join().unwrap();
            probe.assert_all_dropped(1);
        },
    );
}
