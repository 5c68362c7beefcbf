//! Models of a worker's event loop (`runtime::driver`): the park/unpark seam
//! around the (mocked) `epoll_wait`, timers set, cancelled and fired from
//! different threads, the handoff of a busy worker's loop to an idle one,
//! and readiness dispatch racing with a task and with deregistration.
//!
//! loom models neither time nor I/O: the driver's `mio` types and clock are
//! mocks behind corio's facade (`src/loom/loom_impl/{sys,clock}.rs`). A
//! timed park "sleeps" by advancing the mock clock; an untimed one blocks
//! until the driver's waker fires, so a lost wakeup is a loom deadlock.

#![cfg(loom)]

use corio::loom_hooks::{clock, Driver, Source};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;
use loom_tests::model;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// A waker that counts its wakes (std `Arc` for `Wake`; the counter is
/// loom's, so loom orders it like any shared state).
struct CountWaker(Arc<AtomicUsize>);

impl Wake for CountWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Waker, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    (
        Waker::from(std::sync::Arc::new(CountWaker(count.clone()))),
        count,
    )
}

/// An unpark racing with the owner going to sleep in `epoll_wait` is never
/// lost: "queue work, unpark" against "look for work, park".
#[test]
fn unpark_reaches_a_parking_driver() {
    model("driver::unpark_reaches_a_parking_driver", || {
        let driver = Driver::new();
        let work = Arc::new(AtomicBool::new(false));
        let producer = {
            let (driver, work) = (driver.clone(), work.clone());
            thread::spawn(move || {
                work.store(true, SeqCst);
                driver.unpark();
            })
        };
        // The owner: sleeps until it sees the work (a lost unpark would
        // leave it blocked forever, which loom reports as a deadlock).
        while !work.load(SeqCst) {
            driver.park(None);
        }
        producer.join().unwrap();
    });
}

/// A timer set from another thread while the owner sleeps with no deadline
/// wakes the owner (through `next_wake`), which then sleeps until the timer
/// is due and fires it: timers are not stranded by a sleeping loop.
#[test]
fn timer_set_while_the_owner_sleeps_fires() {
    model("driver::timer_set_while_the_owner_sleeps_fires", || {
        let driver = Driver::new();
        let (waker, fired) = counting_waker();
        let setter = {
            let driver = driver.clone();
            thread::spawn(move || {
                let deadline = clock::now() + Duration::from_millis(5);
                driver.insert_timer(deadline, &waker)
            })
        };
        // The owner's loop: sleep (the driver picks the timeout from its
        // timers), fire what is due.
        let mut rounds = 0;
        while fired.load(SeqCst) == 0 {
            driver.park(None);
            rounds += 1;
            assert!(rounds < 10, "the owner never fired the timer");
        }
        let key = setter.join().unwrap();
        assert_eq!(fired.load(SeqCst), 1);
        driver.remove_timer(key);
    });
}

/// A timer cancelled on one thread while another fires it (its task was
/// stolen and dropped elsewhere): it fires at most once, never after the
/// cancel returned, and leaves nothing armed.
#[test]
fn timer_cancel_races_with_firing() {
    model("driver::timer_cancel_races_with_firing", || {
        let driver = Driver::new();
        let (waker, fired) = counting_waker();
        let key = driver.insert_timer(clock::now() + Duration::from_millis(1), &waker);
        clock::advance(Duration::from_millis(2));
        let canceller = {
            let (driver, fired) = (driver.clone(), fired.clone());
            thread::spawn(move || {
                driver.remove_timer(key);
                // After the cancel, a fire that had not happened never will.
                fired.load(SeqCst)
            })
        };
        driver.fire_timers();
        let seen_at_cancel = canceller.join().unwrap();
        let total = fired.load(SeqCst);
        assert!(total <= 1);
        if seen_at_cancel == 0 {
            // Either the fire happened concurrently with the cancel (woken
            // once) or not at all; never twice.
            assert!(total <= 1);
        }
        driver.fire_timers();
        assert_eq!(fired.load(SeqCst), total, "a cancelled timer fired later");
        assert!(!driver.has_watchable(), "a timer was left armed");
    });
}

/// The owner's periodic poll and an idle worker's handoff poll race on one
/// driver: the due timer fires exactly once.
#[test]
fn handoff_and_owner_poll_fire_a_timer_once() {
    model("driver::handoff_and_owner_poll_fire_a_timer_once", || {
        let driver = Driver::new();
        let (waker, fired) = counting_waker();
        let key = driver.insert_timer(clock::now() + Duration::from_millis(1), &waker);
        clock::advance(Duration::from_millis(5));
        let helper = {
            let driver = driver.clone();
            thread::spawn(move || {
                driver.try_handoff();
            })
        };
        driver.poll_now();
        helper.join().unwrap();
        // Whatever the interleaving, a last owner poll leaves it fired once.
        driver.poll_now();
        assert_eq!(fired.load(SeqCst), 1);
        driver.remove_timer(key);
    });
}

/// Readiness set by the driver while the task registers its waker is never
/// lost: the task either sees it or is woken.
#[test]
fn readiness_is_seen_or_wakes() {
    model("driver::readiness_is_seen_or_wakes", || {
        let source = Source::new();
        let (waker, woken) = counting_waker();
        let driver = {
            let source = source.clone();
            thread::spawn(move || assert!(source.dispatch_readable()))
        };
        let mut cx = Context::from_waker(&waker);
        let saw = source.poll_readable(&mut cx).is_ready();
        driver.join().unwrap();
        assert!(
            saw || woken.load(SeqCst) == 1,
            "readiness lost: not seen, not woken"
        );
    });
}

/// Clearing readiness after `WouldBlock` never wipes an event that arrived
/// after the task looked.
#[test]
fn clearing_keeps_a_newer_event() {
    model("driver::clearing_keeps_a_newer_event", || {
        let source = Source::new();
        assert!(source.dispatch_readable());
        let (waker, _woken) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let observed = Arc::new(AtomicBool::new(false));
        let second = {
            let (source, observed) = (source.clone(), observed.clone());
            thread::spawn(move || {
                let after = observed.load(SeqCst);
                source.dispatch_readable();
                after
            })
        };
        let Poll::Ready(event) = source.poll_readable(&mut cx) else {
            panic!("the first event was not seen");
        };
        observed.store(true, SeqCst);
        // The read returned WouldBlock:
        source.clear_readiness(event);
        let second_came_after = second.join().unwrap();
        if second_came_after {
            assert!(
                source.poll_readable(&mut cx).is_ready(),
                "a newer event was cleared away"
            );
        }
    });
}

/// A source deregistered while the driver dispatches an event for it: no
/// use after free (the readiness lives in an `Arc`), and the task's waker,
/// dropped by deregistration, is woken at most once.
#[test]
fn deregistration_races_with_dispatch() {
    model("driver::deregistration_races_with_dispatch", || {
        let source = Source::new();
        let (waker, woken) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(source.poll_readable(&mut cx).is_pending());
        let dispatcher = {
            let source = source.clone();
            thread::spawn(move || source.dispatch_readable())
        };
        source.deregister();
        let delivered = dispatcher.join().unwrap();
        let w = woken.load(SeqCst);
        assert!(w <= 1);
        if !delivered {
            assert_eq!(w, 0, "woken by an event for a deregistered token");
        }
        // Nothing is registered any more: a later event finds no entry.
        assert!(!source.dispatch_readable());
    });
}
