//! The multi-thread work-stealing scheduler: what the workers share.

pub(crate) mod idle;
pub(crate) mod local;
pub(crate) mod worker;

use crate::loom::clock;
use crate::loom::deque::{Injector, Steal, Stealer, Worker as Deque};
use crate::loom::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering::*};
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::runtime::blocking::BlockingPool;
use crate::runtime::context::{self, Scheduler};
use crate::runtime::driver::Driver;
use crate::runtime::park::Unparker;
use crate::task::{Header, Notified, OwnedTasks, Schedule, TaskInfo};
use idle::Idle;
use local::LocalOwner;

/// What every worker (and every `Handle`) of one runtime shares.
pub(crate) struct Shared {
    /// Distinguishes runtimes, e.g. for the per-thread `block_on` state.
    pub(crate) id: u64,
    /// Tasks spawned or woken from outside the workers.
    pub(crate) injector: Injector<Notified>,
    /// One entry per worker, indexed by worker number.
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) idle: Idle,
    /// Every unfinished `Send` task.
    pub(crate) owned: OwnedTasks,
    /// The local-task owners (worker threads and `block_on` threads), for
    /// `all_tasks` and shutdown. Strong references: an owner holds nothing of
    /// the runtime, so there is no cycle; workers unregister on exit, and the
    /// list is emptied at shutdown.
    pub(crate) local_owners: Mutex<Vec<Arc<LocalOwner>>>,
    shutdown: AtomicBool,
    /// Workers still running; shutdown waits for it to reach zero.
    running: Mutex<usize>,
    all_exited: Condvar,
    /// Debug mode's slow-poll threshold; `None` when debug mode is off.
    pub(crate) debug: Option<std::time::Duration>,
    /// The threads of `to_thread`.
    pub(crate) blocking: BlockingPool,
}

/// What the others may touch of one worker.
pub(crate) struct Remote {
    pub(crate) stealer: Stealer<Notified>,
    /// The worker's event loop: unparking it, its timers, its sources.
    pub(crate) driver: Arc<Driver>,
    /// The worker's local-task owner, made before the thread starts so that
    /// work can be pinned to worker `i` at once (`create_server` starts one
    /// protocol reactor per worker).
    pub(crate) local: Arc<LocalOwner>,
    pub(crate) metrics: WorkerCounters,
}

/// A worker's counters; written only by that worker, read by anyone.
#[derive(Default)]
pub(crate) struct WorkerCounters {
    pub(crate) polls: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
}

/// A worker thread's last act, run by its drop.
struct WorkerExit<'a> {
    shared: &'a Arc<Shared>,
    local: &'a Arc<LocalOwner>,
}

impl Drop for WorkerExit<'_> {
    fn drop(&mut self) {
        let shared = self.shared;
        shared.unregister_local_owner(self.local);
        let last = {
            // The last worker keeps the count at one until it has finished
            // below, so that shutdown waits for that work too.
            let mut running = shared.running.lock();
            if *running == 1 {
                true
            } else {
                *running -= 1;
                false
            }
        };
        if last {
            // No worker polls any more, so every `Send` task can be dropped
            // here. Doing it in the last worker (not only in the thread that
            // asked for shutdown) also covers a runtime dropped from inside
            // one of its own tasks, where nobody else waits for the workers.
            // (`finish_shutdown` is idempotent; the waiting thread runs it
            // again for its own `block_on` tasks.)
            shared.finish_shutdown();
            *shared.running.lock() = 0;
            shared.all_exited.notify_all();
        }
    }
}

/// What a new worker thread needs to start.
pub(crate) struct WorkerStart {
    pub(crate) index: usize,
    pub(crate) run_queue: Deque<Notified>,
}

impl Shared {
    /// Builds the shared state of `num_workers` workers, and what each worker
    /// thread takes with it.
    pub(crate) fn new(
        builder: &crate::runtime::Builder,
    ) -> std::io::Result<(Arc<Shared>, Vec<WorkerStart>)> {
        let num_workers = builder.num_workers();
        let debug = builder.debug_threshold();
        let origin = clock::now();
        let mut remotes = Vec::with_capacity(num_workers);
        let mut starts = Vec::with_capacity(num_workers);
        for index in 0..num_workers {
            let run_queue = Deque::new_fifo();
            let driver = Arc::new(Driver::new(origin)?);
            let local = Arc::new(LocalOwner::new(
                Unparker::Driver(driver.clone()),
                debug.is_some(),
            ));
            remotes.push(Remote {
                stealer: run_queue.stealer(),
                driver,
                local,
                metrics: Default::default(),
            });
            starts.push(WorkerStart { index, run_queue });
        }
        // Each worker's loop watches the previous worker's alarm.
        if num_workers > 1 {
            for i in 0..num_workers {
                remotes[(i + 1) % num_workers]
                    .driver
                    .watch(&remotes[i].driver)?;
            }
        }
        let shared = Arc::new(Shared {
            id: crate::loom::ids::next(),
            injector: Injector::new(),
            remotes: remotes.into_boxed_slice(),
            idle: Idle::new(num_workers),
            owned: OwnedTasks::new(num_workers * 4),
            local_owners: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            running: Mutex::new(num_workers),
            all_exited: Condvar::new(),
            debug,
            blocking: BlockingPool::new(builder.blocking_config(), debug.is_some()),
        });
        Ok((shared, starts))
    }

    /// The body of worker thread `start.index`.
    pub(crate) fn run_worker(shared: Arc<Shared>, start: WorkerStart) {
        let local = shared.remotes[start.index].local.clone();
        shared.register_local_owner(&local);
        // Runs the exit bookkeeping even if the worker loop panics (a bug:
        // task panics are caught), so that shutdown never waits forever.
        let _exit = WorkerExit {
            shared: &shared,
            local: &local,
        };
        let core = std::rc::Rc::new(worker::WorkerCore::new(
            start.index,
            shared.clone(),
            start.run_queue,
            local.clone(),
        ));
        core.run();
    }

    /// Start-up failed after `n` workers could not be spawned: stop
    /// counting them as running.
    pub(crate) fn workers_never_started(&self, n: usize) {
        let mut running = self.running.lock();
        *running -= n;
        if *running == 0 {
            self.all_exited.notify_all();
        }
    }

    pub(crate) fn register_local_owner(&self, owner: &Arc<LocalOwner>) {
        self.local_owners.lock().push(owner.clone());
    }

    fn unregister_local_owner(&self, owner: &Arc<LocalOwner>) {
        self.local_owners.lock().retain(|o| !Arc::ptr_eq(o, owner));
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        // Acquire pairs with the swap in `begin_shutdown`: a worker that sees
        // the flag sees the runtime's state as shutdown left it.
        self.shutdown.load(Acquire)
    }

    /// Wakes one parked worker if nobody is searching for work already.
    pub(crate) fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].driver.unpark();
        }
    }

    /// Called by the last searcher before it parks: if any queue has work,
    /// make sure some worker is awake to take it.
    pub(crate) fn notify_if_work_pending(&self) {
        let pending =
            !self.injector.is_empty() || self.remotes.iter().any(|r| !r.stealer.is_empty());
        if pending {
            self.notify_parked();
        }
    }

    /// Queues a task from outside this runtime's workers.
    pub(crate) fn schedule_remote(&self, task: Notified) {
        self.injector.push(task);
        // A wake that races with shutdown must not strand its notification
        // (and so the task's memory) in an injector nobody drains any more.
        // "push, fence, read the flag" here against "set the flag, fence,
        // drain" there: at least one side sees the other (the SeqCst fences
        // order the two store-then-load sequences).
        fence(SeqCst);
        if self.shutdown.load(SeqCst) {
            self.drain_injector();
            return;
        }
        self.notify_parked();
    }

    /// Sets the shutdown flag and wakes every worker so that it exits.
    pub(crate) fn begin_shutdown(&self) -> bool {
        // SeqCst: part of the store-then-load pattern with `schedule_remote`.
        if self.shutdown.swap(true, SeqCst) {
            return false;
        }
        for remote in self.remotes.iter() {
            remote.driver.unpark();
        }
        true
    }

    /// Waits until every worker thread has left its loop, for at most
    /// `timeout`; `true` if they all did.
    pub(crate) fn wait_workers_exited(&self, timeout: Option<std::time::Duration>) -> bool {
        let mut running = self.running.lock();
        let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
        while *running > 0 {
            match deadline {
                None => self.all_exited.wait(&mut running),
                Some(deadline) => {
                    if self
                        .all_exited
                        .wait_until(&mut running, deadline)
                        .timed_out()
                    {
                        return *running == 0;
                    }
                }
            }
        }
        true
    }

    /// Cancels every task that is left once the workers have stopped: the
    /// `Send` tasks, this thread's local tasks, and the queued notifications.
    /// Local tasks of other `block_on` threads cannot be dropped here (their
    /// futures may be `!Send`); their owners are closed (new local tasks are
    /// cancelled at once) and the tasks are dropped when their thread next
    /// calls `block_on` on this runtime, or exits.
    pub(crate) fn finish_shutdown(&self) {
        self.cancel_send_tasks();
        for remote in self.remotes.iter() {
            remote.driver.shutdown();
        }
        if let Some(local) = context::take_block_on_local_owner(self.id) {
            local.shutdown();
        }
        let owners = std::mem::take(&mut *self.local_owners.lock());
        for owner in owners {
            owner.close();
        }
        self.drain_injector();
        // Cancel the blocking calls not yet started; `Runtime::shutdown`
        // waits for the running ones.
        self.blocking.shutdown(Some(std::time::Duration::ZERO));
    }

    /// Closes the owner list to new tasks and cancels every task in it. Safe
    /// to call more than once and from several threads: each task is drained
    /// once, and a task still being polled by a worker that outlived a
    /// shutdown timeout is cancelled by that worker when its poll returns.
    fn cancel_send_tasks(&self) {
        for task in self.owned.close_and_drain() {
            task.shutdown();
        }
        // Exited workers' queues may still hold notifications pushed by the
        // destructors above: drop them (they would keep `Shared` alive).
        for remote in self.remotes.iter() {
            loop {
                match remote.stealer.steal() {
                    Steal::Success(task) => drop(task),
                    Steal::Retry => {}
                    Steal::Empty => break,
                }
            }
        }
        self.drain_injector();
    }

    /// Drops the queued notifications (references only; the tasks themselves
    /// are cancelled through the owner list).
    fn drain_injector(&self) {
        // Pairs with the fence in `schedule_remote` (see there).
        fence(SeqCst);
        loop {
            match self.injector.steal() {
                Steal::Success(task) => drop(task),
                Steal::Retry => {}
                Steal::Empty => break,
            }
        }
    }

    /// Snapshots of every unfinished task.
    pub(crate) fn all_tasks(&self) -> Vec<TaskInfo> {
        let mut out = Vec::new();
        self.owned.infos(&mut out);
        let owners = self.local_owners.lock().clone();
        for owner in owners {
            owner.owned().infos(&mut out);
        }
        out
    }
}

impl Shared {
    /// Queues a newly spawned task: on this runtime's worker, at the back of
    /// its queue; elsewhere, in the injector.
    pub(crate) fn schedule_new(&self, task: Notified) {
        let remote = context::with_scheduler(|sched| match sched {
            Some(Scheduler::Worker(core)) if std::ptr::eq(&*core.shared, self) => {
                core.schedule_new(task);
                None
            }
            _ => Some(task),
        });
        if let Some(task) = remote {
            self.schedule_remote(task);
        }
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified, is_yield: bool) {
        let remote = context::with_scheduler(|sched| match sched {
            Some(Scheduler::Worker(core)) if Arc::ptr_eq(&core.shared, self) => {
                core.schedule_local(task, is_yield);
                None
            }
            _ => Some(task),
        });
        if let Some(task) = remote {
            self.schedule_remote(task);
        }
    }

    fn release(&self, task: &Header) -> bool {
        self.owned.remove(task)
    }

    fn debug(&self) -> bool {
        self.debug.is_some()
    }
}
