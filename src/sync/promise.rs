//! [`Promise`]: a settable future, asyncio's `Future`.
//!
//! The outcome, the waiters and the callbacks live behind one mutex; an
//! atomic mirrors the outcome's kind so that `is_done`, `is_cancelled`, a
//! refused `set_result` and the drop of a finished waiter need no lock.
//! Completing takes the waiter list and the callbacks out under the lock,
//! then wakes and calls them after unlocking, so no user code and no waker
//! runs under the lock (except `T::clone` in [`Promise::wait`]).

use super::waiters::{Key, Waiters, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex, MutexGuard};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Values of `Inner::state`.
const PENDING: usize = 0;
const RESULT: usize = 1;
const CANCELLED: usize = 2;

/// Panic message of a read after a by-value await moved the result out.
const TAKEN: &str = "corio::sync::Promise: the result was already moved out by awaiting the \
                     Promise by value (`IntoFuture` is one-shot); use `Promise::wait` to share \
                     one result among several consumers";

/// The error of a [`Promise`] that was cancelled: asyncio's
/// `CancelledError`.
///
/// ```
/// use corio::sync::{Cancelled, Promise};
///
/// let p = Promise::<u8>::new();
/// p.cancel();
/// assert_eq!(p.try_result(), Some(Err(Cancelled)));
/// assert_eq!(Cancelled.to_string(), "the promise was cancelled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the promise was cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// A result that is set once, by any code holding a handle, and awaited by
/// any number of tasks: asyncio's `Future` (`loop.create_future()`).
///
/// A `Promise` is a handle: [`clone`](Clone::clone) gives another handle
/// to the same promise, and every handle may complete it
/// ([`set_result`](Promise::set_result) or [`cancel`](Promise::cancel);
/// the first one wins) or wait for it. It is `Send` and `Sync` when `T` is
/// `Send`, so that a result set on one thread (a worker, a blocking-pool
/// thread, any plain thread) wakes the tasks waiting on other workers. It
/// makes no runtime calls, so it also works outside a runtime.
///
/// Two ways to get the result:
///
/// * [`wait`](Promise::wait)`().await`, for `T: Clone`: gives every waiter
///   its own clone, like awaiting an asyncio `Future` from several tasks.
/// * `promise.await` ([`IntoFuture`]): consumes the handle and moves the
///   result out, for any `T` (like a tokio oneshot receiver). This is
///   one-shot: once a by-value await has moved the result out, every later
///   read of it (another by-value await, `wait`, `try_result`) panics with a
///   message naming the misuse. Use one or the other per promise.
///
/// Either gives `Err(`[`Cancelled`]`)` if the promise was cancelled.
///
/// Unlike a tokio oneshot, dropping handles completes nothing: a promise
/// that no one sets or cancels stays pending (as in asyncio). Dropping a
/// waiting future only stops that wait.
///
/// ```
/// use corio::sync::Promise;
///
/// corio::run(async {
///     let promise = Promise::new();
///     // Two consumers, each on its own task.
///     let consumers: Vec<_> = (0..2)
///         .map(|_| {
///             let p = promise.clone();
///             corio::create_task(async move { p.wait().await })
///         })
///         .collect();
///     // A producer on a third.
///     let producer = {
///         let p = promise.clone();
///         corio::create_task(async move { p.set_result(42).unwrap() })
///     };
///     producer.await.unwrap();
///     for c in consumers {
///         assert_eq!(c.await.unwrap(), Ok(42));
///     }
///     // Done, so any further setting is refused and the value handed back.
///     assert_eq!(promise.set_result(7), Err(7));
/// });
/// ```
pub struct Promise<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    /// `PENDING`, `RESULT` or `CANCELLED`: the kind of `Shared::outcome`,
    /// stored (under the lock) when the promise completes and never changed
    /// after, so that it can be read without the lock.
    state: AtomicUsize,
    shared: Mutex<Shared<T>>,
}

struct Shared<T> {
    outcome: Outcome<T>,
    /// Futures waiting for completion. Completion hands each a `()` (the
    /// result itself stays here); a waiter's slot is freed when it next polls
    /// or is dropped.
    waiters: Waiters<(), ()>,
    /// Callbacks not yet run, in registration order.
    callbacks: Vec<Callback<T>>,
    /// The completing thread is running callbacks: new ones join its queue
    /// instead of running at once, so that all run in registration order.
    running_callbacks: bool,
}

enum Outcome<T> {
    Pending,
    Value(T),
    /// The value was moved out by a by-value await.
    Taken,
    Cancelled,
}

type Callback<T> = Box<dyn FnOnce(&Promise<T>) + Send>;

impl<T> Promise<T> {
    /// A new pending promise.
    pub fn new() -> Promise<T> {
        Promise {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(PENDING),
                shared: Mutex::new(Shared {
                    outcome: Outcome::Pending,
                    waiters: Waiters::new(),
                    callbacks: Vec::new(),
                    running_callbacks: false,
                }),
            }),
        }
    }

    /// Sets the result and wakes every waiter: asyncio's
    /// `Future.set_result`.
    ///
    /// Refused once the promise is done (set or cancelled): the value is
    /// handed back as `Err(value)` (asyncio raises `InvalidStateError`).
    /// On success, wakes the waiters, then runs the done callbacks on this
    /// thread (see [`add_done_callback`](Promise::add_done_callback)) before
    /// returning.
    ///
    /// # Panics
    ///
    /// If a done callback panics, the remaining callbacks still run, then
    /// the first panic is resumed from here. The result is set either way.
    ///
    /// ```
    /// let p = corio::sync::Promise::new();
    /// assert_eq!(p.set_result("first"), Ok(()));
    /// assert_eq!(p.set_result("second"), Err("second"));
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), T> {
        match self.complete(Outcome::Value(value)) {
            Ok(()) => Ok(()),
            Err(Outcome::Value(value)) => Err(value),
            Err(_) => unreachable!("complete hands back what it was given"),
        }
    }

    /// Cancels the promise: asyncio's `Future.cancel`.
    ///
    /// Returns `true` if the promise was pending and is now cancelled, or
    /// `false` (changing nothing) if it was already done. Every waiter gets
    /// `Err(`[`Cancelled`]`)`; the done callbacks run as for
    /// [`set_result`](Promise::set_result), panics included.
    ///
    /// ```
    /// let p = corio::sync::Promise::<i32>::new();
    /// assert!(p.cancel());
    /// assert!(p.is_cancelled());
    /// assert!(!p.cancel());
    /// assert_eq!(p.set_result(1), Err(1));
    /// ```
    pub fn cancel(&self) -> bool {
        self.complete(Outcome::Cancelled).is_ok()
    }

    /// Whether the promise is done: set or cancelled (asyncio's `done()`).
    ///
    /// Takes no lock. Once this returns `true`, everything the completing
    /// thread did before its `set_result` or `cancel` is visible to the
    /// caller.
    pub fn is_done(&self) -> bool {
        self.state() != PENDING
    }

    /// Whether the promise was cancelled (asyncio's `cancelled()`). Takes
    /// no lock.
    pub fn is_cancelled(&self) -> bool {
        self.state() == CANCELLED
    }

    /// Registers `f` to be called with the promise once it is done:
    /// asyncio's `Future.add_done_callback`.
    ///
    /// * While the promise is pending, `f` is stored; the thread that
    ///   completes the promise calls it (inside its `set_result` or
    ///   `cancel`, after waking the waiters), with no lock held.
    /// * If the promise is already done, `f` is called at once, on this
    ///   thread, before this returns, with one exception: if the
    ///   completing thread is still running earlier callbacks, `f` joins
    ///   its queue and runs there after them.
    ///
    /// So callbacks run one at a time, each exactly once, in registration
    /// order. Each gets the promise, and may read it
    /// ([`try_result`](Promise::try_result), `is_cancelled`) or register
    /// further callbacks. A panic in `f` called at once propagates from
    /// here; see [`set_result`](Promise::set_result) for a panic in a stored
    /// one.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use corio::sync::Promise;
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let p = Promise::new();
    /// for tag in ["a", "b"] {
    ///     let seen = seen.clone();
    ///     p.add_done_callback(move |p: &Promise<i32>| {
    ///         seen.lock().unwrap().push((tag, p.try_result()));
    ///     });
    /// }
    /// assert!(seen.lock().unwrap().is_empty());
    /// p.set_result(5).unwrap();
    /// // Already done: runs at once.
    /// let s = seen.clone();
    /// p.add_done_callback(move |_| s.lock().unwrap().push(("c", None)));
    /// assert_eq!(
    ///     *seen.lock().unwrap(),
    ///     [("a", Some(Ok(5))), ("b", Some(Ok(5))), ("c", None)]
    /// );
    /// ```
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: FnOnce(&Promise<T>) + Send + 'static,
    {
        let f: Callback<T> = Box::new(f);
        {
            let mut shared = self.inner.shared.lock();
            if matches!(shared.outcome, Outcome::Pending) || shared.running_callbacks {
                shared.callbacks.push(f);
                return;
            }
        }
        f(self);
    }

    /// Number of futures registered as waiting. For tests: a dropped
    /// waiting future must leave no entry behind.
    #[doc(hidden)]
    pub fn registered_waiters(&self) -> usize {
        self.inner.shared.lock().waiters.len()
    }

    fn state(&self) -> usize {
        // Acquire: pairs with the Release store in `complete`, so that a
        // caller who sees the promise done also sees what the completing
        // thread wrote before completing it (asyncio code polls `done()`
        // and then reads state the producer prepared). Not needed for the
        // promise's own data, which is read under the lock.
        self.inner.state.load(Ordering::Acquire)
    }

    /// Moves the promise from pending to `outcome`, wakes the waiters and
    /// runs the callbacks; hands `outcome` back if already done.
    fn complete(&self, outcome: Outcome<T>) -> Result<(), Outcome<T>> {
        // The state never returns to PENDING, so a done promise can refuse
        // without locking.
        if self.is_done() {
            return Err(outcome);
        }
        let mut wakers = WakeList::new();
        {
            let mut shared = self.inner.shared.lock();
            if !matches!(shared.outcome, Outcome::Pending) {
                return Err(outcome);
            }
            let state = match outcome {
                Outcome::Cancelled => CANCELLED,
                _ => RESULT,
            };
            shared.outcome = outcome;
            // Release: publishes the outcome and whatever the caller wrote
            // before, to lock-free readers of the state (see `state`).
            self.inner.state.store(state, Ordering::Release);
            shared.running_callbacks = true;
            shared.waiters.notify_while(&mut wakers, |_| Some(()));
        }
        // A panicking waker must not strand the callbacks (nor leave
        // `running_callbacks` set, which would queue later ones forever).
        let woken = panic::catch_unwind(AssertUnwindSafe(|| super::waiters::wake_all(wakers)));
        self.run_callbacks();
        if let Err(payload) = woken {
            panic::resume_unwind(payload);
        }
        Ok(())
    }

    /// Runs the stored callbacks, and any added while they run, in order;
    /// then lets later ones run at once in `add_done_callback`.
    fn run_callbacks(&self) {
        let mut first_panic = None;
        loop {
            let batch = {
                let mut shared = self.inner.shared.lock();
                if shared.callbacks.is_empty() {
                    shared.running_callbacks = false;
                    break;
                }
                std::mem::take(&mut shared.callbacks)
            };
            for f in batch {
                // A panicking callback must not keep the others from running
                // (nor leave `running_callbacks` set, which would strand
                // every later callback in the queue).
                if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| f(self))) {
                    first_panic.get_or_insert(payload);
                }
            }
        }
        if let Some(payload) = first_panic {
            panic::resume_unwind(payload);
        }
    }

    /// Polls for completion on behalf of the waiting future whose entry is
    /// `key`: the locked state once done, else registers the waker.
    fn poll_done(
        &self,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
    ) -> Poll<MutexGuard<'_, Shared<T>>> {
        let mut shared = self.inner.shared.lock();
        if !matches!(shared.outcome, Outcome::Pending) {
            if let Some(key) = key.take() {
                // Completion handed this waiter its `()`: leave the list.
                let _ = shared.waiters.cancel(key);
            }
            return Poll::Ready(shared);
        }
        match key {
            None => *key = Some(shared.waiters.push((), cx.waker())),
            // Pending: only stores the waker, if it changed. The replaced
            // waker is dropped under the lock (it is a waker, not user data).
            Some(k) => {
                let _ = shared.waiters.poll(*k, cx.waker());
            }
        }
        Poll::Pending
    }

    /// Takes the entry of a waiting future that is being dropped out of the
    /// list.
    fn forget_waiter(&self, key: Option<Key>) {
        let Some(key) = key else { return };
        // Pending: leaves the line; done: frees the slot that completion
        // notified. Either way nothing is passed on: every waiter of a done
        // promise was woken.
        let _ = self.inner.shared.lock().waiters.cancel(key);
    }
}

impl<T: Clone> Promise<T> {
    /// Waits for the promise to be done and gives a clone of its result,
    /// or `Err(`[`Cancelled`]`)`: awaiting an asyncio `Future`.
    ///
    /// Any number of tasks may wait at once, on any workers or threads;
    /// each is woken once, when the promise completes. The future is ready
    /// at once on a done promise. Dropping it (say, by a `timeout`) only
    /// removes its own wait: the promise and the other waiters are
    /// unaffected. Cancel-safe: it takes nothing from the promise.
    ///
    /// The clone is made under the promise's lock, so `T::clone` must not
    /// call back into the same promise.
    ///
    /// # Panics
    ///
    /// When polled after a by-value await of the promise moved the result
    /// out (see [`Promise`]).
    ///
    /// ```
    /// use corio::sync::Promise;
    /// use std::time::Duration;
    ///
    /// corio::run(async {
    ///     let p = Promise::<String>::new();
    ///     // Not set yet: a bounded wait gives up, without harm to `p`.
    ///     assert!(corio::timeout(Duration::from_millis(5), p.wait()).await.is_err());
    ///     p.set_result("hi".to_owned()).unwrap();
    ///     assert_eq!(p.wait().await.as_deref(), Ok("hi"));
    /// });
    /// ```
    pub fn wait(&self) -> Wait<'_, T> {
        Wait {
            promise: self,
            key: None,
        }
    }

    /// The result if the promise is done (a clone of it, or
    /// `Err(`[`Cancelled`]`)`), or `None` while it is pending: asyncio's
    /// `Future.result()` without the `InvalidStateError`.
    ///
    /// # Panics
    ///
    /// After a by-value await of the promise moved the result out (see
    /// [`Promise`]).
    ///
    /// ```
    /// let p = corio::sync::Promise::new();
    /// assert_eq!(p.try_result(), None);
    /// p.set_result(3).unwrap();
    /// assert_eq!(p.try_result(), Some(Ok(3)));
    /// ```
    pub fn try_result(&self) -> Option<Result<T, Cancelled>> {
        match self.state() {
            PENDING => None,
            CANCELLED => Some(Err(Cancelled)),
            _ => Some(read_cloned(self.inner.shared.lock())),
        }
    }
}

/// A clone of a done promise's result; panics, after unlocking, if it was
/// moved out.
fn read_cloned<T: Clone>(shared: MutexGuard<'_, Shared<T>>) -> Result<T, Cancelled> {
    let out = match &shared.outcome {
        Outcome::Value(v) => Some(Ok(v.clone())),
        Outcome::Cancelled => Some(Err(Cancelled)),
        Outcome::Taken => None,
        Outcome::Pending => unreachable!("read_cloned on a pending promise"),
    };
    drop(shared);
    out.expect(TAKEN)
}

impl<T> Clone for Promise<T> {
    /// Another handle to the same promise.
    fn clone(&self) -> Promise<T> {
        Promise {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Promise<T> {
    /// A new pending promise, as [`Promise::new`].
    fn default() -> Promise<T> {
        Promise::new()
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state() {
            PENDING => "pending",
            CANCELLED => "cancelled",
            _ => "finished",
        };
        f.debug_struct("Promise").field("state", &state).finish()
    }
}

impl<T> IntoFuture for Promise<T> {
    type Output = Result<T, Cancelled>;
    type IntoFuture = PromiseFuture<T>;

    /// Awaits the promise by value, moving its result out (see [`Promise`]
    /// for what this means for the other handles).
    ///
    /// ```
    /// use corio::sync::Promise;
    ///
    /// corio::run(async {
    ///     // Any `T`, no `Clone` needed.
    ///     struct NotClone(u8);
    ///     let p = Promise::new();
    ///     let setter = p.clone();
    ///     corio::create_task(async move { setter.set_result(NotClone(9)).ok().unwrap() });
    ///     assert_eq!(p.await.unwrap().0, 9);
    /// });
    /// ```
    fn into_future(self) -> PromiseFuture<T> {
        PromiseFuture {
            promise: self,
            key: None,
        }
    }
}

/// The future of [`Promise::wait`]: a clone of the result, or
/// `Err(`[`Cancelled`]`)`.
///
/// Dropping it before it is ready removes its wait, and nothing else.
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a, T> {
    promise: &'a Promise<T>,
    /// This future's entry in the promise's waiter list, once registered.
    key: Option<Key>,
}

impl<T: Clone> Future for Wait<'_, T> {
    type Output = Result<T, Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let shared = ready!(this.promise.poll_done(&mut this.key, cx));
        Poll::Ready(read_cloned(shared))
    }
}

impl<T> Drop for Wait<'_, T> {
    fn drop(&mut self) {
        self.promise.forget_waiter(self.key);
    }
}

impl<T> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("promise", self.promise)
            .field("registered", &self.key.is_some())
            .finish()
    }
}

/// The future of awaiting a [`Promise`] by value ([`IntoFuture`]): moves
/// the result out, or gives `Err(`[`Cancelled`]`)`.
///
/// Dropping it before it is ready removes its wait and drops its handle;
/// the result stays in the promise.
///
/// # Panics
///
/// When the result was already moved out by another by-value await (or
/// when polled again after it completed).
#[must_use = "futures do nothing unless awaited"]
pub struct PromiseFuture<T> {
    promise: Promise<T>,
    key: Option<Key>,
}

impl<T> Future for PromiseFuture<T> {
    type Output = Result<T, Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut shared = ready!(this.promise.poll_done(&mut this.key, cx));
        let out = match std::mem::replace(&mut shared.outcome, Outcome::Taken) {
            Outcome::Value(v) => Some(Ok(v)),
            Outcome::Cancelled => {
                shared.outcome = Outcome::Cancelled;
                Some(Err(Cancelled))
            }
            Outcome::Taken => None,
            Outcome::Pending => unreachable!("poll_done returned a pending promise"),
        };
        drop(shared);
        Poll::Ready(out.expect(TAKEN))
    }
}

impl<T> Drop for PromiseFuture<T> {
    fn drop(&mut self) {
        self.promise.forget_waiter(self.key);
    }
}

impl<T> fmt::Debug for PromiseFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromiseFuture")
            .field("promise", &self.promise)
            .field("registered", &self.key.is_some())
            .finish()
    }
}
