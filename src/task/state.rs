//! The task's state word: one `AtomicUsize` that every thread touching a task
//! agrees through.
//!
//! ```text
//!  bit:  63 ..................... 6 |    5     |      4        |    3     |    2     |    1     |    0
//!        reference count            |JOIN_WAKER|JOIN_INTEREST  |CANCELLED | NOTIFIED | COMPLETE | RUNNING
//! ```
//!
//! * `RUNNING`: one thread holds the right to touch the future (to poll it, or
//!   to drop it). Set by `transition_to_running` (from the scheduler) or
//!   `transition_to_shutdown` (from runtime shutdown); whoever sets it owns the
//!   future until it clears it.
//! * `COMPLETE`: the future is gone and the output (or the `JoinError`) is in
//!   the cell. Never cleared. Set together with clearing `RUNNING`.
//! * `NOTIFIED`: a `Notified` reference to the task sits in some run queue, or
//!   will be put there by the thread that is polling it. At most one exists, so
//!   a task is never queued twice.
//! * `CANCELLED`: cancellation was asked for. Before `COMPLETE`, the next
//!   thread to take `RUNNING` drops the future instead of polling it. After
//!   `COMPLETE` it means "ended by cancellation" (normal completion clears it).
//! * `JOIN_INTEREST`: the `Task<T>` handle is alive and will read the output.
//! * `JOIN_WAKER`: the handle has stored a waker in the trailer. While it is
//!   clear the handle owns the slot; while it is set (and before `COMPLETE`)
//!   the task owns it.
//! * the remaining bits count references (`REF_ONE` each): the owner list's,
//!   one per `Notified`, one for the handle, one per `Waker`.
//!
//! The life of the word, ignoring references (`N` = notified, `R` = running,
//! `C` = complete, `X` = cancelled):
//!
//! ```text
//!   spawn ──▶ [N] ──to_running──▶ [R] ──to_idle──▶ [ ] ──wake──▶ [N]
//!                                  │  ▲                           │
//!                  wake while R:   ▼  │ to_idle (re-queues it)    │
//!                               [R,N] ┘                           │
//!            cancel: sets X, and N if idle; to_running/to_idle    │
//!            then report Cancelled and the future is dropped      │
//!   [R] ──to_complete──▶ [C]  (or [C,X] when it was cancelled)  ◀─┘ ...
//! ```
//!
//! Memory orderings: the word publishes the future and the output between
//! threads, so every transition that hands the future over (`to_running`,
//! `to_idle`, `to_complete`, reading `COMPLETE` before taking the output)
//! uses Acquire/Release (AcqRel for read-modify-writes). Reference increments
//! are Relaxed (the caller already holds a reference, as `Arc::clone` does);
//! the decrement that may free is AcqRel so that every other thread's last
//! use of the task happens before the deallocation.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use std::fmt;

/// The future is being polled or dropped by the thread that set this bit.
pub(crate) const RUNNING: usize = 0b00_0001;
/// The future is gone; the output is stored.
pub(crate) const COMPLETE: usize = 0b00_0010;
/// The task is (or is about to be) in a run queue.
pub(crate) const NOTIFIED: usize = 0b00_0100;
/// Cancellation was asked for (before COMPLETE), or happened (after).
pub(crate) const CANCELLED: usize = 0b00_1000;
/// The `Task<T>` handle is alive.
pub(crate) const JOIN_INTEREST: usize = 0b01_0000;
/// The handle's waker is stored in the trailer and owned by the task.
pub(crate) const JOIN_WAKER: usize = 0b10_0000;
/// Bits below the reference count.
const STATE_BITS: u32 = 6;
/// One reference.
pub(crate) const REF_ONE: usize = 1 << STATE_BITS;
/// Mask of the reference count.
const REF_MASK: usize = !(REF_ONE - 1);

/// A new task: queued once, with a handle, and three references (the owner
/// list's, the queued `Notified`'s and the handle's).
const INITIAL: usize = (REF_ONE * 3) | NOTIFIED | JOIN_INTEREST;

/// The atomic state word of one task.
pub(crate) struct State {
    word: AtomicUsize,
}

/// A copy of the word at one moment.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

/// What `transition_to_running` decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// Drop the future: cancellation was asked for.
    Cancel,
    /// Someone else owns the future or it is complete: just drop this
    /// `Notified`'s reference.
    Failed,
}

/// What `transition_to_idle` decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// The task waits for a wakeup; the poller's reference is dropped.
    Idle,
    /// It was woken while polled: the poller's reference becomes the new
    /// `Notified` and the task goes back to a run queue.
    Notified,
    /// Cancellation was asked for while it was polled: still holding
    /// `RUNNING`, the poller drops the future now.
    Cancelled,
}

/// What a waker (or `cancel`) must do after marking the task notified.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToNotified {
    /// Submit a new `Notified` (one reference was added for it).
    Submit,
    /// Nothing: it is running, queued already, or complete.
    DoNothing,
}

/// What dropping the handle must clean up.
pub(crate) struct ToJoinHandleDropped {
    /// The task completed: the handle now owns the output and drops it.
    pub(crate) drop_output: bool,
    /// The handle owns the waker slot and must empty it.
    pub(crate) drop_waker: bool,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            word: AtomicUsize::new(INITIAL),
        }
    }

    /// A snapshot for introspection and fast checks; Acquire so that a
    /// `COMPLETE` seen here also shows the stored output.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.word.load(Acquire))
    }

    fn fetch_update<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.word.load(Acquire);
        loop {
            let (out, next) = f(Snapshot(curr));
            let Some(next) = next else { return out };
            // AcqRel: every transition through here hands over the future, the
            // output or the waker slot, in one direction or the other.
            match self
                .word
                .compare_exchange_weak(curr, next.0, AcqRel, Acquire)
            {
                Ok(_) => return out,
                Err(actual) => curr = actual,
            }
        }
    }

    /// Scheduler side: take the right to poll a queued task. Consumes the
    /// `NOTIFIED` bit (the caller's reference is that notification's).
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_notified(), "running a task that was not notified");
            if curr.is_running() || curr.is_complete() {
                return (ToRunning::Failed, None);
            }
            let next = Snapshot((curr.0 | RUNNING) & !NOTIFIED);
            let action = if curr.is_cancelled() {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (action, Some(next))
        })
    }

    /// Scheduler side: the poll returned `Pending`; give the future back.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_running());
            if curr.is_cancelled() {
                return (ToIdle::Cancelled, None);
            }
            let next = Snapshot(curr.0 & !RUNNING);
            if curr.is_notified() {
                // Keep the poller's reference: it becomes the `Notified`.
                (ToIdle::Notified, Some(next))
            } else {
                (ToIdle::Idle, Some(next))
            }
        })
    }

    /// The future is gone and the output stored: `RUNNING` -> `COMPLETE`.
    /// `cancelled` says whether it ended by cancellation; a normal end clears
    /// a cancellation request that came too late.
    pub(crate) fn transition_to_complete(&self, cancelled: bool) -> Snapshot {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_running() && !curr.is_complete());
            let mut next = (curr.0 & !RUNNING) | COMPLETE;
            if !cancelled {
                next &= !CANCELLED;
            }
            (Snapshot(next), Some(Snapshot(next)))
        })
    }

    /// Waker side (`wake_by_ref`): mark the task notified and say whether a
    /// new `Notified` must be submitted; if so, its reference was added.
    pub(crate) fn transition_to_notified(&self) -> ToNotified {
        self.fetch_update(|curr| {
            if curr.is_complete() || curr.is_notified() {
                (ToNotified::DoNothing, None)
            } else if curr.is_running() {
                // The poller re-queues it in `transition_to_idle`.
                (ToNotified::DoNothing, Some(Snapshot(curr.0 | NOTIFIED)))
            } else {
                let next = Snapshot((curr.0 | NOTIFIED) + REF_ONE);
                (ToNotified::Submit, Some(next))
            }
        })
    }

    /// `Task::cancel`: ask for cancellation and make sure a scheduler will
    /// look at the task. Returns whether the task was not complete yet, and
    /// whether a `Notified` must be submitted (its reference was added).
    pub(crate) fn transition_to_notified_and_cancel(&self) -> (bool, ToNotified) {
        self.fetch_update(|curr| {
            if curr.is_complete() {
                ((false, ToNotified::DoNothing), None)
            } else if curr.is_cancelled() {
                ((true, ToNotified::DoNothing), None)
            } else if curr.is_running() || curr.is_notified() {
                // Whoever runs it next (or is running it now) sees CANCELLED.
                (
                    (true, ToNotified::DoNothing),
                    Some(Snapshot(curr.0 | CANCELLED | NOTIFIED)),
                )
            } else {
                let next = Snapshot((curr.0 | CANCELLED | NOTIFIED) + REF_ONE);
                ((true, ToNotified::Submit), Some(next))
            }
        })
    }

    /// Runtime shutdown: ask for cancellation and, if nobody owns the future
    /// right now, take it (returns `true`: the caller drops it). A task being
    /// polled elsewhere drops its own future when that poll returns.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update(|curr| {
            if curr.is_complete() {
                return (false, None);
            }
            let idle = !curr.is_running();
            let mut next = curr.0 | CANCELLED;
            if idle {
                next |= RUNNING;
            }
            (idle, Some(Snapshot(next)))
        })
    }

    /// Handle side: the handle's waker is in the slot; hand the slot to the
    /// task. Fails (returning the state) if the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested() && !curr.is_join_waker_set());
            if curr.is_complete() {
                return (Err(curr), None);
            }
            let next = Snapshot(curr.0 | JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// Handle side: take the slot back to replace the waker. Fails if the
    /// task completed (it may be waking the old waker right now).
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested());
            if curr.is_complete() {
                // The task may have woken the waker and given the slot back
                // (`unset_waker_after_complete`) since the handle looked.
                return (Err(curr), None);
            }
            debug_assert!(curr.is_join_waker_set());
            let next = Snapshot(curr.0 & !JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// Task side, after completing and waking the handle's waker: give the
    /// slot back. Returns the new state; if the handle is gone by now, the
    /// task drops the waker itself.
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        // AcqRel: releases our use of the slot to the handle, and acquires
        // the handle's drop if it already left.
        let prev = Snapshot(self.word.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// Handle side: the `Task<T>` is dropped.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> ToJoinHandleDropped {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested());
            let mut next = curr.0 & !JOIN_INTEREST;
            if !curr.is_complete() {
                // Before completion the handle may always take the slot back.
                next &= !JOIN_WAKER;
            }
            let next = Snapshot(next);
            let out = ToJoinHandleDropped {
                drop_output: curr.is_complete(),
                drop_waker: !next.is_join_waker_set(),
            };
            (out, Some(next))
        })
    }

    /// Adds one reference (a waker clone, a new `Notified`).
    pub(crate) fn ref_inc(&self) {
        // Relaxed: the caller holds a reference already, so the task cannot
        // be freed concurrently, and no data is published by counting.
        let prev = self.word.fetch_add(REF_ONE, Relaxed);
        if prev > isize::MAX as usize {
            // Counting past half the address space means a leak of wakers;
            // wrapping around would free a live task.
            std::process::abort();
        }
    }

    /// Drops one reference; `true` if it was the last and the task must be
    /// deallocated.
    pub(crate) fn ref_dec(&self) -> bool {
        self.ref_dec_by(1)
    }

    /// Drops `n` references at once; `true` if they were the last.
    pub(crate) fn ref_dec_by(&self, n: usize) -> bool {
        // AcqRel: Release so that this thread's uses of the task happen before
        // the free; Acquire so that the freeing thread sees everyone else's.
        let prev = Snapshot(self.word.fetch_sub(n * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= n, "task reference count underflow");
        prev.ref_count() == n
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> STATE_BITS
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}
