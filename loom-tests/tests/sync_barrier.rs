//! `corio::sync::Barrier` (`src/sync/barrier.rs`): the last arrival racing
//! with `abort`, without a runtime.
#![cfg(loom)]

use corio::sync::Barrier;
use loom::sync::Arc;
use loom::thread;
use loom_tests::{block_on, model, poll_once};

/// A barrier of 2 with one waiter in line (blocking on its own thread), the
/// last party arriving on another thread and `abort` on the main thread:
/// either the round completes first (both get distinct indices, 0 for the
/// first in line) or the abort does (both fail: the waiter in line, and the
/// late arrival on the broken barrier). Nobody hangs, nobody is left in
/// line.
#[test]
fn last_arrival_races_with_abort() {
    model("sync_barrier::last_arrival_races_with_abort", || {
        let barrier = Arc::new(Barrier::new(2));
        let b = barrier.clone();
        let mut first = Box::pin(async move { b.wait().await });
        assert!(poll_once(&mut first).is_pending());
        let waiter = thread::spawn(move || block_on(first));
        let last = {
            let b = barrier.clone();
            thread::spawn(move || block_on(b.wait()))
        };
        barrier.abort();
        let first = waiter.join().unwrap();
        let last = last.join().unwrap();
        match (first, last) {
            (Ok(0), Ok(1)) => {}
            (Err(_), Err(_)) => {}
            other => panic!("round half passed, half broken: {other:?}"),
        }
        assert!(barrier.is_broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}
