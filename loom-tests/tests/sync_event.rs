//! `corio::sync::Event` (`src/sync/event.rs`): `set` racing with a waiter's
//! cancellation and with `clear`, without a runtime. A waiter that was in
//! line at the `set` and is not released leaves its `block_on` parked
//! forever, which loom reports as a deadlock.
#![cfg(loom)]

use corio::sync::Event;
use loom::sync::Arc;
use loom::thread;
use loom_tests::{block_on, model, poll_once};

/// Two waiters in line; one is dropped on its thread, the other blocks on
/// another, while the main thread sets and at once clears the event: the
/// blocked one is released (it was waiting at the `set`, so the `clear`
/// cannot take that back), the dropped one leaves no trace, and the event
/// ends clear.
#[test]
fn set_then_clear_races_with_cancel() {
    model("sync_event::set_then_clear_races_with_cancel", || {
        let ev = Arc::new(Event::new());
        let e1 = ev.clone();
        let mut dropped = Box::pin(async move { e1.wait().await });
        let e2 = ev.clone();
        let mut kept = Box::pin(async move { e2.wait().await });
        assert!(poll_once(&mut dropped).is_pending());
        assert!(poll_once(&mut kept).is_pending());

        let canceller = thread::spawn(move || drop(dropped));
        let waiter = thread::spawn(move || block_on(kept));
        ev.set();
        ev.clear();
        canceller.join().unwrap();
        waiter.join().unwrap();
        assert!(!ev.is_set());
    });
}

/// A waiter arriving while `set` and `clear` run on two other threads:
/// it completes if it saw the event set or was in line at the `set`, and
/// otherwise stays in line, which the main thread then checks by setting
/// again (no waiter is lost in between).
#[test]
fn wait_races_with_set_and_clear() {
    model("sync_event::wait_races_with_set_and_clear", || {
        let ev = Arc::new(Event::new());
        let setter = {
            let ev = ev.clone();
            thread::spawn(move || ev.set())
        };
        let clearer = {
            let ev = ev.clone();
            thread::spawn(move || ev.clear())
        };
        let e = ev.clone();
        let mut w = Box::pin(async move { e.wait().await });
        let first = poll_once(&mut w);
        setter.join().unwrap();
        clearer.join().unwrap();
        if first.is_pending() && poll_once(&mut w).is_pending() {
            // Still waiting: only if the `clear` came after the `set` and
            // the wait joined after both; a new `set` must release it.
            ev.set();
            assert!(poll_once(&mut w).is_ready());
        }
    });
}
