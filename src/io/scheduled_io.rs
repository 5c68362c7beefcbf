//! The readiness of one registered source, and the tasks waiting on it.
//!
//! The driver that owns the source sets readiness bits when the OS reports
//! an event; a task that wants to read or write checks the bits, tries the
//! operation, and clears the bits only when the OS answered `WouldBlock`.
//! Registrations are edge-triggered, so clearing on anything else could
//! strand data that arrived before the clear.
//!
//! The word also counts events (`tick`, above the bits). Clearing only
//! succeeds if no event arrived since the task saw the bits it clears:
//! otherwise an event delivered between "read returned WouldBlock" and
//! "clear" would be wiped out and the task would sleep on a ready socket.

// Under loom only the state machine is modelled; the driver that sets the
// bits from OS events is not built.
#![cfg_attr(loom, allow(dead_code))]

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// Bits of the readiness word.
pub(crate) const READABLE: usize = 0b0_0001;
pub(crate) const WRITABLE: usize = 0b0_0010;
pub(crate) const READ_CLOSED: usize = 0b0_0100;
pub(crate) const WRITE_CLOSED: usize = 0b0_1000;
pub(crate) const ERROR: usize = 0b1_0000;
/// The driver is gone (runtime shutdown): operations fail instead of
/// waiting. Never cleared.
pub(crate) const SHUTDOWN: usize = 0b10_0000;
const READY_MASK: usize = 0b11_1111;
const TICK_SHIFT: u32 = 8;

/// Which half of a source an operation waits for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The bits that let an operation in this direction proceed (closing and
    /// errors included: the operation then reports them).
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }
}

/// What a task saw when it was told a source is ready.
#[derive(Copy, Clone, Debug)]
pub(crate) struct ReadyEvent {
    tick: usize,
    pub(crate) ready: usize,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

#[derive(Default)]
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    /// Driver side: records an event and wakes the waiters it concerns.
    pub(crate) fn set_readiness(&self, ready: usize) {
        // AcqRel: Release publishes the event to the task that reads the bits;
        // the waiter lock below orders it against a task registering a waker.
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |curr| {
            let tick = (curr >> TICK_SHIFT).wrapping_add(1);
            Some((tick << TICK_SHIFT) | (curr & READY_MASK) | (ready & READY_MASK))
        });
        let (reader, writer) = {
            let mut waiters = self.waiters.lock();
            let reader = if ready & Direction::Read.mask() != 0 {
                waiters.reader.take()
            } else {
                None
            };
            let writer = if ready & Direction::Write.mask() != 0 {
                waiters.writer.take()
            } else {
                None
            };
            (reader, writer)
        };
        // Wake outside the lock: a waker may run arbitrary code.
        if let Some(w) = reader {
            w.wake();
        }
        if let Some(w) = writer {
            w.wake();
        }
    }

    /// Task side: `Ready` with what was seen if the source is ready in
    /// `direction`, otherwise stores the waker and returns `Pending`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        let mask = direction.mask();
        let curr = self.readiness.load(Acquire);
        if curr & mask != 0 {
            return Poll::Ready(ReadyEvent {
                tick: curr >> TICK_SHIFT,
                ready: curr & mask,
            });
        }
        {
            let mut waiters = self.waiters.lock();
            let slot = match direction {
                Direction::Read => &mut waiters.reader,
                Direction::Write => &mut waiters.writer,
            };
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // Look again after registering: an event set before our waker was
        // stored found no waker to wake (the driver takes the same lock after
        // setting the bits, so it is either seen here or wakes us).
        let curr = self.readiness.load(Acquire);
        if curr & mask != 0 {
            return Poll::Ready(ReadyEvent {
                tick: curr >> TICK_SHIFT,
                ready: curr & mask,
            });
        }
        Poll::Pending
    }

    /// Task side: the operation hit `WouldBlock`; forget the readiness it saw,
    /// unless a newer event arrived meanwhile. Every bit seen goes, closed and
    /// error bits included: the kernel just said the socket is not ready, so
    /// keeping one would make the next attempt spin (an error is reported by
    /// the operation once, then the socket is usable again; a real end of
    /// stream never answers `WouldBlock`). Only `SHUTDOWN` stays.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready & !SHUTDOWN;
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |curr| {
            if curr >> TICK_SHIFT != event.tick {
                return None;
            }
            Some(curr & !clear)
        });
    }

    /// Drops both waiters (the source is being deregistered).
    pub(crate) fn clear_wakers(&self) {
        let waiters = std::mem::take(&mut *self.waiters.lock());
        drop(waiters);
    }
}
