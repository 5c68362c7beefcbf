//! `#[corio::test]` and `#[corio::main]`: the runtime they start, what the
//! body may return, and what happens to panics and leftover tasks.
//! `#[corio::main]` stands for `asyncio.run(main())`: the `main_*` tests
//! mirror test_runners.py's `RunTests.test_asyncio_run_*` cases, as each
//! says.

mod common;

use common::LONG;
use std::collections::HashSet;
use std::num::ParseIntError;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

/// Whether the current thread is one of corio's workers (named
/// `corio-worker-N` by default).
fn on_a_worker() -> bool {
    thread::current()
        .name()
        .is_some_and(|n| n.starts_with("corio-worker"))
}

#[corio::test]
async fn test_default_is_one_worker_beside_the_test_thread() {
    assert_eq!(corio::Handle::current().metrics().num_workers(), 1);
    // The body runs on the test's own thread; tasks run on the worker.
    assert!(!on_a_worker());
    let body_thread = thread::current().id();
    let (task_thread, on_worker) =
        corio::create_task(async { (thread::current().id(), on_a_worker()) })
            .await
            .unwrap();
    assert!(on_worker);
    assert_ne!(task_thread, body_thread);
}

#[corio::test(worker_threads = 2)]
async fn test_worker_threads_2_runs_tasks_on_two_workers_at_once() {
    assert_eq!(corio::Handle::current().metrics().num_workers(), 2);
    // Each task waits for the other to have started, so they can only both
    // finish if they run at the same time, on two threads.
    let started = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let started = started.clone();
            corio::create_task(async move {
                started.fetch_add(1, SeqCst);
                let deadline = Instant::now() + LONG;
                while started.load(SeqCst) < 2 && Instant::now() < deadline {
                    std::hint::spin_loop();
                }
                assert_eq!(started.load(SeqCst), 2, "the two tasks never ran at once");
                assert!(on_a_worker());
                thread::current().id()
            })
        })
        .collect();
    let mut threads = HashSet::new();
    for task in tasks {
        threads.insert(task.await.unwrap());
    }
    assert_eq!(threads.len(), 2, "both tasks ran on the same thread");
    assert!(!threads.contains(&thread::current().id()));
}

#[corio::test]
async fn test_body_need_not_be_send() {
    // An `Rc` held across an await: the body runs on the test thread, with
    // its local tasks.
    let shared = std::rc::Rc::new(std::cell::Cell::new(0));
    let local = corio::spawn_local({
        let shared = shared.clone();
        async move { shared.set(shared.get() + 1) }
    });
    local.await.unwrap();
    corio::yield_now().await;
    assert_eq!(shared.get(), 1);
}

#[corio::test]
async fn test_returning_ok_passes_and_question_mark_works() -> Result<(), ParseIntError> {
    let n: u32 = corio::create_task(async { "17".parse::<u32>() })
        .await
        .unwrap()?;
    assert_eq!(n, 17);
    Ok(())
}

#[corio::test]
#[should_panic(expected = "boom from the body")]
async fn test_should_panic_sees_the_body_panic() {
    corio::yield_now().await;
    panic!("boom from the body");
}

#[corio::test(worker_threads = 2)]
#[should_panic(expected = "boom with tasks pending")]
async fn test_panic_with_tasks_pending_still_shuts_down() {
    // The runtime is dropped while the panic unwinds; it must cancel this
    // task rather than wait for it.
    let _pending = corio::create_task(std::future::pending::<()>());
    corio::yield_now().await;
    panic!("boom with tasks pending");
}

#[corio::test]
#[ignore = "must stay ignored: it fails when run, which shows #[corio::test] keeps #[ignore]"]
async fn test_ignore_is_kept() {
    panic!("an #[ignore]d test ran");
}

/// Module items with names an expansion might use for its own locals: the
/// body must see these, and the expansion must not trip over them (a `let
/// body` in the expansion would be refused next to a `static body`).
fn runtime() -> &'static str {
    "the user's runtime()"
}
const BODY: u8 = 3;
#[allow(non_upper_case_globals)]
static body: u8 = 4;

#[corio::test]
async fn test_body_sees_the_items_around_it() {
    assert_eq!(runtime(), "the user's runtime()");
    assert_eq!(BODY + body, 7);
    let runtime = 1;
    assert_eq!(runtime, 1);
}

#[corio::test]
async fn test_return_inside_the_body_returns_its_value() -> Result<(), String> {
    if corio::create_task(async { true }).await.unwrap() {
        return Ok(());
    }
    Err("the early return was not taken".into())
}

// ---- #[corio::main] on functions other than a binary's `main` ----

mod visibility {
    /// Sums squares on two workers.
    #[corio::main(worker_threads = 2)]
    pub async fn sum_of_squares() -> u64 {
        let tasks: Vec<_> = (1..=10u64)
            .map(|i| corio::create_task(async move { i * i }))
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    }
}

// Mirrors test_runners.py's RunTests.test_asyncio_run_return.
#[test]
fn main_returns_the_body_value_and_keeps_visibility() {
    // `pub` kept: callable from outside its module.
    assert_eq!(visibility::sum_of_squares(), 385);
}

#[corio::main]
async fn default_worker_count() -> usize {
    corio::Handle::current().metrics().num_workers()
}

#[test]
fn main_default_is_one_worker_per_core() {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(default_worker_count(), cores);
}

#[corio::main]
async fn fails_with_question_mark() -> Result<u32, ParseIntError> {
    let n = "not a number".parse::<u32>()?;
    Ok(n)
}

#[test]
fn main_returns_the_body_err() {
    let err = fails_with_question_mark().unwrap_err();
    assert_eq!(err, "x".parse::<u32>().unwrap_err());
}

/// Drops of the pending task `leaves_a_task_pending` spawns.
static LEFTOVER_DROPS: AtomicUsize = AtomicUsize::new(0);

struct CountDrop;
impl Drop for CountDrop {
    fn drop(&mut self) {
        LEFTOVER_DROPS.fetch_add(1, SeqCst);
    }
}

#[corio::main(worker_threads = 1)]
async fn leaves_a_task_pending() -> usize {
    let guard = CountDrop;
    let task = corio::create_task(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    corio::yield_now().await;
    assert!(!task.is_done());
    // Detached, not cancelled: only the runtime's shutdown ends it.
    drop(task);
    LEFTOVER_DROPS.load(SeqCst)
}

// Mirrors test_runners.py's RunTests.test_asyncio_run_cancels_hanging_tasks.
#[test]
fn main_cancels_pending_tasks_before_returning() {
    common::watchdog(LONG, || {
        assert_eq!(leaves_a_task_pending(), 0, "dropped before the body ended");
        assert_eq!(LEFTOVER_DROPS.load(SeqCst), 1, "pending task not cancelled");
    });
}

#[corio::main]
async fn panics_in_body() {
    corio::yield_now().await;
    panic!("boom in main");
}

// Mirrors test_runners.py's RunTests.test_asyncio_run_raises.
#[test]
#[should_panic(expected = "boom in main")]
fn main_propagates_the_body_panic() {
    panics_in_body();
}

#[corio::main]
async fn nested() {}

// Mirrors test_runners.py's RunTests.test_asyncio_run_from_running_loop.
#[test]
#[should_panic(expected = "inside a corio runtime")]
fn main_called_inside_a_runtime_panics() {
    common::rt(1).block_on(async { nested() });
}
