//! `interval`: a periodic timer.

use super::sleep::{deadline_after, Sleep};
use crate::loom::clock::{self, Instant};
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Duration;

/// A timer that ticks every `period`; the first tick completes at once (as
/// in tokio).
///
/// Ticks that were missed because the task was busy fire back to back until
/// the schedule is caught up (tokio's default, "burst"): the schedule is
/// `start + k * period` whatever happens.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let mut ticker = corio::interval(Duration::from_millis(5));
///     let first = ticker.tick().await;
///     let second = ticker.tick().await;
///     assert_eq!(second - first, Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(clock::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "interval period must be non-zero (got Duration::ZERO)"
    );
    Interval {
        sleep: Sleep::new(start),
        period,
    }
}

/// The timer returned by [`interval`].
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        match self.sleep.poll_elapsed(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                let tick = self.sleep.deadline();
                self.sleep.reset(deadline_after(tick, self.period));
                Poll::Ready(tick)
            }
        }
    }

    /// The interval's period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.sleep.reset(deadline_after(clock::now(), self.period));
    }
}
