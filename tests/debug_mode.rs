//! Debug mode (asyncio's `loop.set_debug(True)`): slow polls and unobserved
//! task panics are reported on stderr. Ported intent from CPython's
//! `test_asyncio/test_base_events.py::test_log_slow_callbacks` and
//! `test_tasks.py::test_exception_traceback` / "Task exception was never
//! retrieved" (`test_futures.py::test_tb_logger_*`).
//!
//! stderr is captured by re-running this test binary on one `child_*` test
//! with `CHILD` set in its environment: each `child_*` test does its work
//! only then (and returns at once in a normal run), and the parent test
//! asserts on what the child printed. A child that fails its own assertions
//! exits non-zero, which fails the parent.

mod common;

use common::*;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Set in a child's environment.
const CHILD: &str = "CORIO_DEBUG_MODE_TEST_CHILD";

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs child test `name` (with `env` set, and `CORIO_DEBUG` unset unless
/// `env` sets it); returns its stdout and stderr.
fn run_child(name: &str, env: &[(&str, &str)]) -> (String, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("CORIO_DEBUG")
        // A backtrace makes the panic hook slow enough to turn a panicking
        // poll into a slow one as well; the tests count each kind apart, but
        // keep the children's output short.
        .env("RUST_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("re-running the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "child {name} failed: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("1 passed"),
        "child {name} did not run exactly one test:\n{stdout}"
    );
    (stdout, stderr)
}

/// The `corio debug:` lines of `stderr`.
fn debug_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("corio debug:"))
        .collect()
}

/// The slow-poll reports in `stderr`.
fn slow_lines(stderr: &str) -> Vec<&str> {
    debug_lines(stderr)
        .into_iter()
        .filter(|l| l.contains(" took "))
        .collect()
}

/// The one slow-poll report that names `location` (a shared machine may
/// make some other poll slow too: only the subject's report is asserted).
fn slow_line_at<'a>(stderr: &'a str, location: &str) -> &'a str {
    let lines: Vec<&str> = slow_lines(stderr)
        .into_iter()
        .filter(|l| l.contains(location))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one report of the poll at {location}:\n{stderr}"
    );
    lines[0]
}

/// The unobserved-panic reports in `stderr`.
fn unobserved_lines(stderr: &str) -> Vec<&str> {
    debug_lines(stderr)
        .into_iter()
        .filter(|l| l.contains("never observed"))
        .collect()
}

/// The spawn location a child printed (`at=FILE:LINE`), as debug mode shows
/// it (`FILE:LINE:`).
fn printed_location(stdout: &str) -> String {
    // The test harness prints `test NAME ... ` first, on the same line.
    let line = stdout
        .lines()
        .find_map(|l| Some(&l[l.find("at=")? + 3..]))
        .expect("the child printed its spawn location");
    format!("{}:", line.split_whitespace().next().unwrap_or(""))
}

fn debug_rt(on: Option<bool>) -> corio::Runtime {
    let mut b = corio::Builder::new().worker_threads(1);
    if let Some(on) = on {
        b = b.debug(on);
    }
    b.build().unwrap()
}

/// A named task that blocks its worker for `d`; prints where it was
/// spawned.
fn slow_named_task(rt: &corio::Runtime, d: Duration) {
    rt.block_on(async move {
        #[rustfmt::skip]
        let (task, at) = (corio::task::Builder::new().name("sleepy").spawn(async move { thread::sleep(d) }), format!("{}:{}", file!(), line!()));
        println!("at={at}");
        task.await.unwrap();
    });
}

#[test]
fn child_slow_task() {
    if !is_child() {
        return;
    }
    slow_named_task(&debug_rt(Some(true)), Duration::from_millis(150));
}

// test_base_events.py::test_log_slow_callbacks: a poll over
// slow_callback_duration (100 ms by default) is reported with the task's
// name and spawn location.
#[test]
fn slow_task_is_reported() {
    let (stdout, stderr) = run_child("child_slow_task", &[]);
    let line = slow_line_at(&stderr, &printed_location(&stdout));
    assert!(line.contains("took"), "{line}");
    assert!(line.contains("\"sleepy\""), "{line}");
    assert!(line.contains("debug_mode.rs"), "{line}");
}

#[test]
fn child_slow_task_env() {
    if !is_child() {
        return;
    }
    slow_named_task(&debug_rt(None), Duration::from_millis(150));
}

// CORIO_DEBUG=1 turns debug mode on without a builder call.
#[test]
fn corio_debug_env_turns_debug_mode_on() {
    let (stdout, stderr) = run_child("child_slow_task_env", &[("CORIO_DEBUG", "1")]);
    let line = slow_line_at(&stderr, &printed_location(&stdout));
    assert!(line.contains("took"), "{line}");
}

// Without the environment variable (nor a builder call) debug mode is off.
#[test]
fn debug_mode_is_off_by_default() {
    let (_, stderr) = run_child("child_slow_task_env", &[]);
    assert!(debug_lines(&stderr).is_empty(), "{stderr}");
}

// `CORIO_DEBUG=0` leaves it off.
#[test]
fn corio_debug_zero_is_off() {
    let (_, stderr) = run_child("child_slow_task_env", &[("CORIO_DEBUG", "0")]);
    assert!(debug_lines(&stderr).is_empty(), "{stderr}");
}

#[test]
fn child_slow_task_debug_false() {
    if !is_child() {
        return;
    }
    slow_named_task(&debug_rt(Some(false)), Duration::from_millis(150));
}

// An explicit `debug(false)` wins over the environment.
#[test]
fn explicit_debug_false_overrides_env() {
    let (_, stderr) = run_child("child_slow_task_debug_false", &[("CORIO_DEBUG", "1")]);
    assert!(debug_lines(&stderr).is_empty(), "{stderr}");
}

#[test]
fn child_fast_task() {
    if !is_child() {
        return;
    }
    // A threshold well above the default: a poll that does next to nothing
    // must not be reported even if the shared machine deschedules the
    // worker for a while.
    let rt = corio::Builder::new()
        .worker_threads(1)
        .debug(true)
        .slow_callback_duration(Duration::from_secs(2))
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..10 {
            let t = corio::task::Builder::new()
                .name("quick")
                .spawn(async move { i * 2 });
            assert_eq!(t.await.unwrap(), i * 2);
        }
    });
}

// test_base_events.py::test_log_slow_callbacks, the other side: fast polls
// are not reported.
#[test]
fn fast_task_is_not_reported() {
    let (_, stderr) = run_child("child_fast_task", &[]);
    assert!(debug_lines(&stderr).is_empty(), "{stderr}");
}

#[test]
fn child_custom_threshold() {
    if !is_child() {
        return;
    }
    let rt = corio::Builder::new()
        .worker_threads(1)
        .debug(true)
        .slow_callback_duration(Duration::from_millis(20))
        .build()
        .unwrap();
    slow_named_task(&rt, Duration::from_millis(50));
}

// A lower slow_callback_duration catches shorter polls.
#[test]
fn custom_slow_callback_duration_is_used() {
    let (stdout, stderr) = run_child("child_custom_threshold", &[]);
    let line = slow_line_at(&stderr, &printed_location(&stdout));
    assert!(line.contains("\"sleepy\""), "{line}");
}

#[test]
fn child_high_threshold() {
    if !is_child() {
        return;
    }
    let rt = corio::Builder::new()
        .worker_threads(1)
        .debug(true)
        .slow_callback_duration(Duration::from_secs(30))
        .build()
        .unwrap();
    slow_named_task(&rt, Duration::from_millis(150));
}

// ... and a higher one lets longer polls through.
#[test]
fn higher_slow_callback_duration_is_used() {
    let (_, stderr) = run_child("child_high_threshold", &[]);
    assert!(debug_lines(&stderr).is_empty(), "{stderr}");
}

/// Spawns a task that panics, drops its handle before or after it finished
/// (`after`), and lets it complete before the runtime shuts down.
fn detached_panic(rt: corio::Runtime, after: bool) {
    let (tx, rx) = mpsc::channel();
    let (task, at) = rt.block_on(async move {
        #[rustfmt::skip]
        let spawned = (corio::task::Builder::new().name("doomed").spawn(async move { tx.send(()).unwrap(); panic!("kaboom-unobserved") }), format!("{}:{}", file!(), line!()));
        spawned
    });
    println!("at={at}");
    if after {
        assert!(wait_until(LONG, || task.is_done()));
        drop(task);
    } else {
        drop(task);
        rx.recv_timeout(LONG).unwrap();
    }
    // Shutdown waits for the worker to leave the poll that panicked.
    drop(rt);
}

#[test]
fn child_unobserved_panic_detached() {
    if !is_child() {
        return;
    }
    detached_panic(debug_rt(Some(true)), false);
}

#[test]
fn child_unobserved_panic_dropped_after() {
    if !is_child() {
        return;
    }
    detached_panic(debug_rt(Some(true)), true);
}

fn assert_unobserved_reported(stdout: &str, stderr: &str) {
    let lines = unobserved_lines(stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(line.contains("never observed"), "{line}");
    assert!(line.contains("kaboom-unobserved"), "{line}");
    assert!(line.contains("\"doomed\""), "{line}");
    assert!(line.contains(&printed_location(stdout)), "{line}");
}

// "Task exception was never retrieved": a panic in a task whose handle was
// dropped before it finished.
#[test]
fn unobserved_panic_of_a_detached_task_is_reported() {
    let (stdout, stderr) = run_child("child_unobserved_panic_detached", &[]);
    assert_unobserved_reported(&stdout, &stderr);
}

// ... and in a task whose handle was dropped, unread, after it finished.
#[test]
fn unobserved_panic_dropped_after_completion_is_reported() {
    let (stdout, stderr) = run_child("child_unobserved_panic_dropped_after", &[]);
    assert_unobserved_reported(&stdout, &stderr);
}

#[test]
fn child_unobserved_panic_debug_off() {
    if !is_child() {
        return;
    }
    detached_panic(debug_rt(Some(false)), false);
}

// Only debug mode reports it.
#[test]
fn unobserved_panic_is_not_reported_without_debug_mode() {
    let (_, stderr) = run_child("child_unobserved_panic_debug_off", &[]);
    assert!(debug_lines(&stderr).is_empty(), "{stderr}");
    // The panic itself still went through the panic hook.
    assert!(stderr.contains("kaboom-unobserved"), "{stderr}");
}

#[test]
fn child_observed_panic() {
    if !is_child() {
        return;
    }
    let rt = debug_rt(Some(true));
    rt.block_on(async {
        let err = corio::task::Builder::new()
            .name("doomed")
            .spawn(async { panic!("kaboom-observed") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
    });
    drop(rt);
}

// A panic read through the handle is observed: nothing to report.
#[test]
fn observed_panic_is_not_reported() {
    let (_, stderr) = run_child("child_observed_panic", &[]);
    assert!(unobserved_lines(&stderr).is_empty(), "{stderr}");
    assert!(stderr.contains("kaboom-observed"), "{stderr}");
}

#[test]
fn child_slow_callback() {
    if !is_child() {
        return;
    }
    let rt = debug_rt(Some(true));
    rt.block_on(async {
        let inner = corio::create_task(async {
            let (tx, rx) = oneshot();
            let lp = corio::get_running_loop();
            #[rustfmt::skip]
            let (_cb, at) = (lp.call_soon(move || { thread::sleep(Duration::from_millis(150)); tx.send(()) }), format!("{}:{}", file!(), line!()));
            println!("at={at}");
            rx.await.unwrap();
        });
        inner.await.unwrap();
    });
}

// test_base_events.py::test_log_slow_callbacks: callbacks are reported as
// tasks are, at the `call_soon` call site.
#[test]
fn slow_call_soon_callback_is_reported() {
    let (stdout, stderr) = run_child("child_slow_callback", &[]);
    let line = slow_line_at(&stderr, &printed_location(&stdout));
    assert!(line.contains("took"), "{line}");
}

#[test]
fn child_slow_block_on_future() {
    if !is_child() {
        return;
    }
    let rt = debug_rt(Some(true));
    rt.block_on(async {
        corio::yield_now().await;
        thread::sleep(Duration::from_millis(150));
    });
}

// `block_on`'s own future holds its thread too.
#[test]
fn slow_block_on_future_is_reported() {
    let (_, stderr) = run_child("child_slow_block_on_future", &[]);
    let line = slow_line_at(&stderr, "block_on");
    assert!(line.contains("took"), "{line}");
}

#[test]
fn child_slow_to_thread() {
    if !is_child() {
        return;
    }
    let rt = debug_rt(Some(true));
    rt.block_on(async {
        corio::to_thread(|| thread::sleep(Duration::from_millis(150)))
            .await
            .unwrap();
    });
}

// Blocking is what the pool is for: a long `to_thread` call is no slow
// callback.
#[test]
fn slow_to_thread_call_is_not_reported() {
    let (_, stderr) = run_child("child_slow_to_thread", &[]);
    assert!(debug_lines(&stderr).is_empty(), "{stderr}");
}

#[test]
fn child_unobserved_to_thread_panic() {
    if !is_child() {
        return;
    }
    let rt = debug_rt(Some(true));
    let (tx, rx) = mpsc::channel();
    rt.block_on(async move {
        drop(corio::to_thread(move || {
            tx.send(()).unwrap();
            panic!("kaboom-in-thread");
        }));
    });
    rx.recv_timeout(LONG).unwrap();
    // Shutdown waits for the running call.
    drop(rt);
}

// A detached `to_thread` call's panic is unobserved too.
#[test]
fn unobserved_to_thread_panic_is_reported() {
    let (_, stderr) = run_child("child_unobserved_to_thread_panic", &[]);
    let lines = unobserved_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("never observed"), "{stderr}");
    assert!(lines[0].contains("kaboom-in-thread"), "{stderr}");
}
