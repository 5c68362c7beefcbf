//! Spawning, joining and the basic guarantees of tasks: parallelism, many
//! tasks, panics, detaching, handles from foreign threads, `corio::run`.

mod common;

use common::*;
use corio::{Handle, JoinError, Runtime, Task};
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn unpin<T: Unpin>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<Handle>();
    send_sync::<Runtime>();
    send_sync::<Task<u32>>();
    send_sync::<JoinError>();
    send_sync::<corio::TaskInfo>();
    send_sync::<corio::task::TaskId>();
    send_sync::<corio::runtime::RuntimeMetrics>();
    unpin::<Task<Rc<u32>>>();
    error::<JoinError>();
    // A `Handle` is `Clone`.
    let rt = rt(1);
    let h: Handle = rt.handle().clone();
    assert_eq!(h.metrics().num_workers(), 1);
}

#[test]
fn tasks_run_in_parallel_on_two_workers() {
    watchdog(LONG * 2, || {
        let rt = rt_named(2, "par");
        let met = rendezvous(rt.handle(), 2);
        assert!(
            met.iter().all(|m| m.met),
            "two spinning tasks never ran at the same time on a 2-worker runtime: {met:?}"
        );
        assert_ne!(met[0].thread, met[1].thread, "both tasks ran on one thread");
        let names: HashSet<_> = met.iter().map(|m| m.thread_name.clone()).collect();
        let expected: HashSet<_> = ["par-0".to_owned(), "par-1".to_owned()].into();
        assert_eq!(
            names, expected,
            "worker threads are named `{{thread_name}}-{{i}}`"
        );
        assert!(met.iter().all(|m| m.thread != thread::current().id()));
    });
}

#[test]
fn hundred_thousand_tiny_tasks_complete_from_block_on() {
    watchdog(LONG, || {
        let rt = rt(2);
        let ran = Arc::new(AtomicUsize::new(0));
        let sum = rt.block_on({
            let ran = ran.clone();
            async move {
                let tasks: Vec<_> = (0..100_000u64)
                    .map(|i| {
                        let ran = ran.clone();
                        corio::create_task(async move {
                            ran.fetch_add(1, SeqCst);
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            }
        });
        assert_eq!(sum, 100_000 * 99_999 / 2);
        assert_eq!(ran.load(SeqCst), 100_000);
    });
}

#[test]
fn hundred_thousand_tiny_tasks_complete_from_a_task() {
    watchdog(LONG, || {
        let rt = rt(2);
        let sum = rt.block_on(async {
            corio::spawn(async {
                let tasks: Vec<_> = (0..100_000u64)
                    .map(|i| corio::spawn(async move { i * 2 }))
                    .collect();
                let mut sum = 0;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            })
            .await
            .unwrap()
        });
        assert_eq!(sum, 100_000 * 99_999);
    });
}

#[test]
fn detached_tiny_tasks_all_run() {
    // Nobody awaits these: they must run anyway.
    watchdog(LONG, || {
        let rt = rt(2);
        let total = Arc::new(AtomicU64::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..10_000u64 {
            let total = total.clone();
            let tx = tx.clone();
            drop(rt.spawn(async move {
                total.fetch_add(i, SeqCst);
                tx.send(()).unwrap();
            }));
        }
        for _ in 0..10_000 {
            rx.recv_timeout(LONG).expect("a detached task never ran");
        }
        assert_eq!(total.load(SeqCst), 10_000 * 9_999 / 2);
    });
}

#[test]
fn panicking_task_gives_join_error_and_runtime_keeps_working() {
    watchdog(LONG * 2, || {
        let rt = rt_named(2, "pnc");
        let err = rt.block_on(async {
            corio::create_task(async {
                panic!("boom");
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        let id = err.id();
        assert_eq!(err.to_string(), format!("task {id} panicked: boom"));
        assert!(format!("{err:?}").contains("boom"), "{err:?}");
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));

        // A formatted message is a `String` payload.
        let err = rt.block_on(async {
            corio::create_task(async {
                let n = 7;
                panic!("bad value {n}");
            })
            .await
            .unwrap_err()
        });
        assert_eq!(
            err.to_string(),
            format!("task {} panicked: bad value 7", err.id())
        );
        assert_eq!(
            err.into_panic()
                .downcast_ref::<String>()
                .map(String::as_str),
            Some("bad value 7")
        );

        // A payload that is not a string: no message, payload intact.
        let err = rt.block_on(async {
            corio::create_task(async { std::panic::panic_any(42i32) })
                .await
                .unwrap_err()
        });
        assert_eq!(err.to_string(), format!("task {} panicked", err.id()));
        let err = err.try_into_panic().expect("a panic, not a cancellation");
        assert_eq!(err.downcast_ref::<i32>(), Some(&42));

        // JoinError converts to io::Error.
        let io: std::io::Error = rt
            .block_on(async {
                corio::create_task(async { panic!("io") })
                    .await
                    .unwrap_err()
            })
            .into();
        assert!(io.to_string().contains("panicked: io"), "{io}");

        // Many more panics, on whichever workers: then both workers must still
        // run tasks, in parallel.
        let errs = rt.block_on(async {
            let tasks: Vec<_> = (0..200)
                .map(|i| {
                    corio::create_task(async move {
                        if i % 2 == 0 {
                            panic!("p{i}");
                        }
                        i
                    })
                })
                .collect();
            let mut errs = 0;
            for (i, t) in tasks.into_iter().enumerate() {
                match t.await {
                    Ok(v) => assert_eq!(v, i),
                    Err(e) => {
                        assert!(e.is_panic());
                        assert_eq!(i % 2, 0);
                        errs += 1;
                    }
                }
            }
            errs
        });
        assert_eq!(errs, 100);
        let met = rendezvous(rt.handle(), 2);
        assert!(
            met.iter().all(|m| m.met),
            "a worker died after panics: {met:?}"
        );
        assert_ne!(met[0].thread, met[1].thread);
        let v = rt.block_on(async { corio::create_task(async { 5 }).await.unwrap() });
        assert_eq!(v, 5);
    });
}

#[test]
fn panicking_task_drops_its_future_state() {
    let rt = rt(1);
    let drops = DropCounter::new();
    let g = drops.guard();
    let err = rt.block_on(async move {
        corio::create_task(async move {
            let _g = g;
            panic!("with guard");
        })
        .await
        .unwrap_err()
    });
    assert!(err.is_panic());
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn dropping_a_task_detaches_it() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let done = Flag::new();
        let drops = DropCounter::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let task = rt.spawn({
            let (gate, done, g) = (gate.clone(), done.clone(), drops.guard());
            async move {
                let _g = g;
                gate.wait().await;
                done.set();
                tx.send(thread_name()).unwrap();
            }
        });
        // Let it start waiting, then drop the handle.
        assert!(wait_until(LONG, || gate.pending_polls() > 0));
        drop(task);
        assert!(!done.get());
        assert_eq!(drops.dropped(), 0, "dropping the handle cancelled the task");
        gate.open();
        rx.recv_timeout(LONG)
            .expect("the detached task never finished");
        assert!(done.get());
        assert!(wait_until(LONG, || drops.dropped() == 1));
    });
}

#[test]
fn task_is_scheduled_even_if_never_awaited() {
    watchdog(LONG, || {
        let rt = rt(1);
        let ran = Flag::new();
        let task = rt.spawn({
            let ran = ran.clone();
            async move { ran.set() }
        });
        assert!(
            wait_until(LONG, || ran.get()),
            "an un-awaited task never ran"
        );
        assert!(wait_until(LONG, || task.is_done()));
        assert!(!task.is_cancelled());
    });
}

#[test]
fn handle_spawn_from_a_non_runtime_thread() {
    watchdog(LONG, || {
        let rt = rt_named(2, "hsp");
        let handle = rt.handle().clone();
        let (from_thread, task) = thread::spawn(move || {
            assert!(Handle::try_current().is_none());
            let task = handle.spawn(async { thread_name() });
            // Awaited from this foreign thread via block_on...
            let t2 = handle.spawn(async { 40 + 2 });
            (handle.block_on(t2).unwrap(), task)
        })
        .join()
        .unwrap();
        assert_eq!(from_thread, 42);
        // ...and a task spawned there awaited here.
        let name = rt.block_on(task).unwrap();
        assert!(name.starts_with("hsp-"), "ran on {name:?}, not a worker");
    });
}

#[test]
fn handle_try_current_inside_and_outside() {
    watchdog(LONG, || {
        assert!(Handle::try_current().is_none());
        let rt = rt(2);
        assert!(
            Handle::try_current().is_none(),
            "building a runtime enters nothing"
        );
        rt.block_on(async {
            let h = Handle::try_current().expect("None inside block_on");
            assert_eq!(h.metrics().num_workers(), 2);
            assert_eq!(Handle::current().metrics().num_workers(), 2);
            let inside = corio::create_task(async {
                let h = Handle::try_current().expect("None inside a task");
                // The handle found in a task spawns onto the same runtime.
                let t = h.spawn(async { Handle::try_current().map(|h| h.metrics().num_workers()) });
                (h.metrics().num_workers(), t.await.unwrap())
            })
            .await
            .unwrap();
            assert_eq!(inside, (2, Some(2)));
            let local = corio::spawn_local(async {
                Handle::try_current().map(|h| h.metrics().num_workers())
            });
            assert_eq!(local.await.unwrap(), Some(2));
        });
        assert!(
            Handle::try_current().is_none(),
            "block_on left its context behind"
        );
        // A std thread spawned from a task is not inside the runtime.
        let from_std = rt.block_on(async {
            corio::create_task(async {
                thread::spawn(|| Handle::try_current().is_some())
                    .join()
                    .unwrap()
            })
            .await
            .unwrap()
        });
        assert!(!from_std);
    });
}

#[test]
fn handles_of_two_runtimes_are_distinct() {
    let a = rt(1);
    let b = rt(2);
    let seen = a.block_on(async {
        let h = Handle::current();
        h.metrics().num_workers()
    });
    assert_eq!(seen, 1);
    // Spawning on `b` from inside `a` runs the task on `b`.
    let hb = b.handle().clone();
    let workers = a.block_on(async move {
        hb.spawn(async { Handle::current().metrics().num_workers() })
            .await
            .unwrap()
    });
    assert_eq!(workers, 2);
}

#[test]
fn run_accepts_a_non_send_future_and_returns_its_output() {
    let out = corio::run(async {
        let rc = Rc::new(std::cell::RefCell::new(vec![1]));
        corio::yield_now().await;
        rc.borrow_mut().push(2);
        let t = corio::create_task(async { 3 });
        let v = t.await.unwrap();
        rc.borrow_mut().push(v);
        Rc::try_unwrap(rc).unwrap().into_inner()
    });
    assert_eq!(out, vec![1, 2, 3]);
}

#[test]
fn run_uses_one_worker_per_core_named_corio_worker() {
    let cores = thread::available_parallelism().unwrap().get();
    let (n, names) = corio::run(async move {
        let n = Handle::current().metrics().num_workers();
        let mut names = HashSet::new();
        for _ in 0..50 {
            names.insert(corio::create_task(async { thread_name() }).await.unwrap());
        }
        (n, names)
    });
    assert_eq!(n, cores);
    for name in names {
        let idx: usize = name
            .strip_prefix("corio-worker-")
            .unwrap_or_else(|| panic!("unexpected worker name {name:?}"))
            .parse()
            .unwrap();
        assert!(idx < cores);
    }
}

#[test]
fn panic_in_runs_own_future_propagates_after_shutdown() {
    let drops = DropCounter::new();
    let g = drops.guard();
    let msg = panic_of(|| {
        corio::run(async move {
            // A pending task: it must be cancelled and dropped on the way out.
            drop(corio::create_task(async move {
                let _g = g;
                std::future::pending::<()>().await
            }));
            corio::yield_now().await;
            panic!("main future failed");
        })
    });
    assert_eq!(msg, "main future failed");
    assert_eq!(
        drops.dropped(),
        1,
        "the pending task was not dropped by the end of run"
    );
}

#[test]
#[should_panic(expected = "main future failed too")]
fn panic_in_runs_own_future_reaches_the_test() {
    corio::run(async {
        corio::yield_now().await;
        panic!("main future failed too");
    });
}

#[test]
fn block_on_panic_propagates_and_runtime_stays_usable() {
    let rt = rt(2);
    let msg = panic_of(|| rt.block_on(async { panic!("in block_on") }));
    assert_eq!(msg, "in block_on");
    assert!(Handle::try_current().is_none());
    assert_eq!(
        rt.block_on(async { corio::spawn(async { 9 }).await.unwrap() }),
        9
    );
}

#[test]
fn thread_stack_size_is_applied() {
    // 3 MiB of stack in one frame: more than std's 2 MiB default, so this
    // only works if the setting reached the worker threads.
    #[inline(never)]
    fn deep() -> u8 {
        let buf = std::hint::black_box([7u8; 3 << 20]);
        buf[(3 << 20) - 1]
    }
    let rt = corio::Builder::new()
        .worker_threads(1)
        .thread_stack_size(16 << 20)
        .build()
        .unwrap();
    let v = rt.block_on(async { corio::create_task(async { deep() }).await.unwrap() });
    assert_eq!(v, 7);
}

#[test]
fn task_outputs_can_be_non_trivial_and_are_dropped_once() {
    // An output that is never read is dropped (by the handle or the task).
    let drops = DropCounter::new();
    let rt = rt(2);
    let outputs: Vec<_> = (0..100)
        .map(|_| {
            let g = drops.guard();
            rt.spawn(async move { g })
        })
        .collect();
    rt.block_on(async {
        for (i, t) in outputs.into_iter().enumerate() {
            if i % 2 == 0 {
                drop(t.await.unwrap());
            } else {
                // Dropped unread, maybe before, maybe after completion.
                drop(t);
            }
        }
    });
    assert!(
        wait_until(LONG, || drops.dropped() == 100),
        "{}",
        drops.dropped()
    );
    drop(rt);
    assert_eq!(drops.dropped(), 100);
}

#[test]
fn awaiting_a_task_from_another_task_and_from_block_on() {
    let rt = rt(2);
    let log = Arc::new(Mutex::new(Vec::new()));
    let gate = Gate::new();
    let inner = rt.spawn({
        let gate = gate.clone();
        async move {
            gate.wait().await;
            "inner"
        }
    });
    let outer = rt.spawn({
        let log = log.clone();
        async move {
            let v = inner.await.unwrap();
            log.lock().unwrap().push(v);
            "outer"
        }
    });
    let opener = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        gate.open();
    });
    assert_eq!(rt.block_on(outer).unwrap(), "outer");
    opener.join().unwrap();
    assert_eq!(*log.lock().unwrap(), vec!["inner"]);
}

/// Regression: with three or more workers, worker startup must not fail (in
/// debug builds the seed of worker 2's steal RNG overflowed a `u32`
/// multiplication, the worker thread panicked, and the runtime then hung on
/// drop waiting for it).
#[test]
fn runtime_with_four_workers_runs_tasks_and_shuts_down() {
    let (tx, rx) = std::sync::mpsc::channel();
    let body = thread::spawn(move || {
        let rt = corio::Builder::new()
            .worker_threads(4)
            .thread_name("four")
            .build()
            .unwrap();
        let names = rt.block_on(async {
            let tasks: Vec<_> = (0..2000)
                .map(|_| {
                    corio::create_task(async {
                        spin_for(Duration::from_micros(20));
                        thread_name()
                    })
                })
                .collect();
            let mut names = HashSet::new();
            for t in tasks {
                names.insert(t.await.unwrap());
            }
            names
        });
        tx.send("block_on returned").unwrap();
        drop(rt);
        tx.send("runtime dropped").unwrap();
        names
    });
    assert_eq!(
        rx.recv_timeout(LONG),
        Ok("block_on returned"),
        "tasks on a 4-worker runtime never completed"
    );
    assert_eq!(
        rx.recv_timeout(LONG),
        Ok("runtime dropped"),
        "dropping a 4-worker runtime hung (a worker thread never exited?)"
    );
    let names = body.join().unwrap();
    assert!(names.iter().all(|n| n.starts_with("four-")), "{names:?}");
}
