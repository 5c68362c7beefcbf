//! [`Lock`]: asyncio's `Lock`, and [`RawLock`], the FIFO lock that both it
//! and [`Mutex<T>`](super::Mutex) are.
//!
//! # Protocol
//!
//! A state word holds two bits: `LOCKED` (someone holds the lock, or it was
//! handed to a waiter that has not taken it yet) and `WAITERS` (the waiter
//! list may be non-empty). The waiter list lives under the facade mutex.
//!
//! * Uncontended acquire and release are one compare-exchange each on the
//!   state word (`0 -> LOCKED`, `LOCKED -> 0`); the facade mutex is not
//!   touched.
//! * A contended acquirer takes the mutex, then either finds the lock free
//!   (and takes it) or sets `WAITERS` and joins the list, in one
//!   compare-exchange loop. `WAITERS` is only ever changed under the mutex.
//! * A release that finds `WAITERS` set takes the mutex and hands the lock
//!   to the front waiter (`notify_front`): the state stays `LOCKED`, so a
//!   newcomer cannot barge past the waiter that now owns it. Only when the
//!   list is empty does the lock become free.
//! * A waiter dropped after the lock was handed to it gets it back from
//!   `Waiters::cancel` and hands it on the same way.
//!
//! Invariant: a non-empty list implies `WAITERS`, and `WAITERS` implies
//! `LOCKED`. So a free lock has no waiters, and the fast paths keep FIFO.

use super::waiters::{Key, Waiters};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Someone holds the lock (or it was handed to a waiter).
const LOCKED: usize = 1;
/// The waiter list may be non-empty: a release must look at it.
const WAITERS: usize = 2;

/// The lock under [`Lock`] and [`Mutex<T>`](super::Mutex): a state word for
/// the fast paths and a FIFO waiter list (see the module docs).
pub(crate) struct RawLock {
    state: AtomicUsize,
    waiters: Mutex<Waiters<(), ()>>,
}

impl RawLock {
    pub(crate) fn new() -> RawLock {
        RawLock {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::new()),
        }
    }

    /// Takes the lock if it is free (which means nobody waits for it).
    pub(crate) fn try_lock(&self) -> bool {
        // Acquire on success: pairs with the Release that freed the lock, so
        // the last holder's critical section happens before ours. Failure
        // reads nothing we act on.
        self.state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    pub(crate) fn is_locked(&self) -> bool {
        // Relaxed: a snapshot for the caller's information; it orders nothing.
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    /// Waits for the lock, FIFO.
    pub(crate) fn lock(&self) -> RawAcquire<'_> {
        RawAcquire {
            lock: self,
            state: AcquireState::Start,
        }
    }

    /// Releases the lock; the caller holds it.
    pub(crate) fn unlock(&self) {
        // Release on success: publishes our critical section to the next
        // fast-path acquirer. Failure means `WAITERS` is set, and the
        // handover below goes through the mutex, which orders it.
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        let waker = {
            let mut waiters = self.waiters.lock();
            self.hand_over(&mut waiters)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Passes the held lock to the front waiter, or frees it if nobody
    /// waits. Called under the mutex by whoever holds the lock (its holder,
    /// or the drop of a waiter it was handed to); returns the waker to wake
    /// once the mutex is released.
    fn hand_over(&self, waiters: &mut Waiters<(), ()>) -> Option<Waker> {
        match waiters.notify_front(()) {
            Ok(waker) => {
                if waiters.is_empty() {
                    // Relaxed: the lock stays held (by the waiter just
                    // notified, which learns so under the mutex); this only
                    // lets its later release take the fast path.
                    self.state.fetch_and(!WAITERS, Ordering::Relaxed);
                }
                waker
            }
            Err(()) => {
                // Release: publishes the critical sections so far (ours, or
                // the holder's that reached us through the mutex) to the
                // next fast-path acquirer. Nobody else writes the word
                // meanwhile: it is `LOCKED` (no fast acquire), and `WAITERS`
                // changes only under the mutex we hold.
                self.state.store(0, Ordering::Release);
                None
            }
        }
    }

    /// Under the mutex: takes the lock if it is free, else joins the line.
    fn lock_or_join(&self, waiters: &mut Waiters<(), ()>, waker: &Waker) -> Option<Key> {
        // Relaxed loads and failures: the loop only needs the word's
        // modification order (every CAS here and in the fast paths is an RMW
        // on it), so a release racing with us either lands first (we see 0
        // and take the lock) or fails on our `WAITERS` and then queues behind
        // us on the mutex.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let (new, success) = if state & LOCKED == 0 {
                // Acquire: as in `try_lock`.
                (state | LOCKED, Ordering::Acquire)
            } else {
                // Relaxed: what the waiter will be handed reaches it through
                // the mutex, not through this word.
                (state | WAITERS, Ordering::Relaxed)
            };
            match self
                .state
                .compare_exchange(state, new, success, Ordering::Relaxed)
            {
                Ok(_) if state & LOCKED == 0 => return None,
                Ok(_) => return Some(waiters.push((), waker)),
                Err(actual) => state = actual,
            }
        }
    }
}

impl fmt::Debug for RawLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawLock")
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

enum AcquireState {
    /// Not polled yet.
    Start,
    /// In line.
    Waiting(Key),
    /// Returned the lock.
    Done,
}

/// The future of [`RawLock::lock`]: ready once the lock is the caller's.
/// Dropped while waiting, it leaves the line, and a lock handed to it in the
/// meantime goes on to the next waiter.
pub(crate) struct RawAcquire<'a> {
    lock: &'a RawLock,
    state: AcquireState,
}

impl Future for RawAcquire<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.state {
            AcquireState::Start => {
                if this.lock.try_lock() {
                    this.state = AcquireState::Done;
                    return Poll::Ready(());
                }
                let joined = this
                    .lock
                    .lock_or_join(&mut this.lock.waiters.lock(), cx.waker());
                match joined {
                    Some(key) => {
                        this.state = AcquireState::Waiting(key);
                        Poll::Pending
                    }
                    None => {
                        this.state = AcquireState::Done;
                        Poll::Ready(())
                    }
                }
            }
            AcquireState::Waiting(key) => {
                let ready = this.lock.waiters.lock().poll(key, cx.waker());
                if ready.is_ready() {
                    this.state = AcquireState::Done;
                }
                ready
            }
            AcquireState::Done => panic!("corio::sync: a lock future polled after it completed"),
        }
    }
}

impl Drop for RawAcquire<'_> {
    fn drop(&mut self) {
        let AcquireState::Waiting(key) = self.state else {
            return;
        };
        let waker = {
            let mut waiters = self.lock.waiters.lock();
            match waiters.cancel(key) {
                // The lock was handed to us: it is ours to pass on.
                Some(()) => self.lock.hand_over(&mut waiters),
                None => {
                    if waiters.is_empty() {
                        // Relaxed: no handover, only a hint for the holder's
                        // release (see `hand_over`); under the mutex.
                        self.lock.state.fetch_and(!WAITERS, Ordering::Relaxed);
                    }
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// An async mutual-exclusion lock that guards no data: asyncio's `Lock`.
///
/// [`acquire`](Lock::acquire) waits for the lock and returns a
/// [`LockGuard`] that releases it when dropped. For a lock around a value,
/// use [`Mutex<T>`](super::Mutex).
///
/// Fair: waiters get the lock in the order they started waiting. Releasing
/// a lock that tasks wait for hands it straight to the first of them (the
/// lock stays locked), so a newcomer, even [`try_acquire`](Lock::try_acquire),
/// cannot take it first. Uncontended, acquire and release are one atomic
/// operation each.
///
/// `Lock` is `Send + Sync`: share it with `Arc` (or a reference) among tasks
/// on any worker. It makes no runtime calls, so it also works outside a
/// runtime.
///
/// ```
/// use corio::sync::Lock;
/// use std::sync::Arc;
///
/// corio::run(async {
///     let lock = Arc::new(Lock::new());
///     let guard = lock.acquire().await;
///     let waiter = {
///         let lock = lock.clone();
///         corio::create_task(async move {
///             let _guard = lock.acquire().await;
///             // ... the critical section ...
///         })
///     };
///     assert!(lock.try_acquire().is_none());
///     drop(guard); // hands the lock to the waiting task
///     waiter.await.unwrap();
///     assert!(!lock.locked());
/// });
/// ```
pub struct Lock {
    raw: RawLock,
}

impl Lock {
    /// A new, unlocked lock.
    pub fn new() -> Lock {
        Lock {
            raw: RawLock::new(),
        }
    }

    /// Waits until the lock is free and takes it; it is released when the
    /// returned guard is dropped.
    ///
    /// Cancel-safe: dropping the future before it completes leaves the line
    /// without a trace; if the lock had just been handed to it, it passes on
    /// to the next waiter (or becomes free). A dropped future never holds the
    /// lock.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            raw: self.raw.lock(),
            lock: self,
        }
    }

    /// Takes the lock if it is free right now. A lock that tasks are waiting
    /// for is never free (it goes from one to the next), so this never
    /// barges ahead of them.
    ///
    /// ```
    /// let lock = corio::sync::Lock::new();
    /// let guard = lock.try_acquire().unwrap();
    /// assert!(lock.try_acquire().is_none());
    /// drop(guard);
    /// assert!(lock.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<LockGuard<'_>> {
        // Not `then_some`: that would build (and on failure drop, unlocking
        // someone else's lock) a guard either way.
        self.raw.try_lock().then(|| LockGuard { lock: self })
    }

    /// Whether the lock is held (or handed to a waiter that has not run
    /// yet). A snapshot: other threads may change it at once.
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

/// Holds a [`Lock`]; releasing it when dropped (handing it to the first
/// waiter, if any).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl<'a> LockGuard<'a> {
    /// The lock this guard holds.
    pub fn lock(&self) -> &'a Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.raw.unlock();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// The future of [`Lock::acquire`].
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    raw: RawAcquire<'a>,
    lock: &'a Lock,
}

impl<'a> Future for Acquire<'a> {
    type Output = LockGuard<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a>> {
        let lock = self.lock;
        Pin::new(&mut self.raw)
            .poll(cx)
            .map(|()| LockGuard { lock })
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire").finish_non_exhaustive()
    }
}
