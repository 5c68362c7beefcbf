//! Synchronization primitives and settable futures.
//!
//! * [`Promise`]: asyncio's `Future`, a result that some code sets and any
//!   number of tasks, on any workers or outside a runtime, await.
//! * [`Semaphore`], [`BoundedSemaphore`]: FIFO-fair counting semaphores.
//! * [`Event`]: a flag that wakes every waiter when set.
//! * [`Barrier`]: a reusable meeting point for a fixed number of tasks.

mod barrier;
mod event;
mod promise;
mod semaphore;
mod wait_list;
#[allow(dead_code)] // its primitives (issue 5) are being built on it
pub(crate) mod waiters;

pub use barrier::{Barrier, BarrierWait, BrokenBarrierError};
pub use event::{Event, EventWait};
pub use promise::{Cancelled, Promise, PromiseFuture, Wait};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphoreAcquire, SemaphorePermit};
