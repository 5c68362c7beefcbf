//! A mock clock for loom models: starts at a fixed instant and moves only when
//! advanced (by a model, or by a timed park, which "sleeps" by jumping).
//!
//! The offset is a plain std thread-local: loom runs all threads of a model
//! as coroutines on the test's OS thread, so each model (each test) has one
//! clock of its own that its threads share, and parallel tests do not
//! disturb each other. It is part of the model's environment, not a
//! synchronisation point under test, so loom need not see it.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Duration;
pub(crate) use std::time::Instant;

static BASE: OnceLock<Instant> = OnceLock::new();

std::thread_local! {
    static OFFSET: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

pub(crate) fn now() -> Instant {
    *BASE.get_or_init(Instant::now) + OFFSET.with(Cell::get)
}

/// Moves the mock clock forward.
pub(crate) fn advance(by: Duration) {
    OFFSET.with(|o| o.set(o.get().saturating_add(by)));
}
