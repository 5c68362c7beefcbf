//! `shield`: run a future as its own task, safe from the caller's
//! cancellation.

use crate::runtime::context;
use crate::task::{JoinError, Task, TaskId};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `future` as its own task, which the caller's cancellation does not
/// reach: asyncio's `shield`.
///
/// Awaiting the [`Shield`] gives the task's output, or a
/// [`JoinError`] if it panicked or was cancelled (through
/// [`Shield::cancel`]). The task is scheduled at once, like any
/// [`create_task`](crate::create_task), so `future` must be `Send + 'static`.
///
/// **Cancels:** nothing: dropping the `Shield` (say, because the future
/// awaiting it was dropped or timed out) leaves the task running to
/// completion, and its output is then dropped. Only [`Shield::cancel`]
/// stops it. (A [`Task`] is already shielded in corio, since dropping one
/// detaches it; `shield` is for plain futures.)
///
/// # Panics
/// If called outside a corio runtime.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// corio::run(async {
///     let saved = Arc::new(AtomicBool::new(false));
///     let s = saved.clone();
///     let save = corio::shield(async move {
///         corio::sleep(Duration::from_millis(20)).await;
///         s.store(true, Ordering::SeqCst);
///     });
///     // The caller gives up waiting: the Shield is dropped, the save goes on.
///     assert!(corio::wait_for(save, Duration::from_millis(1)).await.is_err());
///     while !saved.load(Ordering::SeqCst) {
///         corio::sleep(Duration::from_millis(5)).await;
///     }
/// });
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = context::current_handle("shield");
    Shield {
        task: handle.spawn_named(future, None, Location::caller()),
    }
}

/// The future returned by [`shield`]: the shielded task's
/// `Result<T, JoinError>`. Dropping it does not cancel the task.
#[must_use = "the shielded task runs anyway; await the Shield for its output"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T> Shield<T> {
    /// Really cancels the shielded task, as [`Task::cancel`] does: `true`
    /// if it was not already done. Awaiting the `Shield` then gives a
    /// cancelled [`JoinError`] (unless the task finished first).
    ///
    /// ```
    /// corio::run(async {
    ///     let s = corio::shield(std::future::pending::<()>());
    ///     assert!(s.cancel());
    ///     assert!(s.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        self.task.cancel()
    }

    /// `true` once the shielded task has finished.
    pub fn is_done(&self) -> bool {
        self.task.is_done()
    }

    /// The shielded task's id.
    pub fn id(&self) -> TaskId {
        self.task.id()
    }

    /// The shielded task's handle: awaiting it is awaiting the `Shield`.
    pub fn into_task(self) -> Task<T> {
        self.task
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield").field("task", &self.task).finish()
    }
}
