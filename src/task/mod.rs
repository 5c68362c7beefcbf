//! Tasks: spawning, the `Task<T>` handle, and what a task is made of.
//!
//! A task is one heap allocation (see `raw.rs`): a header with the atomic
//! state word (`state.rs`), the scheduler it belongs to, the future (later its
//! output), and the handle's waker. Wakers, run queues, the owner list and
//! the `Task<T>` handle all point at the same allocation and count references
//! in the state word; the last one frees it.

mod builder;
mod cancel_handle;
mod group;
mod harness;
mod info;
mod join;
mod owned;
mod raw;
pub(crate) mod state;
mod waker;
mod yield_now;

pub use builder::Builder;
pub use group::{ChildError, ChildFailure, TaskGroup, TaskGroupError, TaskGroupHandle};
pub use info::{TaskId, TaskInfo, TaskState};
pub use join::{JoinError, Task};
pub use yield_now::yield_now;

pub(crate) use cancel_handle::CancelHandle;
pub(crate) use owned::OwnedTasks;
pub(crate) use raw::{Fallible, Header, Notified, Plain, RawTask, TaskBody};

use crate::runtime::context;
use std::future::Future;
use std::panic::Location;

/// What a task needs from the scheduler it belongs to.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Puts a notified task in a run queue. `is_yield` says the task was woken
    /// while it ran (e.g. by `yield_now`): it goes behind all other ready
    /// work rather than into the LIFO slot.
    fn schedule(&self, task: Notified, is_yield: bool);

    /// Removes a completing task from the owner list; `true` if it was there
    /// (then the list's reference is the caller's to drop).
    fn release(&self, task: &Header) -> bool;

    /// `true` if the runtime is in debug mode: a panic nobody will read is
    /// then reported.
    fn debug(&self) -> bool {
        false
    }
}

/// Allocates a task and binds it to `list`, returning the handle and the
/// first notification; if the list is closed the task is cancelled at once
/// and `None` is returned instead of the notification.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    list: &OwnedTasks,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
) -> (Task<F::Output>, Option<Notified>)
where
    F: Future + 'static,
    S: Schedule,
{
    new_task_body(Plain(future), scheduler, list, name, location)
}

/// [`new_task`] for any [`TaskBody`] (a `Fallible` one included).
pub(crate) fn new_task_body<B, S>(
    body: B,
    scheduler: S,
    list: &OwnedTasks,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
) -> (Task<B::Output>, Option<Notified>)
where
    B: TaskBody,
    S: Schedule,
{
    new_task_in(
        body,
        scheduler,
        list,
        name,
        location,
        crate::context::snapshot(),
    )
}

/// [`new_task_body`] with the context the task starts in given, rather than
/// copied from the caller's (a blocking call carries its caller's context
/// itself and runs outside any task, so its header needs none).
pub(crate) fn new_task_in<B, S>(
    body: B,
    scheduler: S,
    list: &OwnedTasks,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    context: crate::context::Snapshot,
) -> (Task<B::Output>, Option<Notified>)
where
    B: TaskBody,
    S: Schedule,
{
    let raw = RawTask::new(body, scheduler, TaskId::next(), name, location, context);
    // SAFETY: a new task counts three references: one each for the handle,
    // the notification and the owner list, and its output type is B::Output.
    let task = unsafe { Task::from_raw(raw) };
    // SAFETY: as above: the second reference and the first notification.
    let notified = unsafe { Notified::from_raw(raw) };
    match list.bind(raw) {
        Ok(()) => (task, Some(notified)),
        Err(owned::Closed) => {
            // The runtime is shutting down. The list's reference becomes
            // shutdown's, which cancels the never-polled future right here.
            raw.shutdown();
            drop(notified);
            (task, None)
        }
    }
}

/// Spawns a task on the current runtime: asyncio's `create_task`.
///
/// The future runs concurrently on any worker and may be stolen by another
/// core. It is scheduled even if the returned [`Task`] is never awaited;
/// dropping the `Task` detaches it.
///
/// # Panics
/// If called outside a corio runtime.
///
/// ```
/// corio::run(async {
///     let a = corio::create_task(async { 1 });
///     let b = corio::create_task(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
#[track_caller]
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = context::current_handle("create_task");
    handle.spawn_named(future, None, Location::caller())
}

/// Alias of [`create_task`], for readers coming from tokio.
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = context::current_handle("spawn");
    handle.spawn_named(future, None, Location::caller())
}

/// Spawns a `!Send` future on the current thread's loop.
///
/// The task stays on this worker (or on this `run`/`block_on` thread) and is
/// never stolen, so it may hold `Rc`s and `RefCell`s across awaits. Tasks
/// spawned on a `block_on` thread make progress while that thread is inside
/// `block_on` (or `run`).
///
/// # Panics
/// If called outside a corio worker thread and outside `run`/`block_on`.
///
/// ```
/// use std::rc::Rc;
/// corio::run(async {
///     let shared = Rc::new(5);
///     let s = shared.clone();
///     let task = corio::spawn_local(async move { *s + 1 });
///     assert_eq!(task.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_named(future, None, Location::caller())
}

pub(crate) fn spawn_local_named<F>(
    future: F,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let Some(owner) = context::current_local_owner() else {
        panic!(
            "spawn_local must be called from inside a corio runtime: on a worker thread, \
             or inside `corio::run`/`Runtime::block_on` (called at {location})"
        );
    };
    let (task, notified) = new_task(future, owner.clone(), owner.owned(), name, location);
    if let Some(notified) = notified {
        owner.schedule(notified, false);
    }
    task
}

/// Spawns a `Send` future as a local task of `owner`, from any thread: it
/// runs on the owner's thread only (the event loop's callbacks).
pub(crate) fn spawn_on_owner<F>(
    owner: &crate::loom::sync::Arc<crate::runtime::scheduler::local::LocalOwner>,
    future: F,
    location: &'static Location<'static>,
) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, notified) = new_task(future, owner.clone(), owner.owned(), None, location);
    if let Some(notified) = notified {
        owner.schedule(notified, false);
    }
    task
}

/// A snapshot of the task being polled on this thread, if any (`None` in
/// `run`/`block_on`'s own future and outside a runtime).
///
/// ```
/// corio::run(async {
///     let task = corio::task::Builder::new().name("worker").spawn(async {
///         corio::current_task().unwrap().name().map(str::to_owned)
///     });
///     assert_eq!(task.await.unwrap().as_deref(), Some("worker"));
/// });
/// ```
pub fn current_task() -> Option<TaskInfo> {
    context::with_current_task(TaskInfo::from_header)
}

/// Snapshots of every unfinished task of the current runtime, local tasks
/// included.
///
/// # Panics
/// If called outside a corio runtime.
///
/// ```
/// corio::run(async {
///     let task = corio::create_task(std::future::pending::<()>());
///     assert!(corio::all_tasks().iter().any(|t| t.id() == task.id()));
///     task.cancel();
/// });
/// ```
pub fn all_tasks() -> Vec<TaskInfo> {
    context::current_handle("all_tasks").all_tasks()
}
