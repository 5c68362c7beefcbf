//! The hand-written `RawWakerVTable` of a task: a waker is a pointer to the
//! task's header plus one counted reference.

use super::raw::{Header, RawTask};
use super::state::ToNotified;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake_by_val, wake_by_ref, drop_waker);

/// A waker for the duration of a poll that borrows the poller's reference
/// instead of counting its own; cloning it counts one.
///
/// # Safety
/// `ptr` must stay a live task for as long as the returned waker is used.
pub(super) unsafe fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: `VTABLE` upholds the `RawWaker` contract for task headers, and
    // `ManuallyDrop` keeps the borrowed reference from being dropped.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) })
}

/// # Safety
/// `ptr` must come from a waker of this vtable, which holds a reference.
unsafe fn raw(ptr: *const ()) -> RawTask {
    // SAFETY: a waker's data pointer is a non-null header pointer.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference, so the task is live.
    let task = unsafe { raw(ptr) };
    task.header().state.ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: as for `clone`. The waker's own reference is dropped after the
    // wake-up, which counted its own reference if it submitted the task.
    let task = unsafe { raw(ptr) };
    wake(task);
    task.drop_reference();
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: as for `clone`.
    wake(unsafe { raw(ptr) });
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: as for `clone`; this gives the waker's reference back.
    unsafe { raw(ptr) }.drop_reference();
}

fn wake(task: RawTask) {
    if task.header().state.transition_to_notified() == ToNotified::Submit {
        task.schedule();
    }
}
