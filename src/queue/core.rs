//! The one implementation behind all three queue kinds, generic over where
//! the items are kept ([`Storage`]).
//!
//! Everything lives under one facade mutex: the items, the counters, and
//! three [`Waiters`] lists (getters, putters, `join` callers). Every
//! operation is one lock acquisition; wakers are collected under the lock
//! and woken after it is released, and user values that must be dropped
//! (a refused or cancelled putter's item, the items an immediate shutdown
//! discards) are dropped after it too.
//!
//! Handoff, not wake-and-retry, is what keeps the queue fair and
//! cancel-safe:
//!
//! * a put that finds a getter waiting gives it the item directly (the
//!   getter's payload); the item still counts as in the queue
//!   (`handed`, for `qsize`/`full`) until the getter takes it on its next
//!   poll, as in asyncio, where it sits in the queue until the woken getter
//!   runs;
//! * a blocked putter waits with its item in its request; whoever makes
//!   room moves the item into the queue under the lock and notifies the
//!   putter (payload: done). A putter cancelled while still in line takes
//!   its item back ([`Waiters::withdraw`]) and it is never enqueued;
//! * a getter cancelled after it was handed an item gives it back: to the
//!   next waiting getter, else to the head of the store.
//!
//! Invariants (under the lock), which make "newcomers cannot barge" hold
//! without any extra check: getters wait only while the store is empty,
//! and putters wait only while the queue is full (room, once made, is given
//! to the waiting putters at once).

use super::error::{QueueEmpty, QueueFull, QueueShutDown, TaskDoneError};
use super::storage::Storage;
use crate::loom::sync::Mutex;
use crate::sync::waiters::{wake_all, Key, Waiters, WakeList, Withdrawn};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Where a queue is in its life. Ordered: a later `shutdown(false)` does not
/// undo an immediate one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Open,
    /// `shutdown(false)`: puts fail, gets drain what is left.
    ShutDown,
    /// `shutdown(true)`: the items were discarded; puts and gets fail.
    Immediate,
}

pub(crate) struct Core<S: Storage> {
    maxsize: usize,
    state: Mutex<State<S>>,
}

struct State<S: Storage> {
    items: S,
    /// Items handed to getters that have not taken them yet. They count as
    /// in the queue (for `qsize`, `full`) until taken.
    handed: usize,
    /// Items put and not yet `task_done`'d: what `join` waits for.
    unfinished: usize,
    phase: Phase,
    getters: Waiters<(), Result<S::Item, QueueShutDown>>,
    /// Each blocked putter's request is its item.
    putters: Waiters<S::Item, Result<(), QueueShutDown>>,
    joiners: Waiters<(), ()>,
}

/// Wakers to wake after unlocking. The per-item paths wake at most two (a
/// getter handed an item, a putter admitted), so those stay inline and a
/// put or get allocates nothing; shutdown and `join` use the list.
#[derive(Default)]
struct Wakes {
    inline: [Option<Waker>; 2],
    more: WakeList,
}

impl Wakes {
    fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(waker),
            None => self.more.push(waker),
        }
    }

    fn wake(self) {
        for waker in self.inline.into_iter().flatten() {
            waker.wake();
        }
        wake_all(self.more);
    }
}

impl<S: Storage> State<S> {
    fn len(&self) -> usize {
        self.items.len() + self.handed
    }

    fn has_room(&self, maxsize: usize) -> bool {
        maxsize == 0 || self.len() < maxsize
    }

    /// A new item enters the queue (the caller checked that there is room
    /// and that the queue is open).
    fn enter(&mut self, item: S::Item, wakes: &mut Wakes) {
        self.unfinished += 1;
        self.deliver(item, false, wakes);
    }

    /// Gives `item` to the first waiting getter, else stores it (at the
    /// head if `again`: an item coming back from a cancelled getter).
    fn deliver(&mut self, item: S::Item, again: bool, wakes: &mut Wakes) {
        match self.getters.notify_front(Ok(item)) {
            Ok(waker) => {
                self.handed += 1;
                wakes.push(waker);
            }
            Err(Ok(item)) if again => self.items.unget(item),
            Err(Ok(item)) => self.items.push(item),
            Err(Err(QueueShutDown)) => unreachable!("a getter payload came back as an error"),
        }
    }

    /// Room was made: moves blocked putters' items in, first in line
    /// first, while there is room.
    fn admit_putters(&mut self, maxsize: usize, wakes: &mut Wakes) {
        while self.has_room(maxsize) {
            let Ok((item, waker)) = self.putters.notify_front_take(Ok(())) else {
                break;
            };
            wakes.push(waker);
            self.enter(item, wakes);
        }
    }

    /// Takes the next stored item, making room for a blocked putter.
    fn take(&mut self, maxsize: usize, wakes: &mut Wakes) -> Option<S::Item> {
        let item = self.items.pop()?;
        self.admit_putters(maxsize, wakes);
        Some(item)
    }

    /// `n` items are done; at zero, every `join` returns.
    fn finish(&mut self, n: usize, wakes: &mut Wakes) {
        self.unfinished -= n;
        if self.unfinished == 0 {
            self.joiners.notify_while(&mut wakes.more, |_| Some(()));
        }
    }
}

impl<S: Storage> Core<S> {
    pub(crate) fn new(maxsize: usize) -> Core<S> {
        Core {
            maxsize,
            state: Mutex::new(State {
                items: S::default(),
                handed: 0,
                unfinished: 0,
                phase: Phase::Open,
                getters: Waiters::new(),
                putters: Waiters::new(),
                joiners: Waiters::new(),
            }),
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn qsize(&self) -> usize {
        self.state.lock().len()
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.state.lock().phase != Phase::Open
    }

    pub(crate) fn waiting(&self) -> (usize, usize) {
        let state = self.state.lock();
        (state.getters.len(), state.putters.len())
    }

    pub(crate) fn put_nowait(&self, item: S::Item) -> Result<(), QueueFull<S::Item>> {
        let mut wakes = Wakes::default();
        let out = {
            let mut state = self.state.lock();
            if state.phase != Phase::Open {
                Err(QueueFull::ShutDown(item))
            } else if !state.has_room(self.maxsize) {
                Err(QueueFull::Full(item))
            } else {
                state.enter(item, &mut wakes);
                Ok(())
            }
        };
        wakes.wake();
        out
    }

    pub(crate) fn get_nowait(&self) -> Result<S::Item, QueueEmpty> {
        let mut wakes = Wakes::default();
        let out = {
            let mut state = self.state.lock();
            match state.take(self.maxsize, &mut wakes) {
                Some(item) => Ok(item),
                None if state.phase != Phase::Open => Err(QueueEmpty::ShutDown),
                None => Err(QueueEmpty::Empty),
            }
        };
        wakes.wake();
        out
    }

    pub(crate) fn put(&self, item: S::Item) -> Put<'_, S> {
        Put {
            core: self,
            item: Some(item),
            wait: Wait::Start,
        }
    }

    pub(crate) fn get(&self) -> Get<'_, S> {
        Get {
            core: self,
            wait: Wait::Start,
        }
    }

    pub(crate) fn join(&self) -> Join<'_, S> {
        Join {
            core: self,
            wait: Wait::Start,
        }
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut wakes = Wakes::default();
        {
            let mut state = self.state.lock();
            if state.unfinished == 0 {
                return Err(TaskDoneError);
            }
            state.finish(1, &mut wakes);
        }
        wakes.wake();
        Ok(())
    }

    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut wakes = Wakes::default();
        let (discarded, refused) = {
            let mut state = self.state.lock();
            let phase = if immediate {
                Phase::Immediate
            } else {
                Phase::ShutDown
            };
            state.phase = state.phase.max(phase);
            let discarded = immediate.then(|| {
                // Items handed to getters that have not taken them are
                // discarded too: such a getter finds the queue shut down
                // when it polls (see `Get::poll`), as in asyncio, where the
                // item would still be in the queue.
                let items = std::mem::take(&mut state.items);
                let n = (items.len() + state.handed).min(state.unfinished);
                state.handed = 0;
                state.finish(n, &mut wakes);
                items
            });
            // Waiting getters wait on an empty store: nothing left for them.
            state
                .getters
                .notify_while(&mut wakes.more, |()| Some(Err(QueueShutDown)));
            let mut refused = Vec::new();
            while let Ok((item, waker)) = state.putters.notify_front_take(Err(QueueShutDown)) {
                refused.push(item);
                wakes.push(waker);
            }
            (discarded, refused)
        };
        wakes.wake();
        drop(refused);
        drop(discarded);
    }
}

/// Where a waiting future is.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// Not polled yet.
    Start,
    /// In line under this key.
    Waiting(Key),
    /// Returned `Ready`.
    Done,
}

const POLLED_AFTER_DONE: &str = "a corio::queue future was polled after it completed";

/// `get().await`.
pub(crate) struct Get<'a, S: Storage> {
    core: &'a Core<S>,
    wait: Wait,
}

impl<S: Storage> Future for Get<'_, S> {
    type Output = Result<S::Item, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let maxsize = this.core.maxsize;
        let mut wakes = Wakes::default();
        let mut discarded = None;
        let out = {
            let mut state = this.core.state.lock();
            match this.wait {
                Wait::Start => match state.take(maxsize, &mut wakes) {
                    Some(item) => Poll::Ready(Ok(item)),
                    None if state.phase != Phase::Open => Poll::Ready(Err(QueueShutDown)),
                    None => {
                        this.wait = Wait::Waiting(state.getters.push((), cx.waker()));
                        Poll::Pending
                    }
                },
                Wait::Waiting(key) => match state.getters.poll(key, cx.waker()) {
                    Poll::Pending => Poll::Pending,
                    // Handed over before an immediate shutdown, which
                    // counted it out (`handed` was reset): discarded.
                    Poll::Ready(Ok(item)) if state.phase == Phase::Immediate => {
                        discarded = Some(item);
                        Poll::Ready(Err(QueueShutDown))
                    }
                    Poll::Ready(Ok(item)) => {
                        state.handed -= 1;
                        state.admit_putters(maxsize, &mut wakes);
                        Poll::Ready(Ok(item))
                    }
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                },
                Wait::Done => panic!("{POLLED_AFTER_DONE}"),
            }
        };
        if out.is_ready() {
            this.wait = Wait::Done;
        }
        wakes.wake();
        drop(discarded);
        out
    }
}

impl<S: Storage> Drop for Get<'_, S> {
    fn drop(&mut self) {
        let Wait::Waiting(key) = self.wait else {
            return;
        };
        let mut wakes = Wakes::default();
        let discarded = {
            let mut state = self.core.state.lock();
            match state.getters.cancel(key) {
                // An immediate shutdown already counted it out.
                Some(Ok(item)) if state.phase == Phase::Immediate => Some(item),
                Some(Ok(item)) => {
                    state.handed -= 1;
                    state.deliver(item, true, &mut wakes);
                    None
                }
                Some(Err(QueueShutDown)) | None => None,
            }
        };
        wakes.wake();
        drop(discarded);
    }
}

/// `put(item).await`.
pub(crate) struct Put<'a, S: Storage> {
    core: &'a Core<S>,
    /// The item until the first poll, which puts it or moves it into the
    /// putter's request.
    item: Option<S::Item>,
    wait: Wait,
}

/// The item is never pinned: it is moved in and out by value.
impl<S: Storage> Unpin for Put<'_, S> {}

impl<S: Storage> Future for Put<'_, S> {
    type Output = Result<(), QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let maxsize = this.core.maxsize;
        let mut wakes = Wakes::default();
        let mut refused = None;
        let out = {
            let mut state = this.core.state.lock();
            match this.wait {
                Wait::Start => {
                    let item = this.item.take().expect(POLLED_AFTER_DONE);
                    if state.phase != Phase::Open {
                        refused = Some(item);
                        Poll::Ready(Err(QueueShutDown))
                    } else if state.has_room(maxsize) {
                        debug_assert!(state.putters.is_empty(), "room while putters wait");
                        state.enter(item, &mut wakes);
                        Poll::Ready(Ok(()))
                    } else {
                        this.wait = Wait::Waiting(state.putters.push(item, cx.waker()));
                        Poll::Pending
                    }
                }
                Wait::Waiting(key) => state.putters.poll(key, cx.waker()),
                Wait::Done => panic!("{POLLED_AFTER_DONE}"),
            }
        };
        if out.is_ready() {
            this.wait = Wait::Done;
        }
        wakes.wake();
        drop(refused);
        out
    }
}

impl<S: Storage> Drop for Put<'_, S> {
    fn drop(&mut self) {
        let Wait::Waiting(key) = self.wait else {
            return;
        };
        let withdrawn: Withdrawn<S::Item, _> = self.core.state.lock().putters.withdraw(key);
        // Still in line: the item was never enqueued, and is dropped here,
        // unlocked. Notified: it was enqueued (or refused) already.
        drop(withdrawn);
    }
}

/// `join().await`.
pub(crate) struct Join<'a, S: Storage> {
    core: &'a Core<S>,
    wait: Wait,
}

impl<S: Storage> Future for Join<'_, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let out = {
            let mut state = this.core.state.lock();
            match this.wait {
                Wait::Start if state.unfinished == 0 => Poll::Ready(()),
                Wait::Start => {
                    this.wait = Wait::Waiting(state.joiners.push((), cx.waker()));
                    Poll::Pending
                }
                Wait::Waiting(key) => state.joiners.poll(key, cx.waker()),
                Wait::Done => panic!("{POLLED_AFTER_DONE}"),
            }
        };
        if out.is_ready() {
            this.wait = Wait::Done;
        }
        out
    }
}

impl<S: Storage> Drop for Join<'_, S> {
    fn drop(&mut self) {
        if let Wait::Waiting(key) = self.wait {
            // Each joiner is woken for itself: nothing to pass on.
            self.core.state.lock().joiners.cancel(key);
        }
    }
}
