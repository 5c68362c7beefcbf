//! `Waiters`: the FIFO waiter list every `corio::sync` primitive and queue is
//! a thin layer over.
//!
//! # What it is
//!
//! A doubly linked FIFO list of waiting tasks whose nodes live in a slab
//! (a `Vec` of slots, vacant ones chained into a free list), linked by
//! index rather than by pointer. A waiter costs no allocation of its own
//! (the slab grows to the largest number of simultaneous waiters and then
//! recycles), joins at the back in O(1), leaves from anywhere in O(1) when
//! its future is dropped, and everything is safe code.
//!
//! The list is not synchronized: it always lives inside its primitive's
//! mutex (`Mutex<(state, Waiters)>`), so the primitive's state and its
//! waiters change together, atomically. That is the whole concurrency
//! argument: every transition below happens under that one lock, and wakers
//! are woken only after it is released (the caller collects them in a
//! [`WakeList`]).
//!
//! # A waiter's life
//!
//! ```text
//!   push ──> Waiting { request, waker } ──notify──> Notified(payload) ──poll──> gone
//!                 │                                       │
//!                 └───────────── cancel ──> gone          └── cancel ──> gone, payload returned
//! ```
//!
//! * A waiter joins with a *request* `R` (how many permits it wants, say) and
//!   its waker, and gets a [`Key`].
//! * The primitive decides who can make progress by looking at the front
//!   request ([`front`](Waiters::front)) and hands that waiter a *payload*
//!   `N` (the permits, the lock, an item) with
//!   [`notify_front`](Waiters::notify_front), which unlinks it: a notified
//!   waiter is no longer in line, so a second notification goes to the next.
//!   The payload is the waiter's from that moment: nothing can take it back.
//! * The waiter's next poll takes the payload ([`poll`](Waiters::poll)).
//! * A waiter dropped before that calls [`cancel`](Waiters::cancel), which
//!   returns the payload if one was handed over, so that the primitive passes
//!   it on (a lock to the next waiter, an item back to the queue). This is
//!   what makes every primitive cancel-safe: a handoff is never lost, and a
//!   cancelled waiter leaves no trace.
//!
//! Handing over under the lock (rather than waking the waiter to retry) is
//! also what makes the primitives fair: a newcomer cannot barge past a
//! waiter that was woken but has not run yet, because what it was woken for
//! is already its own.

use std::fmt;
use std::task::{Poll, Waker};

/// A waiter's ticket: its slot, and the slot's generation when it joined
/// (slots are recycled; a stale key is a bug and caught in debug builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

/// "No slot": the end of a link chain.
const NIL: u32 = u32::MAX;

enum Slot<R, N> {
    /// Free; `next_free` chains the free list.
    Vacant { next_free: u32 },
    /// In line.
    Waiting {
        request: R,
        waker: Option<Waker>,
        prev: u32,
        next: u32,
    },
    /// Out of line, holding what it was handed until it polls or cancels.
    Notified(N),
}

struct Entry<R, N> {
    generation: u32,
    slot: Slot<R, N>,
}

/// The FIFO list of waiters of one primitive (see the module docs). `R` is
/// what a waiter asks for, `N` what it is handed.
pub(crate) struct Waiters<R, N> {
    entries: Vec<Entry<R, N>>,
    free: u32,
    head: u32,
    tail: u32,
    /// Waiters in line (not counting notified ones).
    waiting: usize,
}

/// What a waiter that gave up ([`Waiters::withdraw`]) leaves behind.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Withdrawn<R, N> {
    /// It was still in line: its request, untouched.
    Request(R),
    /// It had been notified: the payload it was handed, to pass on.
    Payload(N),
}

/// Wakers collected under a lock, to wake after it is released.
pub(crate) type WakeList = Vec<Waker>;

impl<R, N> Waiters<R, N> {
    pub(crate) const fn new() -> Waiters<R, N> {
        Waiters {
            entries: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            waiting: 0,
        }
    }

    /// The number of waiters in line.
    pub(crate) fn len(&self) -> usize {
        self.waiting
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Joins the back of the line.
    pub(crate) fn push(&mut self, request: R, waker: &Waker) -> Key {
        let slot = Slot::Waiting {
            request,
            waker: Some(waker.clone()),
            prev: self.tail,
            next: NIL,
        };
        let index = if self.free != NIL {
            let index = self.free;
            let entry = &mut self.entries[index as usize];
            let Slot::Vacant { next_free } = entry.slot else {
                unreachable!("the free list holds a used slot");
            };
            self.free = next_free;
            entry.slot = slot;
            index
        } else {
            let index = u32::try_from(self.entries.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("more than 4 billion waiters on one primitive");
            self.entries.push(Entry {
                generation: 0,
                slot,
            });
            index
        };
        match self.tail {
            NIL => self.head = index,
            tail => self.set_next(tail, index),
        }
        self.tail = index;
        self.waiting += 1;
        Key {
            index,
            generation: self.entries[index as usize].generation,
        }
    }

    /// The request of the first waiter in line.
    pub(crate) fn front(&self) -> Option<&R> {
        match self.head {
            NIL => None,
            head => match &self.entries[head as usize].slot {
                Slot::Waiting { request, .. } => Some(request),
                _ => unreachable!("a waiter in line is not waiting"),
            },
        }
    }

    /// Hands `payload` to the first waiter in line, which leaves the line,
    /// and returns its waker (wake it after unlocking). `payload` comes back
    /// if nobody waits.
    pub(crate) fn notify_front(&mut self, payload: N) -> Result<Option<Waker>, N> {
        match self.head {
            NIL => Err(payload),
            head => Ok(self.notify(head, payload)),
        }
    }

    /// Hands each waiter in line, front to back, the payload `f` makes of its
    /// request, for as long as `f` returns one; their wakers go to `wakers`.
    /// Returns how many were notified.
    pub(crate) fn notify_while(
        &mut self,
        wakers: &mut WakeList,
        mut f: impl FnMut(&R) -> Option<N>,
    ) -> usize {
        let mut count = 0;
        while let Some(request) = self.front() {
            let Some(payload) = f(request) else { break };
            let head = self.head;
            wakers.extend(self.notify(head, payload));
            count += 1;
        }
        count
    }

    fn notify(&mut self, index: u32, payload: N) -> Option<Waker> {
        self.notify_take(index, payload).1
    }

    /// Like [`notify_front`](Waiters::notify_front), but moves the front
    /// waiter's request out to the caller instead of dropping it: for a
    /// request that carries a value (a queue putter's item), which the
    /// primitive then uses, or drops after unlocking.
    pub(crate) fn notify_front_take(&mut self, payload: N) -> Result<(R, Option<Waker>), N> {
        match self.head {
            NIL => Err(payload),
            head => Ok(self.notify_take(head, payload)),
        }
    }

    fn notify_take(&mut self, index: u32, payload: N) -> (R, Option<Waker>) {
        let entry = &mut self.entries[index as usize];
        let old = std::mem::replace(&mut entry.slot, Slot::Notified(payload));
        let Slot::Waiting {
            request,
            waker,
            prev,
            next,
        } = old
        else {
            unreachable!("notified a waiter that is not in line");
        };
        self.unlink(prev, next);
        (request, waker)
    }

    /// A waiter's poll: its payload if it was notified (the waiter then
    /// leaves for good), else `Pending` after making sure `waker` is the one
    /// that will be woken.
    pub(crate) fn poll(&mut self, key: Key, waker: &Waker) -> Poll<N> {
        let entry = self.entry_mut(key);
        match &mut entry.slot {
            Slot::Waiting { waker: stored, .. } => {
                match stored {
                    Some(w) if w.will_wake(waker) => {}
                    _ => *stored = Some(waker.clone()),
                }
                Poll::Pending
            }
            Slot::Notified(_) => Poll::Ready(self.release(key)),
            Slot::Vacant { .. } => unreachable!("polled a waiter that left"),
        }
    }

    /// `true` if the waiter was handed its payload (and has not taken it).
    #[cfg(test)]
    pub(crate) fn is_notified(&self, key: Key) -> bool {
        let entry = &self.entries[key.index as usize];
        debug_assert_eq!(entry.generation, key.generation, "stale waiter key");
        matches!(entry.slot, Slot::Notified(_))
    }

    /// A waiter gives up (its future was dropped): it leaves the line, or,
    /// if it was already notified, returns the payload it was handed, for
    /// the primitive to pass on.
    pub(crate) fn cancel(&mut self, key: Key) -> Option<N> {
        let entry = self.entry_mut(key);
        match entry.slot {
            Slot::Waiting { prev, next, .. } => {
                self.unlink(prev, next);
                self.vacate(key);
                None
            }
            Slot::Notified(_) => Some(self.release(key)),
            Slot::Vacant { .. } => unreachable!("cancelled a waiter that left"),
        }
    }

    /// Like [`cancel`](Waiters::cancel), but a waiter still in line gives its
    /// request back instead of dropping it (a queue putter's item, to drop
    /// after unlocking).
    pub(crate) fn withdraw(&mut self, key: Key) -> Withdrawn<R, N> {
        let entry = self.entry_mut(key);
        match entry.slot {
            Slot::Waiting { prev, next, .. } => {
                self.unlink(prev, next);
                match self.vacate(key) {
                    Slot::Waiting { request, .. } => Withdrawn::Request(request),
                    _ => unreachable!("the waiter left the line while withdrawing"),
                }
            }
            Slot::Notified(_) => Withdrawn::Payload(self.release(key)),
            Slot::Vacant { .. } => unreachable!("withdrew a waiter that left"),
        }
    }

    /// Takes a notified waiter's payload and frees its slot.
    fn release(&mut self, key: Key) -> N {
        match self.vacate(key) {
            Slot::Notified(payload) => payload,
            _ => unreachable!("released a waiter that was not notified"),
        }
    }

    fn vacate(&mut self, key: Key) -> Slot<R, N> {
        let free = self.free;
        let entry = self.entry_mut(key);
        entry.generation = entry.generation.wrapping_add(1);
        let old = std::mem::replace(&mut entry.slot, Slot::Vacant { next_free: free });
        self.free = key.index;
        old
    }

    fn unlink(&mut self, prev: u32, next: u32) {
        match prev {
            NIL => self.head = next,
            prev => self.set_next(prev, next),
        }
        match next {
            NIL => self.tail = prev,
            next => self.set_prev(next, prev),
        }
        self.waiting -= 1;
    }

    fn set_next(&mut self, index: u32, to: u32) {
        match &mut self.entries[index as usize].slot {
            Slot::Waiting { next, .. } => *next = to,
            _ => unreachable!("linked to a waiter that is not in line"),
        }
    }

    fn set_prev(&mut self, index: u32, to: u32) {
        match &mut self.entries[index as usize].slot {
            Slot::Waiting { prev, .. } => *prev = to,
            _ => unreachable!("linked to a waiter that is not in line"),
        }
    }

    fn entry_mut(&mut self, key: Key) -> &mut Entry<R, N> {
        let entry = &mut self.entries[key.index as usize];
        debug_assert_eq!(entry.generation, key.generation, "stale waiter key");
        entry
    }
}

impl<R, N> Default for Waiters<R, N> {
    fn default() -> Self {
        Waiters::new()
    }
}

impl<R, N> fmt::Debug for Waiters<R, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiters")
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}

/// Wakes every waker in `list` (after the lock that filled it was released).
pub(crate) fn wake_all(list: WakeList) {
    for waker in list {
        waker.wake();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn fifo_handoff_and_payloads() {
        let (_, w) = waker();
        let mut list: Waiters<u32, &str> = Waiters::new();
        let a = list.push(1, &w);
        let b = list.push(2, &w);
        let c = list.push(3, &w);
        assert_eq!(list.front(), Some(&1));
        assert!(list.notify_front("x").unwrap().is_some());
        assert_eq!(list.front(), Some(&2));
        assert_eq!(list.len(), 2);
        assert!(list.is_notified(a));
        assert_eq!(list.poll(a, &w), Poll::Ready("x"));
        assert_eq!(list.poll(b, &w), Poll::Pending);
        // Cancel from the middle: order of the rest is kept.
        let d = list.push(4, &w);
        assert_eq!(list.cancel(c), None);
        assert_eq!(list.front(), Some(&2));
        list.notify_front("y").unwrap();
        assert_eq!(list.front(), Some(&4));
        // A notified waiter that cancels gives its payload back.
        assert_eq!(list.cancel(b), Some("y"));
        assert!(matches!(list.notify_front("z"), Ok(Some(_))));
        assert_eq!(list.poll(d, &w), Poll::Ready("z"));
        assert!(list.is_empty());
        assert!(matches!(list.notify_front("nobody"), Err("nobody")));
    }

    #[test]
    fn take_and_withdraw_move_requests_out() {
        let (_, w) = waker();
        let mut list: Waiters<String, u8> = Waiters::new();
        let a = list.push("a".into(), &w);
        let b = list.push("b".into(), &w);
        let c = list.push("c".into(), &w);
        let (request, waker) = list.notify_front_take(1).unwrap();
        assert_eq!((request.as_str(), waker.is_some()), ("a", true));
        assert_eq!(list.withdraw(c), Withdrawn::Request("c".into()));
        assert_eq!(list.withdraw(a), Withdrawn::Payload(1));
        assert_eq!(list.front().map(String::as_str), Some("b"));
        assert_eq!(list.withdraw(b), Withdrawn::Request("b".into()));
        assert!(list.is_empty());
        assert_eq!(list.notify_front_take(2).unwrap_err(), 2);
    }

    #[test]
    fn slots_are_recycled() {
        let (_, w) = waker();
        let mut list: Waiters<(), ()> = Waiters::new();
        for _ in 0..100 {
            let k = list.push((), &w);
            list.cancel(k);
        }
        assert_eq!(list.entries.len(), 1);
        let keys: Vec<_> = (0..10).map(|_| list.push((), &w)).collect();
        for k in keys {
            list.cancel(k);
        }
        assert_eq!(list.entries.len(), 10);
    }

    #[test]
    fn poll_replaces_a_different_waker_only() {
        let (c1, w1) = waker();
        let (c2, w2) = waker();
        let mut list: Waiters<(), ()> = Waiters::new();
        let k = list.push((), &w1);
        assert_eq!(list.poll(k, &w2), Poll::Pending);
        list.notify_front(()).unwrap().unwrap().wake();
        assert_eq!((c1.0.load(SeqCst), c2.0.load(SeqCst)), (0, 1));
        assert_eq!(list.poll(k, &w2), Poll::Ready(()));
    }

    #[test]
    fn notify_while_stops_at_the_first_it_cannot_serve() {
        let (c, w) = waker();
        let mut list: Waiters<u32, u32> = Waiters::new();
        let keys: Vec<_> = [1, 2, 5, 1].iter().map(|&n| list.push(n, &w)).collect();
        let mut available = 4;
        let mut wakers = WakeList::new();
        let n = list.notify_while(&mut wakers, |&want| {
            (want <= available).then(|| {
                available -= want;
                want
            })
        });
        assert_eq!(n, 2);
        wake_all(wakers);
        assert_eq!(c.0.load(SeqCst), 2);
        // FIFO: the waiter wanting 1 behind the one wanting 5 is not served.
        assert_eq!(list.front(), Some(&5));
        assert!(list.is_notified(keys[0]) && list.is_notified(keys[1]));
        assert!(!list.is_notified(keys[3]));
    }
}
