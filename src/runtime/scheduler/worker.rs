//! One worker thread: its run queue, its LIFO slot, and its loop.
//!
//! ```text
//! loop {
//!     poll_now()     every 61st tick: ready I/O and due timers, without blocking
//!     next_task()    every 61st tick yielded tasks and a batch of outside work
//!                    join the back of the run queue (fairness); then the LIFO
//!                    slot, the run queue, local (pinned) tasks, a batch from
//!                    the injector, and last the tasks that yielded
//!     steal_work()   if nothing: become a searcher (at most half the workers)
//!                    and steal half of a random peer's queue, or a batch from
//!                    the injector
//!     park()         if still nothing: poll stuck peers' loops, leave the
//!                    searchers, check once more if last, and sleep in this
//!                    worker's event loop until an event, a timer or an unpark
//! }
//! ```

use super::{Remote, Shared};
use crate::loom::clock;
use crate::loom::deque::{Steal, Worker as Deque};
use crate::loom::sync::atomic::Ordering::Relaxed;
use crate::loom::sync::Arc;
use crate::runtime::context::{self, Scheduler};
use crate::runtime::debug;
use crate::runtime::driver::{Driver, HANDOFF_AFTER};
use crate::runtime::scheduler::local::LocalOwner;
use crate::task::Notified;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Every this many ticks outside work from the injector joins the local queue,
/// so that a worker busy with its own tasks still picks it up.
const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// Tasks run through the LIFO slot in a row before the slot is bypassed:
/// two tasks waking each other would otherwise monopolise the worker.
const MAX_LIFO_POLLS: u32 = 3;

/// Every this many ticks a busy worker polls its event loop without blocking.
const EVENT_INTERVAL: u32 = 61;

/// The state a worker thread keeps to itself. It lives in an `Rc` in the
/// thread's context, so that a task polled here can schedule into it.
pub(crate) struct WorkerCore {
    pub(crate) index: usize,
    pub(crate) shared: Arc<Shared>,
    run_queue: Deque<Notified>,
    /// The task most recently woken by this worker: run next, since its data
    /// is hot in this core's cache (a message just sent to it, say).
    lifo_slot: Cell<Option<Notified>>,
    /// Tasks that yielded (or were woken while running): they go behind
    /// everything else that is ready, including outside work in the injector,
    /// and are moved to the run queue when the worker runs out of other work
    /// or every `GLOBAL_QUEUE_INTERVAL` ticks. Without this, tasks that keep
    /// yielding keep the local queue non-empty and outside work waits for
    /// the periodic one-task fairness check.
    deferred: RefCell<Vec<Notified>>,
    is_searching: Cell<bool>,
    tick: Cell<u32>,
    rng: Cell<u32>,
    pub(crate) local: Arc<LocalOwner>,
}

impl WorkerCore {
    pub(crate) fn new(
        index: usize,
        shared: Arc<Shared>,
        run_queue: Deque<Notified>,
        local: Arc<LocalOwner>,
    ) -> WorkerCore {
        WorkerCore {
            index,
            shared,
            run_queue,
            lifo_slot: Cell::new(None),
            deferred: RefCell::new(Vec::new()),
            is_searching: Cell::new(false),
            tick: Cell::new(0),
            rng: Cell::new((index as u32).wrapping_mul(0x9E37_79B9) | 1),
            local,
        }
    }

    fn remote(&self) -> &Remote {
        &self.shared.remotes[self.index]
    }

    /// The body of a worker thread.
    pub(crate) fn run(self: Rc<Self>) {
        let _enter = context::enter(Scheduler::Worker(self.clone()));
        while !self.shared.is_shutdown() {
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            if tick % EVENT_INTERVAL == 0 {
                // Busy: still look at I/O and timers now and then, so that a
                // long run queue cannot starve them.
                self.driver().poll_now();
            }
            if let Some(task) = self.next_task() {
                self.run_task(task);
            } else if let Some(task) = self.steal_work() {
                self.run_task(task);
            } else {
                self.park();
            }
        }
        self.shutdown();
    }

    fn driver(&self) -> &Driver {
        &self.remote().driver
    }

    fn next_task(&self) -> Option<Notified> {
        let tick = self.tick.get();
        if tick % GLOBAL_QUEUE_INTERVAL == 0 {
            // Fairness: however long the local queue, yielded tasks and
            // outside work join it now. They go to its back, not its front,
            // so tasks keep running in the order they became ready.
            self.flush_deferred();
            while let Steal::Retry = self.shared.injector.steal_batch(&self.run_queue) {}
        }
        if let Some(task) = self.lifo_slot.take() {
            return Some(task);
        }
        // Alternate which local source goes first so that neither the
        // stealable queue nor the pinned tasks can starve the other.
        let task = if tick % 2 == 0 {
            self.run_queue.pop().or_else(|| self.local.pop())
        } else {
            self.local.pop().or_else(|| self.run_queue.pop())
        };
        task.or_else(|| steal_one(|| self.shared.injector.steal_batch_and_pop(&self.run_queue)))
            .or_else(|| {
                // Nothing else is ready: the tasks that yielded get their turn.
                if self.flush_deferred() {
                    self.run_queue.pop()
                } else {
                    None
                }
            })
    }

    /// Moves the deferred tasks to the run queue, in the order they yielded;
    /// `true` if there were any.
    fn flush_deferred(&self) -> bool {
        let mut deferred = self.deferred.borrow_mut();
        if deferred.is_empty() {
            return false;
        }
        for task in deferred.drain(..) {
            self.run_queue.push(task);
        }
        drop(deferred);
        self.shared.notify_parked();
        true
    }

    fn steal_work(&self) -> Option<Notified> {
        if !self.is_searching.get() {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching.set(true);
        }
        let remotes = &self.shared.remotes;
        let n = remotes.len();
        let start = self.next_random() as usize % n;
        loop {
            let mut retry = false;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                match remotes[victim].stealer.steal_batch_and_pop(&self.run_queue) {
                    Steal::Success(task) => {
                        bump(&self.remote().metrics.steals);
                        return Some(task);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            match self.shared.injector.steal_batch_and_pop(&self.run_queue) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            if !retry {
                return None;
            }
        }
    }

    fn run_task(&self, task: Notified) {
        if self.is_searching.replace(false) && self.shared.idle.transition_worker_from_searching() {
            // The last searcher found work: there may be more, so hand the
            // search on to a sleeper.
            self.shared.notify_parked();
        }
        bump(&self.remote().metrics.polls);
        let slow = self.shared.debug;
        debug::run(task, slow);
        // Follow the chain of tasks this one woke, a few in a row.
        for _ in 0..MAX_LIFO_POLLS {
            let Some(next) = self.lifo_slot.take() else {
                return;
            };
            bump(&self.remote().metrics.polls);
            debug::run(next, slow);
        }
        if let Some(next) = self.lifo_slot.take() {
            // Enough: queue it behind the others, so that tasks waking each
            // other through the slot cannot starve the queue.
            self.run_queue.push(next);
            self.shared.notify_parked();
        }
    }

    /// Queues a task woken or spawned on this worker.
    pub(crate) fn schedule_local(&self, task: Notified, is_yield: bool) {
        if is_yield {
            self.deferred.borrow_mut().push(task);
            return;
        }
        // The first task woken by the current poll runs next (what woke it,
        // a message say, is hot in this core's cache). Any further ones queue
        // behind it in the order they were woken, and are stealable, so a
        // sleeper is told.
        let slot = self.lifo_slot.take();
        if slot.is_none() {
            self.lifo_slot.set(Some(task));
            return;
        }
        self.lifo_slot.set(slot);
        self.push_and_notify(task);
    }

    /// Queues a task spawned on this worker: at the back, so that tasks start
    /// in the order they were created (as in asyncio).
    pub(crate) fn schedule_new(&self, task: Notified) {
        self.push_and_notify(task);
    }

    /// Pushes to the run queue, and wakes a sleeper only when this worker has
    /// more queued than it will get to right after the current poll: one
    /// spawned or woken task is cheaper to run here than to hand to a core
    /// that has to be woken (a context switch) and steal it. In case the
    /// current poll runs long after all (a task spawns one helper, then
    /// computes), the watch alarm is armed: a sleeping peer wakes after
    /// `HANDOFF_AFTER` and steals the queued task, at the price of one timer
    /// system call per sleep-to-sleep cycle, and no context switch when the
    /// poll is short.
    fn push_and_notify(&self, task: Notified) {
        self.run_queue.push(task);
        let lifo = self.lifo_slot.take();
        let queued = self.run_queue.len() + usize::from(lifo.is_some());
        self.lifo_slot.set(lifo);
        if queued > 1 {
            self.shared.notify_parked();
        } else {
            self.arm_watch_if_alone(false);
        }
    }

    fn has_local_work(&self) -> bool {
        // All three are this thread's own, so the answer cannot go stale
        // except by a foreign push to `local`, which also unparks us.
        let lifo = self.lifo_slot.take();
        let has = lifo.is_some();
        self.lifo_slot.set(lifo);
        has || !self.run_queue.is_empty()
            || self.local.has_tasks()
            || !self.deferred.borrow().is_empty()
    }

    fn park(&self) {
        let driver = self.driver();
        // A timer due now makes work: fire before deciding to sleep.
        let now = clock::now();
        driver.fire_timers(now);
        if self.has_local_work() {
            return;
        }
        // Before sleeping, poll the event loop of any peer stuck in a long
        // task poll (its readiness and timers would otherwise wait for it).
        let mut watch_peer = false;
        for (i, remote) in self.shared.remotes.iter().enumerate() {
            if i != self.index && !remote.driver.is_parked() && remote.driver.has_watchable() {
                watch_peer = true;
                remote.driver.try_handoff();
            }
        }
        if self.has_local_work() {
            return;
        }
        let was_searching = self.is_searching.replace(false);
        if self
            .shared
            .idle
            .transition_worker_to_parked(self.index, was_searching)
        {
            // Last searcher leaving: work pushed while we were all searching
            // would otherwise wait for the next producer.
            self.shared.notify_if_work_pending();
        }
        bump(&self.remote().metrics.parks);
        // A peer with sources or timers is awake: come back soon to check
        // that it is still polling them. (The driver adds its own timers.)
        let cap = watch_peer.then_some(HANDOFF_AFTER);
        let polled = if self.shared.is_shutdown() {
            None
        } else {
            Some(driver.park(cap))
        };
        if self.shared.idle.transition_worker_from_parked(self.index) {
            // A producer woke us and counted us as searching.
            self.is_searching.set(true);
        }
        if let Some(polled) = polled {
            driver.dispatch(polled);
        }
        // Only a worker that woke to run something can get stuck in it; one
        // that found nothing (say, a watcher woken by a peer's alarm) goes
        // back to sleep and needs no watching. Arming then would have two
        // idle watchers wake each other for ever.
        if self.has_local_work() {
            self.arm_watch_if_alone(true);
        }
    }

    /// Leaving a sleep with sources or timers while every peer sleeps: nobody
    /// would notice if the next task poll ran for seconds. Arm the watch
    /// alarm, which wakes the next worker only if we are still awake after
    /// `HANDOFF_AFTER` (see `driver/alarm.rs`); that worker then checks on us
    /// every `HANDOFF_AFTER` while we stay awake.
    fn arm_watch_if_alone(&self, only_if_watchable: bool) {
        let remotes = &self.shared.remotes;
        if remotes.len() < 2 || (only_if_watchable && !self.driver().has_watchable()) {
            return;
        }
        let alone = remotes
            .iter()
            .enumerate()
            .all(|(i, r)| i == self.index || r.driver.is_parked());
        if alone {
            self.driver()
                .arm_watch(&remotes[(self.index + 1) % remotes.len()].driver);
        }
    }

    fn shutdown(&self) {
        if self.is_searching.replace(false) {
            self.shared.idle.transition_worker_from_searching();
        }
        // Local tasks are ours alone to drop. First: their destructors may
        // wake or spawn tasks into the queues emptied below.
        self.local.shutdown();
        // Queued notifications only hold references; the tasks themselves are
        // cancelled through their owner lists.
        drop(self.lifo_slot.take());
        drop(std::mem::take(&mut *self.deferred.borrow_mut()));
        while let Some(task) = self.run_queue.pop() {
            drop(task);
        }
    }

    fn next_random(&self) -> u32 {
        // xorshift32: enough to spread steal attempts across victims.
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng.set(x);
        x
    }
}

/// Retries a steal until it is definitive.
fn steal_one(mut f: impl FnMut() -> Steal<Notified>) -> Option<Notified> {
    loop {
        match f() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => {}
        }
    }
}

/// Increments a counter that only this worker writes: a plain load and store,
/// no read-modify-write on the hot path.
fn bump(counter: &crate::loom::sync::atomic::AtomicU64) {
    counter.store(counter.load(Relaxed) + 1, Relaxed);
}
