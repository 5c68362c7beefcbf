//! Timers: sleep, interval, timeout, wait_for (CPython: test_timeouts.py,
//! test_waitfor.py, test_tasks.py sleep tests).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn rt(workers: usize) -> corio::Runtime {
    corio::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Sets a flag when dropped: shows a future was cancelled.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn sleep_never_fires_early() {
    rt(2).block_on(async {
        let tasks: Vec<_> = (0..200u64)
            .map(|i| {
                corio::create_task(async move {
                    let d = Duration::from_micros(300 * (i % 40) + 50);
                    let start = Instant::now();
                    corio::sleep(d).await;
                    let took = start.elapsed();
                    assert!(took >= d, "sleep({d:?}) returned after {took:?}");
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// Equal deadlines fire in the order they were set (on one loop).
#[test]
fn equal_deadlines_fire_in_the_order_set() {
    rt(1).block_on(async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let deadline = Instant::now() + Duration::from_millis(20);
        let mut tasks = Vec::new();
        for i in 0..50 {
            let order = order.clone();
            tasks.push(corio::create_task(async move {
                corio::sleep_until(deadline).await;
                order.lock().unwrap().push(i);
            }));
            // Make each task register its timer before the next is spawned.
            corio::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..50).collect::<Vec<_>>());
    });
}

/// Earlier deadlines fire first, whatever the order they were set in.
#[test]
fn deadlines_fire_in_deadline_order() {
    rt(1).block_on(async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now() + Duration::from_millis(5);
        let mut tasks = Vec::new();
        for i in [7u64, 3, 9, 1, 5, 0, 8, 2, 6, 4] {
            let order = order.clone();
            tasks.push(corio::create_task(async move {
                corio::sleep_until(base + Duration::from_millis(3 * i)).await;
                order.lock().unwrap().push(i);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn zero_past_and_max_durations() {
    corio::run(async {
        // Zero and past deadlines complete at once.
        corio::sleep(Duration::ZERO).await;
        corio::sleep_until(Instant::now() - Duration::from_secs(1)).await;
        // Duration::MAX neither panics nor overflows: it never fires.
        let never = corio::sleep(Duration::MAX);
        assert!(never.deadline() > Instant::now() + Duration::from_secs(365 * 24 * 3600));
        let r = corio::timeout(Duration::from_millis(10), never).await;
        assert!(r.is_err());
        // A timeout of Duration::MAX never expires.
        let r = corio::timeout(Duration::MAX, async { 5 }).await;
        assert_eq!(r, Ok(5));
        let r = corio::wait_for(corio::sleep(Duration::from_millis(1)), Duration::MAX).await;
        assert_eq!(r, Ok(()));
    });
}

#[test]
fn interval_ticks_on_schedule() {
    corio::run(async {
        let mut iv = corio::interval(Duration::from_millis(10));
        let start = Instant::now();
        let first = iv.tick().await;
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "first tick is immediate"
        );
        let mut prev = first;
        for _ in 0..5 {
            let t = iv.tick().await;
            assert_eq!(t - prev, Duration::from_millis(10));
            assert!(Instant::now() >= t, "tick fired before its instant");
            prev = t;
        }
    });
}

#[test]
#[should_panic(expected = "interval period must be non-zero")]
fn interval_zero_panics() {
    let _ = corio::interval(Duration::ZERO);
}

/// test_waitfor.py: test_wait_for_timeout — the inner future is dropped
/// before wait_for returns.
#[test]
fn wait_for_drops_the_inner_future_before_returning() {
    corio::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(dropped.clone());
        let inner = async move {
            let _flag = flag;
            corio::sleep(Duration::from_secs(60)).await;
        };
        let r = corio::wait_for(inner, Duration::from_millis(10)).await;
        assert!(r.is_err());
        assert!(
            dropped.load(SeqCst),
            "inner future still alive after wait_for timed out"
        );
        assert_eq!(r.unwrap_err().to_string(), "deadline has elapsed");
    });
}

/// test_timeouts.py: test_timeout_not_triggered / test_nested_timeouts.
#[test]
fn timeout_returns_the_value_when_in_time_and_nests() {
    corio::run(async {
        let r = corio::timeout(Duration::from_secs(5), async {
            corio::sleep(Duration::from_millis(5)).await;
            1
        })
        .await;
        assert_eq!(r, Ok(1));
        let outer = corio::timeout(Duration::from_millis(20), async {
            corio::timeout(
                Duration::from_secs(10),
                corio::sleep(Duration::from_secs(10)),
            )
            .await
        })
        .await;
        assert!(outer.is_err(), "the shorter outer timeout wins");
    });
}

/// test_timeouts.py: test_timeout_reschedule / test_timeout_at.
#[test]
fn timeout_reschedule_moves_the_deadline() {
    corio::run(async {
        let start = Instant::now();
        let mut t = corio::timeout_at(
            start + Duration::from_millis(10),
            corio::sleep(Duration::from_millis(40)),
        );
        t.reschedule(start + Duration::from_secs(5));
        assert_eq!(t.deadline(), start + Duration::from_secs(5));
        assert_eq!(t.await, Ok(()));
        let mut t = corio::timeout(Duration::from_secs(5), corio::sleep(Duration::from_secs(5)));
        t.reschedule(Instant::now() + Duration::from_millis(5));
        assert!(t.await.is_err());
        assert!(start.elapsed() < Duration::from_secs(4));
    });
}

/// A timer set on one core and dropped on another is cancelled safely: the
/// sleeping task is stolen / its `Sleep` moved to a task on another worker.
#[test]
fn timer_set_on_one_core_dropped_on_another() {
    rt(2).block_on(async {
        for _ in 0..200 {
            let (tx, rx) = std::sync::mpsc::channel();
            // Arm the timer in one task...
            let armer = corio::create_task(async move {
                let mut s = Box::pin(corio::sleep(Duration::from_secs(30)));
                let waker = std::task::Waker::noop();
                let mut cx = std::task::Context::from_waker(waker);
                assert!(std::future::Future::poll(s.as_mut(), &mut cx).is_pending());
                tx.send(s).unwrap();
            });
            armer.await.unwrap();
            let s = rx.recv().unwrap();
            // ...and drop it from another thread (not a worker at all).
            std::thread::spawn(move || drop(s)).join().unwrap();
        }
        // The runtime still fires timers normally.
        corio::sleep(Duration::from_millis(2)).await;
    });
}

#[test]
fn many_timers_all_fire() {
    let fired = Arc::new(AtomicUsize::new(0));
    rt(2).block_on(async {
        let tasks: Vec<_> = (0..20_000u64)
            .map(|i| {
                let fired = fired.clone();
                corio::create_task(async move {
                    corio::sleep(Duration::from_millis(1 + i % 30)).await;
                    fired.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(fired.load(SeqCst), 20_000);
}

/// A cancelled sleeping task's timer is removed (the task is dropped while
/// pending in its sleep).
#[test]
fn cancel_during_sleep() {
    corio::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(dropped.clone());
        let t = corio::create_task(async move {
            let _f = flag;
            corio::sleep(Duration::from_secs(60)).await;
        });
        corio::sleep(Duration::from_millis(5)).await;
        assert!(t.cancel());
        assert!(t.await.unwrap_err().is_cancelled());
        assert!(dropped.load(SeqCst));
    });
}

/// Records when it was woken.
struct WakeTime(Mutex<Option<Instant>>);
impl std::task::Wake for WakeTime {
    fn wake(self: Arc<Self>) {
        self.0.lock().unwrap().get_or_insert_with(Instant::now);
    }
}

/// A worker stuck in a long poll does not strand its timers: an idle worker
/// fires them (driver handoff).
#[test]
fn timers_fire_while_the_home_worker_is_busy() {
    rt(2).block_on(async {
        let woke = corio::create_task(async move {
            // Arm the timer on this worker's wheel (the first poll registers
            // it with the polling thread's loop)...
            let wake = Arc::new(WakeTime(Mutex::new(None)));
            let waker = std::task::Waker::from(wake.clone());
            let mut cx = std::task::Context::from_waker(&waker);
            let set = Instant::now();
            let mut s = Box::pin(corio::sleep(Duration::from_millis(20)));
            assert!(std::future::Future::poll(s.as_mut(), &mut cx).is_pending());
            // ...then keep this worker busy for 3 s without awaiting.
            while set.elapsed() < Duration::from_secs(3) {
                std::hint::spin_loop();
            }
            let at = wake.0.lock().unwrap().expect("timer never fired");
            at - set
        });
        let took = woke.await.unwrap();
        assert!(took >= Duration::from_millis(20));
        // Without a handoff the timer would fire only when the busy poll
        // ends (3 s); the margin below that absorbs a loaded machine.
        assert!(
            took < Duration::from_secs(2),
            "timer on a busy worker fired after {took:?}"
        );
    });
}

#[test]
fn sleep_outside_a_runtime_panics_with_a_clear_message() {
    let r = std::panic::catch_unwind(|| {
        let mut s = Box::pin(corio::sleep(Duration::from_millis(5)));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let _ = std::future::Future::poll(s.as_mut(), &mut cx);
    });
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("must be called from inside a corio runtime"),
        "{msg}"
    );
}

/// A timer whose runtime shut down does not sleep forever: its waiter is
/// woken and the next poll panics with a message that says why (as tokio
/// does), both for a sleep in flight at shutdown and one started after.
#[test]
fn timers_after_shutdown_fail_clearly() {
    let rt = rt(2);
    let h = rt.handle().clone();
    let in_flight = std::thread::spawn({
        let h = h.clone();
        move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                h.block_on(corio::sleep(Duration::from_secs(30)))
            }))
        }
    });
    std::thread::sleep(Duration::from_millis(50));
    drop(rt);
    let err = in_flight
        .join()
        .unwrap()
        .expect_err("a sleep outlived its runtime");
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned());
    assert!(msg
        .unwrap_or_default()
        .contains("after its runtime shut down"));
    let after = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        h.block_on(corio::sleep(Duration::from_millis(10)))
    }));
    assert!(after.is_err(), "a sleep on a shut-down runtime completed");
}
