//! `task::Builder`: spawning with a name.

use super::Task;
use crate::runtime::context;
use std::future::Future;
use std::panic::Location;

/// Configures a task before spawning it (asyncio's `create_task(name=...)`).
///
/// ```
/// corio::run(async {
///     let task = corio::task::Builder::new().name("fetcher").spawn(async { 1 });
///     assert_eq!(task.name(), Some("fetcher"));
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<Box<str>>,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task; the name shows in [`Task::name`], `TaskInfo` and
    /// debug output.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Spawns the task on the current runtime, like
    /// [`create_task`](crate::create_task).
    ///
    /// # Panics
    /// If called outside a corio runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = context::current_handle("task::Builder::spawn");
        handle.spawn_named(future, self.name, Location::caller())
    }

    /// Spawns the task on the current thread's loop, like
    /// [`spawn_local`](crate::spawn_local).
    ///
    /// # Panics
    /// If called outside a worker thread and outside `run`/`block_on`.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        super::spawn_local_named(future, self.name, Location::caller())
    }
}
