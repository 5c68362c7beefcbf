//! `corio::signal`'s registry (`src/signal/registry.rs`): a delivery racing
//! with the pipe reader's drain-then-dispatch, and with a receiver's wait,
//! without the OS. A model plays the OS handler (`record`, then a pipe
//! write) and the pipe (a counter: the kernel orders a pipe's write before
//! the read that returns the byte, modelled as release/acquire).
//!
//! A lost delivery leaves the receiver's `block_on` parked forever, which
//! loom reports as a deadlock.
#![cfg(loom)]

use corio::loom_hooks::SignalRegistry;
use loom::sync::atomic::{AtomicUsize, Ordering::*};
use loom::sync::Arc;
use loom::thread;
use loom_tests::{block_on, model};
use std::future::poll_fn;

/// The pipe reader: drain (returns whether any byte was read), then
/// dispatch, as `Signal::poll_recv` does.
fn drain_and_dispatch(reg: &SignalRegistry, pipe: &AtomicUsize) -> bool {
    let got = pipe.swap(0, Acquire) > 0;
    reg.dispatch();
    got
}

/// A signal arrives while the reader drains and dispatches, and the
/// receiver waits on another thread: either that dispatch notifies the
/// receiver, or the byte is still in the pipe for the next drain (the
/// pipe is readable again). Never neither.
#[test]
fn delivery_racing_with_drain_is_not_lost() {
    model("signal::delivery_racing_with_drain_is_not_lost", || {
        let reg = Arc::new(SignalRegistry::new(2));
        let pipe = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(reg.subscribe(1));

        let handler = {
            let (reg, pipe) = (reg.clone(), pipe.clone());
            thread::spawn(move || {
                reg.record(1);
                pipe.fetch_add(1, Release);
            })
        };
        let receiver = {
            let slot = slot.clone();
            thread::spawn(move || block_on(poll_fn(|cx| slot.poll_take(cx))))
        };
        drain_and_dispatch(&reg, &pipe);
        handler.join().unwrap();
        // The pipe is readable if a byte is left: its reader runs again.
        if pipe.load(Acquire) > 0 {
            assert!(drain_and_dispatch(&reg, &pipe));
        }
        receiver.join().unwrap();
    });
}

/// Two receivers, two deliveries of one signal and a concurrent reader:
/// every receiver gets at least one notification (deliveries may coalesce),
/// and a receiver leaving during the dispatch does not disturb the other.
#[test]
fn every_receiver_notified_while_one_leaves() {
    model("signal::every_receiver_notified_while_one_leaves", || {
        let reg = Arc::new(SignalRegistry::new(2));
        let pipe = Arc::new(AtomicUsize::new(0));
        let stays = Arc::new(reg.subscribe(1));
        let leaves = reg.subscribe(1);

        let handler = {
            let (reg, pipe) = (reg.clone(), pipe.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    reg.record(1);
                    pipe.fetch_add(1, Release);
                }
            })
        };
        let leaver = {
            let reg = reg.clone();
            thread::spawn(move || reg.unsubscribe(1, &leaves))
        };
        drain_and_dispatch(&reg, &pipe);
        handler.join().unwrap();
        if pipe.load(Acquire) > 0 {
            drain_and_dispatch(&reg, &pipe);
        }
        leaver.join().unwrap();
        block_on(poll_fn(|cx| stays.poll_take(cx)));
    });
}
