//! Work arriving while workers go to sleep, through the public API on a real
//! runtime (workers, idle counters, parkers, the injector): a task injected
//! from outside, or woken from outside, is always run. A lost wakeup leaves
//! every thread asleep, which loom reports as a deadlock.
//!
//! Threads: the main thread, the workers, and at most one outside thread;
//! loom allows five in all. The main thread waits with `loom_tests::block_on`
//! (loom's own park) except where corio's `block_on` is the subject.
#![cfg(loom)]

use loom::thread;
use loom_tests::{block_on, idle_runtime, model, quiet_drop, signal, Probe};

fn runtime(workers: usize) -> corio::Runtime {
    corio::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// One worker: `Handle::spawn` from an outside thread (injector push, then
/// notify) races with the worker starting, finding nothing and parking.
#[test]
fn spawn_from_outside_one_worker() {
    model("runtime_idle::spawn_from_outside_one_worker", || {
        let rt = runtime(1);
        let probe = Probe::new();
        let spawner = {
            let handle = rt.handle().clone();
            let probe = probe.clone();
            thread::spawn(move || handle.spawn(probe.track(async { 1 })))
        };
        let task = spawner.join().unwrap();
        let out = block_on(task).unwrap();
        assert_eq!(out.value, 1);
        drop(out);
        drop(rt);
        assert_eq!(probe.completed(), 1);
        probe.assert_all_dropped(1);
    });
}

/// Two workers: the spawn (from the main thread, which is no worker) races
/// with both workers starting, searching and parking: the idle protocol's
/// searching/unparked counters, the choice of a sleeper to wake, and the
/// last searcher's re-check of the queues. Shutdown afterwards is not
/// explored (see `quiet_drop`).
#[test]
fn spawn_from_outside_two_workers() {
    model("runtime_idle::spawn_from_outside_two_workers", || {
        let rt = runtime(2);
        let probe = Probe::new();
        let task = rt.spawn(probe.track(async { 1 }));
        let out = block_on(task).unwrap();
        assert_eq!(out.value, 1);
        drop(out);
        quiet_drop(rt);
        assert_eq!(probe.completed(), 1);
        probe.assert_all_dropped(1);
    });
}

/// One worker: a task pending on a signal that an outside thread fires. The
/// wake goes to the injector (the waking thread is no worker) and must rouse
/// the worker, whether it is still polling the task, about to park, or
/// parked.
#[test]
fn wake_from_outside_one_worker() {
    model("runtime_idle::wake_from_outside_one_worker", || {
        let rt = runtime(1);
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = rt.spawn(probe.track(rx));
        let waker = thread::spawn(move || tx.fire());
        block_on(task).unwrap();
        waker.join().unwrap();
        drop(rt);
        assert_eq!(probe.completed(), 1);
        probe.assert_all_dropped(1);
    });
}

/// Two idle workers: as above, with two sleepers to choose from and the
/// searching counters in play. The main thread (no worker either) fires,
/// racing with the first poll and with the poller going back to sleep.
#[test]
fn wake_from_outside_two_workers() {
    model("runtime_idle::wake_from_outside_two_workers", || {
        let rt = idle_runtime(2);
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = rt.spawn(probe.track(rx));
        tx.fire();
        block_on(task).unwrap();
        quiet_drop(rt);
        assert_eq!(probe.completed(), 1);
        probe.assert_all_dropped(1);
    });
}

/// corio's `block_on`: its own future woken from an outside thread while the
/// calling thread goes to sleep (its `MainWaker`, its `Parker`).
#[test]
fn block_on_woken_from_outside() {
    model("runtime_idle::block_on_woken_from_outside", || {
        let rt = runtime(1);
        let (tx, rx) = signal();
        let waker = thread::spawn(move || tx.fire());
        rt.block_on(rx);
        waker.join().unwrap();
    });
}

/// corio's `block_on` running a `spawn_local` task that an outside thread
/// wakes: the wake pushes to the `block_on` thread's local queue and unparks
/// it, racing with its "run local tasks, then park".
#[test]
fn block_on_local_task_woken_from_outside() {
    model(
        "runtime_idle::block_on_local_task_woken_from_outside",
        || {
            let rt = runtime(1);
            let probe = Probe::new();
            let (tx, rx) = signal();
            let waker = thread::spawn(move || tx.fire());
            let p = probe.clone();
            rt.block_on(async move { corio::spawn_local(p.track(rx)).await.unwrap() });
            waker.join().unwrap();
            drop(rt);
            assert_eq!(probe.completed(), 1);
            probe.assert_all_dropped(1);
        },
    );
}
