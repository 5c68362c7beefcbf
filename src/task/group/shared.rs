//! The state a `TaskGroup`, its handles and its children share: which
//! children are live (with a way to cancel each), the failures so far, and
//! the waker of the `join` waiting for the last child.
//!
//! Every method takes the lock for a few field updates and calls nothing
//! outside the group while holding it: cancelling a task can schedule it
//! and dropping a task reference can free the task, so both happen after
//! the lock is released.

use super::error::ChildFailure;
use crate::loom::sync::Mutex;
use crate::task::CancelHandle;
use std::task::{Context, Poll, Waker};

pub(super) struct Shared {
    state: Mutex<State>,
}

struct State {
    /// One slot per live child, reused through `free`.
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Children that have not left yet (reserved slots included).
    live: usize,
    failures: Vec<ChildFailure>,
    /// A child failed: the others were cancelled, and no new child starts.
    failed: bool,
    /// The group was dropped, or `join` saw it empty: no new child starts.
    closed: bool,
    joiner: Option<Waker>,
}

/// A child's slot. A child is spawned between `reserve` and `arm` without
/// the lock held, and it may finish (and leave) before it is armed.
enum Slot {
    Vacant,
    /// Reserved; the child is being spawned.
    Reserved,
    /// The child left before it was armed; `arm` frees the slot.
    Left,
    Armed(CancelHandle),
}

/// What [`Shared::reserve`] found.
#[derive(Debug)]
pub(super) enum Reserved {
    /// A slot for a child that may run.
    Open(usize),
    /// A slot for a child that must not run (a child failed already): it is
    /// counted so that `join` waits for its future to be dropped.
    Failed(usize),
    /// The group was joined or dropped: no slot.
    Closed,
}

/// Whether [`Shared::arm`] found that the child must be cancelled.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub(super) enum Armed {
    Running,
    /// The group failed or closed while the child was being spawned.
    CancelNow,
}

impl Shared {
    pub(super) fn new() -> Shared {
        Shared {
            state: Mutex::new(State {
                slots: Vec::new(),
                free: Vec::new(),
                live: 0,
                failures: Vec::new(),
                failed: false,
                closed: false,
                joiner: None,
            }),
        }
    }

    /// Counts a new child and gives its slot, unless nobody will join the
    /// group any more (it was dropped, or joined).
    pub(super) fn reserve(&self) -> Reserved {
        let mut state = self.state.lock();
        if state.closed {
            return Reserved::Closed;
        }
        state.live += 1;
        let key = match state.free.pop() {
            Some(key) => key,
            None => {
                state.slots.push(Slot::Vacant);
                state.slots.len() - 1
            }
        };
        state.slots[key] = Slot::Reserved;
        if state.failed {
            Reserved::Failed(key)
        } else {
            Reserved::Open(key)
        }
    }

    /// Stores the cancel handle of the child spawned into slot `key`.
    pub(super) fn arm(&self, key: usize, handle: CancelHandle) -> Armed {
        let mut state = self.state.lock();
        match std::mem::replace(&mut state.slots[key], Slot::Vacant) {
            Slot::Reserved => {
                state.slots[key] = Slot::Armed(handle);
                // A failure or a drop of the group in between found nothing
                // to cancel in this slot.
                if state.failed || state.closed {
                    Armed::CancelNow
                } else {
                    Armed::Running
                }
            }
            Slot::Left => {
                state.free.push(key);
                drop(state);
                drop(handle);
                Armed::Running
            }
            Slot::Vacant | Slot::Armed(_) => unreachable!("armed a slot that was not reserved"),
        }
    }

    /// A child is gone (completed, failed, panicked or cancelled): called
    /// exactly once per reserved slot, after the child's future was dropped.
    pub(super) fn leave(&self, key: usize) {
        let mut state = self.state.lock();
        let handle = match std::mem::replace(&mut state.slots[key], Slot::Vacant) {
            Slot::Reserved => {
                state.slots[key] = Slot::Left;
                None
            }
            Slot::Armed(handle) => {
                state.free.push(key);
                Some(handle)
            }
            Slot::Vacant | Slot::Left => unreachable!("a child left twice"),
        };
        state.live -= 1;
        let joiner = if state.live == 0 {
            state.joiner.take()
        } else {
            None
        };
        drop(state);
        drop(handle);
        if let Some(waker) = joiner {
            waker.wake();
        }
    }

    /// The child in slot `key` failed: records why, and on the group's first
    /// failure cancels every other live child.
    pub(super) fn fail(&self, key: usize, failure: ChildFailure) {
        let mut state = self.state.lock();
        state.failures.push(failure);
        if std::mem::replace(&mut state.failed, true) || state.closed {
            // Whoever failed or closed the group first cancelled the rest.
            return;
        }
        let siblings = armed_except(&state, Some(key));
        drop(state);
        cancel_all(siblings);
    }

    /// The group was dropped: no new children, and every live one is
    /// cancelled.
    pub(super) fn close(&self) {
        let mut state = self.state.lock();
        if std::mem::replace(&mut state.closed, true) {
            return;
        }
        let children = armed_except(&state, None);
        drop(state);
        cancel_all(children);
    }

    /// `join`'s poll: the failures once no child is live (closing the group
    /// to new children in the same step), else registers `cx`'s waker.
    pub(super) fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Vec<ChildFailure>> {
        let mut state = self.state.lock();
        if state.live == 0 {
            state.closed = true;
            return Poll::Ready(std::mem::take(&mut state.failures));
        }
        match &state.joiner {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => {
                let old = state.joiner.replace(cx.waker().clone());
                drop(state);
                // A waker's destructor is foreign code: not under our lock.
                drop(old);
            }
        }
        Poll::Pending
    }

    /// Children not yet done.
    pub(super) fn live(&self) -> usize {
        self.state.lock().live
    }
}

/// Clones of the cancel handles of every armed child but `except`. (Cloning
/// costs a reference count; it lets the cancels run without the lock.)
fn armed_except(state: &State, except: Option<usize>) -> Vec<CancelHandle> {
    state
        .slots
        .iter()
        .enumerate()
        .filter(|(key, _)| Some(*key) != except)
        .filter_map(|(_, slot)| match slot {
            Slot::Armed(handle) => Some(handle.clone()),
            _ => None,
        })
        .collect()
}

fn cancel_all(children: Vec<CancelHandle>) {
    for child in children {
        child.cancel();
    }
}
