//! `timeout`, `timeout_at` and `wait_for` against the scenarios of CPython's
//! `test_timeouts.py` and `test_waitfor.py` that have a Rust meaning (each
//! test names its originals). asyncio delivers `CancelledError` into the
//! inner coroutine; corio drops the inner future, so "the inner was
//! cancelled" is checked with drop guards.

mod common;

use common::{Flag, LONG};
use std::time::{Duration, Instant};

/// A future that sets `flag` when dropped.
fn guarded<F: std::future::Future>(
    flag: &Flag,
    fut: F,
) -> impl std::future::Future<Output = F::Output> {
    let guard = common::OnDrop::new({
        let flag = flag.clone();
        move || flag.set()
    });
    async move {
        let _guard = guard;
        fut.await
    }
}

/// test_timeout_basic, test_asyncio_wait_for_timeout: the deadline passes,
/// the inner future is dropped, and no less than the delay has elapsed.
#[test]
fn timeout_fires_after_the_delay_and_drops_the_inner() {
    corio::run(async {
        let dropped = Flag::new();
        let start = Instant::now();
        let r = corio::timeout(
            Duration::from_millis(20),
            guarded(&dropped, corio::sleep(LONG)),
        )
        .await;
        assert!(r.is_err());
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(dropped.get(), "the inner future outlived the timeout");
    });
}

/// test_timeout_at_basic: `timeout_at` keeps the instant it was given.
#[test]
fn timeout_at_reports_its_deadline() {
    corio::run(async {
        let when = Instant::now() + Duration::from_millis(20);
        let t = corio::timeout_at(when, corio::sleep(LONG));
        assert_eq!(t.deadline(), when);
        assert!(t.await.is_err());
        assert!(Instant::now() >= when);
    });
}

/// test_timeout_disabled, test_timeout_at_disabled: asyncio's `None` is
/// `Duration::MAX` here, "never", and neither panics nor overflows.
#[test]
fn a_max_timeout_never_fires() {
    corio::run(async {
        let r = corio::timeout(Duration::MAX, async {
            corio::sleep(Duration::from_millis(5)).await;
            7
        })
        .await;
        assert_eq!(r, Ok(7));
        let r = corio::wait_for(corio::yield_now(), Duration::MAX).await;
        assert_eq!(r, Ok(()));
    });
}

/// test_timeout_zero, test_wait_for_timeout_less_then_0_or_0: a zero
/// timeout around a future that has to wait times out at once.
#[test]
fn a_zero_timeout_times_out_a_waiting_future() {
    corio::run(async {
        let dropped = Flag::new();
        let start = Instant::now();
        let r = corio::wait_for(guarded(&dropped, corio::sleep(LONG)), Duration::ZERO).await;
        assert!(r.is_err());
        assert!(dropped.get());
        assert!(start.elapsed() < LONG);
    });
}

/// test_wait_for_timeout_less_then_0_or_0_future_done: a future that is
/// already done wins even at a zero timeout. (For a coroutine not started
/// yet, asyncio 3.11 cancels it before its first step; corio polls the
/// inner future once before looking at the clock, as tokio does, so one
/// that completes in its first poll also wins: see
/// `test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started`.)
#[test]
fn a_ready_future_wins_over_a_zero_timeout() {
    corio::run(async {
        assert_eq!(corio::wait_for(async { 5 }, Duration::ZERO).await, Ok(5));
        let done = corio::create_task(async { 6 });
        corio::sleep(Duration::from_millis(10)).await;
        assert!(done.is_done());
        assert_eq!(
            corio::wait_for(done, Duration::ZERO)
                .await
                .map(Result::unwrap),
            Ok(6)
        );
    });
}

/// test_timeout_in_the_past_sleep_zero: a deadline already in the past
/// times out a future that yields once.
#[test]
fn a_past_deadline_times_out_at_the_first_wait() {
    corio::run(async {
        let past = Instant::now() - Duration::from_millis(50);
        let r = corio::timeout_at(past, async {
            corio::yield_now().await;
            1
        })
        .await;
        assert!(r.is_err());
    });
}

/// test_foreign_exception_passed: a panic inside the timed future is not a
/// timeout; it propagates (here out of the task, into its `JoinError`), and
/// the worker survives.
#[test]
fn a_panic_inside_a_timeout_propagates() {
    corio::run(async {
        let t = corio::create_task(async {
            let _ = corio::timeout(Duration::from_secs(5), async {
                corio::yield_now().await;
                panic!("foreign");
            })
            .await;
        });
        let err = t.await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("foreign"), "{err}");
        // The runtime still runs tasks.
        assert_eq!(corio::create_task(async { 1 }).await.unwrap(), 1);
    });
}

/// test_foreign_cancel_doesnt_timeout_if_not_expired, test_cancel_wait_for,
/// test_cancel_blocking_wait_for, test_asyncio_wait_for_cancelled: the task
/// awaiting `wait_for` is cancelled before the deadline: the task reports a
/// cancellation (not a timeout), and the inner future is dropped with it.
#[test]
fn cancelling_the_outer_task_cancels_the_inner_not_a_timeout() {
    corio::run(async {
        let inner_dropped = Flag::new();
        let timed_out = Flag::new();
        let (d, t) = (inner_dropped.clone(), timed_out.clone());
        let task = corio::create_task(async move {
            let r = corio::wait_for(guarded(&d, corio::sleep(LONG)), Duration::from_secs(30)).await;
            if r.is_err() {
                t.set();
            }
        });
        corio::sleep(Duration::from_millis(10)).await;
        assert!(task.cancel());
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(inner_dropped.get());
        assert!(!timed_out.get());
    });
}

/// test_outer_task_is_not_cancelled: a timeout inside a task ends the
/// timed part only; the task goes on and finishes normally.
#[test]
fn a_timeout_does_not_cancel_the_task_around_it() {
    corio::run(async {
        let task = corio::create_task(async {
            let r = corio::timeout(Duration::from_millis(5), corio::sleep(LONG)).await;
            assert!(r.is_err());
            corio::sleep(Duration::from_millis(5)).await;
            "finished"
        });
        assert_eq!(task.await.unwrap(), "finished");
    });
}

/// test_nested_timeouts_concurrent, test_nested_timeouts_loop_busy: when
/// an inner timeout expires first, the inner reports it to the outer
/// body, and the outer, still in time, returns that report.
#[test]
fn the_shorter_inner_timeout_is_reported_inside() {
    corio::run(async {
        let r = corio::timeout(Duration::from_secs(5), async {
            corio::timeout(Duration::from_millis(10), corio::sleep(LONG)).await
        })
        .await;
        assert!(matches!(r, Ok(Err(_))), "{r:?}");
    });
}

/// test_wait_for_race_condition: the inner future becomes ready at the
/// deadline: its result wins, since the inner is polled before the clock
/// is read.
#[test]
fn an_inner_ready_at_the_deadline_wins() {
    corio::run(async {
        for _ in 0..20 {
            let inner = corio::sleep(Duration::from_millis(5));
            let r = corio::wait_for(inner, Duration::from_millis(5)).await;
            assert_eq!(r, Ok(()));
        }
    });
}

/// test_wait_for_waits_for_task_cancellation: corio differs on purpose.
/// `wait_for` drops what it was given, and dropping a `Task` detaches it,
/// so a timed-out task keeps running (the contract's rule); `cancel()` it
/// for asyncio's behaviour.
#[test]
fn wait_for_over_a_task_leaves_the_task_running() {
    corio::run(async {
        let finished = Flag::new();
        let f = finished.clone();
        let task = corio::create_task(async move {
            corio::sleep(Duration::from_millis(40)).await;
            f.set();
        });
        let id = task.id();
        assert!(corio::wait_for(task, Duration::from_millis(5))
            .await
            .is_err());
        assert!(corio::all_tasks().iter().any(|t| t.id() == id));
        assert!(common::wait_until(LONG, || finished.get()));
    });
}

/// `test_timeouts.py`'s task-group scenario (3.12: `test_timeout_taskgroup`):
/// a timeout around `TaskGroup::join` drops the group, which cancels every
/// child.
#[test]
fn a_timeout_around_a_task_group_cancels_its_children() {
    corio::run(async {
        let a = Flag::new();
        let b = Flag::new();
        let tg = corio::TaskGroup::new();
        for flag in [&a, &b] {
            let flag = flag.clone();
            tg.create_task(async move {
                let _guard = common::OnDrop::new(move || flag.set());
                corio::sleep(LONG).await;
                Ok::<_, String>(())
            });
        }
        let r = corio::timeout(Duration::from_millis(10), tg.join()).await;
        assert!(r.is_err());
        assert!(common::wait_until(LONG, || a.get() && b.get()));
    });
}

/// test_timeout_without_task: outside a runtime there is no timer to wait
/// on; polling says so clearly.
#[test]
fn a_timeout_outside_a_runtime_panics_clearly() {
    let r = std::panic::catch_unwind(|| {
        let mut t = Box::pin(corio::timeout(
            Duration::from_millis(5),
            std::future::pending::<()>(),
        ));
        let waker = common::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let _ = std::future::Future::poll(t.as_mut(), &mut cx);
    });
    let msg = common::panic_message(&*r.unwrap_err());
    assert!(
        msg.contains("must be called from inside a corio runtime"),
        "{msg}"
    );
}
