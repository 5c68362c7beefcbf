//! A blocking call as a task.

use super::BlockingPool;
use crate::context::{self, Snapshot};
use crate::runtime::{context as rt_context, Handle};
use crate::task::{new_task_in, Header, Notified, Plain, Schedule, Task};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs blocking `f` on the runtime's blocking pool: asyncio's
/// `asyncio.to_thread` (tokio's `spawn_blocking`).
///
/// `f` runs on a pool thread, never on an event loop, so it may block (file
/// I/O, CPU-heavy work, a blocking client library). It sees a copy of the
/// caller's [`ContextVar`](crate::ContextVar) values (what it sets stays in
/// the call, and reaches the tasks it creates), and inside it
/// [`Handle::current`] and [`create_task`](crate::create_task) work (there
/// is no running event loop and no current task in it, as in asyncio).
///
/// The pool starts threads on demand, up to
/// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads)
/// (512 by default; calls beyond wait their turn, first come first served),
/// and a thread idle for
/// [`Builder::thread_keep_alive`](crate::Builder::thread_keep_alive) (10 s)
/// exits.
///
/// Cancelling the returned task before `f` starts means `f` never runs;
/// once it runs, it cannot be interrupted (Rust cannot stop a thread), and
/// the task completes with `f`'s result. Shutting the runtime down cancels
/// the calls not yet started and waits for the running ones (up to
/// [`Runtime::shutdown_timeout`](crate::Runtime::shutdown_timeout)'s
/// timeout). A panic in `f` is caught into the task's [`JoinError`](crate::JoinError).
///
/// # Panics
/// If called outside a corio runtime.
///
/// ```
/// corio::run(async {
///     let len = corio::to_thread(|| std::fs::read_to_string("Cargo.toml").map(|s| s.len()));
///     assert!(len.await.unwrap().unwrap() > 0);
/// });
/// ```
#[track_caller]
pub fn to_thread<F, R>(f: F) -> Task<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let handle = rt_context::current_handle("to_thread");
    spawn_blocking(&handle, f, Location::caller())
}

/// Spawns `f` on `handle`'s blocking pool.
pub(crate) fn spawn_blocking<F, R>(
    handle: &Handle,
    f: F,
    location: &'static Location<'static>,
) -> Task<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let pool = &handle.shared.blocking;
    let call = BlockingCall {
        f: Some(f),
        handle: Some(handle.clone()),
        context: context::snapshot(),
    };
    // The call carries the caller's context itself (it runs outside any
    // task), so the task header starts with none.
    let (task, notified) = new_task_in(
        Plain(call),
        pool.clone(),
        pool.owned(),
        None,
        location,
        None,
    );
    if let Some(notified) = notified {
        pool.submit(notified);
    }
    task
}

/// The body of a blocking task: completes in its first poll by running the
/// closure.
struct BlockingCall<F> {
    f: Option<F>,
    /// The runtime, for `Handle::current` inside the call.
    handle: Option<Handle>,
    /// The caller's context variables.
    context: Snapshot,
}

// Never pinned structurally: `f` is moved out by value.
impl<F> Unpin for BlockingCall<F> {}

impl<F, R> Future for BlockingCall<F>
where
    F: FnOnce() -> R,
{
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .f
            .take()
            .expect("a blocking call is polled once: it completes in its first poll");
        let handle = self.handle.take().expect("taken with `f`");
        let _runtime = rt_context::enter_blocking(handle);
        // `f` is no task's code: it runs in the thread's context, set to
        // the caller's copy, so that what it sets is also what a `block_on`
        // inside it (which uses the thread's context) sees. With the call's
        // task left current, `f` would write the task's copy instead, and a
        // nested `block_on` would see the caller's values without `f`'s.
        let _no_task = rt_context::clear_current_task();
        Poll::Ready(context::scope(self.context.take(), f))
    }
}

impl Schedule for BlockingPool {
    fn schedule(&self, task: Notified, _is_yield: bool) {
        // Only a cancel reschedules a blocking task (its body never returns
        // `Pending`): the pool thread that pops it drops the call unrun.
        self.submit(task);
    }

    fn release(&self, task: &Header) -> bool {
        self.owned().remove(task)
    }

    fn debug(&self) -> bool {
        BlockingPool::debug(self)
    }
}
