//! `Builder`: configuring a runtime before starting it.

use super::Runtime;
use std::io;

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
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: one worker per core, threads named
    /// `corio-worker-N`.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: "corio-worker".to_owned(),
            thread_stack_size: None,
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

    /// Starts the runtime's worker threads.
    ///
    /// # Errors
    /// If the OS refuses to create a thread.
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::start(self)
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.worker_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}
