//! Synchronization primitives and settable futures.
//!
//! * [`Promise`]: asyncio's `Future`, a result that some code sets and any
//!   number of tasks, on any workers or outside a runtime, await.

mod promise;
mod wait_list;

pub use promise::{Cancelled, Promise, PromiseFuture, Wait};
