//! A mock clock for loom models: starts at a fixed instant and moves only when
//! advanced (by a model, or by a timed park, which "sleeps" by jumping).

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::OnceLock;
use std::time::Duration;
pub(crate) use std::time::Instant;

static BASE: OnceLock<Instant> = OnceLock::new();
// A plain std atomic: the clock is part of the model's environment, not a
// synchronisation point under test.
static OFFSET_NANOS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn now() -> Instant {
    *BASE.get_or_init(Instant::now) + Duration::from_nanos(OFFSET_NANOS.load(SeqCst))
}

/// Moves the mock clock forward.
pub(crate) fn advance(by: Duration) {
    OFFSET_NANOS.fetch_add(u64::try_from(by.as_nanos()).unwrap_or(u64::MAX / 2), SeqCst);
}
