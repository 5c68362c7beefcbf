//! `FutureSet`: a fixed set of futures polled only when woken, yielding each
//! output with its index as it comes. The engine of `gather_all`,
//! `try_gather_all` and `as_completed`.

use super::wake_set::WakeSet;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// N futures, each polled with its own [`WakeSet`] waker, so that one poll
/// of the set polls only the children woken since the last: O(1) work per
/// child wake instead of O(N).
pub(crate) struct FutureSet<F> {
    /// `None` once the child finished. Pinned: a child is polled where it
    /// lies and dropped there (by overwriting it with `None`, or with the
    /// box), never moved.
    children: Pin<Box<[Option<F>]>>,
    wakes: WakeSet,
    /// Woken children not yet polled, oldest first.
    woken: VecDeque<u32>,
    /// Children not finished yet.
    remaining: usize,
}

impl<F> FutureSet<F> {
    /// Number of futures the set was made with.
    pub(crate) fn len(&self) -> usize {
        self.children.len()
    }

    /// Children that have not finished.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }
}

impl<F: Future> FutureSet<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> FutureSet<F> {
        let children: Box<[Option<F>]> = futures.into_iter().map(Some).collect();
        let n = children.len();
        FutureSet {
            wakes: WakeSet::new(n),
            children: Box::into_pin(children),
            woken: VecDeque::new(),
            remaining: n,
        }
    }

    /// Polls the woken children, oldest wake first, until one finishes:
    /// `Ready(Some((index, output)))`. `Ready(None)` once every child has
    /// finished; `Pending` (with `cx` registered) when none of the woken
    /// did. Children left unpolled after a `Ready(Some)` stay queued.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        // One drain per call: a child that wakes itself while polled (a
        // `yield_now`) is queued for the next call instead of being polled in
        // a loop here, and its wake reaches the parent's waker stored here.
        self.wakes.drain(cx.waker(), &mut self.woken);
        while let Some(index) = self.woken.pop_front() {
            let i = index as usize;
            // SAFETY: only this element is touched, in place: it is polled
            // through a new `Pin` and dropped by assignment, never moved.
            let slot = unsafe { &mut self.children.as_mut().get_unchecked_mut()[i] };
            let Some(child) = slot.as_mut() else {
                // Finished: its flag stays set so stale wakers stay quiet.
                continue;
            };
            let waker = self.wakes.prepare(index);
            let mut child_cx = Context::from_waker(&waker);
            // SAFETY: the child is pinned in the boxed slice (see above).
            let poll = unsafe { Pin::new_unchecked(child) }.poll(&mut child_cx);
            if let Poll::Ready(out) = poll {
                // Drops the finished future in place, right away.
                *slot = None;
                self.remaining -= 1;
                return Poll::Ready(Some((i, out)));
            }
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for FutureSet<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutureSet")
            .field("len", &self.children.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}
