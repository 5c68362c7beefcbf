//! Debug mode (asyncio's `loop.set_debug(True)`): reports polls that hold a
//! worker too long, and task panics nobody observed.
//!
//! Off by default. When off, the only cost on the hot path is one
//! well-predicted branch per task poll on an `Option` the worker already has
//! in cache; the timed path lives out of line.

use crate::task::{Header, Notified};
use std::time::{Duration, Instant};

/// The environment variable that turns debug mode on for every runtime
/// (`CORIO_DEBUG=1`; empty or `0` leaves it off).
pub(crate) const ENV: &str = "CORIO_DEBUG";

/// The default `slow_callback_duration`, as asyncio's.
pub(crate) const DEFAULT_SLOW: Duration = Duration::from_millis(100);

/// `true` if `CORIO_DEBUG` asks for debug mode.
pub(crate) fn env_enabled() -> bool {
    std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs `task`, timing the poll if debug mode is on (`slow` is then the
/// threshold for a warning).
#[inline]
pub(crate) fn run(task: Notified, slow: Option<Duration>) {
    match slow {
        None => task.run(),
        Some(slow) => run_timed(task, slow),
    }
}

#[cold]
#[inline(never)]
fn run_timed(task: Notified, slow: Duration) {
    // The task may finish and be freed during the poll: keep it alive to
    // name it afterwards.
    let header = task.header();
    header.state.ref_inc();
    let raw = task.raw();
    let start = Instant::now();
    task.run();
    let took = start.elapsed();
    if took >= slow {
        warn_slow(raw.header(), took);
    }
    raw.drop_reference();
}

/// Times one poll of something that is not a task (`block_on`'s future).
pub(crate) fn time_poll<R>(slow: Option<Duration>, what: &str, poll: impl FnOnce() -> R) -> R {
    let Some(slow) = slow else { return poll() };
    let start = Instant::now();
    let out = poll();
    let took = start.elapsed();
    if took >= slow {
        emit(format!(
            "{what} took {took:?} in one poll (slow_callback_duration is {slow:?}): it held its \
             thread, and the tasks and callbacks queued behind it waited"
        ));
    }
    out
}

fn warn_slow(header: &Header, took: Duration) {
    emit(format!(
        "{} took {took:?} in one poll: it blocked its worker, and every task and callback \
         queued there waited (a blocking call? use `to_thread`)",
        describe(header)
    ));
}

/// Called when a task's panic is dropped without anyone having read it: its
/// `Task` handle was dropped (before or after it finished).
pub(crate) fn warn_unobserved_panic(header: &Header, err: &crate::JoinError) {
    emit(format!(
        "{} panicked and its handle (a `Task`, or a callback's handle) was dropped, so the \
         panic was never observed ({err})",
        describe(header)
    ));
}

fn describe(header: &Header) -> String {
    match &header.name {
        Some(name) => format!(
            "task {} {name:?} (spawned at {})",
            header.id, header.location
        ),
        None => format!("task {} (spawned at {})", header.id, header.location),
    }
}

/// Writes one report line to stderr in a single write, so that reports from
/// several threads (and panic messages) do not interleave mid-line.
fn emit(message: String) {
    use std::io::Write;
    let line = format!("corio debug: {message}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
