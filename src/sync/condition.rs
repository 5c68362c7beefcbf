//! [`Condition`]: asyncio's `Condition`, shaped like `std::sync::Condvar`.
//!
//! The condition owns only a FIFO waiter list. A wait joins the list
//! *before* it releases the caller's lock, so a notify made after the
//! caller's last look at the data always finds it. A notification is a
//! payload handed to a waiter under the list's mutex; a waiter dropped
//! holding one (before it returned to its caller) hands one on.

use super::lock::{Acquire, Lock, LockGuard};
use super::mutex::{Mutex, MutexGuard, MutexLock};
use super::waiters::{wake_all, Key, Waiters, WakeList};
use crate::loom::sync::Mutex as StateMutex;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

mod sealed {
    use std::future::Future;

    /// What [`Condition::wait`](super::Condition::wait) needs of a guard:
    /// give up the lock, and a future that takes it back.
    pub trait Sealed: Sized + Unpin {
        /// Takes the lock back (FIFO among the lock's waiters).
        type Relock: Future<Output = Self> + Unpin;

        /// Releases the lock (dropping the guard); the returned future
        /// does nothing until polled.
        fn unlock(self) -> Self::Relock;
    }
}

/// A guard [`Condition::wait`] can release and take back: a
/// [`MutexGuard`] or a [`LockGuard`]. Sealed: it is implemented for these
/// two only.
pub trait ConditionGuard: sealed::Sealed {}

impl<'a, T> sealed::Sealed for MutexGuard<'a, T> {
    type Relock = MutexLock<'a, T>;

    fn unlock(self) -> MutexLock<'a, T> {
        let mutex: &'a Mutex<T> = MutexGuard::mutex(&self);
        drop(self);
        mutex.lock()
    }
}

impl<T> ConditionGuard for MutexGuard<'_, T> {}

impl<'a> sealed::Sealed for LockGuard<'a> {
    type Relock = Acquire<'a>;

    fn unlock(self) -> Acquire<'a> {
        let lock: &'a Lock = self.lock();
        drop(self);
        lock.acquire()
    }
}

impl ConditionGuard for LockGuard<'_> {}

/// A condition variable for tasks: asyncio's `Condition`, used like
/// `std::sync::Condvar`.
///
/// A `Condition` holds no lock of its own: [`wait`](Condition::wait) takes
/// the guard of a [`Mutex<T>`](super::Mutex) (or of a
/// [`Lock`](super::Lock)), releases the lock while waiting, and returns the
/// guard once notified and the lock is taken back.
/// [`wait_for`](Condition::wait_for) loops until a predicate on the guarded
/// value holds. [`notify(n)`](Condition::notify) wakes the `n` longest
/// waiting tasks (FIFO), [`notify_all`](Condition::notify_all) every one;
/// neither needs the lock, and a notification with no one waiting is lost,
/// as in asyncio.
///
/// A waiter that is dropped after being notified, before it returned the
/// guard (while taking the lock back, say), passes its notification on to
/// the next waiter in line, if there is one: `notify(1)` is not lost on a
/// cancelled task.
///
/// `Send + Sync`; share it (usually next to its mutex) with `Arc`. It makes
/// no runtime calls, so it also works outside a runtime.
///
/// ```
/// use corio::sync::{Condition, Mutex};
/// use std::sync::Arc;
///
/// corio::run(async {
///     let state = Arc::new((Mutex::new(0), Condition::new()));
///     let consumer = {
///         let state = state.clone();
///         corio::create_task(async move {
///             let (mutex, cond) = &*state;
///             let guard = cond.wait_for(mutex.lock().await, |n| *n >= 3).await;
///             *guard
///         })
///     };
///     for _ in 0..3 {
///         let (mutex, cond) = &*state;
///         *mutex.lock().await += 1;
///         cond.notify_all();
///     }
///     assert_eq!(consumer.await.unwrap(), 3);
/// });
/// ```
pub struct Condition {
    waiters: StateMutex<Waiters<(), ()>>,
}

impl Condition {
    /// A new condition with no waiters.
    pub fn new() -> Condition {
        Condition {
            waiters: StateMutex::new(Waiters::new()),
        }
    }

    /// Releases `guard`'s lock, waits to be notified, takes the lock back
    /// and returns the guard.
    ///
    /// The wait starts (the task is in line for notifications) before the
    /// lock is released, at the first poll: a notify from a task that
    /// changed the data under the lock afterwards is never missed. As with
    /// any condition variable, re-check the condition after waking (or use
    /// [`wait_for`](Condition::wait_for)): another task may have taken the
    /// lock and changed the data first.
    ///
    /// Cancel-safe as far as notifications go: dropped while waiting, the
    /// future leaves the line; dropped after it was notified but before it
    /// returned, it passes the notification to the next waiter. Either way
    /// the guard is lost (the lock is released, not held), so the caller
    /// must lock again; dropped before its first poll, it just releases the
    /// lock.
    pub fn wait<G: ConditionGuard>(&self, guard: G) -> ConditionWait<'_, G> {
        ConditionWait {
            cond: self,
            state: WaitState::Start(guard),
        }
    }

    /// Waits until `predicate` holds for the guarded value, then returns the
    /// guard (at once, without releasing it, if it already holds). The
    /// predicate runs with the lock held, once at the start and after each
    /// notification.
    ///
    /// Cancel-safe as [`wait`](Condition::wait) is.
    ///
    /// ```
    /// use corio::sync::{Condition, Mutex};
    ///
    /// corio::run(async {
    ///     let (mutex, cond) = (Mutex::new(5), Condition::new());
    ///     // Already true: returns at once.
    ///     let guard = cond.wait_for(mutex.lock().await, |v| *v >= 3).await;
    ///     assert_eq!(*guard, 5);
    /// });
    /// ```
    pub async fn wait_for<G, F>(&self, mut guard: G, mut predicate: F) -> G
    where
        G: ConditionGuard + Deref,
        F: FnMut(&G::Target) -> bool,
    {
        while !predicate(&guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiting tasks, the longest waiting first. Each of
    /// them takes the lock back before its `wait` returns.
    pub fn notify(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            let mut left = n;
            waiters.notify_while(&mut wakers, |()| (left > 0).then(|| left -= 1));
        }
        wake_all(wakers);
    }

    /// Wakes every waiting task.
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiting", &self.waiters.lock().len())
            .finish()
    }
}

enum WaitState<G: ConditionGuard> {
    /// Not polled yet: still holding the lock.
    Start(G),
    /// In line for a notification, the lock released.
    Waiting(Key, G::Relock),
    /// Notified; taking the lock back.
    Relocking(G::Relock),
    /// Returned the guard.
    Done,
}

/// The future of [`Condition::wait`]: resolves to the guard, once notified
/// and holding the lock again.
#[must_use = "futures do nothing unless polled; dropping this one releases the lock"]
pub struct ConditionWait<'c, G: ConditionGuard> {
    cond: &'c Condition,
    state: WaitState<G>,
}

impl<G: ConditionGuard> Future for ConditionWait<'_, G> {
    type Output = G;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<G> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, WaitState::Done) {
                WaitState::Start(guard) => {
                    // Join the line while the lock is still held, so that
                    // no notify can fall between the release and the join.
                    let key = this.cond.waiters.lock().push((), cx.waker());
                    // Unlocking may wake the lock's next waiter: done outside
                    // the list's mutex.
                    this.state = WaitState::Waiting(key, guard.unlock());
                    return Poll::Pending;
                }
                WaitState::Waiting(key, relock) => {
                    let notified = this.cond.waiters.lock().poll(key, cx.waker());
                    if notified.is_pending() {
                        this.state = WaitState::Waiting(key, relock);
                        return Poll::Pending;
                    }
                    this.state = WaitState::Relocking(relock);
                }
                WaitState::Relocking(mut relock) => {
                    if let Poll::Ready(guard) = Pin::new(&mut relock).poll(cx) {
                        return Poll::Ready(guard);
                    }
                    this.state = WaitState::Relocking(relock);
                    return Poll::Pending;
                }
                WaitState::Done => panic!("corio::sync::Condition: wait polled after it completed"),
            }
        }
    }
}

impl<G: ConditionGuard> Drop for ConditionWait<'_, G> {
    fn drop(&mut self) {
        match &self.state {
            WaitState::Waiting(key, _) => {
                let waker = {
                    let mut waiters = self.cond.waiters.lock();
                    match waiters.cancel(*key) {
                        // Notified, but never polled since: hand it on.
                        Some(()) => waiters.notify_front(()).ok().flatten(),
                        None => None,
                    }
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            // Notified, but the caller never saw it.
            WaitState::Relocking(_) => self.cond.notify(1),
            WaitState::Start(_) | WaitState::Done => {}
        }
        // The relock future, dropped with the state, leaves the lock's line
        // (handing on the lock if it was handed to it).
    }
}

impl<G: ConditionGuard> fmt::Debug for ConditionWait<'_, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait").finish_non_exhaustive()
    }
}
