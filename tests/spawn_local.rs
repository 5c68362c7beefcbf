//! `spawn_local`: `!Send` tasks pinned to the thread that spawned them.

mod common;

use common::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

fn tid() -> ThreadId {
    thread::current().id()
}

#[test]
fn non_send_local_task_runs_on_the_block_on_thread() {
    watchdog(LONG, || {
        let rt = rt(2);
        let me = tid();
        let (seen, value) = rt.block_on(async {
            let shared = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    let shared = shared.clone();
                    corio::spawn_local(async move {
                        let t0 = tid();
                        corio::yield_now().await;
                        shared.borrow_mut().push(i);
                        corio::yield_now().await;
                        assert_eq!(tid(), t0);
                        tid()
                    })
                })
                .collect();
            let mut seen = Vec::new();
            for t in tasks {
                seen.push(t.await.unwrap());
            }
            let v = shared.borrow().len();
            (seen, v)
        });
        assert_eq!(value, 10);
        assert!(
            seen.iter().all(|t| *t == me),
            "a local task left the block_on thread"
        );
    });
}

#[test]
fn non_send_local_task_runs_on_the_spawning_worker() {
    watchdog(LONG, || {
        let rt = rt_named(2, "loc");
        for _ in 0..20 {
            let (spawner, inner) = rt.block_on(async {
                corio::create_task(async {
                    let spawner = tid();
                    let tasks: Vec<_> = {
                        // `!Send` state shared by the local tasks; the
                        // spawner's own future must stay `Send`.
                        let counter = Rc::new(Cell::new(0));
                        (0..20)
                            .map(|_| {
                                let counter = counter.clone();
                                corio::spawn_local(async move {
                                    let mut threads = vec![tid()];
                                    for _ in 0..3 {
                                        corio::yield_now().await;
                                        counter.set(counter.get() + 1);
                                        threads.push(tid());
                                    }
                                    (threads, thread_name(), Rc::strong_count(&counter))
                                })
                            })
                            .collect()
                    };
                    let mut inner = Vec::new();
                    for t in tasks {
                        let (threads, name, _) = t.await.unwrap();
                        inner.push((threads, name));
                    }
                    (spawner, inner)
                })
                .await
                .unwrap()
            });
            for (threads, name) in inner {
                assert!(name.starts_with("loc-"), "{name}");
                assert!(
                    threads.iter().all(|t| *t == spawner),
                    "a local task ran on another thread than its spawner"
                );
            }
        }
    });
}

#[test]
fn local_tasks_are_never_stolen_even_when_their_worker_is_busy() {
    watchdog(LONG * 2, || {
        let rt = rt_named(2, "busy");
        // Send tasks spawned the same way do get stolen during the busy spell
        // (so the setup can tell), local ones never.
        let mut any_send_stolen = false;
        for _attempt in 0..5 {
            let (owner, local_runs, send_threads) = rt.block_on(async {
                corio::create_task(async {
                    let owner = tid();
                    let runs: Arc<Mutex<Vec<(ThreadId, bool)>>> = Default::default();
                    let (locals, sends) = {
                        let busy_over = Rc::new(Cell::new(false));
                        let locals: Vec<_> = (0..20)
                            .map(|_| {
                                let busy_over = busy_over.clone();
                                let runs = runs.clone();
                                corio::spawn_local(async move {
                                    runs.lock().unwrap().push((tid(), busy_over.get()));
                                })
                            })
                            .collect();
                        let sends: Vec<_> = (0..20)
                            .map(|_| {
                                corio::create_task(async {
                                    spin_for(Duration::from_millis(1));
                                    tid()
                                })
                            })
                            .collect();
                        // Hold this worker without yielding.
                        spin_for(Duration::from_millis(150));
                        busy_over.set(true);
                        (locals, sends)
                    };
                    for t in locals {
                        t.await.unwrap();
                    }
                    let mut send_threads = Vec::new();
                    for t in sends {
                        send_threads.push(t.await.unwrap());
                    }
                    let runs = runs.lock().unwrap().clone();
                    (owner, runs, send_threads)
                })
                .await
                .unwrap()
            });
            assert_eq!(local_runs.len(), 20);
            for (thread, after_busy) in local_runs {
                assert_eq!(thread, owner, "a local task was stolen by another worker");
                assert!(after_busy, "a local task ran while its worker was busy");
            }
            if send_threads.iter().any(|t| *t != owner) {
                any_send_stolen = true;
                break;
            }
        }
        assert!(
            any_send_stolen,
            "control failed: no Send task was ever stolen from a busy worker"
        );
    });
}

#[test]
fn local_task_woken_from_another_thread_runs_on_its_worker() {
    watchdog(LONG, || {
        let rt = rt_named(2, "wk");
        let gate = Gate::new();
        let opener = {
            let gate = gate.clone();
            thread::spawn(move || {
                assert!(wait_until(LONG, || gate.pending_polls() > 0));
                thread::sleep(Duration::from_millis(50));
                gate.open();
            })
        };
        let (before, after, name) = rt.block_on({
            let gate = gate.clone();
            async move {
                corio::create_task(async move {
                    let marker = Rc::new(());
                    let local = corio::spawn_local(async move {
                        let before = tid();
                        gate.wait().await;
                        let _m = &marker;
                        (before, tid(), thread_name())
                    });
                    local.await.unwrap()
                })
                .await
                .unwrap()
            }
        });
        opener.join().unwrap();
        assert_eq!(
            before, after,
            "woken from a foreign thread, it moved threads"
        );
        assert!(name.starts_with("wk-"), "{name}");
    });
}

#[test]
fn local_task_woken_from_another_thread_runs_on_the_block_on_thread() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let opener = {
            let gate = gate.clone();
            thread::spawn(move || {
                assert!(wait_until(LONG, || gate.pending_polls() > 0));
                thread::sleep(Duration::from_millis(50));
                gate.open();
            })
        };
        let me = tid();
        let after = rt.block_on(async move {
            let rc = Rc::new(5);
            let t = corio::spawn_local(async move {
                gate.wait().await;
                assert_eq!(*rc, 5);
                tid()
            });
            t.await.unwrap()
        });
        opener.join().unwrap();
        assert_eq!(after, me);
    });
}

#[test]
// Tasks are returned from block_on unawaited on purpose.
#[allow(clippy::async_yields_async)]
fn local_tasks_spawned_in_one_block_on_progress_in_a_later_one() {
    watchdog(LONG, || {
        let rt = rt(2);
        let progress = Arc::new(AtomicUsize::new(0));
        let gate = Gate::new();
        // First call: spawn local tasks and return at once, before they run.
        let (never_polled, waiting) = rt.block_on({
            let (progress, gate) = (progress.clone(), gate.clone());
            async move {
                let p = progress.clone();
                let never_polled = corio::spawn_local(async move {
                    p.fetch_add(1, SeqCst);
                    tid()
                });
                let p = progress.clone();
                let waiting = corio::spawn_local(async move {
                    p.fetch_add(10, SeqCst);
                    gate.wait().await;
                    p.fetch_add(100, SeqCst);
                    tid()
                });
                (never_polled, waiting)
            }
        });
        // Nobody drives this thread's local tasks between the calls.
        gate.open();
        thread::sleep(Duration::from_millis(30));
        assert_eq!(
            progress.load(SeqCst),
            0,
            "local tasks ran although their thread was outside block_on"
        );
        assert!(!never_polled.is_done());
        // Second call: they run here, on this thread.
        let me = tid();
        let (a, b) =
            rt.block_on(async move { (never_polled.await.unwrap(), waiting.await.unwrap()) });
        assert_eq!((a, b), (me, me));
        assert_eq!(progress.load(SeqCst), 111);
        // A third call with an unrelated future also drives leftovers.
        let p = progress.clone();
        let leftover = rt.block_on(async move {
            corio::spawn_local(async move {
                corio::yield_now().await;
                p.fetch_add(1000, SeqCst);
            })
        });
        let done = rt.block_on(async {
            // Give the leftover a chance: yield a few times.
            for _ in 0..10 {
                corio::yield_now().await;
            }
            leftover.is_done()
        });
        assert!(
            done,
            "a leftover local task did not progress during a later block_on"
        );
        assert_eq!(progress.load(SeqCst), 1111);
    });
}

#[test]
fn local_tasks_of_two_block_on_threads_stay_apart() {
    watchdog(LONG, || {
        let rt = Arc::new(rt(2));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let rt = rt.clone();
                thread::spawn(move || {
                    let me = tid();
                    let seen = rt.block_on(async {
                        let tasks: Vec<_> = (0..50)
                            .map(|_| {
                                corio::spawn_local(async {
                                    corio::yield_now().await;
                                    tid()
                                })
                            })
                            .collect();
                        let mut seen = Vec::new();
                        for t in tasks {
                            seen.push(t.await.unwrap());
                        }
                        seen
                    });
                    seen.into_iter().all(|t| t == me)
                })
            })
            .collect();
        for t in threads {
            assert!(
                t.join().unwrap(),
                "a local task ran on the other block_on thread"
            );
        }
    });
}

#[test]
fn local_task_can_spawn_send_tasks_and_local_tasks() {
    watchdog(LONG, || {
        let rt = rt(2);
        let me = tid();
        let (inner_local, send_name) = rt.block_on(async {
            corio::spawn_local(async {
                let nested = corio::spawn_local(async { tid() }).await.unwrap();
                let send = corio::create_task(async { thread_name() }).await.unwrap();
                (nested, send)
            })
            .await
            .unwrap()
        });
        assert_eq!(inner_local, me);
        assert!(send_name.starts_with("corio-worker-"), "{send_name}");
    });
}

#[test]
fn cancelling_a_local_task_from_another_thread_drops_it_on_its_owner() {
    watchdog(LONG, || {
        let rt = rt(2);
        let me = tid();
        let dropped_on: Arc<Mutex<Option<ThreadId>>> = Default::default();
        let (tx, rx) = mpsc::channel::<corio::Task<()>>();
        let gate = Gate::new();
        let canceller = {
            let gate = gate.clone();
            thread::spawn(move || {
                let task = rx.recv().unwrap();
                assert!(wait_until(LONG, || gate.pending_polls() > 0));
                assert!(task.cancel());
                task
            })
        };
        let res = rt.block_on({
            let dropped_on = dropped_on.clone();
            async move {
                let rc = Rc::new(());
                let task = corio::spawn_local(async move {
                    let _rc = rc;
                    let _g = OnDrop::new(move || *dropped_on.lock().unwrap() = Some(tid()));
                    gate.wait().await
                });
                tx.send(task).unwrap();
                // Wait for the canceller to hand the handle back, polling the
                // thread's local tasks meanwhile.
                let task = loop {
                    if canceller.is_finished() {
                        break canceller.join().unwrap();
                    }
                    corio::yield_now().await;
                };
                task.await
            }
        });
        assert!(res.unwrap_err().is_cancelled());
        assert_eq!(
            *dropped_on.lock().unwrap(),
            Some(me),
            "a !Send future was dropped off its thread"
        );
    });
}

#[test]
fn current_task_and_all_tasks_see_local_tasks() {
    let rt = rt(1);
    rt.block_on(async {
        let t = corio::task::Builder::new()
            .name("local-one")
            .spawn_local(async {
                let info = corio::current_task().expect("no current task in a local task");
                corio::yield_now().await;
                info
            });
        assert_eq!(t.name(), Some("local-one"));
        assert!(
            corio::all_tasks().iter().any(|i| i.id() == t.id()),
            "local task missing from all_tasks"
        );
        let id = t.id();
        let info = t.await.unwrap();
        assert_eq!(info.id(), id);
        assert_eq!(info.name(), Some("local-one"));
        assert_eq!(info.location().file(), file!());
    });
}
