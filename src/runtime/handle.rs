//! `Handle`: a cheap, cloneable reference to a runtime, usable from any thread.

use super::metrics::{RuntimeMetrics, WorkerMetrics};
use super::scheduler::Shared;
use crate::loom::sync::atomic::Ordering::Relaxed;
use crate::loom::sync::Arc;
use crate::runtime::context;
use crate::task::{new_task_body, Plain, Task, TaskBody, TaskInfo};
use std::fmt;
use std::future::Future;
use std::panic::Location;

/// A handle to a runtime: spawns tasks on it from any thread, inside or
/// outside the runtime (asyncio's `run_coroutine_threadsafe`).
///
/// ```
/// let rt = corio::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let answer = std::thread::spawn(move || {
///     let task = handle.spawn(async { 40 + 2 });
///     handle.block_on(task).unwrap()
/// })
/// .join()
/// .unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Handle {
    /// The handle of the runtime the current thread is in.
    ///
    /// # Panics
    /// Outside a corio runtime; see [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        context::current_handle("Handle::current")
    }

    /// The handle of the runtime the current thread is in, if any.
    pub fn try_current() -> Option<Handle> {
        context::try_current_handle()
    }

    /// Spawns a task on this runtime, from any thread.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_named(future, None, Location::caller())
    }

    pub(crate) fn spawn_named<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
    ) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_body(Plain(future), name, location)
    }

    /// Spawns any task body (a `Fallible` one included) on this runtime.
    pub(crate) fn spawn_body<B>(
        &self,
        body: B,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
    ) -> Task<B::Output>
    where
        B: TaskBody + Send,
        B::Output: Send,
    {
        let shared = &self.shared;
        let (task, notified) = new_task_body(body, shared.clone(), &shared.owned, name, location);
        if let Some(notified) = notified {
            shared.schedule_new(notified);
        }
        task
    }

    /// Runs `future` to completion on the calling thread, like
    /// [`Runtime::block_on`](crate::Runtime::block_on).
    ///
    /// # Panics
    /// If called from inside a corio runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        super::block_on::block_on(&self.shared, future)
    }

    /// Snapshots of every unfinished task of this runtime.
    pub fn all_tasks(&self) -> Vec<TaskInfo> {
        self.shared.all_tasks()
    }

    /// A snapshot of the runtime's counters.
    ///
    /// ```
    /// let rt = corio::Runtime::new().unwrap();
    /// rt.block_on(async { corio::create_task(async {}).await.unwrap() });
    /// let m = rt.handle().metrics();
    /// assert!(m.workers().iter().map(|w| w.polls).sum::<u64>() >= 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        let shared = &self.shared;
        let workers = shared
            .remotes
            .iter()
            .map(|r| WorkerMetrics {
                polls: r.metrics.polls.load(Relaxed),
                steals: r.metrics.steals.load(Relaxed),
                parks: r.metrics.parks.load(Relaxed),
                local_queue_depth: r.stealer.len(),
                io_events: r.driver.io_events.load(Relaxed),
                timers_fired: r.driver.timers_fired.load(Relaxed),
            })
            .collect();
        let (unparked, searching) = shared.idle.counts();
        RuntimeMetrics {
            workers,
            injector_depth: shared.injector.len(),
            live_tasks: shared.owned.len(),
            unparked_workers: unparked,
            searching_workers: searching,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.remotes.len())
            .finish()
    }
}
