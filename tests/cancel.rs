//! `Task::cancel`: before the first poll, while pending, while being polled,
//! after completion, from other threads, and what awaiting a cancelled task
//! gives.

mod common;

use common::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

/// Occupies the only worker of a 1-worker runtime until the returned sender
/// is dropped or sent to; returns once the blocker is running.
fn block_worker(rt: &corio::Runtime) -> mpsc::Sender<()> {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    drop(rt.spawn(async move {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(LONG);
    }));
    started_rx
        .recv_timeout(LONG)
        .expect("blocker never started");
    release_tx
}

#[test]
fn cancel_before_first_poll_never_polls_the_future() {
    watchdog(LONG * 2, || {
        let rt = rt(1);
        let release = block_worker(&rt);
        let polled = Flag::new();
        let drops = DropCounter::new();
        let task = rt.spawn({
            let (polled, g) = (polled.clone(), drops.guard());
            async move {
                polled.set();
                drop(g);
                1
            }
        });
        assert!(!task.is_done());
        assert!(task.cancel(), "cancel of a task not done must return true");
        assert!(
            !task.is_done(),
            "cancellation happens at the next scheduling point"
        );
        drop(release);
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert!(
            !polled.get(),
            "a task cancelled before its first poll was polled"
        );
        assert_eq!(
            drops.dropped(),
            1,
            "the never-polled future was not dropped"
        );
    });
}

#[test]
fn cancel_while_pending_drops_the_future_and_reports_cancelled() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let drops = DropCounter::new();
        let task = rt.spawn({
            let (gate, g) = (gate.clone(), drops.guard());
            async move {
                let _g = g;
                gate.wait().await;
                "finished"
            }
        });
        assert!(
            wait_until(LONG, || gate.pending_polls() > 0),
            "never polled"
        );
        assert!(!task.is_done());
        assert!(!task.is_cancelled());
        assert!(task.cancel());
        assert!(
            wait_until(LONG, || task.is_done()),
            "cancel did not finish the task"
        );
        assert!(task.is_cancelled());
        assert_eq!(drops.dropped(), 1, "the future was not dropped");
        assert_eq!(gate.waiters(), 1);
        // Cancelling again: the task is done now.
        assert!(!task.cancel());
        let id = task.id();
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert_eq!(err.id(), id);
        assert_eq!(err.to_string(), format!("task {id} was cancelled"));
        assert!(format!("{err:?}").contains("Cancelled"), "{err:?}");
        let err = err.try_into_panic().unwrap_err();
        assert!(err.is_cancelled());
        let msg = panic_of(move || err.into_panic());
        assert!(msg.contains("cancelled"), "{msg}");
        // Opening the gate later wakes nothing that matters.
        gate.open();
    });
}

#[test]
fn cancel_returns_true_until_done_even_when_repeated() {
    let rt = rt(1);
    let release = block_worker(&rt);
    let task = rt.spawn(async { 5 });
    assert!(task.cancel());
    assert!(
        task.cancel(),
        "still not done: a second cancel also returns true"
    );
    drop(release);
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn cancel_after_completion_returns_false_and_keeps_the_output() {
    watchdog(LONG, || {
        let rt = rt(2);
        let task = rt.spawn(async { String::from("output") });
        assert!(wait_until(LONG, || task.is_done()));
        assert!(
            !task.cancel(),
            "cancel of a finished task must return false"
        );
        assert!(task.is_done());
        assert!(!task.is_cancelled());
        assert_eq!(rt.block_on(task).unwrap(), "output");
    });
}

#[test]
fn awaiting_a_cancelled_task_gives_a_cancelled_error_not_a_hang() {
    watchdog(LONG, || {
        let rt = rt(2);
        // Cancelled while pending, awaited from another task.
        let res = rt.block_on(async {
            let t = corio::create_task(std::future::pending::<u8>());
            corio::yield_now().await;
            assert!(t.cancel());
            corio::create_task(t).await.unwrap()
        });
        assert!(res.unwrap_err().is_cancelled());
        // Cancelled before it ever ran, awaited at once.
        let res = rt.block_on(async {
            let t = corio::create_task(async { 1 });
            t.cancel();
            t.await
        });
        // It may have completed before the cancel: then the output is kept.
        match res {
            Ok(v) => assert_eq!(v, 1),
            Err(e) => assert!(e.is_cancelled()),
        }
        // Awaiting registers its waker first, then cancel from elsewhere.
        let res = rt.block_on(async {
            let t = corio::create_task(std::future::pending::<()>());
            let t = Arc::new(t);
            let canceller = {
                let t = t.clone();
                corio::create_task(async move {
                    corio::yield_now().await;
                    t.cancel()
                })
            };
            assert!(canceller.await.unwrap());
            Arc::try_unwrap(t).unwrap().await
        });
        assert!(res.unwrap_err().is_cancelled());
    });
}

/// A `Task` shared between a poller and a canceller: polled through the
/// mutex, cancelled through it from any thread.
type SharedTask<T> = Arc<std::sync::Mutex<corio::Task<T>>>;

fn poll_shared<T>(t: &SharedTask<T>) -> impl Future<Output = Result<T, corio::JoinError>> + '_ {
    std::future::poll_fn(move |cx: &mut Context<'_>| Pin::new(&mut *t.lock().unwrap()).poll(cx))
}

#[test]
fn a_waiter_blocked_on_a_task_is_woken_by_cancel_from_another_thread() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let drops = DropCounter::new();
        let target: SharedTask<()> = Arc::new(std::sync::Mutex::new(rt.spawn({
            let (gate, g) = (gate.clone(), drops.guard());
            async move {
                let _g = g;
                gate.wait().await
            }
        })));
        let waiter_polled = Arc::new(AtomicUsize::new(0));
        let waiter = rt.spawn({
            let (target, waiter_polled) = (target.clone(), waiter_polled.clone());
            async move {
                waiter_polled.fetch_add(1, SeqCst);
                poll_shared(&target).await
            }
        });
        assert!(wait_until(LONG, || gate.pending_polls() > 0));
        assert!(wait_until(LONG, || waiter_polled.load(SeqCst) > 0));
        thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_done(), "the waiter finished before the cancel");
        // Cancel from a plain thread that is not part of the runtime.
        let canceller = {
            let target = target.clone();
            thread::spawn(move || target.lock().unwrap().cancel())
        };
        assert!(
            canceller.join().unwrap(),
            "cancel of a pending task returned false"
        );
        let res = rt.block_on(waiter).unwrap();
        assert!(res.unwrap_err().is_cancelled());
        assert_eq!(drops.dropped(), 1);
        let t = target.lock().unwrap();
        assert!(t.is_done() && t.is_cancelled());
    });
}

#[test]
fn cancel_from_another_thread_with_the_handle_moved_there() {
    watchdog(LONG, || {
        let rt = rt(2);
        let drops = DropCounter::new();
        let gate = Gate::new();
        let task = rt.spawn({
            let (gate, g) = (gate.clone(), drops.guard());
            async move {
                let _g = g;
                gate.wait().await;
                7
            }
        });
        assert!(wait_until(LONG, || gate.pending_polls() > 0));
        let task = thread::spawn(move || {
            assert!(task.cancel());
            task
        })
        .join()
        .unwrap();
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
        assert_eq!(drops.dropped(), 1);
    });
}

#[test]
fn cancel_while_being_polled_waits_for_the_poll_to_return() {
    watchdog(LONG, || {
        let rt = rt(2);
        let in_poll = Arc::new(AtomicBool::new(false));
        let release = Arc::new(AtomicBool::new(false));
        let dropped_during_poll = Arc::new(AtomicBool::new(false));
        let drops = DropCounter::new();
        let task = rt.spawn({
            let (in_poll, release) = (in_poll.clone(), release.clone());
            let dropped_during_poll = dropped_during_poll.clone();
            let guard_in_poll = in_poll.clone();
            let g = drops.guard();
            let on_drop = OnDrop::new(move || {
                if guard_in_poll.load(SeqCst) {
                    dropped_during_poll.store(true, SeqCst);
                }
            });
            std::future::poll_fn(move |_cx| {
                let _keep = (&on_drop, &g);
                in_poll.store(true, SeqCst);
                let deadline = std::time::Instant::now() + LONG;
                while !release.load(SeqCst) && std::time::Instant::now() < deadline {
                    std::hint::spin_loop();
                }
                in_poll.store(false, SeqCst);
                // Pending without arranging a wakeup: only cancel ends it.
                Poll::<u8>::Pending
            })
        });
        assert!(wait_until(LONG, || in_poll.load(SeqCst)));
        assert!(task.cancel());
        thread::sleep(Duration::from_millis(30));
        assert_eq!(
            drops.dropped(),
            0,
            "the future was dropped while being polled"
        );
        assert!(!task.is_done());
        release.store(true, SeqCst);
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(drops.dropped(), 1);
        assert!(!dropped_during_poll.load(SeqCst));
    });
}

#[test]
fn a_task_that_completes_in_the_poll_it_was_cancelled_during_keeps_its_output() {
    watchdog(LONG, || {
        let rt = rt(2);
        let in_poll = Arc::new(AtomicBool::new(false));
        let release = Arc::new(AtomicBool::new(false));
        let task = rt.spawn({
            let (in_poll, release) = (in_poll.clone(), release.clone());
            async move {
                in_poll.store(true, SeqCst);
                let deadline = std::time::Instant::now() + LONG;
                while !release.load(SeqCst) && std::time::Instant::now() < deadline {
                    std::hint::spin_loop();
                }
                "made it"
            }
        });
        assert!(wait_until(LONG, || in_poll.load(SeqCst)));
        assert!(task.cancel(), "not done yet: cancel returns true");
        release.store(true, SeqCst);
        assert_eq!(rt.block_on(task).unwrap(), "made it");
    });
}

#[test]
fn cancel_from_inside_the_task_itself_takes_effect_at_the_next_await() {
    watchdog(LONG, || {
        let rt = rt(2);
        let (tx, rx) = mpsc::channel::<corio::Task<()>>();
        let after_cancel = Flag::new();
        let reached = Flag::new();
        let drops = DropCounter::new();
        let task = rt.spawn({
            let (after_cancel, reached, g) = (after_cancel.clone(), reached.clone(), drops.guard());
            async move {
                let _g = g;
                // The task receives its own handle.
                let me = rx.recv_timeout(LONG).unwrap();
                assert!(me.cancel());
                assert!(!me.is_done(), "done while still running");
                after_cancel.set();
                // Still inside this poll; the next scheduling point drops us.
                corio::yield_now().await;
                reached.set();
            }
        });
        tx.send(task).unwrap();
        assert!(wait_until(LONG, || after_cancel.get()));
        assert!(
            wait_until(LONG, || drops.dropped() == 1),
            "the cancelled future was never dropped"
        );
        assert!(
            !reached.get(),
            "the task ran past an await after cancelling itself"
        );
    });
}

#[test]
fn a_panicking_destructor_during_cancel_is_contained() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let task = rt.spawn({
            let gate = gate.clone();
            async move {
                let _bomb = OnDrop::new(|| panic!("destructor panicked"));
                gate.wait().await
            }
        });
        assert!(wait_until(LONG, || gate.pending_polls() > 0));
        assert!(task.cancel());
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        // The worker survived.
        let met = rendezvous(rt.handle(), 2);
        assert!(met.iter().all(|m| m.met), "{met:?}");
    });
}

#[test]
fn cancelling_an_awaiting_task_leaves_the_awaited_task_running() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let inner_done = Flag::new();
        let inner_started = Flag::new();
        let outer = rt.spawn({
            let (gate, inner_done, inner_started) =
                (gate.clone(), inner_done.clone(), inner_started.clone());
            async move {
                let inner = corio::create_task(async move {
                    inner_started.set();
                    gate.wait().await;
                    inner_done.set();
                });
                inner.await.unwrap()
            }
        });
        assert!(wait_until(LONG, || inner_started.get() && gate.pending_polls() > 0));
        thread::sleep(Duration::from_millis(10));
        assert!(outer.cancel());
        assert!(rt.block_on(outer).unwrap_err().is_cancelled());
        // Dropping the outer future dropped the inner handle: detached, not
        // cancelled.
        gate.open();
        assert!(
            wait_until(LONG, || inner_done.get()),
            "the inner task was cancelled too"
        );
    });
}

#[test]
fn cancel_many_tasks_concurrently_with_wakeups() {
    // Cancellation racing with wakeups from other threads: every task ends,
    // each exactly once, as either cancelled or completed.
    watchdog(LONG * 2, || {
        let rt = rt(2);
        let drops = DropCounter::new();
        for _round in 0..20 {
            let gates: Vec<Gate> = (0..100).map(|_| Gate::new()).collect();
            let tasks: Vec<_> = gates
                .iter()
                .map(|gate| {
                    let (gate, g) = (gate.clone(), drops.guard());
                    rt.spawn(async move {
                        let _g = g;
                        gate.wait().await;
                        corio::yield_now().await;
                        1u32
                    })
                })
                .collect();
            let opener = {
                let gates = gates.clone();
                thread::spawn(move || {
                    for g in gates {
                        g.open();
                    }
                })
            };
            for t in tasks.iter().step_by(2) {
                t.cancel();
            }
            opener.join().unwrap();
            let (ok, cancelled) = rt.block_on(async move {
                let (mut ok, mut cancelled) = (0, 0);
                for t in tasks {
                    match t.await {
                        Ok(v) => ok += v,
                        Err(e) => {
                            assert!(e.is_cancelled());
                            cancelled += 1;
                        }
                    }
                }
                (ok, cancelled)
            });
            assert_eq!(ok + cancelled, 100);
            assert!(cancelled <= 50);
        }
        assert_eq!(drops.dropped(), 2000);
    });
}

#[test]
fn cancel_and_drop_handle_races_do_not_leak_or_double_drop() {
    watchdog(LONG, || {
        let rt = rt(2);
        let drops = DropCounter::new();
        for i in 0..2000 {
            let g = drops.guard();
            let t = rt.spawn(async move {
                let _g = g;
                if i % 3 == 0 {
                    corio::yield_now().await;
                }
                i
            });
            if i % 2 == 0 {
                t.cancel();
            }
            drop(t);
        }
        assert!(
            wait_until(LONG, || drops.dropped() == 2000),
            "only {} of 2000 futures were dropped",
            drops.dropped()
        );
    });
}
