//! [`Mutex<T>`]: a value behind the FIFO [`RawLock`](super::lock::RawLock).

use super::lock::{RawAcquire, RawLock};
use crate::loom::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

/// An async mutex around a value: [`Lock`](super::Lock) with the data it
/// protects inside, like `std::sync::Mutex` (there is no poisoning: a panic
/// while holding the guard just releases it).
///
/// [`lock`](Mutex::lock)`().await` gives a [`MutexGuard`] that derefs to
/// the value and unlocks when dropped; the guard may be held across
/// `.await` points and, when `T: Send`, moved to another worker with its
/// task. Fair (FIFO) exactly as [`Lock`](super::Lock) is, and just as cheap
/// when uncontended. Use it with [`Condition`](super::Condition) as with
/// `std::sync::Condvar`.
///
/// ```
/// use corio::sync::Mutex;
/// use std::sync::Arc;
///
/// corio::run(async {
///     let counter = Arc::new(Mutex::new(0u64));
///     let tasks: Vec<_> = (0..4)
///         .map(|_| {
///             let counter = counter.clone();
///             corio::create_task(async move {
///                 for _ in 0..100 {
///                     *counter.lock().await += 1;
///                 }
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(*counter.lock().await, 400);
/// });
/// ```
pub struct Mutex<T> {
    raw: RawLock,
    value: UnsafeCell<T>,
}

// The value is reached only through a `MutexGuard`, and the raw lock lets one
// guard exist at a time, so sharing the mutex shares no `&T` between threads
// at once (as for `std::sync::Mutex`).
// SAFETY: so moving the value between threads needs `T: Send`, never `T: Sync`.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: the mutex owns its value; sending it sends the value.
unsafe impl<T: Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawLock::new(),
            value: UnsafeCell::new(value),
        }
    }

    /// Waits until the mutex is free and locks it, FIFO.
    ///
    /// Cancel-safe: dropping the future before it completes leaves the line
    /// without a trace; if the lock had just been handed to it, it passes on
    /// to the next waiter (or becomes free).
    pub fn lock(&self) -> MutexLock<'_, T> {
        MutexLock {
            raw: self.raw.lock(),
            mutex: self,
        }
    }

    /// Locks the mutex if it is free right now (which it never is while
    /// tasks wait for it: no barging).
    ///
    /// ```
    /// let m = corio::sync::Mutex::new(1);
    /// let mut g = m.try_lock().unwrap();
    /// *g += 1;
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert_eq!(*m.try_lock().unwrap(), 2);
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.raw.try_lock().then(|| MutexGuard::assume_locked(self))
    }

    /// Whether the mutex is locked (a snapshot).
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The value, by exclusive reference: no locking needed.
    ///
    /// ```
    /// let mut m = corio::sync::Mutex::new(1);
    /// *m.get_mut() = 5;
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` means no guard (they borrow the mutex) and no
        // other reference to the value exist.
        self.value.with_mut(|p| unsafe { &mut *p })
    }

    /// Consumes the mutex, returning the value.
    pub fn into_inner(self) -> T {
        let Mutex { value, .. } = self;
        value.into_inner()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("value", &&*guard),
            None => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The lock of a [`Mutex`], giving access to its value; unlocks when
/// dropped (handing the lock to the first waiter, if any).
#[must_use = "the mutex is unlocked as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// Shares and sends like the `&mut T` it stands for (`Sync` needs
    /// `T: Sync`, which `&Mutex<T>` alone would not require).
    _value: PhantomData<&'a mut T>,
}

impl<'a, T> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    pub fn mutex(guard: &Self) -> &'a Mutex<T> {
        guard.mutex
    }

    /// A guard of `mutex`, whose caller holds its lock.
    pub(crate) fn assume_locked(mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
        MutexGuard {
            mutex,
            _value: PhantomData,
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other guard (hence no
        // `&mut T`) exists until it is dropped, and this borrow of the guard
        // ends before that.
        self.mutex.value.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock and is borrowed mutably, so this
        // is the only reference to the value until the borrow ends.
        self.mutex.value.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// The future of [`Mutex::lock`].
#[must_use = "futures do nothing unless polled"]
pub struct MutexLock<'a, T> {
    raw: RawAcquire<'a>,
    mutex: &'a Mutex<T>,
}

impl<'a, T> Future for MutexLock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        Pin::new(&mut self.raw)
            .poll(cx)
            .map(|()| MutexGuard::assume_locked(mutex))
    }
}

impl<T> fmt::Debug for MutexLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexLock").finish_non_exhaustive()
    }
}
