//! [`Semaphore`] and [`BoundedSemaphore`]: FIFO-fair counting semaphores.
//!
//! # Design
//!
//! The permit count lives in an atomic word, `permits << 1 | WAITERS`, next
//! to a [`Waiters`] list (requests: permits wanted; payloads: permits handed
//! over) behind the semaphore's mutex. The `WAITERS` bit is set exactly
//! while the list has waiters in line, and it decides who may touch the
//! count:
//!
//! * bit clear: nobody waits, so an acquire may take permits and a release
//!   may add them with one compare-and-swap, without the lock (the
//!   uncontended fast path);
//! * bit set: the fast paths stand aside and go through the lock, so only
//!   the lock holder writes the word, and every permit released goes to the
//!   front waiter first. A newcomer cannot barge: it sees the bit and joins
//!   the back of the line.
//!
//! The bit is set (under the lock, by a compare-and-swap that fails if a
//! fast path moved the count meanwhile) by the first waiter that finds too
//! few permits, and cleared by the lock holder that empties the line.
//!
//! Permits handed to a waiter are its own from that moment (the list holds
//! them as the waiter's payload); a waiter dropped after that gives them
//! back through the same path as a release, so they go to the next waiter.

use super::waiters::{wake_all, Key, Waiters, WakeList};
use crate::loom::sync::atomic::{
    AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use crate::loom::sync::Mutex;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Set while waiters are in line.
const WAITERS: usize = 1;
/// The permit count starts above the flag bit.
const SHIFT: u32 = 1;

/// A counting semaphore: asyncio's `Semaphore`, FIFO fair.
///
/// [`acquire`](Semaphore::acquire) waits for a permit and returns a
/// [`SemaphorePermit`] guard that gives the permit back when dropped.
/// Waiters are served strictly in arrival order: a released permit goes to
/// the longest waiter, and a newcomer never takes a permit while others
/// wait. [`release`](Semaphore::release) adds a permit that was not
/// acquired through a guard (it may raise the count above its start; see
/// [`BoundedSemaphore`] for the checked kind).
///
/// `Send + Sync`: share it with `Arc` (or a `static`) among tasks on any
/// worker, and threads outside the runtime; its futures need no runtime.
///
/// ```
/// use corio::sync::Semaphore;
/// use std::sync::Arc;
///
/// corio::run(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let tasks: Vec<_> = (0..6)
///         .map(|i| {
///             let sem = sem.clone();
///             corio::create_task(async move {
///                 let _permit = sem.acquire().await; // at most 2 at a time
///                 i * 10
///             })
///         })
///         .collect();
///     let out: Vec<_> = corio::gather_all(tasks).await;
///     assert_eq!(out.into_iter().map(Result::unwrap).sum::<i32>(), 150);
///     assert_eq!(sem.available(), 2);
/// });
/// ```
pub struct Semaphore {
    /// `permits << SHIFT | WAITERS`: see the module docs.
    state: AtomicUsize,
    /// For a [`BoundedSemaphore`]: the most permits there may be.
    bound: Option<usize>,
    waiters: Mutex<Waiters<usize, usize>>,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Semaphore {
        Semaphore::with_bound(permits, None)
    }

    fn with_bound(permits: usize, bound: Option<usize>) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "Semaphore::new: permits ({permits}) exceeds Semaphore::MAX_PERMITS"
        );
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            bound,
            waiters: Mutex::new(Waiters::new()),
        }
    }

    /// Waits for a permit (asyncio's `acquire`, used as `async with`).
    ///
    /// Cancel-safe: dropping the future while it waits leaves the line
    /// without a trace, and a permit handed to it at that moment goes to the
    /// next waiter (or back to the semaphore).
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once, in the same FIFO line as
    /// [`acquire`](Semaphore::acquire): while it waits at the front, waiters
    /// behind it wait too, even for permits it cannot use yet (no
    /// starvation of large requests). `n == 0` is ready at once.
    ///
    /// Cancel-safe, as [`acquire`](Semaphore::acquire).
    ///
    /// # Panics
    ///
    /// (When polled) if `n` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn acquire_many(&self, n: usize) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            sem: self,
            n,
            key: None,
            done: false,
        }
    }

    /// A permit if one is free and nobody waits, else `None` (it never
    /// takes a permit that a waiter is owed).
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.try_acquire_many(1)
    }

    /// `n` permits if they are free and nobody waits, else `None`.
    pub fn try_acquire_many(&self, n: usize) -> Option<SemaphorePermit<'_>> {
        self.try_take(n).then(|| SemaphorePermit { sem: self, n })
    }

    /// Adds a permit, waking the front waiter if it can now proceed. The
    /// count may grow above the starting value.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`Semaphore::MAX_PERMITS`].
    pub fn release(&self) {
        // Without a bound the only failure is overflow, which panics.
        let _ = self.put(1, true);
    }

    /// `true` if [`acquire`](Semaphore::acquire) would wait: no permit is
    /// free, or others already wait.
    pub fn locked(&self) -> bool {
        // Relaxed: a snapshot for the caller; it orders nothing.
        let state = self.state.load(Relaxed);
        state & WAITERS != 0 || state >> SHIFT == 0
    }

    /// The number of free permits (not held by a guard, nor handed to a
    /// waiter). Waiters may be in line even when it is not 0, if the front
    /// one wants more than that ([`acquire_many`](Semaphore::acquire_many)).
    pub fn available(&self) -> usize {
        // Relaxed: a snapshot, as in `locked`.
        self.state.load(Relaxed) >> SHIFT
    }

    /// The fast path: takes `n` permits if nobody waits.
    fn try_take(&self, n: usize) -> bool {
        // Relaxed: only a first guess for the compare-and-swap.
        let mut state = self.state.load(Relaxed);
        loop {
            if state & WAITERS != 0 || state >> SHIFT < n {
                return false;
            }
            // Acquire: taking permits synchronizes with the release that put
            // them there (a semaphore of 1 is a lock: what the last holder
            // wrote must be visible to the next).
            match self
                .state
                .compare_exchange(state, state - (n << SHIFT), Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// The count plus `n`, within the bound: `strict` refuses to go above
    /// it, otherwise the excess is dropped (a guard of a bounded semaphore
    /// returning a permit after a stray `release`).
    fn plus(&self, permits: usize, n: usize, strict: bool) -> Result<usize, ReleaseError> {
        let sum = permits.saturating_add(n);
        match self.bound {
            Some(bound) if sum > bound => {
                if strict {
                    Err(ReleaseError(()))
                } else {
                    Ok(bound.max(permits))
                }
            }
            _ => {
                assert!(
                    sum <= Semaphore::MAX_PERMITS,
                    "Semaphore::release: the permit count would exceed Semaphore::MAX_PERMITS"
                );
                Ok(sum)
            }
        }
    }

    /// Gives back `n` permits (a release, a dropped guard, a cancelled
    /// waiter's handoff): to the front waiters first, in order.
    fn put(&self, n: usize, strict: bool) -> Result<(), ReleaseError> {
        // Relaxed: a first guess for the compare-and-swap.
        let mut state = self.state.load(Relaxed);
        while state & WAITERS == 0 {
            let next = self.plus(state >> SHIFT, n, strict)? << SHIFT;
            // Release: the next taker's Acquire sees what this holder did.
            match self.state.compare_exchange(state, next, Release, Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
        let mut wakers = WakeList::new();
        let result = {
            let mut list = self.waiters.lock();
            self.hand_out(&mut list, n, strict, &mut wakers)
        };
        wake_all(wakers);
        result
    }

    /// Under the lock: adds `n` permits to the count and serves the front
    /// waiters while they can be served; clears `WAITERS` if the line
    /// empties. `n` may be 0 (the front waiter left: maybe the next one can
    /// be served).
    fn hand_out(
        &self,
        list: &mut Waiters<usize, usize>,
        n: usize,
        strict: bool,
        wakers: &mut WakeList,
    ) -> Result<(), ReleaseError> {
        if list.is_empty() {
            // The bit is clear: fast paths may move the count meanwhile.
            let mut state = self.state.load(Relaxed);
            loop {
                let next = self.plus(state >> SHIFT, n, strict)? << SHIFT;
                // Release, as in `put`.
                match self.state.compare_exchange(state, next, Release, Relaxed) {
                    Ok(_) => return Ok(()),
                    Err(actual) => state = actual,
                }
            }
        }
        // The bit is set: only lock holders write the word now. Acquire:
        // the count may include permits a fast-path release added before
        // the bit was set (the RMW that set it continues that release
        // sequence); the waiters served here get them through this lock.
        let state = self.state.load(Acquire);
        let mut available = self.plus(state >> SHIFT, n, strict)?;
        list.notify_while(wakers, |&want| {
            (want <= available).then(|| {
                available -= want;
                want
            })
        });
        let flag = if list.is_empty() { 0 } else { WAITERS };
        // Release: a fast-path taker, once the bit is clear, takes permits
        // that releases behind this lock put here.
        self.state.store(available << SHIFT | flag, Release);
        Ok(())
    }

    /// The first pending poll of an acquire: takes the permits if nobody
    /// waits and enough are free, else joins the line.
    fn register(&self, n: usize, cx: &Context<'_>) -> Result<(), Key> {
        let mut list = self.waiters.lock();
        // Relaxed: a first guess for the compare-and-swaps.
        let mut state = self.state.load(Relaxed);
        loop {
            if state & WAITERS != 0 {
                break;
            }
            if state >> SHIFT >= n {
                // Acquire, as in `try_take`.
                match self
                    .state
                    .compare_exchange(state, state - (n << SHIFT), Acquire, Relaxed)
                {
                    Ok(_) => return Ok(()),
                    Err(actual) => state = actual,
                }
            } else {
                // Relaxed: setting the bit moves no permits; the lock
                // orders it for the next lock holder, and a fast path that
                // sees it just goes to the lock.
                match self
                    .state
                    .compare_exchange(state, state | WAITERS, Relaxed, Relaxed)
                {
                    Ok(_) => break,
                    Err(actual) => state = actual,
                }
            }
        }
        Err(list.push(n, cx.waker()))
    }
}

impl Default for Semaphore {
    /// One permit, as asyncio's default.
    fn default() -> Semaphore {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available())
            .field("locked", &self.locked())
            .finish()
    }
}

/// A permit of a [`Semaphore`] (or [`BoundedSemaphore`]), given back when
/// dropped, through the same FIFO path as a release.
#[must_use = "the permit is released at once if not kept"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Drops the guard without giving its permits back (for a later manual
    /// [`Semaphore::release`], asyncio style).
    ///
    /// ```
    /// use corio::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert!(sem.locked());
    /// sem.release();
    /// assert!(!sem.locked());
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            // Not strict: a guard returns what it took; only a stray manual
            // release of a bounded semaphore can make that overflow the
            // bound, and then the excess is dropped.
            let _ = self.sem.put(self.n, false);
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// The future of [`Semaphore::acquire`]: resolves to a [`SemaphorePermit`].
///
/// Cancel-safe: dropping it while it waits leaves no trace, and permits
/// handed to it just then pass on to the next waiter.
#[must_use = "futures do nothing unless awaited"]
pub struct SemaphoreAcquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    /// Its place in line, once it waits.
    key: Option<Key>,
    done: bool,
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let this = &mut *self;
        let sem = this.sem;
        let n = match this.key {
            Some(key) => match sem.waiters.lock().poll(key, cx.waker()) {
                Poll::Ready(n) => {
                    this.key = None;
                    n
                }
                Poll::Pending => return Poll::Pending,
            },
            None => {
                assert!(!this.done, "SemaphoreAcquire polled after completion");
                assert!(
                    this.n <= Semaphore::MAX_PERMITS,
                    "Semaphore::acquire_many: n ({}) exceeds Semaphore::MAX_PERMITS",
                    this.n
                );
                if this.n > 0 && !sem.try_take(this.n) {
                    if let Err(key) = sem.register(this.n, cx) {
                        this.key = Some(key);
                        return Poll::Pending;
                    }
                }
                this.n
            }
        };
        this.done = true;
        Poll::Ready(SemaphorePermit { sem, n })
    }
}

impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = WakeList::new();
        {
            let mut list = self.sem.waiters.lock();
            let handed = list.cancel(key).unwrap_or(0);
            // Pass on what it was handed; with nothing handed, it may still
            // have been the front waiter blocking smaller requests behind.
            let _ = self.sem.hand_out(&mut list, handed, false, &mut wakers);
        }
        wake_all(wakers);
    }
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquire")
            .field("permits", &self.n)
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// A [`Semaphore`] that refuses to be released above its initial value:
/// asyncio's `BoundedSemaphore`, which catches a release without a matching
/// acquire.
///
/// ```
/// use corio::sync::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// assert!(sem.release().is_err()); // nothing was acquired
/// sem.try_acquire().unwrap().forget();
/// assert_eq!(sem.release(), Ok(()));
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, never more.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::with_bound(permits, Some(permits)),
        }
    }

    /// As [`Semaphore::acquire`] (cancel-safe).
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.sem.acquire()
    }

    /// As [`Semaphore::acquire_many`] (cancel-safe).
    pub fn acquire_many(&self, n: usize) -> SemaphoreAcquire<'_> {
        self.sem.acquire_many(n)
    }

    /// As [`Semaphore::try_acquire`].
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.sem.try_acquire()
    }

    /// As [`Semaphore::try_acquire_many`].
    pub fn try_acquire_many(&self, n: usize) -> Option<SemaphorePermit<'_>> {
        self.sem.try_acquire_many(n)
    }

    /// Adds a permit, or `Err` (changing nothing) if that would make more
    /// free permits than the initial value.
    ///
    /// A permit guard dropped after such a stray release (one that
    /// succeeded because a guard was still out) cannot fail: the permit
    /// over the bound is discarded instead.
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.sem.put(1, true)
    }

    /// As [`Semaphore::locked`].
    pub fn locked(&self) -> bool {
        self.sem.locked()
    }

    /// As [`Semaphore::available`].
    pub fn available(&self) -> usize {
        self.sem.available()
    }

    /// The initial (and largest) number of permits.
    pub fn bound(&self) -> usize {
        self.sem.bound.unwrap_or(0)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.available())
            .field("bound", &self.bound())
            .field("locked", &self.locked())
            .finish()
    }
}

/// The error of [`BoundedSemaphore::release`] above the initial value
/// (asyncio raises `ValueError`).
///
/// ```
/// use corio::sync::BoundedSemaphore;
///
/// let err = BoundedSemaphore::new(2).release().unwrap_err();
/// assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReleaseError(());

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoundedSemaphore released too many times")
    }
}

impl Error for ReleaseError {}
