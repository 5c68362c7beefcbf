//! corio's `Parker`/`Unparker` (`src/runtime/park.rs`), the one place a
//! worker or a `block_on` thread sleeps: an unpark is a token, never lost
//! whether it comes before, during or after `park`, and whatever the
//! unparking thread did before `unpark` is visible after `park` returns.
#![cfg(loom)]

use corio::loom_hooks::Parker;
use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom::sync::Arc;
use loom::thread;
use loom_tests::model;

/// One unpark racing with one park: `park` returns, and the unparker's plain
/// (non-atomic) write before `unpark` happens-before the read after `park`
/// (loom checks the `UnsafeCell` accesses for causality).
#[test]
fn unpark_wakes_and_publishes() {
    model("park::unpark_wakes_and_publishes", || {
        let parker = Parker::new();
        let unparker = parker.unparker();
        let data = Arc::new(UnsafeCell::new(0));
        let th = {
            let data = data.clone();
            thread::spawn(move || {
                // SAFETY: the parked thread reads only after `park` returns.
                data.with_mut(|p| unsafe { *p = 1 });
                unparker.unpark();
            })
        };
        parker.park();
        // SAFETY: ordered after the write by unpark -> park.
        assert_eq!(data.with(|p| unsafe { *p }), 1);
        th.join().unwrap();
    });
}

/// A parker that parks repeatedly while one thread unparks it twice: tokens
/// may merge, but the parker always ends up seeing both events (the loop is
/// how the scheduler uses it: re-check the condition after every wakeup).
#[test]
fn repeated_park_unpark() {
    model("park::repeated_park_unpark", || {
        let parker = Parker::new();
        let unparker = parker.unparker();
        let events = Arc::new(AtomicUsize::new(0));
        let th = {
            let events = events.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    events.fetch_add(1, Relaxed);
                    unparker.unpark();
                }
            })
        };
        let mut parks = 0;
        while events.load(Relaxed) < 2 {
            parker.park();
            parks += 1;
            assert!(parks <= 2, "woke without a token");
        }
        th.join().unwrap();
    });
}

/// Two threads unparking one parker at once (two producers waking one idle
/// worker): the parker wakes for both.
#[test]
fn two_unparkers() {
    model("park::two_unparkers", || {
        let parker = Parker::new();
        let events = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let unparker = parker.unparker();
                let events = events.clone();
                thread::spawn(move || {
                    events.fetch_add(1, Relaxed);
                    unparker.unpark();
                })
            })
            .collect();
        while events.load(Relaxed) < 2 {
            parker.park();
        }
        for th in threads {
            th.join().unwrap();
        }
    });
}
