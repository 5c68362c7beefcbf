//! The reactor's ready list: one waker per connection, and the list of
//! connections woken since the reactor last looked.
//!
//! A protocol reactor serves many connections from one task. Polling all of
//! them whenever one becomes ready would be O(connections) per event, so each
//! connection gets its own waker ([`ReadyList::waker`]), created once when the
//! connection is set up and stored with the driver's readiness state for the
//! socket (and woken by a `Transport` used from another thread). Waking it
//! queues the connection's index here and wakes the reactor task; the
//! reactor then serves only the queued connections.
//!
//! This is the protocol of the combinators' `WakeSet`, for a set that grows
//! and shrinks (connections come and go) instead of a fixed one:
//!
//! * **Wake** (any thread: the driver's dispatch, possibly a handoff on
//!   another worker, or a foreign `Transport::write`): `queued.swap(true)`;
//!   if it was already set the connection is already queued and the wake
//!   coalesces. Otherwise push the index under the lock, and if the list was
//!   empty take the reactor's waker and wake it after unlocking.
//! * **Drain** (the reactor, at each poll): under the lock, take every queued
//!   index and store the reactor's current waker.
//! * **Prepare** (the reactor, before serving a connection): clear `queued`
//!   (Acquire), then serve. A wake after the clear queues it again.
//!
//! Invariant (as in `WakeSet`): after the first drain, the list is empty only
//! while a reactor waker is stored, so no wake is lost.
//!
//! Indices are reused by later connections; a stale waker of a finished
//! connection may queue its old index, which only makes the reactor look at
//! (and find nothing to do on) the connection now in that slot.

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Mutex};
use std::task::{RawWaker, RawWakerVTable, Waker};

/// The reactor's end: see the module documentation.
pub(crate) struct ReadyList {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    ready: Vec<usize>,
    reactor: Option<Waker>,
    /// The reactor is gone: wakes are dropped.
    closed: bool,
}

/// One connection's waker state.
struct Slot {
    queued: AtomicBool,
    index: usize,
    shared: Arc<Shared>,
}

impl ReadyList {
    pub(crate) fn new() -> ReadyList {
        ReadyList {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    ready: Vec::new(),
                    reactor: None,
                    closed: false,
                }),
            }),
        }
    }

    /// A new waker for the connection at `index`, already queued (so the
    /// reactor serves a new connection once without waiting for an event).
    pub(crate) fn waker(&self, index: usize) -> ConnWaker {
        let slot = Arc::new(Slot {
            queued: AtomicBool::new(true),
            index,
            shared: self.shared.clone(),
        });
        self.shared.state.lock().ready.push(index);
        let data = Arc::into_raw(slot.clone());
        // SAFETY: `data` is an `Arc<Slot>` turned into a raw pointer, which
        // is what `VTABLE`'s functions expect; the waker owns that count.
        let waker = unsafe { Waker::from_raw(RawWaker::new(data.cast(), &VTABLE)) };
        ConnWaker { slot, waker }
    }

    /// Stores `reactor` as the waker to wake and appends the indices queued
    /// since the last drain to `out`, in the order they were woken.
    pub(crate) fn drain(&self, reactor: &Waker, out: &mut Vec<usize>) {
        let replaced = {
            let mut state = self.shared.state.lock();
            out.append(&mut state.ready);
            match &state.reactor {
                Some(w) if w.will_wake(reactor) => None,
                _ => state.reactor.replace(reactor.clone()),
            }
        };
        // Outside the lock: dropping a waker may run arbitrary code.
        drop(replaced);
    }
}

impl Drop for ReadyList {
    fn drop(&mut self) {
        // Connection wakers may outlive the reactor (in a `Transport` kept by
        // user code): they must wake nobody and queue nothing.
        let reactor = {
            let mut state = self.shared.state.lock();
            state.closed = true;
            state.ready = Vec::new();
            state.reactor.take()
        };
        drop(reactor);
    }
}

/// A connection's waker, owned by its reactor entry.
pub(crate) struct ConnWaker {
    slot: Arc<Slot>,
    waker: Waker,
}

impl ConnWaker {
    /// Clears the queued flag before the reactor serves the connection: a
    /// wake from now on queues it again.
    pub(crate) fn prepare(&self) {
        // Acquire: a wake that found the flag set (and queued nothing)
        // released what it did before waking with its swap; reading that
        // write here makes it visible to the service that follows.
        self.slot.queued.swap(false, Ordering::Acquire);
    }

    /// The waker itself, to register with a readiness source.
    pub(crate) fn waker(&self) -> &Waker {
        &self.waker
    }
}

impl Shared {
    fn wake(&self, slot: &Slot) {
        // Release: see `prepare`.
        if slot.queued.swap(true, Ordering::Release) {
            return;
        }
        let reactor = {
            let mut state = self.state.lock();
            if state.closed {
                return;
            }
            let was_empty = state.ready.is_empty();
            state.ready.push(slot.index);
            if was_empty {
                state.reactor.take()
            } else {
                None
            }
        };
        // Outside the lock: waking may run arbitrary code.
        if let Some(w) = reactor {
            w.wake();
        }
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// # Safety (all four functions)
/// `data` came from `Arc::<Slot>::into_raw` and the caller's waker owns one
/// count of it.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the caller's waker keeps the count above zero.
    unsafe { Arc::increment_strong_count(data.cast::<Slot>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: the caller's contract; this waker's count is dropped after.
    unsafe {
        wake_by_ref(data);
        drop_waker(data);
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the caller's waker keeps the slot alive for this call.
    let slot = unsafe { &*data.cast::<Slot>() };
    slot.shared.wake(slot);
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: gives back the count this waker owned (from `into_raw` or
    // `clone`); the slot is not touched afterwards.
    unsafe { Arc::decrement_strong_count(data.cast::<Slot>()) };
}
