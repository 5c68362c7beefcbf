//! The protocol reactor's wakeup path (`corio::protocol::ready`): a
//! connection's readiness (the driver's dispatch, on any thread) or a
//! `Transport` call from another thread queues the connection and wakes the
//! reactor, which drains and serves it. The sockets themselves are not
//! built under loom; the ready list is the synchronisation they rely on.
#![cfg(loom)]

use corio::loom_hooks::ReadyList;
use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use loom_tests::model;
use std::task::Waker;

/// The reactor task's waker: a flag and a condvar (see `combinators.rs`).
struct Reactor {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Reactor {
    fn wait(&self) {
        let mut woken = self.woken.lock().unwrap();
        while !*woken {
            woken = self.cv.wait(woken).unwrap();
        }
        *woken = false;
    }
}

impl std::task::Wake for Reactor {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// Two connections, each made "ready" twice by its own thread (standing in
/// for the driver's dispatch and for a foreign `Transport::write`), while
/// the reactor drains and serves. The reactor is done once it has seen both
/// counters at 2. A lost wake, or a coalesced wake whose bump is not
/// published to the service that follows, leaves it waiting forever: loom
/// reports the deadlock.
#[test]
fn connection_wakes_reach_the_reactor() {
    model("protocol::connection_wakes_reach_the_reactor", || {
        let list = ReadyList::new();
        let conns = [list.waker(0), list.waker(1)];
        let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let reactor = std::sync::Arc::new(Reactor {
            woken: Mutex::new(false),
            cv: Condvar::new(),
        });
        let reactor_waker = Waker::from(reactor.clone());
        let mut threads = Vec::new();
        for (i, c) in conns.iter().enumerate() {
            let w = c.waker();
            let counts = counts.clone();
            threads.push(thread::spawn(move || {
                counts[i].fetch_add(1, Relaxed);
                w.wake_by_ref();
                counts[i].fetch_add(1, Relaxed);
                w.wake();
            }));
        }
        let mut seen = [false, false];
        let mut ready = Vec::new();
        loop {
            // One poll of the reactor: drain, then serve each queued one.
            list.drain(&reactor_waker, &mut ready);
            for i in ready.drain(..) {
                conns[i].prepare();
                if counts[i].load(Relaxed) == 2 {
                    seen[i] = true;
                }
            }
            if seen == [true, true] {
                break;
            }
            reactor.wait();
        }
        for t in threads {
            t.join().unwrap();
        }
    });
}

/// A connection's waker outlives its reactor (a `Transport` kept by user
/// code): waking it after the list is gone queues nothing, wakes nobody and
/// frees everything (loom checks for leaked `Arc`s).
#[test]
fn stale_wake_after_reactor_drop() {
    model("protocol::stale_wake_after_reactor_drop", || {
        let list = ReadyList::new();
        let conn = list.waker(0);
        let w = conn.waker();
        let t = thread::spawn(move || w.wake());
        let reactor = std::sync::Arc::new(Reactor {
            woken: Mutex::new(false),
            cv: Condvar::new(),
        });
        let mut ready = Vec::new();
        list.drain(&Waker::from(reactor), &mut ready);
        assert_eq!(ready, [0]);
        conn.prepare();
        drop(list);
        drop(conn);
        t.join().unwrap();
    });
}

/// A server's accepting loop (0) hands a connection to the loop that serves
/// fewer (1) while loop 1's reactor, its listener closed and its
/// connections gone, tries to finish (`protocol::balance`). Either loop 1
/// stays and takes the connection, or the hand-over sees it finished and
/// loop 0 keeps the connection: a connection is never handed to a reactor
/// that is gone.
#[test]
fn hand_over_races_with_the_target_finishing() {
    model(
        "protocol::hand_over_races_with_the_target_finishing",
        || {
            let loops: Vec<std::sync::Arc<Reactor>> = (0..2)
                .map(|_| {
                    std::sync::Arc::new(Reactor {
                        woken: Mutex::new(false),
                        cv: Condvar::new(),
                    })
                })
                .collect();
            let balance = Arc::new(corio::loom_hooks::Balance::new(
                loops.iter().map(|r| Waker::from(r.clone())).collect(),
            ));
            // Loop 0 serves one connection already: the next goes to loop 1.
            assert_eq!(balance.reserve(0), 0);
            let accept = {
                let balance = balance.clone();
                thread::spawn(move || {
                    let to = balance.reserve(0);
                    if to == 1 {
                        balance.hand(1, 7);
                    }
                    to
                })
            };
            let finish = {
                let (balance, me) = (balance.clone(), loops[1].clone());
                thread::spawn(move || {
                    let mut taken = Vec::new();
                    loop {
                        for item in balance.take(1) {
                            taken.push(item);
                            // Served; then the connection ends.
                            balance.left(1);
                        }
                        if balance.try_close(1) {
                            return taken;
                        }
                        me.wait();
                    }
                })
            };
            let to = accept.join().unwrap();
            let taken = finish.join().unwrap();
            if to == 1 {
                assert_eq!(taken, vec![7], "the handed connection was taken");
            } else {
                assert_eq!(to, 0);
                assert!(taken.is_empty());
            }
            assert!(
                balance.take(1).is_empty(),
                "nothing left in a finished inbox"
            );
        },
    );
}
