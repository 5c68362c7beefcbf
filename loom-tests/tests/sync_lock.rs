//! `corio::sync::Mutex` / `Lock` (`src/sync/lock.rs`: the state-word fast
//! path and the handoff through the waiter list) and `Condition`, without a
//! runtime: a release racing with a waiter's cancellation, FIFO handoff
//! with a newcomer trying the fast path, and a notification racing with the
//! cancellation of the waiter it goes to.
//!
//! The data behind the `Mutex` is a loom `UnsafeCell`, so two holders at
//! once, or a handoff that does not order the previous holder's writes
//! before the next holder's, is reported by loom as a data race. A lock or
//! notification that is lost leaves a `block_on` parked forever, which loom
//! reports as a deadlock.
//!
//! The futures under test borrow their primitive and are set up on the main
//! thread before the racing threads start (so that the line's order is
//! known), then moved to those threads: the primitives are leaked to make
//! the borrows `'static` (a few bytes per iteration; they hold no loom
//! `Arc`, so leak checking is unaffected).
#![cfg(loom)]

use corio::sync::{Condition, Lock, Mutex};
use loom::thread;
use loom_tests::{block_on, model, poll_once};
use std::task::Poll;

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A holds the mutex; B and C wait, in that order. The holder releases
/// while B's thread polls B once and then drops it (cancelling it if it
/// did not get the lock), and C's thread waits for the lock. Whatever the
/// interleaving: C gets the lock (never lost), B holds it at most once and
/// only before C (FIFO), the holders' writes never overlap (no holding
/// twice), and the mutex is free at the end.
#[test]
fn release_races_with_waiter_cancel() {
    model("sync_lock::release_races_with_waiter_cancel", || {
        let m: &'static Mutex<Vec<char>> = leak(Mutex::new(Vec::new()));
        let mut a = m.try_lock().unwrap();
        let mut b = m.lock();
        let mut c = m.lock();
        assert!(poll_once(&mut b).is_pending());
        assert!(poll_once(&mut c).is_pending());

        let b_thread = thread::spawn(move || {
            if let Poll::Ready(mut guard) = poll_once(&mut b) {
                guard.push('b');
            }
            // Dropping a pending `b` cancels it; a lock handed to it in the
            // meantime passes on to `c`.
            drop(b);
        });
        let c_thread = thread::spawn(move || {
            let mut guard = block_on(c);
            guard.push('c');
        });
        a.push('a');
        drop(a);
        b_thread.join().unwrap();
        c_thread.join().unwrap();

        assert!(!m.locked());
        let log = m.try_lock().unwrap().clone();
        assert!(log == ['a', 'c'] || log == ['a', 'b', 'c'], "{log:?}");
    });
}

/// A holds the lock; B and C wait, in that order, each blocked on its own
/// thread; D arrives on a third thread (trying the fast path first) while A
/// releases. The lock goes A, B, C, D: each release hands it to the front
/// waiter, and D never barges in while it is being handed over.
#[test]
fn handoff_is_fifo_and_newcomers_queue_behind() {
    model(
        "sync_lock::handoff_is_fifo_and_newcomers_queue_behind",
        || {
            let m: &'static Mutex<Vec<char>> = leak(Mutex::new(Vec::new()));
            let a = m.try_lock().unwrap();
            let mut b = m.lock();
            let mut c = m.lock();
            assert!(poll_once(&mut b).is_pending());
            assert!(poll_once(&mut c).is_pending());

            let waiter = |fut: corio::sync::MutexLock<'static, Vec<char>>, name| {
                thread::spawn(move || {
                    let mut guard = block_on(fut);
                    guard.push(name);
                })
            };
            let b_thread = waiter(b, 'b');
            let c_thread = waiter(c, 'c');
            let d_thread = thread::spawn(move || {
                let mut guard = block_on(m.lock());
                guard.push('d');
            });
            drop(a);
            b_thread.join().unwrap();
            c_thread.join().unwrap();
            d_thread.join().unwrap();

            assert!(!m.locked());
            assert_eq!(*m.try_lock().unwrap(), ['b', 'c', 'd']);
        },
    );
}

/// The same race as `release_races_with_waiter_cancel` on a plain `Lock`
/// (its own guard type over the same raw lock), with the holder releasing
/// from its own thread while the main thread cancels B.
#[test]
fn lock_release_on_another_thread_races_with_cancel() {
    model(
        "sync_lock::lock_release_on_another_thread_races_with_cancel",
        || {
            let lock: &'static Lock = leak(Lock::new());
            let a = lock.try_acquire().unwrap();
            let mut b = lock.acquire();
            let mut c = lock.acquire();
            assert!(poll_once(&mut b).is_pending());
            assert!(poll_once(&mut c).is_pending());

            let releaser = thread::spawn(move || drop(a));
            let c_thread = thread::spawn(move || drop(block_on(c)));
            drop(b);
            releaser.join().unwrap();
            c_thread.join().unwrap();
            assert!(!lock.locked());
        },
    );
}

/// Two tasks wait on a condition, W1 first. The main thread takes the lock
/// and `notify(1)`s while W1's thread polls W1 once and drops it: W1 is
/// cancelled while waiting, or after it was notified (before it polled, or
/// while queued to take the lock back). Whichever: W1 never returns, so
/// the notification goes on to W2, which always wakes and gets the lock
/// (no lost notification, no lost lock), and nothing is left waiting.
#[test]
fn condition_notify_races_with_waiter_cancel() {
    model(
        "sync_lock::condition_notify_races_with_waiter_cancel",
        || {
            let m: &'static Mutex<usize> = leak(Mutex::new(0));
            let cond: &'static Condition = leak(Condition::new());
            let mut w1 = cond.wait(m.try_lock().unwrap());
            assert!(poll_once(&mut w1).is_pending());
            let mut w2 = cond.wait(m.try_lock().unwrap());
            assert!(poll_once(&mut w2).is_pending());

            let canceller = thread::spawn(move || {
                // The main thread holds the lock until this thread is done, so
                // W1 cannot complete.
                assert!(poll_once(&mut w1).is_pending());
                drop(w1);
            });
            let w2_thread = thread::spawn(move || {
                let mut guard = block_on(w2);
                *guard += 1;
            });
            let mut held = m.try_lock().unwrap();
            cond.notify(1);
            canceller.join().unwrap();
            *held += 10;
            drop(held);
            w2_thread.join().unwrap();

            assert!(!m.locked());
            assert_eq!(*m.try_lock().unwrap(), 11);
        },
    );
}
