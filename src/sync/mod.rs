//! Synchronization primitives and settable futures.
//!
//! * [`Promise`]: asyncio's `Future`, a result that some code sets and any
//!   number of tasks, on any workers or outside a runtime, await.
//! * [`Lock`], [`Mutex<T>`] and [`Condition`]: FIFO-fair async locks, and a
//!   condition variable over their guards.

mod condition;
mod lock;
mod mutex;
mod promise;
mod wait_list;
#[allow(dead_code)] // its primitives (issue 5) are being built on it
pub(crate) mod waiters;

pub use condition::{Condition, ConditionGuard, ConditionWait};
pub use lock::{Acquire, Lock, LockGuard};
pub use mutex::{Mutex, MutexGuard, MutexLock};
pub use promise::{Cancelled, Promise, PromiseFuture, Wait};
