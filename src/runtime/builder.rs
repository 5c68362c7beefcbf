//! `Builder`: configuring a runtime before starting it.

use super::Runtime;
use std::io;
use std::time::Duration;

/// Configures and starts a [`Runtime`].
///
/// ```
/// let rt = corio::Builder::new().worker_threads(2).thread_name("app-worker").build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) worker_threads: Option<usize>,
    pub(crate) thread_name: String,
    pub(crate) thread_stack_size: Option<usize>,
    /// `None`: decided by `CORIO_DEBUG` at `build`.
    pub(crate) debug: Option<bool>,
    pub(crate) slow_callback_duration: Duration,
    pub(crate) max_blocking_threads: usize,
    pub(crate) thread_keep_alive: Duration,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: one worker per core, threads named
    /// `corio-worker-N`, debug mode as `CORIO_DEBUG` says, a blocking pool
    /// of at most 512 threads that retire after 10 s idle.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: "corio-worker".to_owned(),
            thread_stack_size: None,
            debug: None,
            slow_callback_duration: super::debug::DEFAULT_SLOW,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
        }
    }

    /// The number of worker threads (default: `std::thread::available_parallelism`).
    ///
    /// # Panics
    /// If `n` is 0.
    #[track_caller]
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "worker_threads must be at least 1 (got 0)");
        self.worker_threads = Some(n);
        self
    }

    /// The prefix of worker thread names; worker `i` is named `"{name}-{i}"`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// The stack size of worker threads, in bytes (default: std's).
    pub fn thread_stack_size(mut self, bytes: usize) -> Builder {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Debug mode (asyncio's `loop.set_debug`): every task poll or callback
    /// that takes longer than [`slow_callback_duration`] is reported on
    /// stderr with the task's name and spawn location, and so is a task's
    /// panic that nobody observed (its `Task` was dropped). Default: on if
    /// the environment variable `CORIO_DEBUG` is set to anything but `0`
    /// or the empty string; this call overrides it. Off costs one branch per
    /// poll.
    ///
    /// [`slow_callback_duration`]: Builder::slow_callback_duration
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = corio::Builder::new()
    ///     .worker_threads(1)
    ///     .debug(true)
    ///     .slow_callback_duration(Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // Reported on stderr: "corio debug: task 3 (spawned at ...) took 20ms ..."
    ///     corio::create_task(async { std::thread::sleep(Duration::from_millis(20)) })
    ///         .await
    ///         .unwrap();
    /// });
    /// ```
    pub fn debug(mut self, on: bool) -> Builder {
        self.debug = Some(on);
        self
    }

    /// In debug mode, the poll duration above which a task or callback is
    /// reported (default 100 ms, as asyncio's).
    pub fn slow_callback_duration(mut self, d: Duration) -> Builder {
        self.slow_callback_duration = d;
        self
    }

    /// The most threads the blocking pool ([`to_thread`](crate::to_thread))
    /// runs at once (default 512). Calls beyond it wait in FIFO order.
    ///
    /// # Panics
    /// If `n` is 0.
    #[track_caller]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "max_blocking_threads must be at least 1 (got 0)");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits
    /// (default 10 s).
    pub fn thread_keep_alive(mut self, d: Duration) -> Builder {
        self.thread_keep_alive = d;
        self
    }

    /// Starts the runtime's worker threads.
    ///
    /// Also sets SIGPIPE to "ignore" if it has its default disposition, so
    /// that a write to a closed socket or pipe fails with `EPIPE`
    /// (`ErrorKind::BrokenPipe`) instead of killing the process.
    ///
    /// # Errors
    /// If the OS refuses to create a thread.
    pub fn build(self) -> io::Result<Runtime> {
        // Writing to a closed socket must be an error, not process death.
        #[cfg(not(loom))]
        crate::signal::os::ignore_sigpipe();
        Runtime::start(self)
    }

    /// The slow-poll threshold if debug mode is on.
    pub(crate) fn debug_threshold(&self) -> Option<Duration> {
        let on = self.debug.unwrap_or_else(super::debug::env_enabled);
        on.then_some(self.slow_callback_duration)
    }

    pub(crate) fn blocking_config(&self) -> super::blocking::PoolConfig {
        super::blocking::PoolConfig {
            max_threads: self.max_blocking_threads,
            keep_alive: self.thread_keep_alive,
            thread_name: self.thread_name.clone(),
            stack_size: self.thread_stack_size,
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.worker_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}
