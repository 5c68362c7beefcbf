//! The runtime: worker threads, the scheduler they share, and the entry
//! points that start and stop them.

mod block_on;
pub(crate) mod blocking;
mod builder;
pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod debug;
pub(crate) mod driver;
mod event_loop;
mod handle;
mod metrics;
pub(crate) mod park;
pub(crate) mod scheduler;

pub use blocking::to_thread;
pub use builder::Builder;
pub use event_loop::{
    get_running_loop, try_get_running_loop, CallbackHandle, EventLoop, TimerHandle,
};
pub use handle::Handle;
pub use metrics::{RuntimeMetrics, WorkerMetrics};

use crate::loom::sync::Mutex;
use crate::loom::thread::JoinHandle;
use scheduler::Shared;
use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

/// A corio runtime: one worker thread per core, each with its own run queue,
/// stealing from the others when idle (asyncio's event loop, multiplied).
///
/// Dropping a `Runtime` shuts it down: every task still pending is cancelled
/// (its future dropped) and every worker thread joined.
///
/// ```
/// let rt = corio::Runtime::new().unwrap();
/// let out = rt.block_on(async {
///     let t = corio::create_task(async { "from a worker" });
///     t.await.unwrap()
/// });
/// assert_eq!(out, "from a worker");
/// ```
pub struct Runtime {
    handle: Handle,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Runtime {
    /// Starts a runtime with the default configuration (one worker per core).
    ///
    /// # Errors
    /// If the OS refuses to create a thread.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    fn start(builder: Builder) -> io::Result<Runtime> {
        let (shared, starts) = Shared::new(&builder)?;
        let rt = Runtime {
            handle: Handle {
                shared: shared.clone(),
            },
            threads: Mutex::new(Vec::new()),
        };
        let num_workers = starts.len();
        for (started, start) in starts.into_iter().enumerate() {
            let shared = shared.clone();
            let mut thread = crate::loom::thread::Builder::new()
                .name(format!("{}-{}", builder.thread_name, start.index));
            if let Some(size) = builder.thread_stack_size {
                thread = thread.stack_size(size);
            }
            match thread.spawn(move || Shared::run_worker(shared, start)) {
                Ok(join) => rt.threads.lock().push(join),
                Err(err) => {
                    // Workers that never started must not be waited for.
                    rt.handle
                        .shared
                        .workers_never_started(num_workers - started);
                    drop(rt);
                    return Err(err);
                }
            }
        }
        Ok(rt)
    }

    /// Runs `future` to completion on the calling thread, while the workers
    /// run the tasks it spawns (asyncio's `run_until_complete`). The future
    /// need not be `Send`; it may `spawn_local` tasks onto this thread, which
    /// progress during this and later `block_on` calls.
    ///
    /// Returning cancels nothing: tasks still pending keep running until the
    /// runtime is shut down.
    ///
    /// # Panics
    /// If called from inside a corio runtime (a task, or another `block_on`):
    /// blocking a loop thread would stall it. A panic of `future` propagates.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns a task; see [`Handle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Shuts down, waiting at most `timeout` for the workers to leave their
    /// current poll. Workers still busy after that are left to finish on
    /// their own (they drop their tasks when they do); everything else is
    /// cancelled before this returns.
    pub fn shutdown_timeout(self, timeout: Duration) {
        let mut this = std::mem::ManuallyDrop::new(self);
        this.shutdown(Some(timeout));
        // SAFETY: `this` is never used again and was not dropped.
        unsafe { std::mem::ManuallyDrop::drop(&mut this) };
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        let shared = &self.handle.shared;
        if !shared.begin_shutdown() {
            return;
        }
        if context::is_worker_of(shared) {
            // Dropped from inside one of its own tasks: this thread cannot
            // wait for itself. The workers finish shutting down on their own.
            return;
        }
        let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
        let all_exited = shared.wait_workers_exited(timeout);
        let threads = std::mem::take(&mut *self.threads.lock());
        if all_exited {
            for thread in threads {
                // A worker never panics (task panics are caught), but if it did
                // its panic was already printed; shutdown goes on.
                let _ = thread.join();
            }
        }
        shared.finish_shutdown();
        // Blocking calls cannot be interrupted: wait for the running ones
        // with what is left of the timeout.
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        shared.blocking.shutdown(left.or(timeout));
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.handle.shared.remotes.len())
            .finish()
    }
}

/// Runs `future` on a new default runtime (one worker per core), then
/// cancels every task still pending, waits for them to be dropped, and shuts
/// the runtime down: asyncio's `asyncio.run`.
///
/// The future need not be `Send`; it runs on the calling thread. A panic in
/// it propagates to the caller (after the runtime shut down).
///
/// # Panics
/// If called from inside a corio runtime, or if the worker threads cannot be
/// started.
///
/// ```
/// let sum = corio::run(async {
///     let tasks: Vec<_> = (0..10).map(|i| corio::create_task(async move { i * i })).collect();
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    if context::is_entered() {
        panic!(
            "corio::run cannot be called from inside a corio runtime: this thread is already \
             running one; `.await` the future instead"
        );
    }
    let rt =
        Runtime::new().unwrap_or_else(|e| panic!("corio::run could not start the runtime: {e}"));
    rt.block_on(future)
}
