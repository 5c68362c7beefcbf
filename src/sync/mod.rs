//! Synchronization primitives and settable futures.
//!
//! * [`Promise`]: asyncio's `Future`, a result that some code sets and any
//!   number of tasks, on any workers or outside a runtime, await.
//! * [`Lock`], [`Mutex<T>`] and [`Condition`]: FIFO-fair async locks, and a
//!   condition variable over their guards.
//! * [`Semaphore`], [`BoundedSemaphore`]: FIFO-fair counting semaphores.
//! * [`Event`]: a flag that wakes every waiter when set.
//! * [`Barrier`]: a reusable meeting point for a fixed number of tasks.
//!
//! Every waiting primitive here (and in [`crate::queue`]) is a thin layer over
//! one FIFO waiter list (`waiters.rs`): what a waiter waits for is handed to
//! it under the primitive's lock, so nobody barges past it, and a waiter
//! dropped after the handoff passes what it was handed on to the next.

mod barrier;
mod condition;
mod event;
mod lock;
mod mutex;
mod promise;
mod semaphore;
pub(crate) mod waiters;

pub use barrier::{Barrier, BarrierWait, BrokenBarrierError};
pub use condition::{Condition, ConditionGuard, ConditionWait};
pub use event::{Event, EventWait};
pub use lock::{Acquire, Lock, LockGuard};
pub use mutex::{Mutex, MutexGuard, MutexLock};
pub use promise::{Cancelled, Promise, PromiseFuture, Wait};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphoreAcquire, SemaphorePermit};
