//! The queue errors: asyncio's `QueueFull`, `QueueEmpty`, `QueueShutDown`,
//! and the `ValueError` of a `task_done()` too many.

use std::fmt;

/// The queue was shut down ([`Queue::shutdown`](super::Queue::shutdown)):
/// a `put` is refused, and a `get` finds nothing left to drain. asyncio's
/// `QueueShutDown` (Python 3.13).
///
/// ```
/// use corio::queue::{Queue, QueueShutDown};
///
/// # corio::run(async {
/// let q = Queue::<u8>::new(0);
/// q.shutdown(false);
/// assert_eq!(q.put(1).await, Err(QueueShutDown));
/// assert_eq!(q.get().await, Err(QueueShutDown));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QueueShutDown;

impl fmt::Display for QueueShutDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down")
    }
}

impl std::error::Error for QueueShutDown {}

/// A [`put_nowait`](super::Queue::put_nowait) that could not put its item,
/// which it gives back. asyncio's `QueueFull`, plus the shut-down case
/// (where asyncio raises `QueueShutDown`), so that the item comes back in
/// both.
///
/// ```
/// use corio::queue::{Queue, QueueFull};
///
/// let q = Queue::new(1);
/// q.put_nowait("a").unwrap();
/// assert_eq!(q.put_nowait("b"), Err(QueueFull::Full("b")));
/// q.shutdown(false);
/// let err = q.put_nowait("c").unwrap_err();
/// assert!(err.is_shutdown());
/// assert_eq!(err.into_inner(), "c");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueFull<T> {
    /// The queue holds `maxsize` items already.
    Full(T),
    /// The queue was shut down.
    ShutDown(T),
}

impl<T> QueueFull<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            QueueFull::Full(item) | QueueFull::ShutDown(item) => item,
        }
    }

    /// `true` if the put failed because the queue was shut down, `false` if
    /// it was full.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, QueueFull::ShutDown(_))
    }
}

/// Shows the case, not the item (which need not be `Debug`).
impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueFull::Full(_) => f.write_str("Full(..)"),
            QueueFull::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueFull::Full(_) => f.write_str("the queue is full"),
            QueueFull::ShutDown(_) => f.write_str("the queue is shut down"),
        }
    }
}

impl<T> std::error::Error for QueueFull<T> {}

/// A [`get_nowait`](super::Queue::get_nowait) that found no item to take.
/// asyncio's `QueueEmpty`, plus the shut-down case (where asyncio raises
/// `QueueShutDown`).
///
/// ```
/// use corio::queue::{Queue, QueueEmpty};
///
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.get_nowait(), Err(QueueEmpty::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(QueueEmpty::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueEmpty {
    /// No item is available now (the queue is empty, or every item in it is
    /// already promised to a waiting `get`).
    Empty,
    /// The queue was shut down and nothing is left to drain.
    ShutDown,
}

impl QueueEmpty {
    /// `true` if the queue was shut down (no item will ever come).
    pub fn is_shutdown(&self) -> bool {
        matches!(self, QueueEmpty::ShutDown)
    }
}

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueEmpty::Empty => f.write_str("the queue is empty"),
            QueueEmpty::ShutDown => f.write_str("the queue is shut down and empty"),
        }
    }
}

impl std::error::Error for QueueEmpty {}

impl From<QueueShutDown> for QueueEmpty {
    fn from(_: QueueShutDown) -> QueueEmpty {
        QueueEmpty::ShutDown
    }
}

/// [`task_done`](super::Queue::task_done) was called more times than items
/// were put (asyncio's `ValueError('task_done() called too many times')`).
///
/// ```
/// use corio::queue::{Queue, TaskDoneError};
///
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put")
    }
}

impl std::error::Error for TaskDoneError {}
