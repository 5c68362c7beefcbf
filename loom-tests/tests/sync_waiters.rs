//! `sync::waiters::Waiters`, the FIFO waiter list under every `corio::sync`
//! primitive, through `corio::loom_hooks::Turnstile` (a one-permit semaphore
//! with handoff built on it the way the primitives are): notification racing
//! with a cancellation, with a waker being replaced, and the order of
//! handoffs. A waiter woken without its payload, or not woken after being
//! handed one, leaves a `block_on` parked forever: loom reports a deadlock.
#![cfg(loom)]

use corio::loom_hooks::Turnstile;
use loom::sync::{Arc, Mutex};
use loom::thread;
use loom_tests::{block_on, model, poll_once};

/// Two waiters in line (registered in order on the main thread), the
/// holder leaving on one thread while the front waiter is dropped on
/// another, and the second waiter blocking on a third: whether the permit
/// reached the front waiter before its drop (then the drop passes it on) or
/// not (then `leave` hands it to the second directly), the second waiter
/// gets it exactly once and nothing is left behind.
#[test]
fn notify_races_with_cancel() {
    model("sync_waiters::notify_races_with_cancel", || {
        let t = Turnstile::new(false);
        let mut first = t.enter(1);
        let mut second = t.enter(2);
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        assert_eq!(t.front(), Some(1));

        let canceller = thread::spawn(move || drop(first));
        let waiter = {
            let t = t.clone();
            thread::spawn(move || {
                block_on(second);
                t.leave();
            })
        };
        t.leave();
        canceller.join().unwrap();
        waiter.join().unwrap();
        assert!(t.is_free(), "the permit was lost");
        assert_eq!(t.waiting(), 0);
    });
}

/// A waiter re-polls with a new waker (it moved to another thread) while
/// the holder leaves: the handoff wakes whichever waker is current when it
/// runs, so the waiter either sees its payload in that poll or is woken
/// through the new waker.
#[test]
fn waker_replaced_while_notified() {
    model("sync_waiters::waker_replaced_while_notified", || {
        let t = Turnstile::new(false);
        let mut e = t.enter(1);
        assert!(poll_once(&mut e).is_pending());
        let waiter = {
            let t = t.clone();
            thread::spawn(move || {
                // `block_on` polls with this thread's waker, replacing the
                // no-op one the main thread registered.
                block_on(e);
                t.leave();
            })
        };
        t.leave();
        waiter.join().unwrap();
        assert!(t.is_free());
        assert_eq!(t.waiting(), 0);
    });
}

/// Handoffs follow the line: two waiters registered in order run their
/// critical sections in that order, though their threads race, and a
/// newcomer arriving meanwhile never barges past them.
#[test]
fn handoffs_in_fifo_order() {
    model("sync_waiters::handoffs_in_fifo_order", || {
        let t = Turnstile::new(false);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for tag in [1, 2] {
            let mut e = t.enter(tag);
            assert!(poll_once(&mut e).is_pending());
            waiters.push((tag, e));
        }
        let threads: Vec<_> = waiters
            .into_iter()
            .map(|(tag, e)| {
                let (t, log) = (t.clone(), log.clone());
                thread::spawn(move || {
                    block_on(e);
                    log.lock().unwrap().push(tag);
                    t.leave();
                })
            })
            .collect();
        t.leave();
        // A newcomer on the main thread: it only gets in after both.
        block_on(t.enter(3));
        log.lock().unwrap().push(3);
        t.leave();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(*log.lock().unwrap(), [1, 2, 3]);
        assert!(t.is_free());
    });
}
