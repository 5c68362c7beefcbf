//! The combinators' synchronization: the `WakeSet` that lets `gather_all`,
//! `as_completed` and `wait` poll only woken children, on its own; and, on a
//! one-worker runtime, `shield` dropped while its task completes and `wait`
//! registering with a task that completes meanwhile.
#![cfg(loom)]

use corio::loom_hooks::WakeSet;
use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use loom_tests::{block_on, model, signal, Probe};
use std::collections::VecDeque;
use std::task::Waker;

fn runtime() -> corio::Runtime {
    corio::Builder::new().worker_threads(1).build().unwrap()
}

/// The parent's waker in the `WakeSet` model: a flag under a loom mutex
/// and a condvar. (Not `thread::park`: the children may wake the parent
/// after it is done, and a stale unpark would disturb loom's bookkeeping of
/// the main thread's later blocking calls.)
struct Parent {
    woken: Mutex<bool>,
    cv: Condvar,
    _alive: Arc<()>,
}

impl Parent {
    /// Blocks until woken since the last call. A wake that never comes is
    /// a deadlock, which loom reports.
    fn wait(&self) {
        let mut woken = self.woken.lock().unwrap();
        while !*woken {
            woken = self.cv.wait(woken).unwrap();
        }
        *woken = false;
    }
}

impl std::task::Wake for Parent {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// Two children, each woken twice by its own thread while the parent drains
/// and polls. Each "child" is a counter its thread bumps (`Relaxed`: only
/// the wake set orders it) before each wake; the parent is done once it has
/// seen both counters at 2. A lost wake leaves the parent waiting forever,
/// which loom reports as a deadlock; a missing happens-before (the second
/// wake coalescing into the first without publishing its bump) leaves it
/// waiting for a count it never sees: the same deadlock.
#[test]
fn wake_set_two_children_woken_from_two_threads() {
    model(
        "combinators::wake_set_two_children_woken_from_two_threads",
        || {
            let set = WakeSet::new(2);
            let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
            let parent = std::sync::Arc::new(Parent {
                woken: Mutex::new(false),
                cv: Condvar::new(),
                _alive: Arc::new(()),
            });
            let parent_waker = Waker::from(parent.clone());
            let mut woken = VecDeque::new();
            let mut seen = [false, false];
            let mut started = [false, false];
            let mut threads = Vec::new();
            loop {
                // One poll of the parent.
                set.drain(&parent_waker, &mut woken);
                while let Some(i) = woken.pop_front() {
                    let i = i as usize;
                    if seen[i] {
                        continue;
                    }
                    // The child's poll: clear the flag, then look.
                    let waker = set.prepare(i as u32);
                    if counts[i].load(Relaxed) == 2 {
                        seen[i] = true;
                    } else if !started[i] {
                        started[i] = true;
                        let counts = counts.clone();
                        threads.push(thread::spawn(move || {
                            counts[i].fetch_add(1, Relaxed);
                            waker.wake_by_ref();
                            counts[i].fetch_add(1, Relaxed);
                            waker.wake();
                        }));
                    }
                }
                if seen == [true, true] {
                    break;
                }
                parent.wait();
            }
            drop(set);
            for t in threads {
                t.join().unwrap();
            }
        },
    );
}

/// `shield`'s task completes on the worker while the caller drops the
/// `Shield`: the task is detached, not cancelled; its future completes once
/// and its output is dropped exactly once (by the task side).
#[test]
fn shield_dropped_while_its_task_completes() {
    model(
        "combinators::shield_dropped_while_its_task_completes",
        || {
            let rt = runtime();
            let probe = Probe::new();
            let (tx, rx) = signal();
            let tracked = probe.track(async move {
                tx.fire();
                3
            });
            rt.block_on(async move {
                let shielded = corio::shield(tracked);
                drop(shielded);
                rx.await;
            });
            drop(rt);
            // The poll that fired also returned `Ready`: shutdown waits for it.
            assert_eq!(probe.completed(), 1);
            probe.assert_all_dropped(1);
        },
    );
}

/// `wait` registers its waker with a task (`Task::poll_done`) while the
/// worker completes it: `wait` returns the task as done, and its output is
/// still there to await.
#[test]
fn wait_registers_while_the_task_completes() {
    model(
        "combinators::wait_registers_while_the_task_completes",
        || {
            let rt = runtime();
            let probe = Probe::new();
            let task = rt.spawn(probe.track(async { 5u32 }));
            let (done, pending) = rt.block_on(corio::wait(
                vec![task],
                corio::ReturnWhen::AllCompleted,
                None,
            ));
            assert!(pending.is_empty());
            let task = done.into_iter().next().unwrap();
            assert!(task.is_done());
            assert_eq!(block_on(task).unwrap().value, 5);
            drop(rt);
            probe.assert_all_dropped(1);
        },
    );
}
