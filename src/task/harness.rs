//! What happens to a task, written once per future type: polling, completing,
//! cancelling, handing the output to the handle, and freeing the cell.

use super::raw::{Cell, Header, Notified, RawTask, Stage, TaskBody};
use super::state::{ToIdle, ToRunning};
use super::{waker, JoinError, Schedule};
use crate::runtime::context;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// Typed access to a task cell.
struct Harness<F: TaskBody, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

impl<F, S> Harness<F, S>
where
    F: TaskBody,
    S: Schedule,
{
    /// # Safety
    /// `ptr` must be the header of a live `Cell<F, S>`.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: the caller of `from_raw` holds a reference to the task.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the cell is live and its header is at offset 0.
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    /// Replaces the stage. Only the owner of the stage (see `Cell::stage`)
    /// calls this. Dropping the old stage runs user code (the future's or the
    /// output's destructor): a panic there is swallowed so that it never
    /// unwinds through the scheduler.
    fn set_stage(&self, stage: Stage<F>) {
        // The cell access stays outside `catch_unwind`, so that under loom a
        // detected data race is reported, not mistaken for a user panic.
        self.cell().stage.with_mut(|ptr| {
            // SAFETY: the caller owns the stage (holds RUNNING, or is the
            // handle after COMPLETE, or is the completer without a handle).
            let res = catch_unwind(AssertUnwindSafe(|| unsafe { *ptr = stage }));
            drop(res);
        });
    }

    /// Runs the task: the body of `Notified::run`.
    fn poll(self) {
        match self.header().state.transition_to_running() {
            ToRunning::Poll => self.poll_future(),
            ToRunning::Cancel => {
                self.cancel_future();
                self.complete(true);
            }
            ToRunning::Failed => self.raw().drop_reference(),
        }
    }

    fn poll_future(self) {
        let id = self.header().id;
        // SAFETY: we hold a reference for the whole poll, so the borrowed
        // waker (which counts no reference of its own) stays valid.
        let waker = unsafe { waker::borrowed(self.cell.cast()) };
        let mut cx = Context::from_waker(&waker);
        let _current = context::set_current_task(self.cell.cast());
        let res = self.cell().stage.with_mut(|ptr| {
            // SAFETY: we hold RUNNING, so the stage is ours.
            let stage = unsafe { &mut *ptr };
            let Stage::Running(future) = stage else {
                unreachable!("polled a task that is not running");
            };
            // SAFETY: the cell is heap-allocated and never moves until it is
            // freed, and the future is dropped in place, so pinning holds.
            let future = unsafe { Pin::new_unchecked(future) };
            catch_unwind(AssertUnwindSafe(|| future.poll_body(&mut cx)))
        });
        match res {
            Ok(Poll::Ready(output)) => {
                self.set_stage(Stage::Finished(output));
                self.complete(false);
            }
            Err(panic) => {
                self.set_stage(Stage::Consumed);
                self.set_stage(Stage::Finished(Err(JoinError::panic(id, panic))));
                self.complete(false);
            }
            Ok(Poll::Pending) => match self.header().state.transition_to_idle() {
                ToIdle::Idle => self.raw().drop_reference(),
                ToIdle::Notified => {
                    // SAFETY: `transition_to_idle` kept our reference for it.
                    let notified = unsafe { Notified::from_raw(self.raw()) };
                    self.cell().scheduler.schedule(notified, true)
                }
                ToIdle::Cancelled => {
                    self.cancel_future();
                    self.complete(true);
                }
            },
        }
    }

    /// Drops the future and stores the cancellation error. Needs RUNNING.
    fn cancel_future(&self) {
        // The future's destructors run as its task (asyncio runs a cancelled
        // coroutine's `finally:` in its task): `current_task` and context
        // variables are the task's, wherever the cancel is carried out.
        let _current = context::set_current_task(self.cell.cast());
        self.set_stage(Stage::Consumed);
        self.set_stage(Stage::Finished(Err(JoinError::cancelled(self.header().id))));
    }

    /// RUNNING -> COMPLETE: tell the handle, leave the owner list, and drop
    /// the caller's reference (plus the list's, if it still held one).
    fn complete(self, cancelled: bool) {
        let snapshot = self.header().state.transition_to_complete(cancelled);
        if !snapshot.is_join_interested() {
            // Nobody will read the output: it is ours to drop.
            self.warn_if_unobserved_panic();
            self.set_stage(Stage::Consumed);
        } else if snapshot.is_join_waker_set() {
            // The slot is ours until `unset_waker_after_complete`.
            let woke = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: JOIN_WAKER is set, so the task owns the slot.
                self.cell().join_waker.with(|ptr| match unsafe { &*ptr } {
                    Some(waker) => waker.wake_by_ref(),
                    None => unreachable!("JOIN_WAKER set without a waker"),
                })
            }));
            drop(woke);
            let after = self.header().state.unset_waker_after_complete();
            if !after.is_join_interested() {
                // The handle left while we were waking it: the slot is ours.
                // SAFETY: both bits are clear now; nobody else touches it.
                self.cell()
                    .join_waker
                    .with_mut(|ptr| unsafe { *ptr = None });
            }
        }
        let released = self.cell().scheduler.release(self.header());
        let refs = if released { 2 } else { 1 };
        if self.header().state.ref_dec_by(refs) {
            self.dealloc();
        }
    }

    /// Debug mode: the stage (ours, about to be dropped unread) holds a
    /// panic that nobody saw.
    fn warn_if_unobserved_panic(&self) {
        if !self.cell().scheduler.debug() {
            return;
        }
        self.cell().stage.with(|ptr| {
            // SAFETY: the caller owns the finished stage.
            if let Stage::Finished(Err(err)) = unsafe { &*ptr } {
                if err.is_panic() {
                    crate::runtime::debug::warn_unobserved_panic(self.header(), err);
                }
            }
        });
    }

    fn dealloc(self) {
        // SAFETY: the last reference is gone; the cell was made by `Box::new`
        // in `RawTask::new` and nothing else points to it any more.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }

    /// Handle side of `Task<T>::poll`.
    fn try_read_output(&self, dst: &mut Poll<Result<F::Output, JoinError>>, waker: &Waker) {
        if self.can_read_output(waker) {
            // SAFETY: COMPLETE is set and we are the handle with JOIN_INTEREST,
            // so the stage is ours.
            let stage = self.cell().stage.with_mut(|ptr| {
                // SAFETY: as above: the completed stage belongs to the handle.
                std::mem::replace(unsafe { &mut *ptr }, Stage::Consumed)
            });
            match stage {
                Stage::Finished(output) => *dst = Poll::Ready(output),
                _ => panic!("a corio Task was polled again after it returned its output"),
            }
        }
    }

    /// Handle side of `Task<T>::output_ref`.
    fn output_ref(&self) -> *const Result<F::Output, JoinError> {
        if !self.header().state.load().is_complete() {
            return std::ptr::null();
        }
        self.cell().stage.with(|ptr| {
            // SAFETY: COMPLETE is set (and the acquire load above saw the
            // completer's write of the stage) and the caller is the handle,
            // which owns the finished stage and is not polling concurrently.
            match unsafe { &*ptr } {
                Stage::Finished(output) => output as *const _,
                _ => std::ptr::null(),
            }
        })
    }

    /// Returns `true` if the task is complete; otherwise makes sure `waker`
    /// will be woken when it completes.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let state = &self.header().state;
        let snapshot = state.load();
        if snapshot.is_complete() {
            return true;
        }
        let res = if !snapshot.is_join_waker_set() {
            self.set_join_waker(waker.clone())
        } else {
            // SAFETY: JOIN_WAKER is set, so only the task could write the
            // slot, and it only does so after COMPLETE; reading is shared.
            let same = self.cell().join_waker.with(|ptr| {
                unsafe { &*ptr }
                    .as_ref()
                    .is_some_and(|w| w.will_wake(waker))
            });
            if same {
                return false;
            }
            state
                .unset_join_waker()
                .map_err(|_| ())
                .and_then(|_| self.set_join_waker(waker.clone()))
        };
        match res {
            Ok(()) => false,
            Err(()) => true,
        }
    }

    /// Stores `waker` in the slot (which the handle owns: JOIN_WAKER is
    /// clear) and hands the slot to the task. `Err` if the task completed.
    fn set_join_waker(&self, waker: Waker) -> Result<(), ()> {
        // SAFETY: JOIN_WAKER is clear, so the handle owns the slot.
        self.cell()
            .join_waker
            .with_mut(|ptr| unsafe { *ptr = Some(waker) });
        match self.header().state.set_join_waker() {
            Ok(_) => Ok(()),
            Err(_) => {
                // SAFETY: the bit was not set, so the slot is still ours.
                self.cell()
                    .join_waker
                    .with_mut(|ptr| unsafe { *ptr = None });
                Err(())
            }
        }
    }

    fn drop_join_handle(self) {
        let t = self.header().state.transition_to_join_handle_dropped();
        if t.drop_output {
            // The task completed and can no longer touch the stage.
            self.warn_if_unobserved_panic();
            self.set_stage(Stage::Consumed);
        }
        if t.drop_waker {
            self.cell().join_waker.with_mut(|ptr| {
                // SAFETY: JOIN_WAKER is clear after our transition: the slot
                // is ours, and the task no longer reads it.
                unsafe { *ptr = None }
            });
        }
        self.raw().drop_reference();
    }

    fn shutdown(self) {
        if self.header().state.transition_to_shutdown() {
            self.cancel_future();
            self.complete(true);
        } else {
            // Running elsewhere (it will see CANCELLED) or complete: only the
            // owner list's reference is ours to drop.
            self.raw().drop_reference();
        }
    }
}

pub(super) unsafe fn poll<F: TaskBody, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is only installed on `Cell<F, S>`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll()
}

pub(super) unsafe fn schedule<F: TaskBody, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as above; the caller counted the reference for the `Notified`.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the caller counted the reference this `Notified` owns.
    let notified = unsafe { Notified::from_raw(h.raw()) };
    h.cell().scheduler.schedule(notified, false);
}

pub(super) unsafe fn dealloc<F: TaskBody, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as above.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc()
}

pub(super) unsafe fn try_read_output<F: TaskBody, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: as above; `Task<T>` passes a pointer to its own
    // `Poll<Result<T, JoinError>>`, and `T` is the body's output.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    let dst = unsafe { &mut *(dst as *mut Poll<Result<F::Output, JoinError>>) };
    h.try_read_output(dst, waker);
}

pub(super) unsafe fn drop_join_handle<F: TaskBody, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as above.
    unsafe { Harness::<F, S>::from_raw(ptr) }.drop_join_handle()
}

pub(super) unsafe fn shutdown<F: TaskBody, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as above.
    unsafe { Harness::<F, S>::from_raw(ptr) }.shutdown()
}

pub(super) unsafe fn output_ref<F: TaskBody, S: Schedule>(ptr: NonNull<Header>) -> *const () {
    // SAFETY: as above; only the handle calls this.
    unsafe { Harness::<F, S>::from_raw(ptr) }
        .output_ref()
        .cast()
}

pub(super) unsafe fn poll_done<F: TaskBody, S: Schedule>(
    ptr: NonNull<Header>,
    waker: &Waker,
) -> bool {
    // SAFETY: as above; only the handle calls this, with exclusive access.
    unsafe { Harness::<F, S>::from_raw(ptr) }.can_read_output(waker)
}
