//! `corio::sync::Promise` (`src/sync/promise.rs`, `wait_list.rs`): completion
//! racing with completion, with waiters registering, with waiters leaving,
//! and with callbacks being added, each party on its own loom thread. A
//! lost wakeup leaves a `block_on` parked forever, which loom reports as a
//! deadlock.
#![cfg(loom)]

use corio::sync::{Cancelled, Promise};
use loom::sync::{Arc, Mutex};
use loom::thread;
use loom_tests::{block_on, model, CountingWaker};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// `set_result` and `cancel` race, while two waiters (one on the main
/// thread) register: exactly one of the two completions wins, every waiter
/// wakes and sees the winner's outcome, and no waiter entry is left.
#[test]
fn set_vs_cancel_vs_two_waiters() {
    model("promise::set_vs_cancel_vs_two_waiters", || {
        let p = Promise::<usize>::new();
        let setter = {
            let p = p.clone();
            thread::spawn(move || p.set_result(7).is_ok())
        };
        let canceller = {
            let p = p.clone();
            thread::spawn(move || p.cancel())
        };
        let waiter = {
            let p = p.clone();
            thread::spawn(move || block_on(p.wait()))
        };
        let mine = block_on(p.wait());
        let set = setter.join().unwrap();
        let cancelled = canceller.join().unwrap();
        let theirs = waiter.join().unwrap();

        assert!(set != cancelled, "set won: {set}, cancel won: {cancelled}");
        let want = if set { Ok(7) } else { Err(Cancelled) };
        assert_eq!(mine, want);
        assert_eq!(theirs, want);
        assert_eq!(p.is_cancelled(), cancelled);
        assert_eq!(p.registered_waiters(), 0);
    });
}

/// A waiter registers and is dropped on one thread while another sets the
/// result and a third (main) waits: the dropped waiter's entry is gone
/// whichever comes first (removed by its drop, or taken by the set), it is
/// woken at most once, and the waiter that stays gets the value.
#[test]
fn waiter_dropped_while_set_runs() {
    model("promise::waiter_dropped_while_set_runs", || {
        let p = Promise::<usize>::new();
        let dropper = {
            let p = p.clone();
            thread::spawn(move || {
                let (waker, wakes) = CountingWaker::new();
                let mut w = p.wait();
                let first = Pin::new(&mut w).poll(&mut Context::from_waker(&waker));
                drop(w);
                // Any wake from the set has happened by now, or never will
                // (the entry is gone): at most one either way.
                (first, wakes)
            })
        };
        let setter = {
            let p = p.clone();
            thread::spawn(move || p.set_result(1).unwrap())
        };
        assert_eq!(block_on(p.wait()), Ok(1));
        setter.join().unwrap();
        let (first, wakes) = dropper.join().unwrap();
        match first {
            Poll::Ready(out) => assert_eq!(out, Ok(1)),
            Poll::Pending => {}
        }
        assert!(wakes.wakes() <= 1, "woken {} times", wakes.wakes());
        assert_eq!(p.registered_waiters(), 0);
    });
}

/// Awaiting by value (the one-shot `IntoFuture`) while another thread sets:
/// the value is moved out to the waiter, exactly once.
#[test]
fn by_value_await_races_with_set() {
    model("promise::by_value_await_races_with_set", || {
        let p = Promise::<Box<usize>>::new();
        let setter = {
            let p = p.clone();
            thread::spawn(move || p.set_result(Box::new(5)).is_ok())
        };
        let out = block_on(p.clone().into_future());
        assert!(setter.join().unwrap());
        assert_eq!(out.map(|b| *b), Ok(5));
        assert!(p.is_done());
        assert_eq!(p.registered_waiters(), 0);
    });
}

/// One callback added before, one added from another thread racing with
/// the completion: each runs exactly once, in registration order, and sees
/// the result, whether the second was queued before completion, joined the
/// completing thread's queue, or ran at once on its own thread.
#[test]
fn callback_added_while_completing() {
    model("promise::callback_added_while_completing", || {
        let p = Promise::<usize>::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let record = |tag: usize| {
            let log = log.clone();
            move |p: &Promise<usize>| log.lock().unwrap().push((tag, p.try_result()))
        };
        p.add_done_callback(record(0));
        let adder = {
            let p = p.clone();
            let cb = record(1);
            thread::spawn(move || p.add_done_callback(cb))
        };
        p.set_result(3).unwrap();
        adder.join().unwrap();
        assert_eq!(*log.lock().unwrap(), [(0, Some(Ok(3))), (1, Some(Ok(3)))]);
    });
}
