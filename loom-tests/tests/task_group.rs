//! `TaskGroup` on a real runtime: a child's failure racing with a sibling's
//! completion, with `join`, and with the creation of another child. In every
//! interleaving `join` returns (a lost wakeup is a deadlock, which loom
//! reports) only after every child's future was dropped, with exactly the
//! failures that happened, and nothing leaks (loom reports leaked `Arc`s:
//! the group's state, held by its children, and the runtime, held by tasks).
#![cfg(loom)]

use corio::{ChildFailure, TaskGroup};
use loom_tests::{block_on, idle_runtime, model, Probe};

fn failed_with(res: Result<(), corio::TaskGroupError>, message: &str) {
    let err = res.expect_err("a child failed, join said Ok");
    assert_eq!(err.failures().len(), 1, "{err:?}");
    match &err.failures()[0] {
        ChildFailure::Error(e) => assert_eq!(e.to_string(), message),
        ChildFailure::Panic(p) => panic!("unexpected panic failure: {p}"),
    }
}

/// Two workers: one child fails while its sibling, on the other worker,
/// completes. The sibling either completes (keeps its output) or is
/// cancelled; exactly one failure is reported; `join` sees both done.
#[test]
fn failure_races_with_sibling_completion() {
    model("task_group::failure_races_with_sibling_completion", || {
        let rt = idle_runtime(2);
        let probe = Probe::new();
        let sibling_future = probe.track(async { 7 });
        let (res, sibling, dropped_at_join) = rt.block_on(async {
            let tg = TaskGroup::new();
            let sibling = tg.create_task(async move { Ok::<_, &str>(sibling_future.await.value) });
            tg.create_task(async { Err::<(), _>("boom") });
            let res = tg.join().await;
            (res, sibling, probe.future_drops())
        });
        failed_with(res, "boom");
        assert_eq!(
            dropped_at_join, 1,
            "join returned before the sibling was dropped"
        );
        match block_on(sibling) {
            Ok(v) => {
                assert_eq!(v, 7);
                assert_eq!(probe.completed(), 1);
            }
            Err(e) => {
                assert!(e.is_cancelled(), "{e}");
                assert_eq!(probe.completed(), 0);
            }
        }
        drop(rt);
        probe.assert_all_dropped(1);
    });
}

/// One worker: a child fails while the main thread is polling `join` (and
/// registering its waker); the failure cancels a pending sibling, whose drop
/// is what must wake `join`. `join` returns only once both are gone.
#[test]
fn failure_races_with_join() {
    model("task_group::failure_races_with_join", || {
        let rt = idle_runtime(1);
        let probe = Probe::new();
        let pending = probe.track(std::future::pending::<()>());
        let (res, sibling, dropped_at_join) = rt.block_on(async {
            let tg = TaskGroup::new();
            let sibling = tg.create_task(async move {
                pending.await;
                Ok::<(), &str>(())
            });
            tg.create_task(async { Err::<(), _>("boom") });
            let res = tg.join().await;
            (res, sibling, probe.future_drops())
        });
        failed_with(res, "boom");
        assert_eq!(
            dropped_at_join, 1,
            "join returned before the sibling was dropped"
        );
        assert!(block_on(sibling).unwrap_err().is_cancelled());
        drop(rt);
        probe.assert_all_dropped(1);
    });
}

/// One worker: a child is created while another child's failure is being
/// recorded (the window between reserving the new child's slot and storing
/// its cancel handle included). The new child is cancelled, whichever side
/// sees the other first (its future may run if it started before the
/// failure, never after), and `join` waits for its future to be dropped.
#[test]
fn create_task_races_with_failure() {
    model("task_group::create_task_races_with_failure", || {
        let rt = idle_runtime(1);
        let probe = Probe::new();
        let late_future = probe.track(std::future::pending::<()>());
        let (res, late, dropped_at_join) = rt.block_on(async {
            let tg = TaskGroup::new();
            tg.create_task(async { Err::<(), _>("boom") });
            let late = tg.create_task(async move {
                late_future.await;
                Ok::<(), &str>(())
            });
            let res = tg.join().await;
            (res, late, probe.future_drops())
        });
        failed_with(res, "boom");
        assert_eq!(
            dropped_at_join, 1,
            "join returned before the late child was dropped"
        );
        assert!(block_on(late).unwrap_err().is_cancelled());
        drop(rt);
        probe.assert_all_dropped(1);
    });
}
