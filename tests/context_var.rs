//! `ContextVar`: asyncio's `contextvars` semantics per task. Ported intent
//! from CPython's `test_context.py` and `test_asyncio/test_tasks.py`
//! (`test_context_*`), `test_asyncio/test_threads.py`
//! (`test_to_thread_contextvars`); each test names its original.

mod common;

use common::*;
use corio::ContextVar;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

fn var<T: Clone + Send + Sync + 'static>(name: &str) -> Arc<ContextVar<T>> {
    Arc::new(ContextVar::new(name))
}

// test_tasks.py::test_context_1 (the child sees what was set before it was
// created).
#[test]
fn child_sees_value_set_before_spawn() {
    watchdog(LONG, || {
        let rt = rt(2);
        let cvar = var::<String>("cvar");
        let seen = rt.block_on(async {
            cvar.set("yes".into());
            let v = cvar.clone();
            corio::create_task(async move {
                corio::yield_now().await;
                v.get()
            })
            .await
            .unwrap()
        });
        assert_eq!(seen.as_deref(), Some("yes"));
    });
}

// test_tasks.py::test_context_1 (`sub`'s set does not reach `main`), and
// test_context.py::test_context_getset_5 (a copied context is independent).
#[test]
fn child_set_is_seen_neither_by_parent_nor_by_sibling() {
    watchdog(LONG, || {
        let rt = rt(2);
        let cvar = var::<u32>("cvar");
        let (parent, sibling) = rt.block_on(async {
            let parent_task = {
                let cvar = cvar.clone();
                corio::create_task(async move {
                    cvar.set(1);
                    let (tx, rx) = oneshot::<()>();
                    let setter = {
                        let cvar = cvar.clone();
                        corio::create_task(async move {
                            cvar.set(2);
                            assert_eq!(cvar.get(), Some(2));
                            tx.send(());
                        })
                    };
                    // The sibling starts after the setter has set its value.
                    rx.await.unwrap();
                    let sibling = {
                        let cvar = cvar.clone();
                        corio::create_task(async move { cvar.get() })
                    };
                    setter.await.unwrap();
                    (cvar.get(), sibling.await.unwrap())
                })
            };
            parent_task.await.unwrap()
        });
        assert_eq!(parent, Some(1), "the child's set leaked into its parent");
        assert_eq!(sibling, Some(1), "the child's set leaked into a sibling");
    });
}

// test_tasks.py::test_context_1 (`main` sets 'yes' after creating `sub`,
// which still sees 'nope').
#[test]
fn parent_set_after_spawn_is_not_seen_by_child() {
    watchdog(LONG, || {
        let rt = rt(2);
        let cvar = Arc::new(ContextVar::with_default("cvar", "nope".to_string()));
        let (child_saw, parent_after) = rt.block_on(async {
            let (tx, rx) = oneshot::<()>();
            let child = {
                let cvar = cvar.clone();
                corio::create_task(async move {
                    // Runs only after the parent's set below.
                    rx.await.unwrap();
                    let saw = cvar.get();
                    cvar.set("something else".into());
                    saw
                })
            };
            cvar.set("yes".into());
            tx.send(());
            let saw = child.await.unwrap();
            (saw, cvar.get())
        });
        assert_eq!(child_saw.as_deref(), Some("nope"));
        assert_eq!(parent_after.as_deref(), Some("yes"));
    });
}

// test_tasks.py::test_context_3: 100 tasks, each setting its own value and
// suspending repeatedly, always see their own. Two workers, so a task may
// resume on another thread than the one it set its value on.
#[test]
fn hundred_concurrent_tasks_each_keep_their_own_value() {
    watchdog(LONG, || {
        let rt = rt(2);
        let cvar = Arc::new(ContextVar::with_default("cvar", -1i64));
        rt.block_on(async {
            let tasks: Vec<_> = (0..100i64)
                .map(|num| {
                    let cvar = cvar.clone();
                    corio::create_task(async move {
                        for i in 0..10 {
                            cvar.set(num * 100 + i);
                            if (num + i) % 3 == 0 {
                                corio::sleep(Duration::from_millis(1)).await;
                            } else {
                                corio::yield_now().await;
                            }
                            assert_eq!(cvar.get(), Some(num * 100 + i), "task {num}");
                        }
                        // A child made now sees this task's latest value.
                        let c = cvar.clone();
                        let child = corio::create_task(async move { c.get() });
                        assert_eq!(child.await.unwrap(), Some(num * 100 + 9));
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            // None of it reached the block_on future.
            assert_eq!(cvar.get(), Some(-1));
        });
    });
}

// test_context.py::test_context_getset_1: set/reset restores the previous
// value, then unset.
#[test]
fn reset_restores_previous_value_then_unset() {
    let c = ContextVar::<String>::new("c");
    assert_eq!(c.get(), None);
    let t0 = c.set("42".into());
    assert_eq!(c.get().as_deref(), Some("42"));
    let t = c.set("spam".into());
    assert_eq!(c.get().as_deref(), Some("spam"));
    c.reset(t);
    assert_eq!(c.get().as_deref(), Some("42"));
    c.reset(t0);
    assert_eq!(c.get(), None);
}

// test_context.py::test_context_getset_1, inside a task: reset works on the
// task's own context and leaves its parent's alone.
#[test]
fn reset_inside_a_task_touches_only_that_task() {
    watchdog(LONG, || {
        let rt = rt(1);
        let c = var::<u8>("c");
        rt.block_on(async {
            c.set(1);
            let child = {
                let c = c.clone();
                corio::create_task(async move {
                    let t = c.set(2);
                    corio::yield_now().await;
                    assert_eq!(c.get(), Some(2));
                    c.reset(t);
                    c.get()
                })
            };
            assert_eq!(child.await.unwrap(), Some(1));
            assert_eq!(c.get(), Some(1));
        });
    });
}

// test_context.py::test_context_getset_2: a token of another variable.
#[test]
fn reset_with_a_token_of_another_var_panics() {
    let v1 = ContextVar::<u32>::new("v1");
    let v2 = ContextVar::<u32>::new("v2");
    let t1 = v1.set(42);
    let msg = panic_of(|| v2.reset(t1));
    assert!(msg.contains("different ContextVar"), "{msg}");
    assert!(msg.contains("v2"), "the message names the variable: {msg}");
    // The failed reset changed nothing.
    assert_eq!(v1.get(), Some(42));
    assert_eq!(v2.get(), None);
}

// test_context.py::test_context_var_new_1 / test_context_getset_3: the
// default stands wherever the variable is unset, and reset returns to it.
#[test]
fn with_default_is_returned_while_unset() {
    watchdog(LONG, || {
        let c = Arc::new(ContextVar::with_default("c", 42u32));
        assert_eq!(c.name(), "c");
        assert_eq!(c.get(), Some(42));
        let rt = rt(1);
        rt.block_on(async {
            let child = {
                let c = c.clone();
                corio::create_task(async move {
                    let before = c.get();
                    let t = c.set(1);
                    let during = c.get();
                    c.reset(t);
                    (before, during, c.get())
                })
            };
            assert_eq!(child.await.unwrap(), (Some(42), Some(1), Some(42)));
        });
        assert_eq!(c.get(), Some(42));
    });
}

// test_tasks.py::test_context_2 (callbacks run in the context of the code
// that scheduled them, and their sets do not pollute it), for
// `spawn_local`, `call_soon` and `call_later`.
#[test]
fn spawn_local_and_callbacks_see_their_creators_context() {
    watchdog(LONG, || {
        let rt = rt(2);
        let cvar = var::<String>("cvar");
        rt.block_on(async {
            let inner = {
                let cvar = cvar.clone();
                corio::create_task(async move {
                    cvar.set("task".into());
                    let local = {
                        let cvar = cvar.clone();
                        corio::spawn_local(async move {
                            let saw = cvar.get();
                            cvar.set("local".into());
                            saw
                        })
                    };
                    assert_eq!(local.await.unwrap().as_deref(), Some("task"));

                    let lp = corio::get_running_loop();
                    let (tx, rx) = mpsc::channel();
                    for (j, delay) in [None, Some(Duration::from_millis(1))]
                        .into_iter()
                        .enumerate()
                    {
                        cvar.set(format!("yes{j}"));
                        let (done_tx, done) = oneshot::<()>();
                        let cb = {
                            let cvar = cvar.clone();
                            let tx = tx.clone();
                            move || {
                                tx.send(cvar.get()).unwrap();
                                // Must not pollute the scheduling task.
                                cvar.set("something else".into());
                                done_tx.send(());
                            }
                        };
                        match delay {
                            None => drop(lp.call_soon(cb)),
                            Some(d) => drop(lp.call_later(d, cb)),
                        }
                        done.await.unwrap();
                        assert_eq!(cvar.get(), Some(format!("yes{j}")));
                    }
                    drop(tx);
                    rx.iter().collect::<Vec<_>>()
                })
            };
            let seen = inner.await.unwrap();
            assert_eq!(
                seen,
                vec![Some("yes0".to_string()), Some("yes1".to_string())]
            );
        });
    });
}

// The block_on thread's own loop: `spawn_local` and `call_soon` from the
// block_on future copy its context (test_tasks.py::test_context_2).
#[test]
fn spawn_local_from_block_on_copies_the_root_context() {
    watchdog(LONG, || {
        let rt = rt(1);
        let cvar = var::<u32>("cvar");
        rt.block_on(async {
            cvar.set(5);
            let c = cvar.clone();
            let local = corio::spawn_local(async move {
                let saw = c.get();
                c.set(6);
                saw
            });
            assert_eq!(local.await.unwrap(), Some(5));
            let c = cvar.clone();
            let (tx, rx) = oneshot();
            corio::get_running_loop().call_soon(move || tx.send(c.get()));
            assert_eq!(rx.await.unwrap(), Some(5));
            assert_eq!(cvar.get(), Some(5));
        });
    });
}

// test_threads.py::test_to_thread_contextvars, plus: the call's own sets
// stay in the call.
#[test]
fn to_thread_sees_callers_values_and_its_sets_do_not_leak_back() {
    watchdog(LONG, || {
        let rt = rt(1);
        let cvar = var::<String>("test_ctx");
        rt.block_on(async {
            let task = {
                let cvar = cvar.clone();
                corio::create_task(async move {
                    cvar.set("parrot".into());
                    let c = cvar.clone();
                    let got = corio::to_thread(move || {
                        let saw = c.get();
                        c.set("inside".into());
                        (saw, c.get())
                    })
                    .await
                    .unwrap();
                    assert_eq!(got.0.as_deref(), Some("parrot"));
                    assert_eq!(got.1.as_deref(), Some("inside"));
                    assert_eq!(cvar.get().as_deref(), Some("parrot"));
                    // `run_in_executor` is the same call.
                    let c = cvar.clone();
                    let got = corio::get_running_loop()
                        .run_in_executor(move || c.get())
                        .await
                        .unwrap();
                    assert_eq!(got.as_deref(), Some("parrot"));
                })
            };
            task.await.unwrap();
        });
    });
}

// A pool thread runs many calls: one call's sets are not seen by the next
// (each gets its own caller's copy).
#[test]
fn to_thread_calls_do_not_see_each_others_sets() {
    watchdog(LONG, || {
        let rt = corio::Builder::new()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let cvar = var::<u32>("cvar");
        rt.block_on(async {
            for i in 0..5 {
                let c = cvar.clone();
                let saw = corio::to_thread(move || {
                    let saw = c.get();
                    c.set(100 + i);
                    saw
                })
                .await
                .unwrap();
                assert_eq!(saw, None, "call {i} saw a value left by an earlier call");
            }
        });
    });
}

// Code inside `to_thread` that creates tasks, or drives a runtime itself,
// does so in the call's context, including what the call set.
#[test]
fn to_thread_children_see_the_calls_sets() {
    watchdog(LONG, || {
        let other = common::rt(1);
        let rt = common::rt(1);
        let other_handle = other.handle().clone();
        let cvar = var::<u32>("cvar");
        rt.block_on(async {
            cvar.set(1);
            let c = cvar.clone();
            let (spawned, nested) = corio::to_thread(move || {
                c.set(2);
                let c2 = c.clone();
                let spawned = corio::create_task(async move { c2.get() });
                let c3 = c.clone();
                let nested = other_handle.block_on(async move { c3.get() });
                (spawned, nested)
            })
            .await
            .unwrap();
            assert_eq!(spawned.await.unwrap(), Some(2));
            assert_eq!(nested, Some(2));
            assert_eq!(cvar.get(), Some(1));
        });
        drop(other);
    });
}

// test_context.py::test_context_threads_1: plain threads, no runtime, each
// with a context of its own.
#[test]
fn plain_threads_outside_a_runtime_have_their_own_values() {
    watchdog(LONG, || {
        let cvar = var::<u32>("cvar");
        cvar.set(999);
        let threads: Vec<_> = (0..10u32)
            .map(|num| {
                let cvar = cvar.clone();
                thread::spawn(move || {
                    // A new thread starts empty: it is not a copy of its
                    // spawner's (std threads carry no context).
                    assert_eq!(cvar.get(), None);
                    for i in 0..10 {
                        cvar.set(num * 100 + i);
                        thread::sleep(Duration::from_millis(1));
                        assert_eq!(cvar.get(), Some(num * 100 + i));
                    }
                    num
                })
            })
            .collect();
        let results: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results, (0..10).collect::<Vec<_>>());
        assert_eq!(cvar.get(), Some(999));
    });
}

// A task spawned from a plain thread through a `Handle` copies that
// thread's context.
#[test]
fn handle_spawn_from_a_plain_thread_copies_its_context() {
    watchdog(LONG, || {
        let rt = rt(1);
        let handle = rt.handle().clone();
        let cvar = var::<u32>("cvar");
        let c = cvar.clone();
        let task = thread::spawn(move || {
            c.set(3);
            let c2 = c.clone();
            let task = handle.spawn(async move {
                let saw = c2.get();
                c2.set(4);
                saw
            });
            (task, c)
        })
        .join()
        .unwrap();
        let (task, c) = task;
        assert_eq!(rt.block_on(task).unwrap(), Some(3));
        assert_eq!(c.get(), None, "this thread never set it");
    });
}

// `block_on`'s own future is not a task: it reads and writes the calling
// thread's context. Tasks it creates copy that; their sets stay theirs.
#[test]
fn block_on_future_and_its_tasks() {
    watchdog(LONG, || {
        let rt = rt(2);
        let cvar = var::<u32>("cvar");
        cvar.set(1);
        rt.block_on(async {
            assert_eq!(cvar.get(), Some(1), "the caller's value is seen");
            cvar.set(2);
            let c = cvar.clone();
            let child = corio::create_task(async move {
                let saw = c.get();
                c.set(3);
                saw
            });
            assert_eq!(child.await.unwrap(), Some(2));
            assert_eq!(cvar.get(), Some(2), "the child's set leaked");
        });
    });
}

// asyncio.run / run_until_complete run the main coroutine in a task with a
// copy of the caller's context: what it sets does not outlive the call.
#[test]
fn block_on_sets_do_not_leak_to_the_caller() {
    watchdog(LONG, || {
        let rt = rt(1);
        let cvar = var::<u32>("cvar");
        cvar.set(1);
        rt.block_on(async {
            cvar.set(2);
            corio::yield_now().await;
            assert_eq!(cvar.get(), Some(2));
        });
        assert_eq!(cvar.get(), Some(1));
        // Also when the future panics.
        let c = cvar.clone();
        let msg = panic_of(|| {
            rt.block_on(async move {
                c.set(7);
                panic!("boom");
            })
        });
        assert!(msg.contains("boom"), "{msg}");
        assert_eq!(cvar.get(), Some(1));
        let other = corio::run(async {
            cvar.set(9);
            cvar.get()
        });
        assert_eq!(other, Some(9));
        assert_eq!(cvar.get(), Some(1));
    });
}

// A cancelled task's future is dropped in the task's own context, as the
// `finally:` of a cancelled coroutine runs in its task's context (so a drop
// guard that resets a token restores that task's value, not some other
// context's).
#[test]
fn cancelled_task_is_dropped_in_its_own_context() {
    watchdog(LONG, || {
        let rt = rt(1);
        let cvar = var::<u32>("cvar");
        let (seen_tx, seen_rx) = mpsc::channel();
        rt.block_on(async {
            let (started_tx, started) = oneshot::<()>();
            let task = {
                let cvar = cvar.clone();
                corio::create_task(async move {
                    cvar.set(10);
                    let c = cvar.clone();
                    let _guard = OnDrop::new(move || {
                        seen_tx.send(c.get()).unwrap();
                        // What a token-resetting guard would do.
                        c.set(11);
                    });
                    started_tx.send(());
                    std::future::pending::<()>().await;
                })
            };
            started.await.unwrap();
            // The task is idle (pending), so this cancels it at its next
            // scheduling point, on its worker.
            task.cancel();
            assert!(task.await.unwrap_err().is_cancelled());
            // Nothing of the task's reached this context.
            assert_eq!(cvar.get(), None);
        });
        assert_eq!(seen_rx.recv_timeout(LONG).unwrap(), Some(10));
        // Later work on the same worker does not see the guard's set.
        let c = cvar.clone();
        let after = rt.block_on(async move { corio::create_task(async move { c.get() }).await });
        assert_eq!(after.unwrap(), None);
        drop(rt);
    });
}

// Shutdown drops pending tasks in their own context too.
#[test]
fn task_dropped_at_shutdown_sees_its_own_context() {
    watchdog(LONG, || {
        let rt = rt(1);
        let cvar = var::<u32>("cvar");
        let (seen_tx, seen_rx) = mpsc::channel();
        rt.block_on(async {
            let (started_tx, started) = oneshot::<()>();
            let c = cvar.clone();
            let task = corio::create_task(async move {
                c.set(20);
                let c2 = c.clone();
                let _guard = OnDrop::new(move || seen_tx.send(c2.get()).unwrap());
                started_tx.send(());
                std::future::pending::<()>().await;
            });
            started.await.unwrap();
            drop(task);
        });
        drop(rt);
        assert_eq!(seen_rx.recv_timeout(LONG).unwrap(), Some(20));
        assert_eq!(cvar.get(), None);
    });
}

// Values of several types, several variables in one context.
#[test]
fn several_variables_are_independent() {
    let a = ContextVar::<u32>::new("a");
    let b = ContextVar::<String>::new("b");
    let c = ContextVar::<Vec<u8>>::with_default("c", vec![1]);
    let ta = a.set(1);
    b.set("x".into());
    assert_eq!(
        (a.get(), b.get().as_deref(), c.get()),
        (Some(1), Some("x"), Some(vec![1]))
    );
    a.reset(ta);
    assert_eq!((a.get(), b.get().as_deref()), (None, Some("x")));
    assert!(format!("{c:?}").contains("\"c\""));
}
