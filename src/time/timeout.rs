//! `timeout`, `timeout_at` and `wait_for`.

use super::sleep::{deadline_after, Sleep};
use crate::loom::clock::{self, Instant};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The deadline passed before the future completed (asyncio's
/// `TimeoutError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutError(());

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for TimeoutError {}

impl From<TimeoutError> for std::io::Error {
    fn from(e: TimeoutError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future` with a time limit of `duration`: asyncio's
/// `asyncio.timeout(delay)`.
///
/// The future is polled first, so one that is ready at once wins even with a
/// zero duration. On timeout the inner future is dropped (cancelled) before
/// the error is returned. A `Task` passed in is only detached by that drop,
/// not cancelled: call `task.cancel()` for asyncio's behaviour.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let slow = corio::sleep(Duration::from_secs(60));
///     let res = corio::timeout(Duration::from_millis(5), slow).await;
///     assert!(res.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(deadline_after(clock::now(), duration), future)
}

/// Runs `future` until `deadline`: asyncio's `asyncio.timeout_at(when)`.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future: Some(future),
        sleep: Sleep::new(deadline),
    }
}

/// Waits for `future` for at most `duration`: asyncio's `asyncio.wait_for`.
/// On timeout the future is dropped before the error is returned.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let quick = async { 7 };
///     assert_eq!(corio::wait_for(quick, Duration::from_secs(1)).await, Ok(7));
/// });
/// ```
pub async fn wait_for<F: Future>(future: F, duration: Duration) -> Result<F::Output, TimeoutError> {
    timeout(duration, future).await
}

/// The future returned by [`timeout`] and [`timeout_at`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    /// `None` once the future completed or was dropped on timeout.
    future: Option<F>,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The current deadline.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Moves the deadline (asyncio's `Timeout.reschedule`).
    pub fn reschedule(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }

    /// Consumes the `Timeout`, returning the inner future if it is still
    /// there.
    pub fn into_inner(self) -> Option<F>
    where
        F: Unpin,
    {
        let mut this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; each field is read
        // out exactly once, and `F: Unpin` allows moving the future.
        unsafe {
            let future = std::ptr::read(&this.future);
            std::ptr::drop_in_place(&mut this.sleep);
            future
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // `self`, only polled in place and dropped in place (by assigning
        // `None`, which runs its destructor where it lies). `sleep` is `Unpin`.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(future) = this.future.as_mut() else {
            panic!("a corio Timeout was polled after it completed");
        };
        // SAFETY: see above; `future` stays where it is until dropped.
        if let Poll::Ready(out) = unsafe { Pin::new_unchecked(future) }.poll(cx) {
            this.future = None;
            return Poll::Ready(Ok(out));
        }
        match this.sleep.poll_elapsed(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                // Cancel the inner future before reporting the timeout.
                this.future = None;
                Poll::Ready(Err(TimeoutError(())))
            }
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline())
            .field("done", &self.future.is_none())
            .finish()
    }
}
