//! `CancelHandle`: a counted reference to a task that can only cancel it.
//!
//! A `Task<T>` is the one handle that may read a task's output, and the user
//! owns it. Whoever else must be able to stop the task later (a `TaskGroup`
//! cancelling a failed child's siblings) keeps one of these: it holds the
//! cell alive, never touches the future or the output, and reads nothing
//! but the header.

use super::raw::RawTask;
use super::{Task, TaskId};
use std::fmt;

/// Cancels a task; one counted reference to its cell.
pub(crate) struct CancelHandle {
    raw: RawTask,
}

impl CancelHandle {
    /// A cancel handle for the same task as `task`.
    pub(crate) fn new<T>(task: &Task<T>) -> CancelHandle {
        let raw = task.raw();
        // `task` holds a reference for as long as we borrow it, so the cell
        // is live while we count ours.
        raw.header().state.ref_inc();
        CancelHandle { raw }
    }

    /// [`Task::cancel`]: the future is dropped at its next scheduling point;
    /// `true` if the task was not complete yet.
    pub(crate) fn cancel(&self) -> bool {
        self.raw.cancel()
    }

    /// The task's id.
    pub(crate) fn id(&self) -> TaskId {
        self.raw.header().id
    }
}

impl Clone for CancelHandle {
    fn clone(&self) -> CancelHandle {
        // Our own reference keeps the cell live while we count another.
        self.raw.header().state.ref_inc();
        CancelHandle { raw: self.raw }
    }
}

impl Drop for CancelHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("id", &self.id())
            .finish()
    }
}
