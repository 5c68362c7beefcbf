//! `Task<T>`, the handle to a spawned task, and `JoinError`.

use super::raw::RawTask;
use super::TaskId;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A handle to a spawned task: asyncio's `Task`.
///
/// Awaiting it gives the task's output, or a [`JoinError`] if the task
/// panicked or was cancelled. Dropping it *detaches* the task, which keeps
/// running; call [`cancel`](Task::cancel) to stop it.
///
/// ```
/// corio::run(async {
///     let task = corio::create_task(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
pub struct Task<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle touches the output only after the task completed (see
// the state word's COMPLETE/JOIN_INTEREST protocol), so it can move to, and be
// shared with, any thread the output itself may move to.
unsafe impl<T: Send> Send for Task<T> {}
// SAFETY: as above; `&Task` only reads the state word and the header.
unsafe impl<T: Send> Sync for Task<T> {}

impl<T> Unpin for Task<T> {}

impl<T> Task<T> {
    /// # Safety
    /// `raw` must be a task whose output is `T`, and the caller hands over
    /// the handle's reference and join interest.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Task<T> {
        Task {
            raw,
            _output: PhantomData,
        }
    }

    /// Asks the task to stop: its future is dropped at its next scheduling
    /// point, never while another core is polling it, and awaiting the task
    /// then gives a cancelled [`JoinError`].
    ///
    /// Returns `true` if the task was not already done (as asyncio's
    /// `Task.cancel`). A task that completes before its next scheduling point
    /// keeps its output.
    ///
    /// ```
    /// corio::run(async {
    ///     let task = corio::create_task(std::future::pending::<()>());
    ///     assert!(task.cancel());
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        self.raw.cancel()
    }

    /// `true` once the task has finished: returned, panicked or been cancelled.
    pub fn is_done(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// `true` if the task finished by being cancelled.
    pub fn is_cancelled(&self) -> bool {
        let s = self.raw.header().state.load();
        s.is_complete() && s.is_cancelled()
    }

    /// The task's id, unique within the process.
    pub fn id(&self) -> TaskId {
        self.raw.header().id
    }

    /// The name given by [`task::Builder::name`](crate::task::Builder::name).
    pub fn name(&self) -> Option<&str> {
        self.raw.header().name.as_deref()
    }

    /// The untyped task, for handles that point at the same cell (the
    /// caller counts its own reference).
    pub(super) fn raw(&self) -> RawTask {
        self.raw
    }

    /// The task's result, without taking it: `Some` once the task is done
    /// and until the handle is awaited.
    pub(crate) fn output_ref(&self) -> Option<&Result<T, JoinError>> {
        // SAFETY: we are the handle, and the pointer is to our `T`'s result.
        let ptr = unsafe { self.raw.output_ref() } as *const Result<T, JoinError>;
        // SAFETY: a non-null pointer is to the finished stage, which only the
        // handle may take, and taking it needs `&mut self`: it outlives the
        // `&self` borrow we tie it to.
        unsafe { ptr.as_ref() }
    }

    /// `Ready` once the task has finished, leaving its output in place for
    /// [`output_ref`](Task::output_ref) or a later await; until then the
    /// task wakes `cx`'s waker when it finishes (replacing any waker a
    /// previous poll registered).
    pub(crate) fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: we are the handle, and `&mut self` keeps every other use of
        // the join waker slot by this handle out while we register.
        if unsafe { self.raw.poll_done(cx.waker()) } {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut out = Poll::Pending;
        // SAFETY: `out` is the `Poll<Result<T, JoinError>>` of this task's `T`.
        unsafe {
            self.raw
                .try_read_output(&mut out as *mut _ as *mut (), cx.waker())
        };
        out
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle();
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("done", &self.is_done())
            .finish()
    }
}

/// Why a task gave no output: it was cancelled, it panicked, or (a
/// [`TaskGroup`](crate::TaskGroup) child) its error went to its group.
///
/// ```
/// corio::run(async {
///     let err = corio::create_task(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.to_string(), format!("task {} panicked: boom", err.id()));
/// });
/// ```
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The task returned an error that went elsewhere (a `TaskGroup` child's
    /// `Err` goes to the group); this keeps its rendering.
    Failed(Box<str>),
    Panic {
        message: Option<String>,
        payload: SyncPayload,
    },
}

/// A panic payload that can only be moved out, never borrowed, so that
/// `JoinError` can be `Sync` although `dyn Any + Send` is not.
struct SyncPayload(Box<dyn Any + Send + 'static>);

// SAFETY: no `&self` method of `SyncPayload` exists; the payload is only ever
// reached by value (`into_panic`), so sharing `&SyncPayload` shares nothing.
unsafe impl Sync for SyncPayload {}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        JoinError {
            id,
            repr: Repr::Panic {
                message,
                payload: SyncPayload(payload),
            },
        }
    }

    /// A second panic error for the panic `self` describes, for a second
    /// holder when the payload (which cannot be cloned) went to the first:
    /// same id and message, and the message (or `""`) as a `String` payload.
    pub(crate) fn panic_copy(&self) -> JoinError {
        let Repr::Panic { message, .. } = &self.repr else {
            panic!("`JoinError::panic_copy` of an error that is not a panic ({self})");
        };
        JoinError {
            id: self.id,
            repr: Repr::Panic {
                message: message.clone(),
                payload: SyncPayload(Box::new(message.clone().unwrap_or_default())),
            },
        }
    }

    pub(crate) fn failed(id: TaskId, message: String) -> JoinError {
        JoinError {
            id,
            repr: Repr::Failed(message.into_boxed_str()),
        }
    }

    /// `true` if the task was cancelled (asyncio's `CancelledError`).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// `true` if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic { .. })
    }

    /// `true` if the task returned an error that was handed to someone else:
    /// a [`TaskGroup`](crate::TaskGroup) child whose `Err` went to the
    /// group's [`join`](crate::TaskGroup::join). The `Display` of this error
    /// includes that error's.
    pub fn is_failed(&self) -> bool {
        matches!(self.repr, Repr::Failed(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic payload, to resume the panic with
    /// `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task did not panic; see
    /// [`try_into_panic`](JoinError::try_into_panic).
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().unwrap_or_else(|err| {
            panic!("`JoinError::into_panic` called on an error that is not a panic ({err})")
        })
    }

    /// The panic payload, or the error back if the task did not panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic { payload, .. } => Ok(payload.0),
            _ => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Failed(m) => write!(f, "task {} failed: {}", self.id, m),
            Repr::Panic {
                message: Some(m), ..
            } => write!(f, "task {} panicked: {}", self.id, m),
            Repr::Panic { message: None, .. } => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Failed(m) => write!(f, "JoinError::Failed({}, {:?})", self.id, m),
            Repr::Panic { message, .. } => {
                write!(f, "JoinError::Panic({}, {:?})", self.id, message)
            }
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err)
    }
}
