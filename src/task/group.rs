//! `TaskGroup`: asyncio's `TaskGroup` (tokio's nearest relative is
//! `JoinSet`). Children run as ordinary tasks; the group learns of each
//! child's end through the child's own body (`child.rs`), so `join` costs
//! one wakeup in all, not one per child.

mod child;
mod error;
mod shared;

pub use error::{ChildError, ChildFailure, TaskGroupError};

use self::child::{Child, Member, Stillborn};
use self::shared::{Armed, Reserved, Shared};
use crate::loom::sync::Arc;
use crate::runtime::{context, Handle};
use crate::task::{CancelHandle, Fallible, Plain, Task};
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;

/// A set of child tasks that succeed or fail together: asyncio's
/// `TaskGroup`.
///
/// [`create_task`](TaskGroup::create_task) spawns a child: a future that
/// returns `Result<T, E>`, run as its own task on any worker.
/// [`join`](TaskGroup::join) waits until every child is done and returns
/// `Ok(())`, or a [`TaskGroupError`] holding every child that failed.
///
/// What the group cancels, and when (cancelling a child is
/// [`Task::cancel`]: its future is dropped at its next scheduling point, and
/// a child that finishes before that keeps its result):
///
/// * **When a child fails** (returns `Err` or panics), every other child that
///   is not done yet is cancelled, once, at that moment. Children that fail
///   before their cancellation lands are failures too: `join` reports them
///   all. A child created after the failure is cancelled at once, before its
///   future is ever polled (and `join` waits for that future to be dropped).
/// * **When the group is dropped** without `join` having returned (and
///   dropping the future that `join` returned drops the group), every child
///   not done yet is cancelled: no child outlives its group. The drop does
///   not wait for them to stop.
/// * **Nothing else.** A child cancelled through its own [`Task::cancel`] is
///   not a failure: its siblings keep running. `join` cancels nothing by
///   itself.
///
/// The [`Task`] that `create_task` returns is a child's ordinary handle:
/// awaiting it gives the child's value, or a [`JoinError`](crate::JoinError)
/// that says it was cancelled, panicked, or failed (`is_failed()`: the child
/// returned `Err`, whose value went to the group; the `JoinError`'s `Display`
/// includes the error's). Dropping the handle detaches the child like any
/// task, but it is still the group's child: `join` waits for it, and the
/// group cancels it on a failure or when dropped.
///
/// To let children add children of their own, hand them a
/// [`TaskGroupHandle`] ([`TaskGroup::handle`]); `join` also waits for those.
///
/// ```
/// corio::run(async {
///     let tg = corio::TaskGroup::new();
///     let a = tg.create_task(async { Ok::<_, std::io::Error>(1) });
///     let b = tg.create_task(async { Ok::<_, std::io::Error>(2) });
///     tg.join().await.unwrap();
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
///
/// The first failure cancels the siblings, and `join` reports it:
///
/// ```
/// use std::time::Duration;
///
/// corio::run(async {
///     let tg = corio::TaskGroup::new();
///     let slow = tg.create_task(async {
///         corio::sleep(Duration::from_secs(3600)).await;
///         Ok::<_, String>("never")
///     });
///     let bad = tg.create_task(async { Err::<&str, _>("no route to host".to_string()) });
///     let err = tg.join().await.unwrap_err();
///     assert_eq!(err.failures().len(), 1);
///     assert!(err.to_string().contains("no route to host"));
///     assert!(bad.await.unwrap_err().is_failed());
///     assert!(slow.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct TaskGroup {
    shared: Arc<Shared>,
}

/// A cloneable handle that adds children to a [`TaskGroup`]: what a child
/// that spawns siblings holds (asyncio's children are handed the group
/// itself).
///
/// It does not keep the group alive. A task created through it after the
/// group failed, was dropped, or was joined is cancelled at once: its future
/// is never polled, and awaiting the `Task` gives a cancelled `JoinError`.
///
/// ```
/// corio::run(async {
///     let tg = corio::TaskGroup::new();
///     let handle = tg.handle();
///     let parent = tg.create_task(async move {
///         let child = handle.create_task(async { Ok::<_, String>(2) });
///         Ok::<_, String>(child)
///     });
///     // `join` waits for the grandchild too.
///     tg.join().await.unwrap();
///     let child = parent.await.unwrap();
///     assert_eq!(child.await.unwrap(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct TaskGroupHandle {
    shared: Arc<Shared>,
}

impl TaskGroup {
    /// An empty group. It is tied to no runtime: each child is spawned on
    /// the runtime `create_task` is called in.
    pub fn new() -> TaskGroup {
        TaskGroup {
            shared: Arc::new(Shared::new()),
        }
    }

    /// Spawns `future` as a child of this group, on the current runtime, and
    /// returns its handle (see [`TaskGroup`] for what the handle gives and
    /// what the group cancels).
    ///
    /// If a child failed already, the new task is cancelled at once: its
    /// future is dropped without being polled, and `join` returns only after
    /// that (asyncio raises `RuntimeError` instead).
    ///
    /// # Panics
    /// If called outside a corio runtime.
    ///
    /// ```
    /// corio::run(async {
    ///     let tg = corio::TaskGroup::new();
    ///     let task = tg.create_task(async { "ok".parse::<u8>() });
    ///     let err = tg.join().await.unwrap_err();
    ///     assert!(err.to_string().contains("invalid digit"));
    ///     assert!(task.await.unwrap_err().is_failed());
    /// });
    /// ```
    #[track_caller]
    pub fn create_task<F, T, E>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: fmt::Debug + fmt::Display + Send + 'static,
    {
        spawn_child(&self.shared, future, Location::caller())
    }

    /// A handle through which children (or anyone) can add children to this
    /// group.
    pub fn handle(&self) -> TaskGroupHandle {
        TaskGroupHandle {
            shared: self.shared.clone(),
        }
    }

    /// How many children are not done yet.
    ///
    /// ```
    /// corio::run(async {
    ///     let tg = corio::TaskGroup::new();
    ///     assert!(tg.is_empty());
    ///     tg.create_task(std::future::pending::<Result<(), String>>());
    ///     assert_eq!(tg.len(), 1);
    ///     // Dropping the group cancels the pending child.
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.shared.live()
    }

    /// `true` if every child is done (or there never was one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until every child is done, children created meanwhile (by
    /// other children, through a [`TaskGroupHandle`]) included, then returns
    /// `Ok(())` if none failed, or every failure. With no children it returns
    /// `Ok(())` at once.
    ///
    /// Once it returns, every child's future has been dropped (its
    /// destructors have run); a child's [`Task::is_done`] may turn `true` a
    /// moment later, and awaiting the `Task` gives its result. The group then
    /// takes no more children (see [`TaskGroupHandle`]).
    ///
    /// Dropping the returned future before it completes drops the group,
    /// which cancels every child not done yet (as asyncio cancels a task
    /// group's children when the task in `async with` is cancelled). A child
    /// that awaits `join` of its own group never returns.
    ///
    /// ```
    /// corio::run(async {
    ///     let tg = corio::TaskGroup::new();
    ///     tg.create_task(async { Err::<(), _>("first") });
    ///     let panics = tg.create_task(async {
    ///         panic!("second");
    ///         #[allow(unreachable_code)]
    ///         Ok::<(), &str>(())
    ///     });
    ///     let err = tg.join().await.unwrap_err();
    ///     // Whether the second child ran before the first one's failure
    ///     // cancelled it depends on the scheduling.
    ///     if panics.await.unwrap_err().is_panic() {
    ///         assert_eq!(err.failures().len(), 2);
    ///         assert!(err.to_string().contains("panicked: second"));
    ///     } else {
    ///         assert_eq!(err.failures().len(), 1);
    ///     }
    ///     assert!(err.to_string().contains("failed: first"));
    /// });
    /// ```
    pub async fn join(self) -> Result<(), TaskGroupError> {
        let failures = poll_fn(|cx| self.shared.poll_join(cx)).await;
        if failures.is_empty() {
            Ok(())
        } else {
            Err(TaskGroupError::new(failures))
        }
    }
}

impl TaskGroupHandle {
    /// [`TaskGroup::create_task`] through the handle: spawns a child of the
    /// group, or, if the group failed, was dropped or was joined, a task
    /// that is cancelled at once (its future is never polled).
    ///
    /// # Panics
    /// If called outside a corio runtime.
    ///
    /// ```
    /// corio::run(async {
    ///     let tg = corio::TaskGroup::new();
    ///     let handle = tg.handle();
    ///     drop(tg);
    ///     let task = handle.create_task(async { Ok::<_, String>(1) });
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    #[track_caller]
    pub fn create_task<F, T, E>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: fmt::Debug + fmt::Display + Send + 'static,
    {
        spawn_child(&self.shared, future, Location::caller())
    }
}

fn spawn_child<F, T, E>(
    shared: &Arc<Shared>,
    future: F,
    location: &'static Location<'static>,
) -> Task<T>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + fmt::Display + Send + 'static,
{
    // Before `reserve`: a panic here must not leave a child counted.
    let handle = context::current_handle("TaskGroup::create_task");
    let key = match shared.reserve() {
        Reserved::Open(key) => key,
        Reserved::Failed(key) => {
            let member = Member::new(shared.clone(), key);
            let task = spawn_stillborn(&handle, future, Some(member), location);
            // Armed only so that the slot is freed when it leaves: it is
            // cancelled already, whatever `arm` says.
            let _ = shared.arm(key, CancelHandle::new(&task));
            return task;
        }
        Reserved::Closed => return spawn_stillborn(&handle, future, None, location),
    };
    let member = Member::new(shared.clone(), key);
    let task = handle.spawn_body(Fallible(Child::new(future, member)), None, location);
    if shared.arm(key, CancelHandle::new(&task)) == Armed::CancelNow {
        task.cancel();
    }
    task
}

/// Spawns a task that is cancelled at once and never polls `future`.
fn spawn_stillborn<F, T>(
    handle: &Handle,
    future: F,
    member: Option<Member>,
    location: &'static Location<'static>,
) -> Task<T>
where
    F: Send + 'static,
    T: Send + 'static,
{
    let task = handle.spawn_body(Plain(Stillborn::new(future, member)), None, location);
    task.cancel();
    task
}

impl Default for TaskGroup {
    fn default() -> TaskGroup {
        TaskGroup::new()
    }
}

impl Drop for TaskGroup {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("live", &self.len())
            .finish()
    }
}

impl fmt::Debug for TaskGroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupHandle")
            .field("live", &self.shared.live())
            .finish()
    }
}
