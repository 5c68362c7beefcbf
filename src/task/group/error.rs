//! What a failed `TaskGroup` reports: every child's error value and panic.

use crate::task::{JoinError, TaskId};
use std::any::Any;
use std::error::Error;
use std::fmt;

/// The error value a [`TaskGroup`](crate::TaskGroup) child returned, with the
/// id of the task that returned it.
///
/// Its `Display` and `Debug` are the child's error's own, rendered when the
/// child failed. The value itself can be taken back with
/// [`downcast`](ChildError::downcast) (or borrowed with
/// [`downcast_ref`](ChildError::downcast_ref) when it is `Sync`).
///
/// ```
/// # use std::fmt;
/// #[derive(Debug, PartialEq)]
/// struct Overheated(u32);
/// impl fmt::Display for Overheated {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         write!(f, "overheated at {} degrees", self.0)
///     }
/// }
///
/// corio::run(async {
///     let tg = corio::TaskGroup::new();
///     tg.create_task(async { Err::<(), _>(Overheated(90)) });
///     let err = tg.join().await.unwrap_err();
///     let corio::ChildFailure::Error(child) = &err.failures()[0] else { unreachable!() };
///     assert_eq!(child.to_string(), "overheated at 90 degrees");
///     assert_eq!(child.downcast_ref::<Overheated>(), Some(&Overheated(90)));
///     assert!(!child.is::<std::io::Error>());
/// });
/// ```
pub struct ChildError {
    task: TaskId,
    display: Box<str>,
    debug: Box<str>,
    value: Box<dyn Any + Send>,
}

// A `&ChildError` reaches the error value in two ways only: `downcast_ref::<E>`,
// which requires `E: Sync` (so sharing `&E` between threads is sound), and
// `is::<E>`, which calls `Any::type_id` on it, and `Any` has only std's blanket
// implementation, which returns a constant and reads nothing. `Display` and
// `Debug` use strings rendered on the failing child's thread.
// SAFETY: as above; everything else needs `&mut self` or `self`.
unsafe impl Sync for ChildError {}

impl ChildError {
    /// Renders `error` now (its `Display` and `Debug` may not be called from
    /// other threads later: `E` need not be `Sync`).
    pub(super) fn new<E>(task: TaskId, error: E) -> ChildError
    where
        E: fmt::Debug + fmt::Display + Send + 'static,
    {
        ChildError {
            task,
            display: error.to_string().into_boxed_str(),
            debug: format!("{error:?}").into_boxed_str(),
            value: Box::new(error),
        }
    }

    /// The id of the child task that returned this error.
    pub fn task_id(&self) -> TaskId {
        self.task
    }

    /// `true` if the error value is an `E`.
    pub fn is<E: Any>(&self) -> bool {
        self.value.is::<E>()
    }

    /// The error value, if it is an `E`. `E` must be `Sync` because a shared
    /// `ChildError` may be read from several threads at once; for other types
    /// use [`downcast_mut`](ChildError::downcast_mut) or
    /// [`downcast`](ChildError::downcast).
    pub fn downcast_ref<E: Any + Sync>(&self) -> Option<&E> {
        self.value.downcast_ref::<E>()
    }

    /// The error value, mutably, if it is an `E`.
    pub fn downcast_mut<E: Any>(&mut self) -> Option<&mut E> {
        self.value.downcast_mut::<E>()
    }

    /// The error value if it is an `E`, else `self` back.
    ///
    /// ```
    /// corio::run(async {
    ///     let tg = corio::TaskGroup::new();
    ///     tg.create_task(async { Err::<(), _>(std::io::Error::other("disk on fire")) });
    ///     let failures = tg.join().await.unwrap_err().into_failures();
    ///     let corio::ChildFailure::Error(child) = failures.into_iter().next().unwrap() else {
    ///         unreachable!()
    ///     };
    ///     let io: std::io::Error = child.downcast().unwrap();
    ///     assert_eq!(io.to_string(), "disk on fire");
    /// });
    /// ```
    pub fn downcast<E: Any>(self) -> Result<E, ChildError> {
        match self.value.downcast::<E>() {
            Ok(value) => Ok(*value),
            Err(value) => Err(ChildError { value, ..self }),
        }
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildError")
            .field("task", &self.task)
            .field("error", &format_args!("{}", self.debug))
            .finish()
    }
}

impl Error for ChildError {}

/// Why one child of a failed [`TaskGroup`](crate::TaskGroup) failed.
///
/// Children cancelled by the group (or by their own `Task::cancel`) are not
/// failures and do not appear here.
#[derive(Debug)]
pub enum ChildFailure {
    /// The child returned `Err`.
    Error(ChildError),
    /// The child panicked. The error holds the panic payload: pass
    /// [`JoinError::into_panic`] to `std::panic::resume_unwind` to propagate
    /// it.
    Panic(JoinError),
}

impl ChildFailure {
    /// The id of the child task that failed.
    pub fn task_id(&self) -> TaskId {
        match self {
            ChildFailure::Error(e) => e.task_id(),
            ChildFailure::Panic(e) => e.id(),
        }
    }
}

impl fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Worded as the child handle's "failed" `JoinError`.
            ChildFailure::Error(e) => write!(f, "task {} failed: {}", e.task_id(), e),
            ChildFailure::Panic(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl Error for ChildFailure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ChildFailure::Error(e) => Some(e),
            ChildFailure::Panic(e) => Some(e),
        }
    }
}

/// What [`TaskGroup::join`](crate::TaskGroup::join) returns when children
/// failed: every failure, in the order the children failed.
///
/// Its `Display` and `Debug` include every child's error and every panic's
/// message.
///
/// ```
/// corio::run(async {
///     let tg = corio::TaskGroup::new();
///     let bad = tg.create_task(async { Err::<(), _>("bad input") });
///     let bad_id = bad.id();
///     let err = tg.join().await.unwrap_err();
///     assert_eq!(err.failures().len(), 1);
///     assert_eq!(err.failures()[0].task_id(), bad_id);
///     assert_eq!(
///         err.to_string(),
///         format!("1 task of the group failed: task {bad_id} failed: bad input")
///     );
/// });
/// ```
#[derive(Debug)]
pub struct TaskGroupError {
    failures: Vec<ChildFailure>,
}

impl TaskGroupError {
    pub(super) fn new(failures: Vec<ChildFailure>) -> TaskGroupError {
        debug_assert!(!failures.is_empty());
        TaskGroupError { failures }
    }

    /// Every failure, in the order the children failed (never empty).
    pub fn failures(&self) -> &[ChildFailure] {
        &self.failures
    }

    /// Every failure, by value: to take the error values back
    /// ([`ChildError::downcast`]) or resume a panic.
    pub fn into_failures(self) -> Vec<ChildFailure> {
        self.failures
    }
}

impl fmt::Display for TaskGroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        let tasks = if n == 1 { "task" } else { "tasks" };
        write!(f, "{n} {tasks} of the group failed: ")?;
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl Error for TaskGroupError {
    /// The first failure (the one that made the group cancel the others).
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.failures.first().map(|f| f as &(dyn Error + 'static))
    }
}
