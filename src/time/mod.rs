//! Timers: `sleep`, `interval`, `timeout`, `wait_for`.
//!
//! Every worker keeps its own timing wheel (1 ms resolution, O(1) insert and
//! cancel); a timer lives in the wheel of the worker whose task first polled
//! it, and that worker's event loop fires it. See `wheel.rs` and
//! `runtime/driver`.

mod interval;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use interval::{interval, interval_at, Interval};
pub(crate) use sleep::deadline_after as sleep_deadline_after;
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, wait_for, Timeout, TimeoutError};

/// The monotonic clock corio's timers use (`std::time::Instant`).
pub use std::time::Instant;
