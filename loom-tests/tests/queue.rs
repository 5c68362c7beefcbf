//! `corio::queue` (`src/queue/core.rs` on `src/sync/waiters.rs`): puts,
//! gets, cancellations and shutdown racing on loom threads, without a
//! runtime. Items carry a loom `Arc`, so an item that is neither delivered
//! nor dropped is reported as a leak; a lost wakeup leaves a `block_on`
//! parked forever, which loom reports as a deadlock.
#![cfg(loom)]

use corio::queue::{Queue, QueueShutDown};
use loom::sync::Arc;
use loom::thread;
use loom_tests::{block_on, model, poll_once};
use std::task::Poll;

/// An item: its number, and a loom `Arc` that makes a leaked item visible.
type Item = (u32, Arc<()>);

fn item(n: u32) -> Item {
    (n, Arc::new(()))
}

fn drain(q: &Queue<Item>) -> Vec<u32> {
    std::iter::from_fn(|| q.get_nowait().ok().map(|(n, _)| n)).collect()
}

/// Two items are put while a getter on another thread polls once and is
/// dropped (cancelled), and the main thread waits in `get`: whatever the
/// getter was handed when it was dropped passes on (to the main thread's
/// getter, or back to the queue), the main thread is woken, and each item
/// ends up in exactly one place.
#[test]
fn put_vs_getter_cancel() {
    model("queue::put_vs_getter_cancel", || {
        let q = Arc::new(Queue::<Item>::new(0));
        let cancelled = {
            let q = q.clone();
            thread::spawn(move || {
                let mut get = q.get();
                let first = poll_once(&mut get);
                drop(get);
                match first {
                    Poll::Ready(out) => Some(out.unwrap().0),
                    Poll::Pending => None,
                }
            })
        };
        let putter = {
            let q = q.clone();
            thread::spawn(move || {
                q.put_nowait(item(1)).unwrap();
                q.put_nowait(item(2)).unwrap();
            })
        };
        let mine = block_on(q.get()).unwrap().0;
        putter.join().unwrap();
        let theirs = cancelled.join().unwrap();

        let mut all: Vec<u32> = drain(&q);
        all.push(mine);
        all.extend(theirs);
        all.sort_unstable();
        assert_eq!(all, [1, 2], "every item exactly once");
        assert_eq!(q.waiting(), (0, 0));
        assert_eq!(q.qsize(), 0);
    });
}

/// A full queue (maxsize 1): a putter blocks and is cancelled on one
/// thread while another thread takes two items and the main thread puts
/// (blocking) too. The cancelled putter's item is enqueued once if room was
/// made for it before the drop and never otherwise; the other items all
/// arrive, FIFO; nobody is left waiting.
#[test]
fn blocked_putter_cancel_vs_get() {
    model("queue::blocked_putter_cancel_vs_get", || {
        let q = Arc::new(Queue::<Item>::new(1));
        q.put_nowait(item(0)).unwrap();
        let cancelled = {
            let q = q.clone();
            thread::spawn(move || {
                let mut put = q.put(item(1));
                let first = poll_once(&mut put);
                drop(put);
                first
            })
        };
        let getter = {
            let q = q.clone();
            thread::spawn(move || {
                let a = block_on(q.get()).unwrap().0;
                let b = block_on(q.get()).unwrap().0;
                [a, b]
            })
        };
        block_on(q.put(item(2))).unwrap();
        let got = getter.join().unwrap();
        let first = cancelled.join().unwrap();

        assert_eq!(got[0], 0, "the first item out is the first in");
        let mut all: Vec<u32> = got.to_vec();
        all.extend(drain(&q));
        let ones = all.iter().filter(|&&n| n == 1).count();
        assert!(ones <= 1, "the cancelled put's item enqueued twice");
        if first == Poll::Ready(Ok(())) {
            assert_eq!(ones, 1, "a completed put's item was lost");
        }
        all.retain(|&n| n != 1);
        all.sort_unstable();
        assert_eq!(all, [0, 2]);
        assert_eq!(q.waiting(), (0, 0));
    });
}

/// `shutdown(false)` races with a getter blocked on an empty queue and a
/// putter that blocks on its second item (maxsize 1): both are woken (no
/// deadlock), every item whose put succeeded is delivered or left to
/// drain, and every refused item is dropped (a leak otherwise).
#[test]
fn shutdown_vs_blocked_get_and_put() {
    model("queue::shutdown_vs_blocked_get_and_put", || {
        let q = Arc::new(Queue::<Item>::new(1));
        let getter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()).map(|(n, _)| n))
        };
        let putter = {
            let q = q.clone();
            thread::spawn(move || {
                let a = block_on(q.put(item(1)));
                let b = block_on(q.put(item(2)));
                [a, b]
            })
        };
        q.shutdown(false);
        let got = getter.join().unwrap();
        let puts = putter.join().unwrap();

        let mut delivered: Vec<u32> = drain(&q);
        delivered.extend(got.ok());
        delivered.sort_unstable();
        let put: Vec<u32> = [1, 2]
            .into_iter()
            .zip(puts)
            .filter(|(_, r)| r.is_ok())
            .map(|(n, _)| n)
            .collect();
        assert_eq!(delivered, put, "delivered vs successfully put");
        if puts[0] == Err(QueueShutDown) {
            assert_eq!(puts[1], Err(QueueShutDown));
        }
        assert_eq!(
            q.get_nowait().map(|(n, _)| n),
            Err(corio::queue::QueueEmpty::ShutDown)
        );
        assert_eq!(q.waiting(), (0, 0));
    });
}

/// `shutdown(true)` races with a put handing its item to a blocked getter
/// and with `join`: the item is delivered to the getter (taken before the
/// shutdown) or discarded and marked done; `join` returns either way once
/// the getter's item is done.
#[test]
fn immediate_shutdown_vs_handoff_and_join() {
    model("queue::immediate_shutdown_vs_handoff_and_join", || {
        let q = Arc::new(Queue::<Item>::new(0));
        let getter = {
            let q = q.clone();
            thread::spawn(move || {
                let got = block_on(q.get()).map(|(n, _)| n);
                if got.is_ok() {
                    q.task_done().unwrap();
                }
                got
            })
        };
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(item(1)).is_ok())
        };
        q.shutdown(true);
        let put = putter.join().unwrap();
        block_on(q.join());
        let got = getter.join().unwrap();

        if got.is_ok() {
            assert!(put);
        }
        assert_eq!(q.qsize(), 0);
        assert!(
            q.task_done().is_err(),
            "every put item is done exactly once"
        );
    });
}

/// Two getters on two threads each poll once and are dropped while one item
/// is put and the main thread waits in `get`: an item handed to one
/// cancelled getter may pass to the other and then on again; it reaches
/// the main thread (which is woken) or is left in the queue, never lost or
/// duplicated, and no waiter entry is left behind.
#[test]
fn handoff_through_two_cancelled_getters() {
    model("queue::handoff_through_two_cancelled_getters", || {
        let q = Arc::new(Queue::<Item>::new(0));
        let cancelled: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || {
                    let mut get = q.get();
                    let first = poll_once(&mut get);
                    drop(get);
                    match first {
                        Poll::Ready(out) => Some(out.unwrap().0),
                        Poll::Pending => None,
                    }
                })
            })
            .collect();
        let putter = {
            let q = q.clone();
            thread::spawn(move || {
                for n in 1..=3 {
                    q.put_nowait(item(n)).unwrap();
                }
            })
        };
        let mine = block_on(q.get()).unwrap().0;
        putter.join().unwrap();
        let theirs: Vec<u32> = cancelled
            .into_iter()
            .filter_map(|c| c.join().unwrap())
            .collect();
        // Drained only now: a getter's drop may give its item back late.
        let mut all: Vec<u32> = drain(&q);
        all.push(mine);
        all.extend(theirs);
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3], "every item exactly once");
        assert_eq!(q.waiting(), (0, 0));
    });
}
