//! The end of a runtime: `run` returning, `Runtime` dropped, `shutdown_timeout`,
//! and what a kept `Handle` does afterwards.

mod common;

use common::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

thread_local! {
    /// Guards parked here are dropped when the thread exits.
    static AT_THREAD_EXIT: RefCell<Vec<DropGuard>> = const { RefCell::new(Vec::new()) };
}

/// Makes the current thread count in `exits` when it exits.
fn count_exit_of_this_thread(exits: &DropCounter) {
    AT_THREAD_EXIT.with(|v| v.borrow_mut().push(exits.guard()));
}

/// Runs a task on each of the `n` workers at once (they spin until all have
/// started), registering each worker's thread exit with `exits`.
fn on_every_worker(rt: &corio::Runtime, n: usize, exits: &DropCounter) -> Vec<ThreadId> {
    let started = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (started, exits) = (started.clone(), exits.clone());
            rt.spawn(async move {
                count_exit_of_this_thread(&exits);
                started.fetch_add(1, SeqCst);
                let deadline = Instant::now() + LONG;
                while started.load(SeqCst) < n && Instant::now() < deadline {
                    std::hint::spin_loop();
                }
                assert_eq!(started.load(SeqCst), n, "workers never ran in parallel");
                thread::current().id()
            })
        })
        .collect();
    let ids = rt.block_on(async {
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids
    });
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), n, "not one task per worker");
    ids
}

#[test]
fn run_returns_only_after_every_pending_task_was_cancelled_and_dropped() {
    watchdog(LONG, || {
        let drops = DropCounter::new();
        let gate = Gate::new();
        let main_thread = thread::current().id();
        // Where each `!Send` local future was dropped, against where it lived.
        let local_drops: Arc<Mutex<Vec<(ThreadId, ThreadId)>>> = Default::default();
        let kept = corio::run({
            let (drops, gate, local_drops) = (drops.clone(), gate.clone(), local_drops.clone());
            async move {
                let mut kept = Vec::new();
                // Send tasks waiting forever, some with live handles, some detached.
                for i in 0..20 {
                    let (g, gate) = (drops.guard(), gate.clone());
                    let t = corio::create_task(async move {
                        let _g = g;
                        gate.wait().await;
                    });
                    if i % 2 == 0 {
                        kept.push(t);
                    }
                }
                // Local tasks on this (the run) thread.
                for _ in 0..5 {
                    let (g, gate, local_drops) = (drops.guard(), gate.clone(), local_drops.clone());
                    let home = thread::current().id();
                    let rc = Rc::new(());
                    drop(corio::spawn_local(async move {
                        let _g = g;
                        let _rc = rc;
                        let _d = OnDrop::new(move || {
                            local_drops
                                .lock()
                                .unwrap()
                                .push((home, thread::current().id()))
                        });
                        gate.wait().await;
                    }));
                }
                // Local tasks on workers, spawned by tasks that then finish.
                for _ in 0..5 {
                    let (g, gate, local_drops) = (drops.guard(), gate.clone(), local_drops.clone());
                    corio::create_task(async move {
                        let home = thread::current().id();
                        drop(corio::spawn_local(async move {
                            let _g = g;
                            let _rc = Rc::new(());
                            let _d = OnDrop::new(move || {
                                local_drops
                                    .lock()
                                    .unwrap()
                                    .push((home, thread::current().id()))
                            });
                            gate.wait().await;
                        }));
                    })
                    .await
                    .unwrap();
                }
                // A chain: a task awaiting a pending task.
                let g = drops.guard();
                let inner_gate = gate.clone();
                let inner = corio::create_task(async move {
                    let _g = g;
                    inner_gate.wait().await
                });
                let g = drops.guard();
                kept.push(corio::create_task(async move {
                    let _g = g;
                    inner.await.unwrap()
                }));
                // Let everything start waiting.
                while gate.waiters() < 31 {
                    corio::yield_now().await;
                }
                kept
            }
        });
        assert_eq!(
            drops.dropped(),
            32,
            "run returned before every pending task was dropped"
        );
        let local_drops = local_drops.lock().unwrap();
        assert_eq!(local_drops.len(), 10);
        for (home, dropped_on) in local_drops.iter() {
            assert_eq!(
                home, dropped_on,
                "a local future was dropped off its thread"
            );
        }
        assert!(
            local_drops
                .iter()
                .filter(|(h, _)| *h == main_thread)
                .count()
                == 5
        );
        // Handles kept past `run` see cancelled tasks.
        for mut t in kept {
            assert!(t.is_done() && t.is_cancelled());
            match poll_once(&mut t) {
                std::task::Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
                other => panic!("expected a cancelled error, got {other:?}"),
            }
        }
    });
}

#[test]
fn dropping_a_runtime_cancels_pending_tasks_and_joins_its_workers() {
    watchdog(LONG, || {
        let rt = rt_named(2, "sdj");
        let exits = DropCounter::new();
        on_every_worker(&rt, 2, &exits);
        let drops = DropCounter::new();
        let gate = Gate::new();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (g, gate) = (drops.guard(), gate.clone());
                rt.spawn(async move {
                    let _g = g;
                    gate.wait().await
                })
            })
            .collect();
        assert!(wait_until(LONG, || gate.waiters() == 10));
        assert_eq!(exits.dropped(), 0);
        drop(rt);
        assert_eq!(
            drops.dropped(),
            10,
            "pending tasks not dropped when Runtime::drop returned"
        );
        assert_eq!(
            exits.dropped(),
            2,
            "worker threads had not exited when Runtime::drop returned (not joined)"
        );
        for t in tasks {
            assert!(t.is_cancelled());
        }
    });
}

#[test]
// Tasks are returned from block_on unawaited on purpose.
#[allow(clippy::async_yields_async)]
fn block_on_returning_cancels_nothing() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let done = Flag::new();
        let task = rt.block_on({
            let (gate, done) = (gate.clone(), done.clone());
            async move {
                corio::create_task(async move {
                    gate.wait().await;
                    done.set();
                    "still ran"
                })
            }
        });
        // Outside block_on: the workers keep running Send tasks.
        gate.open();
        assert!(wait_until(LONG, || done.get()));
        assert!(!task.is_cancelled());
        assert_eq!(rt.block_on(task).unwrap(), "still ran");
    });
}

#[test]
fn spawn_after_shutdown_through_a_kept_handle_gives_a_cancelled_task() {
    watchdog(LONG, || {
        let rt = rt(2);
        let handle = rt.handle().clone();
        drop(rt);
        let drops = DropCounter::new();
        let polled = Flag::new();
        let mut task = {
            let (g, polled) = (drops.guard(), polled.clone());
            handle.spawn(async move {
                let _g = g;
                polled.set();
                1
            })
        };
        assert!(
            task.is_done(),
            "a task spawned on a shut-down runtime is pending"
        );
        assert!(task.is_cancelled());
        assert!(!task.cancel());
        assert_eq!(drops.dropped(), 1, "its future was not dropped at once");
        match poll_once(&mut task) {
            std::task::Poll::Ready(Err(e)) => {
                assert!(e.is_cancelled());
                assert!(e.to_string().contains("cancelled"), "{e}");
            }
            other => panic!("expected a cancelled error, got {other:?}"),
        }
        assert!(!polled.get());
        // Spawning from another thread behaves the same.
        let h = handle.clone();
        let t = thread::spawn(move || h.spawn(async { 2 })).join().unwrap();
        assert!(t.is_cancelled());
        // Metrics stay readable.
        assert_eq!(handle.metrics().num_workers(), 2);
        assert_eq!(handle.metrics().live_tasks, 0);
    });
}

#[test]
fn shutdown_timeout_returns_despite_a_task_stuck_in_a_blocking_poll() {
    watchdog(LONG, || {
        let rt = rt_named(2, "stk");
        let exits = DropCounter::new();
        on_every_worker(&rt, 2, &exits);
        let (stuck_tx, stuck_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let stuck_drops = DropCounter::new();
        let stuck = {
            let g = stuck_drops.guard();
            rt.spawn(async move {
                let _g = g;
                stuck_tx.send(()).unwrap();
                // Blocks its worker: a poll that does not return.
                let _ = release_rx.recv_timeout(LONG);
                corio::yield_now().await;
            })
        };
        stuck_rx.recv_timeout(LONG).unwrap();
        let drops = DropCounter::new();
        let gate = Gate::new();
        for _ in 0..10 {
            let (g, gate) = (drops.guard(), gate.clone());
            drop(rt.spawn(async move {
                let _g = g;
                gate.wait().await
            }));
        }
        assert!(wait_until(LONG, || gate.waiters() == 10));
        let timeout = Duration::from_millis(300);
        let start = Instant::now();
        rt.shutdown_timeout(timeout);
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "shutdown_timeout took {took:?}"
        );
        assert!(
            took >= timeout - Duration::from_millis(50),
            "shutdown_timeout returned after {took:?}, before its timeout, with a worker stuck"
        );
        assert_eq!(
            drops.dropped(),
            10,
            "idle tasks were not cancelled by shutdown_timeout"
        );
        assert_eq!(
            stuck_drops.dropped(),
            0,
            "the stuck future was dropped while being polled"
        );
        assert!(!stuck.is_done());
        assert_eq!(exits.dropped(), 1, "the idle worker should have exited");
        // Unstick it: its worker drops it at the next scheduling point and exits.
        release_tx.send(()).unwrap();
        assert!(
            wait_until(LONG, || stuck_drops.dropped() == 1),
            "the stuck task was never dropped"
        );
        assert!(wait_until(LONG, || stuck.is_done()));
        assert!(stuck.is_cancelled());
        assert!(
            wait_until(LONG, || exits.dropped() == 2),
            "the stuck worker never exited"
        );
    });
}

#[test]
fn shutdown_timeout_without_stuck_tasks_returns_promptly_and_cancels() {
    watchdog(LONG, || {
        let rt = rt(2);
        let exits = DropCounter::new();
        on_every_worker(&rt, 2, &exits);
        let drops = DropCounter::new();
        let gate = Gate::new();
        for _ in 0..10 {
            let (g, gate) = (drops.guard(), gate.clone());
            drop(rt.spawn(async move {
                let _g = g;
                gate.wait().await
            }));
        }
        assert!(wait_until(LONG, || gate.waiters() == 10));
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_secs(30));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(drops.dropped(), 10);
        assert_eq!(exits.dropped(), 2, "workers not joined by shutdown_timeout");
    });
}

#[test]
fn destructors_that_spawn_or_wake_during_shutdown_do_not_deadlock() {
    watchdog(LONG, || {
        let rt = rt(2);
        let handle = rt.handle().clone();
        let drops = DropCounter::new();
        let late_spawned = Arc::new(Mutex::new(Vec::new()));
        let gate = Gate::new();
        for _ in 0..10 {
            let (g, gate, handle, late) = (
                drops.guard(),
                gate.clone(),
                handle.clone(),
                late_spawned.clone(),
            );
            let late_guard = drops.guard();
            let wake_gate = gate.clone();
            drop(rt.spawn(async move {
                let _g = g;
                // On drop: spawn a new task and wake the other waiters.
                let _d = OnDrop::new(move || {
                    let t = handle.spawn(async move {
                        let _g = late_guard;
                    });
                    late.lock().unwrap().push(t);
                    wake_gate.open();
                });
                gate.wait().await
            }));
        }
        assert!(wait_until(LONG, || gate.waiters() == 10));
        drop(rt);
        // Every original future and every late task's future is gone.
        assert_eq!(drops.dropped(), 20);
        for t in late_spawned.lock().unwrap().iter() {
            assert!(t.is_done());
        }
    });
}

#[test]
fn local_tasks_of_another_block_on_thread_are_dropped_on_that_thread() {
    watchdog(LONG, || {
        let rt = rt(1);
        let handle = rt.handle().clone();
        // (thread the future was dropped on, if `thread::current` still worked)
        let dropped_on: Arc<Mutex<Vec<Option<ThreadId>>>> = Default::default();
        let (spawned_tx, spawned_rx) = mpsc::channel();
        let (exit_tx, exit_rx) = mpsc::channel::<()>();
        let other = thread::spawn({
            let dropped_on = dropped_on.clone();
            move || {
                let guard = |dropped_on: Arc<Mutex<Vec<Option<ThreadId>>>>| {
                    OnDrop::new(move || {
                        // `thread::current` may be gone in TLS destructors.
                        let id = std::panic::catch_unwind(|| thread::current().id()).ok();
                        dropped_on.lock().unwrap().push(id);
                    })
                };
                let (d1, d2) = (guard(dropped_on.clone()), guard(dropped_on.clone()));
                let tasks = handle.block_on(async move {
                    let rc = Rc::new(());
                    let rc2 = rc.clone();
                    // One polled (pending on a gate), one never polled.
                    let polled = corio::spawn_local(async move {
                        let _rc = rc;
                        let _d = d1;
                        std::future::pending::<()>().await
                    });
                    corio::yield_now().await;
                    let unpolled = corio::spawn_local(async move {
                        let _rc = rc2;
                        let _d = d2;
                    });
                    (polled, unpolled)
                });
                spawned_tx.send(()).unwrap();
                exit_rx.recv().unwrap();
                drop(tasks);
                thread::current().id()
            }
        });
        spawned_rx.recv_timeout(LONG).unwrap();
        drop(rt);
        exit_tx.send(()).unwrap();
        let other_id = other.join().unwrap();
        let dropped_on = dropped_on.lock().unwrap();
        assert_eq!(
            dropped_on.len(),
            2,
            "the local tasks of a block_on thread were not dropped (at the latest when it exited) \
             after the runtime was shut down from another thread"
        );
        for id in dropped_on.iter().flatten() {
            assert_eq!(*id, other_id, "a local future was dropped off its thread");
        }
    });
}

#[test]
// The task is returned from block_on unawaited on purpose.
#[allow(clippy::async_yields_async)]
fn local_tasks_left_on_a_block_on_thread_are_dropped_at_its_next_block_on() {
    watchdog(LONG, || {
        let rt = rt(1);
        let handle = rt.handle().clone();
        let dropped = Flag::new();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let other = thread::spawn({
            let dropped = dropped.clone();
            move || {
                let d = {
                    let dropped = dropped.clone();
                    OnDrop::new(move || dropped.set())
                };
                let task = handle.block_on(async move {
                    let rc = Rc::new(());
                    corio::spawn_local(async move {
                        let _rc = rc;
                        let _d = d;
                        std::future::pending::<()>().await
                    })
                });
                ready_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                // The runtime is gone; entering block_on again cleans up.
                let before = dropped.get();
                handle.block_on(async {});
                let after = dropped.get();
                (before, after, task.is_done(), task.is_cancelled())
            }
        });
        ready_rx.recv_timeout(LONG).unwrap();
        drop(rt);
        go_tx.send(()).unwrap();
        let (before, after, done, cancelled) = other.join().unwrap();
        assert!(
            !before,
            "a !Send local task was dropped by another thread's shutdown"
        );
        assert!(
            after,
            "the left-over local task was not dropped at the next block_on"
        );
        assert!(done && cancelled);
    });
}

/// After the runtime was shut down from another thread, a thread that had
/// used `block_on` before and enters it again must not hang on `spawn_local`:
/// the task is either run or cancelled (like `Handle::spawn` after shutdown).
#[test]
fn spawn_local_in_block_on_after_shutdown_elsewhere_does_not_hang() {
    let rt = rt(1);
    let handle = rt.handle().clone();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (result_tx, result_rx) = mpsc::channel();
    let _t = thread::spawn(move || {
        // First use of block_on on this thread (creates its local queue).
        handle.block_on(async { corio::spawn_local(async {}).await.unwrap() });
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        let res = handle.block_on(async { corio::spawn_local(async { 5 }).await });
        result_tx.send(res.map_err(|e| e.is_cancelled())).unwrap();
    });
    ready_rx.recv_timeout(LONG).unwrap();
    drop(rt);
    go_tx.send(()).unwrap();
    match result_rx.recv_timeout(LONG) {
        Ok(Ok(5)) | Ok(Err(true)) => {}
        Ok(other) => panic!("unexpected result {other:?}"),
        Err(_) => panic!(
            "spawn_local + await inside block_on hung on a runtime shut down from another thread"
        ),
    }
}

/// Dropping a `Runtime` from inside one of its own tasks cannot join the
/// workers, but pending tasks must still be cancelled (dropped) eventually.
#[test]
fn runtime_dropped_inside_its_own_task_still_cancels_pending_tasks() {
    let rt = rt_named(2, "self");
    let exits = DropCounter::new();
    on_every_worker(&rt, 2, &exits);
    let drops = DropCounter::new();
    let gate = Gate::new();
    for _ in 0..5 {
        let (g, gate) = (drops.guard(), gate.clone());
        drop(rt.spawn(async move {
            let _g = g;
            gate.wait().await
        }));
    }
    assert!(wait_until(LONG, || gate.waiters() == 5));
    let slot = Arc::new(Mutex::new(Some(rt)));
    let (tx, rx) = mpsc::channel();
    {
        let guard = slot.lock().unwrap();
        let rt = guard.as_ref().unwrap();
        let slot = slot.clone();
        drop(rt.spawn(async move {
            let rt = slot.lock().unwrap().take();
            drop(rt);
            tx.send(()).unwrap();
        }));
    }
    rx.recv_timeout(LONG)
        .expect("dropping the runtime inside its own task hung");
    assert!(
        wait_until(Duration::from_secs(3), || exits.dropped() == 2),
        "workers never exited"
    );
    assert!(
        wait_until(Duration::from_secs(3), || drops.dropped() == 5),
        "pending tasks were never cancelled after the runtime was dropped inside a task \
         ({} of 5 dropped)",
        drops.dropped()
    );
}
