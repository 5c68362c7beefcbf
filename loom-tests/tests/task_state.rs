//! The task state machine (`src/task/state.rs`, `harness.rs`, `waker.rs`,
//! `join.rs`) on corio's real task cells, driven through
//! `corio::loom_hooks::TaskSet`: a scheduler that only queues, so that each
//! model's threads are exactly the parties of the race (a poller, a waker, a
//! canceller, the handle) and nothing else.
//!
//! Pattern: the racing parties run concurrently; then the main thread joins
//! them and drains the queue single-handed. A wakeup lost in the race leaves
//! the task incomplete after the drain; a double notification trips the
//! queue's "queued twice" assertion; a reference counted wrong either leaks
//! (loom reports the task's `Arc`s) or frees twice (`freed` counts cells).
#![cfg(loom)]

use corio::loom_hooks::TaskSet;
use loom::thread;
use loom_tests::{block_on, model, poll_once, signal, CountingWaker, Probe};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Ends a model: nothing queued or live, every cell freed once, every future
/// and output dropped once.
fn finish(set: &TaskSet, probe: &Probe, tasks: usize) {
    set.run_all();
    set.shutdown();
    assert_eq!(set.freed(), tasks, "task cells freed");
    probe.assert_all_dropped(tasks);
}

/// A wakeup (by value, as most wakers are used) racing with the poll that
/// registers the waker: the task is polled again, and completes.
#[test]
fn wake_by_val_races_with_poll() {
    model("task_state::wake_by_val_races_with_poll", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let mut task = set.spawn(probe.track(async move {
            rx.await;
            7
        }));
        let waker = thread::spawn(move || tx.fire());
        set.run_one();
        waker.join().unwrap();
        set.run_all();
        assert!(task.is_done(), "wakeup lost");
        match poll_once(&mut task) {
            Poll::Ready(Ok(out)) => assert_eq!(out.value, 7),
            other => panic!("unexpected {:?}", other.map(|r| r.map(|o| o.value))),
        }
        drop(task);
        assert_eq!(probe.completed(), 1);
        finish(&set, &probe, 1);
    });
}

/// As above with `wake_by_ref` (the task stays referenced by the waker,
/// dropped afterwards on the waking thread).
#[test]
fn wake_by_ref_races_with_poll() {
    model("task_state::wake_by_ref_races_with_poll", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = set.spawn(probe.track(rx));
        let waker = thread::spawn(move || tx.fire_by_ref());
        set.run_one();
        waker.join().unwrap();
        set.run_all();
        assert!(task.is_done(), "wakeup lost");
        drop(task);
        assert_eq!(probe.completed(), 1);
        finish(&set, &probe, 1);
    });
}

/// Waits for two signals at once (polling both each time).
struct Both<A, B> {
    a: Option<A>,
    b: Option<B>,
}

impl<A, B> Future for Both<A, B>
where
    A: Future<Output = ()> + Unpin,
    B: Future<Output = ()> + Unpin,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(a) = self.a.as_mut() {
            if Pin::new(a).poll(cx).is_ready() {
                self.a = None;
            }
        }
        if let Some(b) = self.b.as_mut() {
            if Pin::new(b).poll(cx).is_ready() {
                self.b = None;
            }
        }
        if self.a.is_none() && self.b.is_none() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Two wakers firing from two threads while the task is being polled and
/// re-queued: the task is never queued twice, and no wakeup is lost.
#[test]
fn two_wakes_race_with_poll() {
    model("task_state::two_wakes_race_with_poll", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let (tx1, rx1) = signal();
        let (tx2, rx2) = signal();
        let task = set.spawn(probe.track(Both {
            a: Some(rx1),
            b: Some(rx2),
        }));
        let w1 = thread::spawn(move || tx1.fire());
        let w2 = thread::spawn(move || tx2.fire_by_ref());
        set.run_one();
        w1.join().unwrap();
        w2.join().unwrap();
        set.run_all();
        assert!(task.is_done(), "wakeup lost");
        drop(task);
        finish(&set, &probe, 1);
    });
}

/// `Task::cancel` from the handle's thread while another thread polls the
/// task and a third wakes it: whichever way it goes, the future is dropped
/// exactly once, never while polled, and the outcome agrees with what
/// `cancel` returned.
#[test]
fn cancel_races_with_poll() {
    model("task_state::cancel_races_with_poll", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let mut task = set.spawn(probe.track(async move {
            rx.await;
            3
        }));
        let poller = {
            let set = set.clone();
            thread::spawn(move || {
                set.run_all();
            })
        };
        let waker = thread::spawn(move || tx.fire());
        let asked = task.cancel();
        poller.join().unwrap();
        waker.join().unwrap();
        set.run_all();
        assert!(task.is_done(), "neither completed nor cancelled");
        check_outcome(&mut task, asked, &probe, 3);
        drop(task);
        finish(&set, &probe, 1);
    });
}

/// `Task::cancel` racing with a poll that completes at once: a task that
/// completed first keeps its output, and `cancel` says whether it was done.
#[test]
fn cancel_races_with_completion() {
    model("task_state::cancel_races_with_completion", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let mut task = set.spawn(probe.track(async { 4 }));
        let poller = {
            let set = set.clone();
            thread::spawn(move || {
                set.run_all();
            })
        };
        let asked = task.cancel();
        poller.join().unwrap();
        set.run_all();
        assert!(task.is_done());
        check_outcome(&mut task, asked, &probe, 4);
        drop(task);
        finish(&set, &probe, 1);
    });
}

/// `Task::cancel` racing with the poll of a task that would never complete
/// on its own: the cancellation is never lost (the task ends cancelled, its
/// future dropped once), whether it lands while the task is queued, being
/// polled, or idle.
#[test]
fn cancel_races_with_pending_poll() {
    model("task_state::cancel_races_with_pending_poll", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let mut task = set.spawn(probe.track(std::future::pending::<()>()));
        let poller = {
            let set = set.clone();
            thread::spawn(move || {
                set.run_all();
            })
        };
        assert!(task.cancel(), "cancel found a pending task done");
        poller.join().unwrap();
        set.run_all();
        assert!(task.is_done(), "cancellation lost");
        assert!(task.is_cancelled());
        match poll_once(&mut task) {
            Poll::Ready(Err(err)) => assert!(err.is_cancelled(), "{err}"),
            _ => panic!("a cancelled task gave no cancellation error"),
        }
        assert_eq!(probe.future_drops(), 1);
        drop(task);
        finish(&set, &probe, 1);
    });
}

/// The output of a done task agrees with `cancel`'s answer and the probe.
fn check_outcome<F>(task: &mut corio::Task<loom_tests::Out<F>>, asked: bool, probe: &Probe, v: F)
where
    F: PartialEq + std::fmt::Debug,
{
    let cancelled = task.is_cancelled();
    match poll_once(task) {
        Poll::Ready(Ok(out)) => {
            assert_eq!(out.value, v);
            assert!(!cancelled);
            assert_eq!(probe.completed(), 1);
        }
        Poll::Ready(Err(err)) => {
            assert!(err.is_cancelled(), "{err}");
            assert!(cancelled);
            assert!(asked, "cancelled although `cancel` found it done");
            assert_eq!(probe.completed(), 0, "cancelled after completing");
            assert_eq!(probe.future_drops(), 1);
        }
        Poll::Pending => panic!("done task pending"),
    }
}

/// The `Task` handle polled (storing its waker, then swapping it for
/// another) and dropped while the task completes on another thread: the
/// waker slot and the output each have one owner at a time, the output is
/// dropped exactly once (by the handle or by the completing thread), and the
/// wakers are all released.
#[test]
fn join_handle_dropped_while_task_completes() {
    model(
        "task_state::join_handle_dropped_while_task_completes",
        || {
            let set = TaskSet::new();
            let probe = Probe::new();
            let mut task = set.spawn(probe.track(async { 5 }));
            let poller = {
                let set = set.clone();
                thread::spawn(move || {
                    set.run_all();
                })
            };
            let (w1, c1) = CountingWaker::new();
            let (w2, c2) = CountingWaker::new();
            let mut got = None;
            for w in [&w1, &w2] {
                if let Poll::Ready(res) = Pin::new(&mut task).poll(&mut Context::from_waker(w)) {
                    got = Some(res.unwrap().value);
                    break;
                }
            }
            drop(task);
            poller.join().unwrap();
            if let Some(v) = got {
                assert_eq!(v, 5);
            }
            // Only the waker in the slot at completion is woken, once.
            assert!(c1.wakes() + c2.wakes() <= 1);
            drop((w1, w2));
            assert_eq!(probe.completed(), 1);
            finish(&set, &probe, 1);
        },
    );
}

/// The handle swaps its stored waker for another (`unset_join_waker`, then
/// `set_join_waker`) while another thread wakes the task, runs it to
/// completion, wakes the stored waker and hands the slot back: whichever
/// comes first, the handle either gets the output or leaves its new waker
/// to be woken, and the slot is never touched by both sides at once.
///
/// The runner starts by cloning the task's waker: a plain read-modify-write
/// of the state word, which loom orders against each of the handle's
/// accesses in turn, so the whole run is tried between any two of them (a
/// runner whose first step is a lock or a load is never moved ahead of the
/// handle's loads: loom tracks one last access per object).
#[test]
fn join_waker_replaced_while_task_completes() {
    model(
        "task_state::join_waker_replaced_while_task_completes",
        || {
            let set = TaskSet::new();
            let probe = Probe::new();
            let (tx, rx) = signal();
            let mut task = set.spawn(probe.track(rx));
            set.run_one();
            let waker = tx.fire_and_take().expect("the task registered its waker");
            let (w1, c1) = CountingWaker::new();
            let (w2, c2) = CountingWaker::new();
            assert!(Pin::new(&mut task)
                .poll(&mut Context::from_waker(&w1))
                .is_pending());
            let runner = {
                let set = set.clone();
                thread::spawn(move || {
                    let extra = waker.clone();
                    waker.wake();
                    set.run_all();
                    drop(extra);
                })
            };
            let first = Pin::new(&mut task).poll(&mut Context::from_waker(&w2));
            runner.join().unwrap();
            let ready = match first {
                Poll::Ready(res) => {
                    res.unwrap();
                    true
                }
                Poll::Pending => false,
            };
            if !ready {
                // The new waker is in the slot: the completion woke it.
                assert_eq!(c2.wakes(), 1, "join wakeup lost");
                assert!(matches!(poll_once(&mut task), Poll::Ready(Ok(_))));
            }
            assert!(c1.wakes() + c2.wakes() <= 1);
            drop(task);
            drop((w1, w2));
            finish(&set, &probe, 1);
        },
    );
}

/// A thread blocked on the `Task` (its waker in the slot) while the task is
/// woken and completes elsewhere: the join wakeup is never lost (a lost one
/// is a deadlock, which loom reports).
#[test]
fn join_waker_woken_on_completion() {
    model("task_state::join_waker_woken_on_completion", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = set.spawn(probe.track(async move {
            rx.await;
            6
        }));
        set.run_one();
        let poller = {
            let set = set.clone();
            thread::spawn(move || {
                tx.fire();
                set.run_all();
            })
        };
        let out = block_on(task).unwrap();
        assert_eq!(out.value, 6);
        drop(out);
        poller.join().unwrap();
        finish(&set, &probe, 1);
    });
}

/// Three parties give up their references at once: the poller completing
/// the task, a waker's thread dropping the waker after waking it, and the
/// handle's thread dropping the handle. The cell is freed exactly once.
#[test]
fn last_reference_frees_once() {
    model("task_state::last_reference_frees_once", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let task = set.spawn(probe.track(rx));
        set.run_one();
        let poller = {
            let set = set.clone();
            thread::spawn(move || {
                set.run_all();
            })
        };
        let waker = thread::spawn(move || tx.fire_by_ref());
        drop(task);
        poller.join().unwrap();
        waker.join().unwrap();
        set.run_all();
        assert_eq!(probe.completed(), 1, "wakeup lost");
        assert_eq!(set.live(), 0);
        assert_eq!(set.freed(), 1, "task cell freed");
        finish(&set, &probe, 1);
    });
}

/// Shutdown (closing the owner list and cancelling what is left) racing
/// with a poll and a wake: the future is dropped exactly once, by whoever
/// owns it, and the cell is freed once.
#[test]
fn shutdown_races_with_poll_and_wake() {
    model("task_state::shutdown_races_with_poll_and_wake", || {
        let set = TaskSet::new();
        let probe = Probe::new();
        let (tx, rx) = signal();
        let mut task = set.spawn(probe.track(rx));
        let poller = {
            let set = set.clone();
            thread::spawn(move || {
                set.run_all();
            })
        };
        let waker = thread::spawn(move || tx.fire());
        set.shutdown();
        poller.join().unwrap();
        waker.join().unwrap();
        set.run_all();
        assert!(task.is_done(), "shutdown left the task running");
        match poll_once(&mut task) {
            Poll::Ready(Ok(_)) => assert_eq!(probe.completed(), 1),
            Poll::Ready(Err(e)) => {
                assert!(e.is_cancelled());
                assert_eq!(probe.completed(), 0);
            }
            Poll::Pending => panic!("done task pending"),
        }
        drop(task);
        finish(&set, &probe, 1);
    });
}
