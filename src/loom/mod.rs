//! The one door through which corio reaches threads and shared memory.
//!
//! Every atomic, `UnsafeCell`, mutex, condition variable, thread-local and
//! thread spawn in corio is imported from here, never from `std` or
//! `parking_lot` directly. Normally this module re-exports std and
//! parking_lot; under `--cfg loom` it re-exports loom's instrumented versions
//! instead, so that `loom-tests/` model-checks the very code that ships.
//!
//! The one piece that cannot simply be re-exported is the work-stealing deque:
//! crossbeam-deque has no loom instrumentation (a loom model using it runs a
//! single interleaving), so under loom [`deque`] is a small mutex-based deque
//! with the same API surface that corio uses. It is slow but every access goes
//! through loom, which is what the models need; the lock-free algorithm itself
//! is crossbeam's to verify.

#[cfg(not(loom))]
mod std_impl;
#[cfg(not(loom))]
pub(crate) use std_impl::*;

#[cfg(loom)]
mod loom_impl;
#[cfg(loom)]
pub(crate) use loom_impl::*;

/// Process-wide unique identifiers (task ids, runtime ids).
///
/// These counters only hand out distinct numbers; they order no memory, so
/// they are plain std atomics in both builds (a loom atomic would also be
/// reset between model iterations, which ids must not be).
pub(crate) mod ids {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    static NEXT: AtomicU64 = AtomicU64::new(1);

    /// Returns a number never returned before in this process.
    pub(crate) fn next() -> u64 {
        // Relaxed: uniqueness needs only the atomicity of the increment.
        NEXT.fetch_add(1, Relaxed)
    }
}
