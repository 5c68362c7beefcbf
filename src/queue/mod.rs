//! Queues for producers and consumers: asyncio's `Queue`, `LifoQueue` and
//! `PriorityQueue`, shared between tasks on any workers with `Arc`.
//!
//! | corio | asyncio |
//! |---|---|
//! | [`Queue::new(maxsize)`](Queue::new) (`0`: unbounded) | `Queue(maxsize)` |
//! | `put(item).await -> Result<(), QueueShutDown>` | `await put(item)` |
//! | `get().await -> Result<T, QueueShutDown>` | `await get()` |
//! | `put_nowait(item) -> Result<(), QueueFull<T>>` | `put_nowait` (raises `QueueFull`) |
//! | `get_nowait() -> Result<T, QueueEmpty>` | `get_nowait` (raises `QueueEmpty`) |
//! | `qsize()`, `maxsize()`, `empty()`, `full()` | same |
//! | `task_done() -> Result<(), TaskDoneError>`, `join().await` | `task_done()`, `await join()` |
//! | `shutdown(immediate)` | `shutdown(immediate=False)` (3.13) |
//!
//! # Fairness
//!
//! Blocked getters and blocked putters are each served in the order they
//! started waiting, and a newcomer never takes what a waiter is owed:
//!
//! * a `put` that finds getters waiting hands its item straight to the one
//!   that has waited longest (which then only has to take it);
//! * a blocked putter waits with its item; when a `get` makes room, the
//!   item of the putter that has waited longest is moved into the queue at
//!   that moment, so a `put_nowait` arriving later finds the queue full
//!   again.
//!
//! A `put` or `get` wakes only the waiters it served (a put: the getter it
//! handed its item to; a get: the putter it admitted, and the getter that
//! putter's item went to, if any): no thundering herd.
//!
//! # Cancellation
//!
//! Dropping a future cancels it, as `CancelledError` does in asyncio:
//!
//! * a `get` dropped while waiting loses no item: an item handed to it at
//!   that moment goes to the next waiting getter, or back to the queue as
//!   the next item out;
//! * a `put` dropped while waiting never enqueues its item (it is dropped
//!   with the future). Once room was made for it, the item is in the queue:
//!   the put has happened, even if its future is not polled again;
//! * a `join` dropped while waiting only stops waiting.
//!
//! # Shutdown
//!
//! As in Python 3.13: after [`Queue::shutdown`], puts fail with
//! [`QueueShutDown`] and blocked putters are woken with it (their items are
//! dropped); gets drain the items left and then fail, or, after
//! `shutdown(true)`, fail at once, the items left being dropped and marked
//! done for `join`.
//!
//! # Outside a runtime
//!
//! The queues make no runtime calls: their futures can be polled by any
//! executor or thread, and the `_nowait` methods are plain calls.

mod core;
mod error;
mod kinds;
mod storage;

pub use error::{QueueEmpty, QueueFull, QueueShutDown, TaskDoneError};
pub use kinds::{LifoQueue, PriorityQueue, Queue};
