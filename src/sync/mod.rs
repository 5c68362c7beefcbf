//! Synchronization primitives and settable futures.
//!
//! * [`Promise`]: asyncio's `Future`, a result that some code sets and any
//!   number of tasks, on any workers or outside a runtime, await.

mod promise;
mod wait_list;
#[allow(dead_code)] // its primitives (issue 5) are being built on it
pub(crate) mod waiters;

pub use promise::{Cancelled, Promise, PromiseFuture, Wait};
