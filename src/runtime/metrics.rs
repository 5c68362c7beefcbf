//! Snapshots of the runtime's counters, from `Handle::metrics`.

/// The counters of one worker. Each is monotonic except the depth.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Tasks polled (or cancelled) by this worker.
    pub polls: u64,
    /// Successful steals from other workers' queues.
    pub steals: u64,
    /// Times this worker went to sleep.
    pub parks: u64,
    /// Tasks in this worker's stealable run queue right now.
    pub local_queue_depth: usize,
    /// I/O readiness events this worker's event loop delivered.
    pub io_events: u64,
    /// Timers this worker's event loop fired.
    pub timers_fired: u64,
}

/// A snapshot of a runtime's counters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    pub(crate) workers: Vec<WorkerMetrics>,
    /// Tasks waiting in the shared injector queue.
    pub injector_depth: usize,
    /// Unfinished `Send` tasks.
    pub live_tasks: usize,
    /// Workers not parked.
    pub unparked_workers: usize,
    /// Workers looking for work to steal.
    pub searching_workers: usize,
}

impl RuntimeMetrics {
    /// The number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.workers.len()
    }

    /// Per-worker counters, indexed by worker number.
    pub fn workers(&self) -> &[WorkerMetrics] {
        &self.workers
    }
}
