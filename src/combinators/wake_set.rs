//! `WakeSet`: one waker per child of a combinator, all in one allocation,
//! that records *which* children were woken.
//!
//! A combinator over N futures (`gather_all`, `as_completed`, `wait`) must not
//! poll all N whenever one of them wakes it: that is O(N) per wake and O(N²)
//! over a run. Instead each child is polled with its own waker, and waking it
//! queues the child's index here; the combinator (the *parent*) then polls
//! only the queued children.
//!
//! # Structure
//!
//! ```text
//!   Arc<Shared> ──► Shared { state: Mutex<State { ready: Vec<u32>, parent: Option<Waker> }>,
//!                            slots: [Slot { queued: AtomicBool, index, shared: *const Shared }; N] }
//!                                    ▲
//!   child i's Waker: data = &slots[i], vtable = VTABLE
//! ```
//!
//! A child's waker is a [`RawWaker`] whose data pointer is its slot. Every
//! slot points back at the `Shared` that holds it, so a waker reaches the
//! shared state (and its reference count, which it shares with the parent's
//! [`WakeSet`] handle) from its slot alone. Cloning a waker is one atomic
//! increment of that count; there is no allocation per child or per wake.
//!
//! # Protocol
//!
//! * **Wake** (any thread): `queued.swap(true)`. If the flag was already set,
//!   the child is already queued (or is about to be polled), and the wake
//!   coalesces into that. Otherwise push the index on `ready` under the
//!   lock, and if `ready` was empty, take the parent's waker and wake it
//!   (after unlocking). A wake therefore costs the parent at most one
//!   wakeup per batch of children, however many children wake.
//! * **Drain** (the parent, at each poll): under the lock, store the
//!   parent's current waker and take every queued index.
//! * **Prepare** (the parent, before polling child `i`): clear `queued`, then
//!   poll the child with its waker ([`WakeSet::waker`]).
//!
//! Invariant: once the parent has drained once, `ready` is empty only while
//! a parent waker is stored (a wake that takes the waker leaves its own
//! index behind, and the drain that empties `ready` stores a new waker under
//! the same lock). So no wake is lost: a wake either finds `ready` empty and
//! wakes the parent, or finds it non-empty, which means a wake that did wake
//! the parent is still ahead of it and the parent's next drain sees both.
//!
//! A child whose flag stays set is never queued again. The parent uses this
//! for finished children: it does not clear their flag, so the stale wakers
//! such a child left behind (in a timer, a channel) cost nothing.
//!
//! Each index is queued at most once at a time, so `ready` never holds more
//! than N entries.
//!
//! # Lifetime
//!
//! `Shared` lives as long as its longest-lived reference: the parent's
//! `WakeSet` or any clone of a child waker (a detached `Task` may keep the
//! waker `wait` registered with it). When the `WakeSet` is dropped it
//! forgets the parent's waker, so wakes that come later wake nobody.

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// The parent's handle to N child wakers; see the module documentation.
pub(crate) struct WakeSet {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    slots: Box<[Slot]>,
}

struct State {
    /// Indices of children woken since the parent last drained.
    ready: Vec<u32>,
    /// Whom a wake into an empty `ready` wakes; `None` before the first drain,
    /// while a wake is delivering it, and after the `WakeSet` is dropped.
    parent: Option<Waker>,
}

struct Slot {
    /// Set by a wake, cleared by the parent just before it polls the child.
    queued: AtomicBool,
    index: u32,
    /// The `Shared` this slot lives in (set once, before any waker exists).
    shared: *const Shared,
}

// `Slot::shared` is a back pointer to the `Shared` containing the slot, only
// dereferenced by wakers that own a counted reference to that `Shared`.
// SAFETY: so the raw pointers share nothing of their own, and everything else
// in `Shared` is `Send + Sync` (atomics, a mutex around `Send` data).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl WakeSet {
    /// `n` child wakers, every child initially queued (a combinator polls
    /// all its children once to start them).
    ///
    /// # Panics
    /// If `n` does not fit in a `u32`.
    pub(crate) fn new(n: usize) -> WakeSet {
        let count = u32::try_from(n).expect("a corio combinator takes at most u32::MAX futures");
        let slots = (0..count)
            .map(|index| Slot {
                queued: AtomicBool::new(true),
                index,
                shared: std::ptr::null(),
            })
            .collect();
        let mut shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: (0..count).collect(),
                parent: None,
            }),
            slots,
        });
        let ptr = Arc::as_ptr(&shared);
        let Some(inner) = Arc::get_mut(&mut shared) else {
            unreachable!("a new Arc is unique");
        };
        for slot in inner.slots.iter_mut() {
            slot.shared = ptr;
        }
        WakeSet { shared }
    }

    /// Number of children.
    pub(crate) fn len(&self) -> usize {
        self.shared.slots.len()
    }

    /// Stores `parent` as the waker to wake and appends the indices queued
    /// since the last drain to `out`, in the order they were woken.
    pub(crate) fn drain(&self, parent: &Waker, out: &mut VecDeque<u32>) {
        let replaced = {
            let mut state = self.shared.state.lock();
            // `drain(..)` keeps `ready`'s capacity: wakes do not allocate.
            out.extend(state.ready.drain(..));
            match &state.parent {
                Some(w) if w.will_wake(parent) => None,
                _ => state.parent.replace(parent.clone()),
            }
        };
        // Dropped outside the lock, like every waker here: dropping one may
        // run arbitrary code.
        drop(replaced);
    }

    /// Clears child `index`'s queued flag and returns its waker, to poll the
    /// child with. A wake after this queues the child again.
    ///
    /// # Panics
    /// If `index` is out of range.
    pub(crate) fn prepare(&self, index: u32) -> WakerRef<'_> {
        let slot = &self.shared.slots[index as usize];
        // Acquire: a wake that found the flag still set (and so queued
        // nothing) released what it published before waking with its swap;
        // this swap reads that write (or a later one in the flag's chain of
        // read-modify-writes) and so makes it visible to the poll that
        // follows. Wakes after this clear find it false and go through the
        // lock instead.
        slot.queued.swap(false, Ordering::Acquire);
        self.waker(index)
    }

    /// Child `index`'s waker, borrowed (no reference count is taken; a
    /// clone takes one). Does not touch the queued flag.
    pub(crate) fn waker(&self, index: u32) -> WakerRef<'_> {
        let slot: *const Slot = &self.shared.slots[index as usize];
        // The `ManuallyDrop` never runs the waker's drop, so this borrowed
        // waker owns no count: it borrows `self`'s, which the returned
        // lifetime keeps alive; clones made from it count their own.
        // SAFETY: the data pointer is a slot of `self.shared`, whose `shared`
        // pointer is set, and `VTABLE` is for exactly such pointers.
        let waker = unsafe { Waker::from_raw(RawWaker::new(slot.cast(), &VTABLE)) };
        WakerRef {
            waker: ManuallyDrop::new(waker),
            _set: PhantomData,
        }
    }
}

impl Drop for WakeSet {
    fn drop(&mut self) {
        // Stale child wakers may outlive the parent; make them wake nobody
        // rather than keep (and wake) the parent's task. Taken out of the
        // lock before dropping: dropping a waker may run arbitrary code.
        let parent = self.shared.state.lock().parent.take();
        drop(parent);
    }
}

impl fmt::Debug for WakeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeSet").field("len", &self.len()).finish()
    }
}

impl Shared {
    /// The wake of child `index` (see the protocol in the module docs).
    fn wake(&self, slot: &Slot) {
        // Release: publishes what the waker did before waking to the
        // parent's Acquire clear (see `prepare`) when this wake coalesces
        // into an earlier one. When it does not, the lock orders the rest.
        if slot.queued.swap(true, Ordering::Release) {
            return;
        }
        let parent = {
            let mut state = self.state.lock();
            let was_empty = state.ready.is_empty();
            state.ready.push(slot.index);
            if was_empty {
                state.parent.take()
            } else {
                None
            }
        };
        // Woken outside the lock: a waker may do anything, including wake
        // another child of this set.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// A child waker borrowed from a [`WakeSet`]: derefs to `&Waker`.
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _set: PhantomData<&'a WakeSet>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// # Safety (all four functions)
/// `data` is a slot of a live `Shared`, whose count the caller's waker owns
/// (or, for a `WakerRef`, borrows from a live `WakeSet`).
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: see above: the slot is alive while the caller's waker is.
    let slot = unsafe { &*data.cast::<Slot>() };
    // SAFETY: `slot.shared` came from `Arc::as_ptr` of the `Arc` that holds
    // the slot, and the caller's waker keeps that count above zero.
    unsafe { Arc::increment_strong_count(slot.shared) };
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
    // SAFETY: the caller's waker keeps the slot and its `Shared` alive for
    // this call.
    let slot = unsafe { &*data.cast::<Slot>() };
    // SAFETY: as above; `shared` points at the `Shared` holding the slot.
    let shared = unsafe { &*slot.shared };
    shared.wake(slot);
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the caller's waker keeps the slot alive until its count is
    // dropped; the pointer is read before that.
    let shared = unsafe { (*data.cast::<Slot>()).shared };
    // SAFETY: the waker owned one count of this `Arc` (taken in `clone`);
    // this gives it back, and may free the slot, which is not touched again.
    unsafe { Arc::decrement_strong_count(shared) };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn parent() -> (Waker, std::sync::Arc<Count>) {
        let c = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        (Waker::from(c.clone()), c)
    }

    #[test]
    fn starts_with_every_child_queued() {
        let set = WakeSet::new(3);
        let (p, _) = parent();
        let mut out = VecDeque::new();
        set.drain(&p, &mut out);
        assert_eq!(out, [0, 1, 2]);
        out.clear();
        set.drain(&p, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn wakes_coalesce_until_prepared_and_wake_the_parent_once_per_batch() {
        let set = WakeSet::new(3);
        let (p, count) = parent();
        let mut out = VecDeque::new();
        set.drain(&p, &mut out);
        let w2 = set.prepare(2).clone();
        let w0 = set.prepare(0).clone();
        w2.wake_by_ref();
        w2.wake_by_ref();
        w0.wake_by_ref();
        // One parent wake for the batch; the repeated wake of 2 queued once.
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        out.clear();
        set.drain(&p, &mut out);
        assert_eq!(out, [2, 0]);
        // Not prepared again: further wakes are absorbed.
        w2.wake_by_ref();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        set.prepare(2);
        w2.wake();
        assert_eq!(count.0.load(Ordering::Relaxed), 2);
        drop(w0);
    }

    #[test]
    fn wakers_outlive_the_set_and_wake_nobody() {
        let set = WakeSet::new(1);
        let (p, count) = parent();
        set.drain(&p, &mut VecDeque::new());
        let w = set.prepare(0).clone();
        assert!(w.will_wake(&set.waker(0)));
        drop(set);
        w.wake_by_ref();
        drop(w);
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
    }
}
