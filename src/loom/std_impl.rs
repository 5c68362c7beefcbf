//! The production half of the facade: std atomics and cells, parking_lot locks.

pub(crate) mod sync {
    pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::{Arc, OnceLock};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

pub(crate) mod cell {
    /// `std::cell::UnsafeCell` behind loom's closure-based API, so that the
    /// same call sites compile against both builds.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

pub(crate) mod thread {
    pub(crate) use std::thread::{Builder, JoinHandle};
}

pub(crate) mod deque {
    pub(crate) use crossbeam_deque::{Injector, Steal, Stealer, Worker};
}

/// `thread_local!` of the build: std's here, loom's under `--cfg loom` (loom
/// runs its threads as coroutines on one OS thread, so std's would be shared).
macro_rules! corio_thread_local {
    ($($tt:tt)*) => { std::thread_local!($($tt)*); };
}
pub(crate) use corio_thread_local as thread_local;

/// The monotonic clock. Under loom a mock that only moves when a model (or a
/// timed park) advances it, since loom explores schedules, not time.
pub(crate) mod clock {
    pub(crate) use std::time::Instant;

    #[inline]
    pub(crate) fn now() -> Instant {
        Instant::now()
    }
}

/// The OS seam of a worker's event loop: `mio` here, a mock under loom.
pub(crate) mod sys {
    pub(crate) use mio::{Events, Poll, Token, Waker};
}
