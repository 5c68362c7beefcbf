//! The model-checking half of the facade: loom's instrumented types.

pub(crate) mod sync {
    pub(crate) use loom::sync::Arc;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }

    /// parking_lot's `Mutex` API (no poisoning) over loom's mutex.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) struct MutexGuard<'a, T> {
        // `Option` only so that `Condvar::wait(&mut guard)` can move the loom
        // guard into loom's by-value `wait` and put the new one back.
        inner: Option<loom::sync::MutexGuard<'a, T>>,
        /// The mutex, for a timed-out `wait_until` to unlock and relock.
        mutex: &'a loom::sync::Mutex<T>,
    }

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard {
                inner: Some(self.0.lock().unwrap()),
                mutex: &self.0,
            }
        }

        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok().map(|g| MutexGuard {
                inner: Some(g),
                mutex: &self.0,
            })
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Mutex<T> {
            Mutex::new(T::default())
        }
    }

    impl<T> std::ops::Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.inner
                .as_ref()
                .expect("guard present outside Condvar::wait")
        }
    }

    impl<T> std::ops::DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.inner
                .as_mut()
                .expect("guard present outside Condvar::wait")
        }
    }

    /// parking_lot's result of a timed wait.
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub(crate) fn timed_out(&self) -> bool {
            self.0
        }
    }

    /// parking_lot's `Condvar::wait(&mut guard)` over loom's by-value wait.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.inner.take().expect("guard present");
            guard.inner = Some(self.0.wait(inner).unwrap());
        }

        /// loom has no timed wait: a deadline already reached on the mock
        /// clock times out at once; any other waits as if it were never
        /// reached (models that need a timeout use a zero one).
        ///
        /// A timeout still lets go of the lock and takes it back, as a real
        /// timed wait does, so that models explore what other threads do
        /// between the timeout and the relock (a notify landing there finds
        /// the waiter gone; the state it sees after may have changed).
        pub(crate) fn wait_until<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            deadline: std::time::Instant,
        ) -> WaitTimeoutResult {
            if deadline <= super::clock::now() {
                drop(guard.inner.take());
                guard.inner = Some(guard.mutex.lock().unwrap());
                return WaitTimeoutResult(true);
            }
            self.wait(guard);
            WaitTimeoutResult(false)
        }

        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }

        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }
}

pub(crate) mod cell {
    pub(crate) use loom::cell::UnsafeCell;
}

pub(crate) mod thread {
    pub(crate) use loom::thread::{Builder, JoinHandle};
}

pub(crate) mod deque;

macro_rules! corio_thread_local {
    ($($tt:tt)*) => { loom::thread_local!($($tt)*); };
}
pub(crate) use corio_thread_local as thread_local;

pub(crate) mod clock;
pub(crate) mod sys;
