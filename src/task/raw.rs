//! The task cell: one allocation holding the header, the scheduler handle,
//! the future (later its output) and the join waker, and the type-erased
//! handles that point into it.

use super::harness;
use super::state::{State, ToNotified};
use super::{JoinError, Schedule, TaskId};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::AtomicUsize;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// The type-erased part of a task, at offset 0 of its cell: everything a
/// waker, a run queue or the owner list needs without knowing `F` or `S`.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    pub(crate) id: TaskId,
    /// Given by `task::Builder::name`; `None` keeps unnamed tasks at one
    /// allocation.
    pub(crate) name: Option<Box<str>>,
    /// Where the task was spawned (`#[track_caller]`).
    pub(crate) location: &'static Location<'static>,
    /// The task's slot in its owner list; only read or written under that
    /// list's shard lock, which orders it.
    pub(crate) owned_slot: AtomicUsize,
    /// The task's context variables (`crate::context`): a copy of its
    /// creator's at first, touched afterwards only by the thread polling it.
    pub(crate) context: UnsafeCell<crate::context::Snapshot>,
}

/// The operations that need the concrete `F` and `S`, monomorphised per
/// spawned future type.
pub(crate) struct Vtable {
    /// Runs a notified task (consumes the `Notified` reference).
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Submits the task to its scheduler (the caller counted the reference).
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the cell.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output to `*dst` (a `Poll<Result<T, JoinError>>`) if the task
    /// is complete, else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// Drops the `Task<T>` handle's interest and reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown of a task removed from its owner list (consumes that
    /// list's reference).
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// A pointer to the stored `Result<T, JoinError>` if the task finished
    /// and the handle has not taken it, else null. Only the handle calls it.
    pub(crate) output_ref: unsafe fn(NonNull<Header>) -> *const (),
    /// `true` if the task is complete, else registers the waker for its
    /// completion, leaving the output in place. Only the handle calls it.
    pub(crate) poll_done: unsafe fn(NonNull<Header>, &Waker) -> bool,
}

/// What a task runs: a future that finishes with `Result<Output, JoinError>`.
///
/// Almost every task is a [`Plain`] future, whose output is always `Ok`. A
/// [`Fallible`] one may finish with its own `JoinError` (a `TaskGroup` child
/// that returned `Err` hands its handle a "failed" error), stored flat so the
/// handle reads one `Result<T, JoinError>` either way.
pub(crate) trait TaskBody: 'static {
    type Output;
    fn poll_body(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Output, JoinError>>;
}

/// A future whose every output is a success.
pub(crate) struct Plain<F>(pub(crate) F);

impl<F: Future + 'static> TaskBody for Plain<F> {
    type Output = F::Output;

    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        // SAFETY: structural pinning: `Plain` never moves its field out and has
        // no `Drop` or `Unpin` impl of its own.
        let future = unsafe { self.map_unchecked_mut(|p| &mut p.0) };
        future.poll(cx).map(Ok)
    }
}

/// A future that reports its own failure as a `JoinError`.
pub(crate) struct Fallible<F>(pub(crate) F);

impl<F, T> TaskBody for Fallible<F>
where
    F: Future<Output = Result<T, JoinError>> + 'static,
{
    type Output = T;

    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        // SAFETY: as for `Plain`.
        unsafe { self.map_unchecked_mut(|p| &mut p.0) }.poll(cx)
    }
}

/// What the future slot holds over the task's life.
pub(crate) enum Stage<B: TaskBody> {
    Running(B),
    Finished(Result<B::Output, JoinError>),
    Consumed,
}

/// The whole allocation. `repr(C)` keeps the header at offset 0 so that a
/// `NonNull<Header>` can be cast back to the cell.
#[repr(C)]
pub(crate) struct Cell<F: TaskBody, S> {
    pub(crate) header: Header,
    pub(crate) scheduler: S,
    /// The future or its output; owned by whoever holds `RUNNING`, or by the
    /// handle after `COMPLETE` while `JOIN_INTEREST` is set.
    pub(crate) stage: UnsafeCell<Stage<F>>,
    /// The handle's waker; ownership follows the `JOIN_WAKER` bit.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

impl<F, S> Cell<F, S>
where
    F: TaskBody,
    S: Schedule,
{
    fn vtable() -> &'static Vtable {
        &Vtable {
            poll: harness::poll::<F, S>,
            schedule: harness::schedule::<F, S>,
            dealloc: harness::dealloc::<F, S>,
            try_read_output: harness::try_read_output::<F, S>,
            drop_join_handle: harness::drop_join_handle::<F, S>,
            shutdown: harness::shutdown::<F, S>,
            output_ref: harness::output_ref::<F, S>,
            poll_done: harness::poll_done::<F, S>,
        }
    }
}

/// An untyped, uncounted pointer to a task. The wrappers that own references
/// (`Notified`, `Task<T>`, wakers, the owner list's entry) are built on it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a `RawTask` is an address. What may be done through it is governed
// by the state word, whose transitions are atomic; the `!Send` futures of
// local tasks are only ever touched on their owner thread (see `local.rs`).
unsafe impl Send for RawTask {}
// SAFETY: as above; `&RawTask` gives nothing more than `RawTask`.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a new task, in the `INITIAL` state with three references.
    pub(crate) fn new<F, S>(
        future: F,
        scheduler: S,
        id: TaskId,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
        context: crate::context::Snapshot,
    ) -> RawTask
    where
        F: TaskBody,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: Cell::<F, S>::vtable(),
                id,
                name,
                location,
                owned_slot: AtomicUsize::new(usize::MAX),
                context: UnsafeCell::new(context),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// # Safety
    /// `ptr` must point to the header of a live task cell.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: every `RawTask` in use is backed by a counted reference held
        // by its user (a `Notified`, a handle, a waker, the owner list), so the
        // cell outlives this borrow.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn poll(self) {
        // SAFETY: the vtable was built for this cell's `F` and `S`.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    pub(crate) fn schedule(self) {
        // SAFETY: as for `poll`.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    pub(crate) fn dealloc(self) {
        // SAFETY: as for `poll`; callers only dealloc after the last
        // reference was dropped.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// # Safety
    /// `dst` must point to a `Poll<Result<T, JoinError>>` of this task's `T`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: the vtable matches the cell; `dst` is the caller's promise.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    pub(crate) fn drop_join_handle(self) {
        // SAFETY: as for `poll`.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }

    pub(crate) fn shutdown(self) {
        // SAFETY: as for `poll`.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// # Safety
    /// Only the task's handle may call this, and the result is a
    /// `*const Result<T, JoinError>` of the handle's `T` (or null).
    pub(crate) unsafe fn output_ref(self) -> *const () {
        // SAFETY: the vtable matches the cell; the caller is the handle.
        unsafe { (self.header().vtable.output_ref)(self.ptr) }
    }

    /// # Safety
    /// Only the task's handle may call this, and not concurrently with its
    /// other uses of the join waker slot (`try_read_output`).
    pub(crate) unsafe fn poll_done(self, waker: &Waker) -> bool {
        // SAFETY: the vtable matches the cell; the caller is the handle.
        unsafe { (self.header().vtable.poll_done)(self.ptr, waker) }
    }

    /// Asks for cancellation (the body of `Task::cancel`): the future is
    /// dropped at the task's next scheduling point. `true` if the task was
    /// not complete yet.
    pub(crate) fn cancel(self) -> bool {
        let (not_done, action) = self.header().state.transition_to_notified_and_cancel();
        if action == ToNotified::Submit {
            // The transition counted the reference this notification owns.
            self.schedule();
        }
        not_done
    }

    /// Drops one reference, freeing the task if it was the last.
    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }
}

/// A task sitting in a run queue: owns one reference and the `NOTIFIED` bit.
pub(crate) struct Notified {
    raw: RawTask,
}

impl Notified {
    /// # Safety
    /// The caller hands over one counted reference and the notification.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Notified {
        Notified { raw }
    }

    pub(crate) fn header(&self) -> &Header {
        self.raw.header()
    }

    /// The task this notification is for (the reference stays with it).
    pub(crate) fn raw(&self) -> RawTask {
        self.raw
    }

    /// Polls (or cancels) the task; the reference is consumed.
    pub(crate) fn run(self) {
        crate::runtime::coop::reset();
        let raw = self.raw;
        std::mem::forget(self);
        raw.poll();
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // A queue dropped at shutdown: the task itself is cancelled through
        // its owner list, here only the reference goes.
        self.raw.drop_reference();
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notified")
            .field("id", &self.header().id)
            .finish()
    }
}
