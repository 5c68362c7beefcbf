//! `sleep` and `sleep_until`.

use super::wheel::TimerKey;
use crate::loom::clock::{self, Instant};
use crate::loom::sync::Arc;
use crate::runtime::context;
use crate::runtime::driver::Driver;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How far ahead "never" is: durations that overflow `Instant` (such as
/// `Duration::MAX`) become a deadline this far away, which no program waits
/// out, instead of panicking.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + d`, or about a century from now if that overflows.
pub(crate) fn deadline_after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .or_else(|| now.checked_add(FAR_FUTURE / 100))
        .expect("the monotonic clock cannot reach a year from now")
}

/// Waits until `duration` has passed: asyncio's `asyncio.sleep(delay)`.
///
/// The timer is kept by the event loop of the worker that first polls the
/// future, fires no earlier than the deadline (with 1 ms resolution), and is
/// cancelled when the `Sleep` is dropped, on whatever core that happens.
/// `Duration::ZERO` completes at once; a duration too large to add to now
/// (`Duration::MAX`) sleeps forever.
///
/// # Panics
/// When first polled outside a corio runtime.
///
/// ```
/// use std::time::{Duration, Instant};
/// corio::run(async {
///     let start = Instant::now();
///     corio::sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(deadline_after(clock::now(), duration))
}

/// Waits until `deadline`: asyncio's `loop.call_at` as a future. A deadline
/// in the past completes at once.
///
/// ```
/// use std::time::{Duration, Instant};
/// corio::run(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     corio::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// Where the timer is armed, once it is.
    entry: Option<(Arc<Driver>, TimerKey)>,
    fired: bool,
}

impl Sleep {
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            entry: None,
            fired: false,
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `true` once the deadline has passed and the sleep completed.
    pub fn is_elapsed(&self) -> bool {
        self.fired
    }

    /// Moves the deadline (earlier or later), as if the `Sleep` were new.
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
        self.fired = false;
    }

    fn disarm(&mut self) {
        if let Some((driver, key)) = self.entry.take() {
            driver.remove_timer(key);
        }
    }

    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired {
            return Poll::Ready(());
        }
        match &self.entry {
            Some((driver, key)) => {
                if !driver.poll_timer(*key, cx.waker()) {
                    return Poll::Pending;
                }
            }
            None => {
                if clock::now() < self.deadline {
                    let driver = context::current_driver("sleep");
                    let key = driver.insert_timer(self.deadline, cx.waker());
                    self.entry = Some((driver, key));
                    return Poll::Pending;
                }
            }
        }
        self.disarm();
        self.fired = true;
        Poll::Ready(())
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_elapsed(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("elapsed", &self.fired)
            .finish()
    }
}
