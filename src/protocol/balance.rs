//! Spreading a server's connections evenly over its loops.
//!
//! Every worker's loop accepts on the server's listening socket (see
//! `endpoint.rs`), but the kernel wakes them all for a new connection and
//! the first to call `accept` takes it: a burst of connections arriving
//! while one loop is awake would all land on that loop, and a connection
//! never moves afterwards. So the accepting loop keeps a connection only if
//! no other loop of the server serves fewer; otherwise it hands the socket
//! to the least-loaded loop's inbox and wakes that loop's reactor. A
//! connection is handed over at most once, before its first callback, so
//! `connection_made` and everything after it still run on one loop.
//!
//! Each loop's `live` counts the connections it serves plus those handed to
//! it and not yet taken from its inbox. The counts only guide the choice
//! (a stale read picks a slightly worse loop), except for one rule: a
//! reactor that has finished (its listener closed and nothing left to
//! serve) swaps its count from 0 to `CLOSED`, and a hand-over reserves its
//! slot with an increment that refuses `CLOSED`. So a connection is never
//! handed to a reactor that is gone: either the reactor sees the count above
//! 0 and stays (the inbox wake then polls it), or the hand-over sees
//! `CLOSED` and the accepting loop keeps the connection. All of it is
//! read-modify-writes on one word per loop, which are totally ordered
//! whatever their ordering argument, so `Relaxed` suffices; the inbox's
//! mutex publishes the socket itself.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::sync::Mutex;
#[cfg(not(loom))]
use crate::streams::ConnectionGuard;
use std::task::Waker;

/// `live` of a loop whose reactor has finished.
const CLOSED: usize = usize::MAX / 2;

/// An accepted connection on its way to another loop.
#[cfg(not(loom))]
pub(super) struct Handed<P> {
    pub(super) stream: mio::net::TcpStream,
    pub(super) protocol: P,
    pub(super) guard: ConnectionGuard,
}

/// One server's loops (one per worker), for one listening socket; `T` is
/// what is handed over (a [`Handed`] connection).
pub(crate) struct Balance<T> {
    loops: Box<[Slot<T>]>,
}

struct Slot<T> {
    live: AtomicUsize,
    inbox: Mutex<Vec<T>>,
    /// Wakes the loop's reactor to empty its inbox.
    waker: Waker,
}

impl<T> Balance<T> {
    /// A balance over the loops whose reactors' inbox wakers are `wakers`.
    pub(crate) fn new(wakers: Vec<Waker>) -> Balance<T> {
        Balance {
            loops: wakers
                .into_iter()
                .map(|waker| Slot {
                    live: AtomicUsize::new(0),
                    inbox: Mutex::new(Vec::new()),
                    waker,
                })
                .collect(),
        }
    }

    /// Picks the loop that serves a connection just accepted by loop `me`
    /// and counts the connection there: `me` unless another loop serves
    /// fewer connections and is still running.
    pub(crate) fn reserve(&self, me: usize) -> usize {
        let (mut best, mut fewest) = (me, self.loops[me].live.load(Relaxed));
        for (i, slot) in self.loops.iter().enumerate() {
            let live = slot.live.load(Relaxed);
            if live < fewest {
                (best, fewest) = (i, live);
            }
        }
        if best != me
            && self.loops[best]
                .live
                .fetch_update(Relaxed, Relaxed, |n| (n < CLOSED).then_some(n + 1))
                .is_ok()
        {
            return best;
        }
        self.loops[me].live.fetch_add(1, Relaxed);
        me
    }

    /// Hands `conn` to loop `to` (reserved by [`reserve`](Self::reserve)).
    pub(crate) fn hand(&self, to: usize, conn: T) {
        self.loops[to].inbox.lock().push(conn);
        self.loops[to].waker.wake_by_ref();
    }

    /// Moves the connections handed to loop `me` into `out`.
    pub(crate) fn take(&self, me: usize, out: &mut Vec<T>) {
        out.append(&mut self.loops[me].inbox.lock());
    }

    /// One of loop `me`'s connections ended (or could not be set up).
    pub(crate) fn left(&self, me: usize) {
        self.loops[me].live.fetch_sub(1, Relaxed);
    }

    /// Marks loop `me` finished if nothing is served by or handed to it;
    /// `false` if something is (the reactor must stay).
    pub(crate) fn try_close(&self, me: usize) -> bool {
        self.loops[me]
            .live
            .compare_exchange(0, CLOSED, Relaxed, Relaxed)
            .is_ok()
    }
}
