//! Cooperative scheduling budget.
//!
//! A task that finds a socket always ready could loop on it forever inside
//! one poll, starving every other task of its worker. Each task poll starts
//! with a budget of `BUDGET` I/O operations; once they are spent, the next
//! operation yields (wakes the task and returns `Pending`), which puts the
//! task at the back of the queue.

// Only the sockets (not built under loom) spend the budget.
#![cfg_attr(loom, allow(dead_code))]

use crate::loom::thread_local;
use std::cell::Cell;
use std::task::{Context, Poll};

/// Ready I/O operations a task may do in one poll.
pub(crate) const BUDGET: u32 = 128;

thread_local! {
    static REMAINING: Cell<u32> = Cell::new(BUDGET);
}

/// Gives the task about to be polled a fresh budget.
pub(crate) fn reset() {
    let _ = REMAINING.try_with(|r| r.set(BUDGET));
}

/// Checks that the current task may do one more ready operation; if its
/// budget is spent, asks to be polled again later and returns `Pending`.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let left = REMAINING.try_with(|r| r.get()).unwrap_or(BUDGET);
    if left == 0 {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// Counts one operation that made progress against the budget.
pub(crate) fn consume() {
    let _ = REMAINING.try_with(|r| r.set(r.get().saturating_sub(1)));
}
