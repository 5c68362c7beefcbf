//! `TaskGroup`: joining, cancelling siblings on the first failure, reporting
//! every failure, panics, explicit cancels, dropping the group, children
//! adding children, and creating tasks into a group that takes no more.
//! Ported from the intent of CPython's `test_asyncio/test_taskgroups.py`
//! (each test names the originals it follows).

mod common;

use common::*;
use corio::{ChildError, ChildFailure, TaskGroup, TaskGroupError, TaskGroupHandle};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The error children return in these tests (asyncio's `MyExc` and
/// `ZeroDivisionError` stand-ins).
#[derive(Debug, PartialEq)]
struct MyErr(&'static str);

impl fmt::Display for MyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "my error: {}", self.0)
    }
}

/// Spins (holding the worker) until `cond` or the hang bound; returns `cond`.
fn spin_until(cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + LONG;
    while !cond() {
        if Instant::now() > deadline {
            return false;
        }
        std::hint::spin_loop();
    }
    true
}

fn error_of(failure: &ChildFailure) -> &ChildError {
    match failure {
        ChildFailure::Error(e) => e,
        ChildFailure::Panic(p) => panic!("expected an error, got a panic: {p}"),
    }
}

#[test]
fn public_types_are_send_sync_errors() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<TaskGroup>();
    send_sync::<TaskGroupHandle>();
    error::<TaskGroupError>();
    error::<ChildFailure>();
    // `E` itself need not be `Sync`: a `Cell` error still makes a `Sync`
    // `TaskGroupError`, readable through `downcast`.
    watchdog(LONG, || {
        let rt = rt(1);
        rt.block_on(async {
            #[derive(Debug)]
            struct NotSync(std::cell::Cell<u8>);
            impl fmt::Display for NotSync {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, "not sync {}", self.0.get())
                }
            }
            let tg = TaskGroup::new();
            tg.create_task(async { Err::<(), _>(NotSync(std::cell::Cell::new(4))) });
            let err: Box<dyn std::error::Error + Send + Sync> =
                Box::new(tg.join().await.unwrap_err());
            let source = err.source().expect("the first failure is the source");
            assert!(
                source.to_string().ends_with("failed: not sync 4"),
                "{source}"
            );
            let group = err.downcast::<TaskGroupError>().unwrap();
            let ChildFailure::Error(child) = group.into_failures().pop().unwrap() else {
                panic!("expected an error")
            };
            assert!(child.is::<NotSync>());
            assert_eq!(child.downcast::<NotSync>().unwrap().0.get(), 4);
        });
    });
}

/// test_taskgroup_01, test_taskgroup_02: every child succeeds; `join` gives
/// `Ok` and each handle gives its child's value, including a child created
/// after the group had been running for a while.
#[test]
fn all_children_succeed() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let t1 = tg.create_task(async {
                corio::sleep(Duration::from_millis(10)).await;
                Ok::<_, MyErr>(42)
            });
            corio::sleep(Duration::from_millis(15)).await;
            let t2 = tg.create_task(async {
                corio::sleep(Duration::from_millis(20)).await;
                Ok::<_, MyErr>(11)
            });
            tg.join().await.unwrap();
            assert_eq!(t1.await.unwrap(), 42);
            assert_eq!(t2.await.unwrap(), 11);
        });
    });
}

/// `join` on a group that never had a child returns `Ok` on its first poll
/// (also outside any runtime: it needs none).
#[test]
fn join_with_no_children_is_ok_at_once() {
    let tg = TaskGroup::new();
    assert!(tg.is_empty());
    let mut join = Box::pin(tg.join());
    assert!(matches!(poll_once(&mut join), Poll::Ready(Ok(()))));
}

/// test_taskgroup_03: cancelling one child through its own handle is not a
/// failure: the group keeps going and `join` is `Ok`.
#[test]
fn explicit_cancel_of_a_child_is_not_a_failure() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let gate = Gate::new();
            let t1 = tg.create_task({
                let gate = gate.clone();
                async move {
                    gate.wait().await;
                    Ok::<_, MyErr>(42)
                }
            });
            let t2 = tg.create_task({
                let gate = gate.clone();
                async move {
                    gate.wait().await;
                    Ok::<_, MyErr>(11)
                }
            });
            assert!(t1.cancel());
            let mut t1 = t1;
            assert!((&mut t1).await.unwrap_err().is_cancelled());
            assert!(t1.is_cancelled());
            assert_eq!(tg.len(), 1, "the cancelled child left, its sibling did not");
            gate.open();
            tg.join().await.unwrap();
            assert_eq!(t2.await.unwrap(), 11);
        });
    });
}

/// test_taskgroup_04, test_cancel_children_on_child_error: a child's `Err`
/// cancels its siblings (their drop guards run before `join` returns and
/// they never reach the code after their await), `join` reports the error,
/// the failed child's handle says it failed, and the siblings' handles say
/// cancelled.
#[test]
fn child_error_cancels_siblings() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let gate = Gate::new();
            let drops = DropCounter::new();
            let reached = Arc::new(AtomicUsize::new(0));
            let siblings: Vec<_> = (0..3)
                .map(|_| {
                    let (guard, reached) = (drops.guard(), reached.clone());
                    tg.create_task(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                        reached.fetch_add(1, SeqCst);
                        Ok::<_, MyErr>(())
                    })
                })
                .collect();
            let failing = tg.create_task({
                let gate = gate.clone();
                async move {
                    gate.wait().await;
                    Err::<(), _>(MyErr("zero division"))
                }
            });
            let failing_id = failing.id();
            gate.open();
            let err = tg.join().await.unwrap_err();
            assert_eq!(
                drops.dropped(),
                3,
                "join returned before a sibling was dropped"
            );
            assert_eq!(reached.load(SeqCst), 0);

            assert_eq!(err.failures().len(), 1, "{err:?}");
            let child = error_of(&err.failures()[0]);
            assert_eq!(child.task_id(), failing_id);
            assert_eq!(child.downcast_ref::<MyErr>(), Some(&MyErr("zero division")));
            assert_eq!(
                err.to_string(),
                format!(
                    "1 task of the group failed: task {failing_id} failed: my error: zero division"
                )
            );

            let handle_err = failing.await.unwrap_err();
            assert!(handle_err.is_failed(), "{handle_err:?}");
            assert!(!handle_err.is_cancelled() && !handle_err.is_panic());
            assert_eq!(
                handle_err.to_string(),
                format!("task {failing_id} failed: my error: zero division")
            );
            for sibling in siblings {
                assert!(sibling.await.unwrap_err().is_cancelled());
            }
        });
    });
}

/// test_cancel_children_on_child_error (its three failing `foo1`s, "racy when
/// the host is busy"): several children failing with the same error; however
/// many got to fail before the cancellation landed, each is reported once,
/// and the others are cancelled.
#[test]
fn racing_failures_are_each_reported_once() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    tg.create_task(async {
                        corio::yield_now().await;
                        Err::<(), _>(MyErr("zero division"))
                    })
                })
                .collect();
            let err = tg.join().await.unwrap_err();
            let mut failed = Vec::new();
            for task in tasks {
                let id = task.id();
                let e = task.await.unwrap_err();
                if e.is_failed() {
                    failed.push(id);
                } else {
                    assert!(e.is_cancelled(), "{e:?}");
                }
            }
            let reported: Vec<_> = err.failures().iter().map(|f| f.task_id()).collect();
            assert!(!reported.is_empty());
            let mut sorted = reported.clone();
            sorted.sort();
            failed.sort();
            assert_eq!(sorted, failed, "reported failures vs failed handles");
            for f in err.failures() {
                assert_eq!(
                    error_of(f).downcast_ref::<MyErr>(),
                    Some(&MyErr("zero division"))
                );
            }
        });
    });
}

/// Two children that fail in polls that overlap (each is still running when
/// the other's failure asks for its cancellation): both errors are in
/// `join`'s `TaskGroupError`, in its `Display` and its `Debug`.
#[test]
fn two_failures_before_the_cancel_lands_are_both_reported() {
    watchdog(LONG * 2, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let started = Arc::new(AtomicUsize::new(0));
            let mut ids = Vec::new();
            for name in ["first", "second"] {
                let started = started.clone();
                let task = tg.create_task(async move {
                    // Both children are inside a poll at once, so neither can
                    // be cancelled before it returns its error.
                    started.fetch_add(1, SeqCst);
                    assert!(
                        spin_until(|| started.load(SeqCst) == 2),
                        "children never met"
                    );
                    Err::<(), _>(MyErr(name))
                });
                ids.push(task.id());
            }
            let err = tg.join().await.unwrap_err();
            assert_eq!(err.failures().len(), 2, "{err:?}");
            let display = err.to_string();
            let debug = format!("{err:?}");
            assert!(
                display.starts_with("2 tasks of the group failed: "),
                "{display}"
            );
            for (id, name) in ids.iter().zip(["first", "second"]) {
                assert!(
                    display.contains(&format!("task {id} failed: my error: {name}")),
                    "{display}"
                );
                assert!(debug.contains(&format!("MyErr(\"{name}\")")), "{debug}");
            }
        });
    });
}

/// A panicking child is a failure like an `Err`: it cancels its siblings,
/// `join` reports it with the panic's message and payload, and its own handle
/// gives a panic `JoinError` with the message.
#[test]
fn panicking_child_is_a_failure() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let drops = DropCounter::new();
            let sibling = tg.create_task({
                let guard = drops.guard();
                async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                    Ok::<_, MyErr>(())
                }
            });
            let panicking = tg.create_task(async {
                corio::yield_now().await;
                if std::hint::black_box(true) {
                    panic!("kaboom");
                }
                Ok::<(), MyErr>(())
            });
            let id = panicking.id();
            let err = tg.join().await.unwrap_err();
            assert_eq!(drops.dropped(), 1);
            assert!(sibling.await.unwrap_err().is_cancelled());
            assert_eq!(
                err.to_string(),
                format!("1 task of the group failed: task {id} panicked: kaboom")
            );
            assert!(format!("{err:?}").contains("kaboom"));

            let handle_err = panicking.await.unwrap_err();
            assert!(handle_err.is_panic());
            assert_eq!(
                handle_err.to_string(),
                format!("task {id} panicked: kaboom")
            );
            assert_eq!(panic_message(&*handle_err.into_panic()), "kaboom");

            let ChildFailure::Panic(panic) = err.into_failures().pop().unwrap() else {
                panic!("expected a panic failure")
            };
            assert_eq!(panic.id(), id);
            // The group keeps the original payload (a `&str` here).
            let payload = panic.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaboom"));
        });
    });
}

/// test_cancellation, test_taskgroup_07, test_taskgroup_22: dropping the
/// group (here: dropping its `join` future, as cancelling the task in
/// `async with` does) cancels every child, which then runs no code after its
/// await.
#[test]
fn dropping_the_group_cancels_its_children() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let drops = DropCounter::new();
            let reached = Arc::new(AtomicUsize::new(0));

            let tg = TaskGroup::new();
            let make = |tg: &TaskGroup| {
                let (guard, reached) = (drops.guard(), reached.clone());
                tg.create_task(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                    reached.fetch_add(1, SeqCst);
                    Ok::<_, MyErr>(())
                })
            };
            let dropped: Vec<_> = (0..5).map(|_| make(&tg)).collect();
            drop(tg);
            for t in dropped {
                assert!(t.await.unwrap_err().is_cancelled());
            }
            assert_eq!(drops.dropped(), 5);

            let tg = TaskGroup::new();
            let joined: Vec<_> = (0..5).map(|_| make(&tg)).collect();
            let res = corio::wait_for(tg.join(), Duration::from_millis(20)).await;
            assert!(res.is_err(), "join of pending children returned");
            for t in joined {
                assert!(t.await.unwrap_err().is_cancelled());
            }
            assert_eq!(drops.dropped(), 10);
            assert_eq!(reached.load(SeqCst), 0);
        });
    });
}

/// A detached child (its `Task` dropped) is still the group's: `join` waits
/// for it and a failure cancels it.
#[test]
fn detached_children_are_still_joined_and_cancelled() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let gate = Gate::new();
            let done = Flag::new();
            drop(tg.create_task({
                let (gate, done) = (gate.clone(), done.clone());
                async move {
                    gate.wait().await;
                    done.set();
                    Ok::<_, MyErr>(())
                }
            }));
            let opener = corio::create_task({
                let gate = gate.clone();
                async move {
                    corio::sleep(Duration::from_millis(10)).await;
                    gate.open();
                }
            });
            tg.join().await.unwrap();
            assert!(
                done.get(),
                "join returned before its detached child finished"
            );
            opener.await.unwrap();

            let tg = TaskGroup::new();
            let drops = DropCounter::new();
            drop(tg.create_task({
                let guard = drops.guard();
                async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                    Ok::<_, MyErr>(())
                }
            }));
            tg.create_task(async { Err::<(), _>(MyErr("boom")) });
            assert_eq!(tg.join().await.unwrap_err().failures().len(), 1);
            assert_eq!(drops.dropped(), 1);
        });
    });
}

/// test_taskgroup_24: a child adds children to its own group; `join` waits
/// for them too.
#[test]
fn children_add_children_through_a_handle() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let finished = Arc::new(AtomicUsize::new(0));
            let handle = tg.handle();
            tg.create_task({
                let finished = finished.clone();
                async move {
                    corio::sleep(Duration::from_millis(5)).await;
                    for ms in [5, 10] {
                        let finished = finished.clone();
                        handle.create_task(async move {
                            corio::sleep(Duration::from_millis(ms)).await;
                            finished.fetch_add(1, SeqCst);
                            Ok::<_, MyErr>(())
                        });
                    }
                    Ok::<_, MyErr>(())
                }
            });
            tg.join().await.unwrap();
            assert_eq!(finished.load(SeqCst), 2);
        });
    });
}

/// test_taskgroup_25: hydras keep adding hydras until hercules fails; the
/// failure cancels them all (new ones included) and `join` returns.
#[test]
fn hydras_spawning_into_a_failing_group_stop() {
    fn hydra(g: TaskGroupHandle, count: Arc<AtomicUsize>) -> corio::Task<()> {
        let handle = g.clone();
        g.create_task(async move {
            count.fetch_add(1, SeqCst);
            corio::sleep(Duration::from_millis(1)).await;
            // The cap only guards the test against a starved `hercules`.
            if count.load(SeqCst) < 1000 {
                hydra(handle.clone(), count.clone());
                hydra(handle, count);
            }
            Ok::<_, MyErr>(())
        })
    }
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let count = Arc::new(AtomicUsize::new(0));
            let tg = TaskGroup::new();
            hydra(tg.handle(), count.clone());
            tg.create_task({
                let count = count.clone();
                async move {
                    while count.load(SeqCst) < 10 {
                        corio::sleep(Duration::from_millis(1)).await;
                    }
                    Err::<(), _>(MyErr("zero division"))
                }
            });
            let err = tg.join().await.unwrap_err();
            assert!(count.load(SeqCst) >= 10);
            assert_eq!(err.failures().len(), 1, "{err}");
            assert!(err.to_string().contains("zero division"), "{err}");
        });
    });
}

/// test_taskgroup_no_create_task_after_failure, test_taskgroup_finished:
/// once a child failed, or the group was joined or dropped, `create_task`
/// gives a task that is cancelled at once; its future is dropped unpolled.
#[test]
fn create_task_into_a_finished_group_is_cancelled_at_once() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let polled = Flag::new();
            let drops = DropCounter::new();
            let late = |create: &dyn Fn(Fut) -> corio::Task<u8>| {
                let (polled, guard) = (polled.clone(), drops.guard());
                create(Box::pin(async move {
                    let _guard = guard;
                    polled.set();
                    Ok::<_, MyErr>(1)
                }))
            };
            type Fut =
                std::pin::Pin<Box<dyn std::future::Future<Output = Result<u8, MyErr>> + Send>>;

            // After a failure.
            let tg = TaskGroup::new();
            let failing = tg.create_task(async { Err::<(), _>(MyErr("boom")) });
            assert!(failing.await.unwrap_err().is_failed());
            let task = late(&|f: Fut| tg.create_task(f));
            assert_eq!(tg.join().await.unwrap_err().failures().len(), 1);
            assert_eq!(
                drops.dropped(),
                1,
                "join returned before the late future was dropped"
            );
            assert!(task.await.unwrap_err().is_cancelled());

            // After `join` returned.
            let tg = TaskGroup::new();
            let handle = tg.handle();
            tg.join().await.unwrap();
            let task = late(&|f: Fut| handle.create_task(f));
            assert!(task.await.unwrap_err().is_cancelled());

            // After the group was dropped.
            let tg = TaskGroup::new();
            let handle = tg.handle();
            drop(tg);
            let task = late(&|f: Fut| handle.create_task(f));
            assert!(task.await.unwrap_err().is_cancelled());

            assert!(
                !polled.get(),
                "a task created into a finished group was polled"
            );
            assert_eq!(drops.dropped(), 3);
        });
    });
}

/// A sibling that is inside its last poll when the failure asks for its
/// cancellation finishes that poll and keeps its output (as `Task::cancel`).
#[test]
fn sibling_finishing_before_the_cancel_lands_keeps_its_output() {
    watchdog(LONG * 2, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let sibling_running = Flag::new();
            let failed_child_gone = Flag::new();
            let sibling = tg.create_task({
                let (running, gone) = (sibling_running.clone(), failed_child_gone.clone());
                async move {
                    running.set();
                    // The failing child's future is dropped after the group
                    // recorded its failure and asked to cancel this task.
                    assert!(
                        spin_until(|| gone.get()),
                        "the failing child never finished"
                    );
                    Ok::<_, MyErr>(7)
                }
            });
            tg.create_task({
                let (running, gone) = (sibling_running.clone(), failed_child_gone.clone());
                async move {
                    let _gone = OnDrop::new(move || gone.set());
                    assert!(spin_until(|| running.get()), "the sibling never started");
                    Err::<(), _>(MyErr("late"))
                }
            });
            let err = tg.join().await.unwrap_err();
            assert_eq!(err.failures().len(), 1);
            let mut sibling = sibling;
            assert_eq!((&mut sibling).await.unwrap(), 7);
            assert!(!sibling.is_cancelled());
        });
    });
}

/// test_taskgroup_23: `len` counts the children not done yet.
#[test]
fn len_counts_unfinished_children() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let tg = TaskGroup::new();
            let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
            for gate in &gates {
                let gate = gate.clone();
                tg.create_task(async move {
                    gate.wait().await;
                    Ok::<_, MyErr>(())
                });
            }
            assert_eq!(tg.len(), 3);
            gates[0].open();
            while tg.len() != 2 {
                corio::yield_now().await;
            }
            gates[1].open();
            gates[2].open();
            while !tg.is_empty() {
                corio::yield_now().await;
            }
            tg.join().await.unwrap();
        });
    });
}

/// test_taskgroup_13, test_taskgroup_14: groups nest; an inner group's
/// failure fails the outer child that joined it (its `TaskGroupError` is that
/// child's error), and an outer failure cancels an outer child that is
/// joining an inner group, whose drop cancels the inner children.
#[test]
fn nested_groups() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            // The inner child fails first (test_taskgroup_14).
            let outer = TaskGroup::new();
            outer.create_task(async {
                let inner = TaskGroup::new();
                inner.create_task(async { Err::<(), _>(MyErr("inner")) });
                inner.join().await
            });
            let err = outer.join().await.unwrap_err();
            let inner_err = error_of(&err.failures()[0])
                .downcast_ref::<TaskGroupError>()
                .expect("the outer child's error is the inner group's");
            assert_eq!(
                error_of(&inner_err.failures()[0]).downcast_ref::<MyErr>(),
                Some(&MyErr("inner"))
            );
            assert!(err.to_string().contains("my error: inner"), "{err}");

            // The outer child fails first (test_taskgroup_13).
            let drops = DropCounter::new();
            let outer = TaskGroup::new();
            outer.create_task({
                let guard = drops.guard();
                async move {
                    let inner = TaskGroup::new();
                    inner.create_task(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                        Ok::<_, MyErr>(())
                    });
                    inner.join().await
                }
            });
            outer.create_task(async {
                corio::yield_now().await;
                Err::<(), _>(MyErr("outer"))
            });
            let err = outer.join().await.unwrap_err();
            assert_eq!(err.failures().len(), 1);
            // Cancelling the outer child dropped its inner group, which
            // cancelled the inner child; it may still be on its way out.
            let deadline = Instant::now() + LONG;
            while drops.dropped() == 0 && Instant::now() < deadline {
                corio::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(drops.dropped(), 1);
        });
    });
}

/// Outside a runtime `create_task` panics with a message that says so, and
/// the group does not count a child.
#[test]
fn create_task_outside_a_runtime_panics() {
    let tg = TaskGroup::new();
    let msg = panic_of(|| tg.create_task(async { Ok::<_, MyErr>(()) }));
    assert!(msg.contains("TaskGroup::create_task"), "{msg}");
    assert!(msg.contains("inside a corio runtime"), "{msg}");
    assert!(tg.is_empty());
    let mut join = Box::pin(tg.join());
    assert!(matches!(poll_once(&mut join), Poll::Ready(Ok(()))));
}

/// Children are run by the runtime like any task: a runtime shut down under
/// a pending `join` cancels them, and the group ends empty.
#[test]
#[allow(clippy::async_yields_async)] // the child's `Task` is returned, not awaited
fn runtime_shutdown_cancels_children() {
    watchdog(LONG, || {
        let rt = rt(2);
        let drops = DropCounter::new();
        let tg = TaskGroup::new();
        let task = rt.block_on(async {
            let guard = drops.guard();
            tg.create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok::<_, MyErr>(())
            })
        });
        assert_eq!(tg.len(), 1);
        drop(rt);
        assert_eq!(drops.dropped(), 1);
        assert!(tg.is_empty());
        assert!(task.is_cancelled());
        let mut join = Box::pin(tg.join());
        assert!(matches!(poll_once(&mut join), Poll::Ready(Ok(()))));
    });
}
