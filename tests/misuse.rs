//! Calling things where they cannot work panics with a message that says
//! what went wrong, instead of deadlocking or misbehaving.

mod common;

use common::*;
use corio::Handle;

#[test]
#[should_panic(expected = "must be called from inside a corio runtime")]
fn create_task_outside_a_runtime_panics() {
    drop(corio::create_task(async {}));
}

#[test]
fn entry_points_outside_a_runtime_name_themselves() {
    let msg = panic_of(|| corio::create_task(async {}));
    assert!(msg.contains("create_task"), "{msg}");
    assert!(
        msg.contains("must be called from inside a corio runtime"),
        "{msg}"
    );
    let msg = panic_of(|| corio::spawn(async {}));
    assert!(
        msg.contains("spawn must be called from inside a corio runtime"),
        "{msg}"
    );
    let msg = panic_of(|| corio::task::Builder::new().name("x").spawn(async {}));
    assert!(
        msg.contains("must be called from inside a corio runtime"),
        "{msg}"
    );
    let msg = panic_of(Handle::current);
    assert!(msg.contains("Handle::current"), "{msg}");
    assert!(
        msg.contains("must be called from inside a corio runtime"),
        "{msg}"
    );
    let msg = panic_of(corio::all_tasks);
    assert!(msg.contains("all_tasks"), "{msg}");
    assert!(Handle::try_current().is_none());
    assert!(corio::current_task().is_none());
}

#[test]
#[should_panic(expected = "spawn_local must be called from inside a corio runtime")]
fn spawn_local_outside_a_runtime_panics() {
    drop(corio::spawn_local(async {}));
}

#[test]
fn spawn_local_outside_names_the_caller_location() {
    let line = line!() + 1;
    let msg = panic_of(|| corio::spawn_local(async {}));
    assert!(msg.contains("spawn_local"), "{msg}");
    assert!(
        msg.contains(&format!("{}:{line}", file!())),
        "no caller location in {msg:?}"
    );
    let msg = panic_of(|| corio::task::Builder::new().spawn_local(async {}));
    assert!(msg.contains("spawn_local"), "{msg}");
}

#[test]
fn spawn_local_on_a_plain_thread_spawned_from_a_task_panics() {
    let rt = rt(1);
    let msg = rt.block_on(async {
        corio::create_task(async {
            std::thread::spawn(|| panic_of(|| corio::spawn_local(async {})))
                .join()
                .unwrap()
        })
        .await
        .unwrap()
    });
    assert!(
        msg.contains("spawn_local must be called from inside a corio runtime"),
        "{msg}"
    );
}

#[test]
fn block_on_inside_a_task_panics_with_a_clear_message() {
    watchdog(LONG, || {
        let rt = rt(2);
        let handle = rt.handle().clone();
        let err = rt.block_on(async move {
            corio::create_task(async move { handle.block_on(async { 1 }) })
                .await
                .unwrap_err()
        });
        assert!(err.is_panic());
        let msg = panic_message(&*err.into_panic());
        assert!(msg.contains("block_on inside a corio runtime"), "{msg}");
        // The worker that panicked still works.
        let met = rendezvous(rt.handle(), 2);
        assert!(met.iter().all(|m| m.met), "{met:?}");
    });
}

#[test]
fn block_on_of_another_runtime_inside_a_task_panics() {
    watchdog(LONG, || {
        let rt = rt(1);
        let other = rt_named(1, "other");
        let oh = other.handle().clone();
        let err = rt.block_on(async move {
            corio::create_task(async move { oh.block_on(async { 1 }) })
                .await
                .unwrap_err()
        });
        let msg = panic_message(&*err.into_panic());
        assert!(msg.contains("block_on inside a corio runtime"), "{msg}");
    });
}

#[test]
#[should_panic(expected = "block_on inside a corio runtime")]
fn block_on_inside_block_on_panics() {
    let rt = rt(1);
    rt.block_on(async { rt.block_on(async {}) });
}

#[test]
fn nested_block_on_panic_leaves_the_thread_usable() {
    watchdog(LONG, || {
        let rt = rt(1);
        let msg = panic_of(|| rt.block_on(async { rt.block_on(async { 1 }) }));
        assert!(msg.contains("block_on inside a corio runtime"), "{msg}");
        assert!(
            Handle::try_current().is_none(),
            "the outer block_on left its context on the thread after unwinding"
        );
        assert_eq!(
            rt.block_on(async { corio::spawn(async { 3 }).await.unwrap() }),
            3
        );
        // Nested block_on of a different runtime is refused too.
        let other = rt_named(1, "other");
        let msg = panic_of(|| rt.block_on(async { other.block_on(async { 1 }) }));
        assert!(msg.contains("block_on inside a corio runtime"), "{msg}");
    });
}

#[test]
#[should_panic(expected = "corio::run cannot be called from inside a corio runtime")]
fn run_inside_run_panics() {
    corio::run(async {
        corio::run(async {});
    });
}

#[test]
fn run_inside_a_task_panics_with_a_clear_message() {
    watchdog(LONG, || {
        let rt = rt(1);
        let err = rt.block_on(async {
            corio::create_task(async { corio::run(async { 1 }) })
                .await
                .unwrap_err()
        });
        let msg = panic_message(&*err.into_panic());
        assert!(
            msg.contains("corio::run cannot be called from inside a corio runtime"),
            "{msg}"
        );
        let msg = panic_of(|| rt.block_on(async { corio::run(async {}) }));
        assert!(
            msg.contains("corio::run cannot be called from inside a corio runtime"),
            "{msg}"
        );
    });
}

#[test]
#[should_panic(expected = "worker_threads")]
fn zero_worker_threads_panics() {
    let _ = corio::Builder::new().worker_threads(0);
}

#[test]
fn zero_worker_threads_message_names_the_argument() {
    let msg = panic_of(|| corio::Builder::new().worker_threads(0));
    assert!(msg.contains("worker_threads"), "{msg}");
    assert!(msg.contains('0'), "{msg}");
}

#[test]
fn polling_a_task_after_it_returned_its_output_panics_clearly() {
    let rt = rt(1);
    let mut t = rt.spawn(async { 1 });
    assert!(wait_until(LONG, || t.is_done()));
    assert!(matches!(poll_once(&mut t), std::task::Poll::Ready(Ok(1))));
    let msg = panic_of(|| poll_once(&mut t));
    assert!(msg.contains("polled again"), "{msg}");
}
