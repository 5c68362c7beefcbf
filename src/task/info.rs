//! Introspection: task ids and `TaskInfo` snapshots.

use super::raw::Header;
use std::fmt;
use std::panic::Location;

/// A task's id: unique among all tasks of the process, never reused.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) u64);

impl TaskId {
    pub(crate) fn next() -> TaskId {
        TaskId(crate::loom::ids::next())
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({})", self.0)
    }
}

/// What a task was doing when a [`TaskInfo`] was taken.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// In a run queue, waiting for a worker.
    Scheduled,
    /// Being polled right now.
    Running,
    /// Waiting for a wakeup.
    Idle,
    /// Cancellation was asked for and has not happened yet.
    Cancelling,
    /// Finished.
    Done,
}

/// A snapshot of one task, as returned by [`current_task`](crate::current_task)
/// and [`all_tasks`](crate::all_tasks).
#[derive(Clone)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<String>,
    state: TaskState,
    location: &'static Location<'static>,
}

impl TaskInfo {
    pub(crate) fn from_header(header: &Header) -> TaskInfo {
        let s = header.state.load();
        let state = if s.is_complete() {
            TaskState::Done
        } else if s.is_cancelled() {
            TaskState::Cancelling
        } else if s.is_running() {
            TaskState::Running
        } else if s.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        TaskInfo {
            id: header.id,
            name: header.name.as_deref().map(str::to_owned),
            state,
            location: header.location,
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// What the task was doing when the snapshot was taken.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

impl fmt::Debug for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("state", &self.state)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}
