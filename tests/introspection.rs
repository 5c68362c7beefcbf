//! Names, ids, `current_task`, `all_tasks` and `TaskInfo`.

mod common;

use common::*;
use corio::task::{TaskId, TaskState};
use corio::TaskInfo;
use std::collections::HashSet;
use std::sync::mpsc;

#[test]
fn builder_names_show_on_the_handle_and_inside() {
    let rt = rt(2);
    let (info, id, name, lines) = rt.block_on(async {
        let before = line!();
        let t = corio::task::Builder::new()
            .name("fetcher")
            .spawn(async { corio::current_task() });
        let after = line!();
        assert_eq!(t.name(), Some("fetcher"));
        let id = t.id();
        let name = t.name().map(str::to_owned);
        (t.await.unwrap(), id, name, before..after)
    });
    let info = info.expect("current_task() is None inside a task");
    assert_eq!(name.as_deref(), Some("fetcher"));
    assert_eq!(info.name(), Some("fetcher"));
    assert_eq!(info.id(), id);
    assert_eq!(info.state(), TaskState::Running);
    // `#[track_caller]`: the location is the spawn call in this file.
    assert_eq!(info.location().file(), file!());
    assert!(
        lines.contains(&info.location().line()),
        "{:?} not in {lines:?}",
        info.location()
    );
}

/// Checks that `info` was spawned in this file between the two lines.
#[track_caller]
fn spawned_between(info: &TaskInfo, lines: std::ops::Range<u32>) {
    assert_eq!(info.location().file(), file!());
    assert!(
        lines.contains(&info.location().line()),
        "spawn location {} not within lines {lines:?}",
        info.location()
    );
}

#[test]
fn unnamed_tasks_have_no_name_and_their_spawn_location() {
    let rt = rt(1);
    let (t_name, info, lines) = rt.block_on(async {
        let before = line!();
        let t = corio::create_task(async { corio::current_task().unwrap() });
        let after = line!();
        let n = t.name().map(str::to_owned);
        (n, t.await.unwrap(), before..after)
    });
    assert_eq!(t_name, None);
    assert_eq!(info.name(), None);
    spawned_between(&info, lines);
    // Same for `Runtime::spawn`, `Handle::spawn`, `spawn`, `spawn_local`.
    let before = line!();
    let t = rt.spawn(async { corio::current_task().unwrap() });
    let after = line!();
    spawned_between(&rt.block_on(t).unwrap(), before..after);
    let before = line!();
    let t = rt.handle().spawn(async { corio::current_task().unwrap() });
    let after = line!();
    spawned_between(&rt.block_on(t).unwrap(), before..after);
    let (info, lines) = rt.block_on(async {
        let before = line!();
        let t = corio::spawn(async { corio::current_task().unwrap() });
        let after = line!();
        (t.await.unwrap(), before..after)
    });
    spawned_between(&info, lines);
    let (info, lines) = rt.block_on(async {
        let before = line!();
        let t = corio::spawn_local(async { corio::current_task().unwrap() });
        let after = line!();
        (t.await.unwrap(), before..after)
    });
    spawned_between(&info, lines);
}

#[test]
fn current_task_is_none_outside_tasks() {
    assert!(corio::current_task().is_none());
    let rt = rt(1);
    rt.block_on(async {
        assert!(
            corio::current_task().is_none(),
            "block_on's own future is not a task"
        );
        // Still none after a task ran inline on this thread.
        corio::spawn_local(async { assert!(corio::current_task().is_some()) })
            .await
            .unwrap();
        assert!(corio::current_task().is_none());
    });
    assert!(corio::current_task().is_none());
}

#[test]
fn current_task_follows_nested_polls() {
    // A task polling another future that polls... the same task: ids stay
    // consistent across awaits and across spawns from inside.
    let rt = rt(2);
    rt.block_on(async {
        let outer = corio::task::Builder::new().name("outer").spawn(async {
            let me = corio::current_task().unwrap();
            let child = corio::task::Builder::new()
                .name("child")
                .spawn(async { corio::current_task().unwrap() });
            let child_info = child.await.unwrap();
            let again = corio::current_task().unwrap();
            (me, child_info, again)
        });
        let outer_id = outer.id();
        let (me, child, again) = outer.await.unwrap();
        assert_eq!(me.id(), outer_id);
        assert_eq!(again.id(), outer_id);
        assert_eq!(again.name(), Some("outer"));
        assert_eq!(child.name(), Some("child"));
        assert_ne!(child.id(), outer_id);
    });
}

#[test]
fn all_tasks_lists_pending_tasks_but_not_finished_ones() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        rt.block_on({
            let gate = gate.clone();
            async move {
                let pending: Vec<_> = (0..3)
                    .map(|i| {
                        let gate = gate.clone();
                        corio::task::Builder::new()
                            .name(format!("pending-{i}"))
                            .spawn(async move { gate.wait().await })
                    })
                    .collect();
                let local = corio::task::Builder::new()
                    .name("local-pending")
                    .spawn_local({
                        let gate = gate.clone();
                        async move { gate.wait().await }
                    });
                let finished = corio::task::Builder::new().name("finished").spawn(async {});
                while gate.waiters() < 4 || !finished.is_done() {
                    corio::yield_now().await;
                }
                let all = corio::all_tasks();
                let ids: HashSet<TaskId> = all.iter().map(TaskInfo::id).collect();
                for t in &pending {
                    assert!(ids.contains(&t.id()), "pending task missing: {all:?}");
                }
                assert!(
                    ids.contains(&local.id()),
                    "pending local task missing: {all:?}"
                );
                assert!(
                    !ids.contains(&finished.id()),
                    "a finished task (handle still alive) is listed: {all:?}"
                );
                for info in &all {
                    if pending.iter().any(|t| t.id() == info.id()) || info.id() == local.id() {
                        assert_eq!(info.state(), TaskState::Idle, "{info:?}");
                        assert!(info.name().unwrap().contains("pending"));
                        assert_eq!(info.location().file(), file!());
                    }
                }
                // The Handle sees the same tasks.
                let via_handle: HashSet<TaskId> = corio::Handle::current()
                    .all_tasks()
                    .iter()
                    .map(TaskInfo::id)
                    .collect();
                assert!(pending.iter().all(|t| via_handle.contains(&t.id())));
                // Cancelled ones disappear once done.
                let gone = pending[0].id();
                pending[0].cancel();
                while !pending[0].is_done() {
                    corio::yield_now().await;
                }
                assert!(!corio::all_tasks().iter().any(|i| i.id() == gone));
                gate.open();
                for t in pending {
                    let _ = t.await;
                }
                local.await.unwrap();
                assert!(
                    corio::all_tasks().is_empty(),
                    "tasks left after all finished: {:?}",
                    corio::all_tasks()
                );
            }
        });
    });
}

#[test]
fn all_tasks_reports_scheduled_and_running_states() {
    watchdog(LONG, || {
        let rt = rt(1);
        let h = rt.handle().clone();
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let blocker = rt.spawn(async move {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(LONG);
        });
        started_rx.recv_timeout(LONG).unwrap();
        let queued = rt.spawn(async {});
        let all = h.all_tasks();
        let state_of = |id| all.iter().find(|i| i.id() == id).map(TaskInfo::state);
        assert_eq!(state_of(blocker.id()), Some(TaskState::Running), "{all:?}");
        assert_eq!(state_of(queued.id()), Some(TaskState::Scheduled), "{all:?}");
        // A cancel request not yet acted on.
        assert!(queued.cancel());
        let all = h.all_tasks();
        let info = all.iter().find(|i| i.id() == queued.id()).unwrap();
        assert_eq!(info.state(), TaskState::Cancelling, "{all:?}");
        drop(release_tx);
        rt.block_on(async move {
            blocker.await.unwrap();
            assert!(queued.await.unwrap_err().is_cancelled());
        });
        assert!(h.all_tasks().is_empty());
    });
}

#[test]
fn task_info_and_task_debug_output() {
    let rt = rt(1);
    let (info, task_dbg) = rt.block_on(async {
        let gate = Gate::new();
        let t = corio::task::Builder::new().name("dbg-me").spawn({
            let gate = gate.clone();
            async move { gate.wait().await }
        });
        while gate.waiters() == 0 {
            corio::yield_now().await;
        }
        let info = corio::all_tasks()
            .into_iter()
            .find(|i| i.id() == t.id())
            .unwrap();
        let task_dbg = format!("{t:?}");
        gate.open();
        t.await.unwrap();
        (info, task_dbg)
    });
    let dbg = format!("{info:?}");
    assert!(dbg.contains("TaskInfo"), "{dbg}");
    assert!(dbg.contains("dbg-me"), "{dbg}");
    assert!(dbg.contains(&format!("{:?}", info.id())), "{dbg}");
    assert!(dbg.contains("Idle"), "{dbg}");
    assert!(dbg.contains(file!()), "location missing from {dbg}");
    assert!(task_dbg.contains("dbg-me"), "{task_dbg}");
    assert!(task_dbg.contains(&format!("{:?}", info.id())), "{task_dbg}");
    // Clone keeps everything.
    let c = info.clone();
    assert_eq!(
        (c.id(), c.name(), c.state()),
        (info.id(), info.name(), info.state())
    );
}

#[test]
fn task_ids_are_unique_and_displayable() {
    let rt = rt(2);
    let ids = rt.block_on(async {
        let tasks: Vec<_> = (0..1000).map(|_| corio::create_task(async {})).collect();
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.id()).collect();
        for t in tasks {
            t.await.unwrap();
        }
        ids
    });
    let set: HashSet<_> = ids.iter().copied().collect();
    assert_eq!(set.len(), 1000);
    let other = rt2_id();
    assert!(!set.contains(&other), "ids are reused across runtimes");
    let id = ids[0];
    assert_eq!(id.to_string(), format!("#{}", id.as_u64()));
    assert_eq!(format!("{id:?}"), format!("TaskId({})", id.as_u64()));
}

fn rt2_id() -> TaskId {
    let rt = rt(1);
    rt.spawn(async {}).id()
}
