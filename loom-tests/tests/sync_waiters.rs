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
use loom_tests::{block_on, model, poll_once, CountingWaker};
use std::future::Future;
use std::task::Context;

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

/// The same race one poll at a time, with counting wakers: a re-poll with
/// waker `w2` on one thread while another thread leaves. If the re-poll
/// came first (pending), the handoff wakes `w2` exactly once and never the
/// replaced `w1`; if it came second, it takes the permit, and only `w1`
/// (current when the handoff ran) was woken. One wakeup either way.
#[test]
fn replaced_waker_is_never_woken() {
    model("sync_waiters::replaced_waker_is_never_woken", || {
        let t = Turnstile::new(false);
        let (w1, c1) = CountingWaker::new();
        let mut e = t.enter(1);
        assert!(std::pin::Pin::new(&mut e)
            .poll(&mut Context::from_waker(&w1))
            .is_pending());
        let repoll = thread::spawn(move || {
            let (w2, c2) = CountingWaker::new();
            let ready = std::pin::Pin::new(&mut e)
                .poll(&mut Context::from_waker(&w2))
                .is_ready();
            (e, ready, c2)
        });
        t.leave();
        let (mut e, ready, c2) = repoll.join().unwrap();
        if ready {
            // The handoff ran first and woke the waker of its time, `w1`.
            assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
        } else {
            assert_eq!(c1.wakes(), 0, "the replaced waker was woken");
            assert_eq!(c2.wakes(), 1, "the current waker was not woken");
            assert!(poll_once(&mut e).is_ready());
        }
        drop(e);
        t.leave();
        assert!(t.is_free());
    });
}
