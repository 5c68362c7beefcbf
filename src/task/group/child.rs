//! The future a `TaskGroup` child runs: the user's future, plus the
//! reporting that makes the group see the child fail and leave.

use super::error::{ChildError, ChildFailure};
use super::shared::Shared;
use crate::loom::sync::Arc;
use crate::runtime::context;
use crate::task::{JoinError, TaskId};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A child's place in its group: leaves the group when dropped, which
/// happens exactly once, whether the child completed, failed, panicked or was
/// cancelled (its future dropped unpolled at a scheduling point, or by
/// runtime shutdown).
pub(super) struct Member {
    shared: Arc<Shared>,
    key: usize,
}

impl Member {
    pub(super) fn new(shared: Arc<Shared>, key: usize) -> Member {
        Member { shared, key }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.shared.leave(self.key);
    }
}

/// The body of a child task. On `Err` or a panic the failure goes to the
/// group (which cancels the siblings) and the child's own handle gets a
/// `JoinError` that describes it.
pub(super) struct Child<F> {
    // Declared first so that it is dropped first: the group counts the child
    // as live until its future (and everything the future owns) is gone.
    future: F,
    member: Member,
}

impl<F> Child<F> {
    pub(super) fn new(future: F, member: Member) -> Child<F> {
        Child { future, member }
    }
}

/// How one poll of the user's future ended.
enum Outcome<T> {
    Pending,
    Ok(T),
    Err(ChildError),
}

impl<F, T, E> Future for Child<F>
where
    F: Future<Output = Result<T, E>>,
    E: fmt::Debug + fmt::Display + Send + 'static,
{
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        // SAFETY: structural pinning of `future`: `Child` never moves it out,
        // has no `Drop` of its own and no `Unpin` impl, and `member` is never
        // pinned (we only read it through `&`).
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `future` stays where it is until `Child` drops.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        // The panic is caught here rather than by the task harness so that
        // the group gets it; rendering the error (user code) is inside too.
        let outcome = catch_unwind(AssertUnwindSafe(|| match future.poll(cx) {
            Poll::Pending => Outcome::Pending,
            Poll::Ready(Ok(value)) => Outcome::Ok(value),
            Poll::Ready(Err(err)) => Outcome::Err(ChildError::new(current_id(), err)),
        }));
        let member = &this.member;
        match outcome {
            Ok(Outcome::Pending) => Poll::Pending,
            Ok(Outcome::Ok(value)) => Poll::Ready(Ok(value)),
            Ok(Outcome::Err(err)) => {
                let for_handle = JoinError::failed(err.task_id(), err.to_string());
                member.shared.fail(member.key, ChildFailure::Error(err));
                Poll::Ready(Err(for_handle))
            }
            Err(payload) => {
                let id = current_id();
                let group_err = JoinError::panic(id, payload);
                // The payload itself goes to the group (whose `join` is where
                // a panic would be resumed); the handle gets its message.
                let for_handle = group_err.panic_copy();
                member
                    .shared
                    .fail(member.key, ChildFailure::Panic(group_err));
                Poll::Ready(Err(for_handle))
            }
        }
    }
}

/// The id of the task being polled: the child's (only the task harness
/// polls a `Child`).
fn current_id() -> TaskId {
    context::with_current_task(|header| header.id)
        .expect("a TaskGroup child is only polled as its own task")
}

/// The body of a task created into a group that failed, was joined or was
/// dropped: it never polls the user's future, only owns it until the task's
/// immediate cancellation drops it.
pub(super) struct Stillborn<F, T> {
    // Dropped before the member leaves, as in `Child`.
    _future: F,
    /// Set if the group can still be joined: `join` waits for the drop.
    _member: Option<Member>,
    _output: PhantomData<fn() -> T>,
}

impl<F, T> Stillborn<F, T> {
    pub(super) fn new(future: F, member: Option<Member>) -> Stillborn<F, T> {
        Stillborn {
            _future: future,
            _member: member,
            _output: PhantomData,
        }
    }
}

impl<F, T> Future for Stillborn<F, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        // Cancelled by its creator right after spawning: if a worker gets to
        // it first, it waits (without a waker) for that cancellation.
        Poll::Pending
    }
}
