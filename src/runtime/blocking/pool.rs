//! The pool's threads.
//!
//! One mutex guards the queue and the thread counts; one condvar wakes idle
//! threads. The protocol, all under the lock:
//!
//! * **Submit**: push the task. If an idle thread has no wakeup already
//!   addressed to it (`idle > notified`), count one more wakeup and signal
//!   the condvar; else, if below the cap, start a thread; else the task
//!   waits for the next thread to finish its current call.
//! * **Thread**: run queued tasks until the queue is empty (the lock is
//!   released while a task runs). Then go idle and wait, at most the
//!   keep-alive. A thread that finds a wakeup counted for it consumes it
//!   and goes back to the queue, even if its wait also timed out: the
//!   submitter counted on it. Only a thread that times out with no wakeup
//!   counted retires.
//! * **Shutdown**: close the owner list (cancelling every queued call that
//!   has not started), set the flag and wake everyone; threads leave as soon
//!   as they are idle. Calls already running cannot be interrupted: shutdown
//!   waits for them (at most the runtime's shutdown timeout), except for the
//!   call that is itself shutting the pool down (dropping the runtime).
//!
//! Counting wakeups (rather than signalling blindly) is what makes the race
//! between a timing-out thread and a new submission safe: the submitter
//! never relies on a thread that is about to retire without taking its
//! wakeup, and never starts a needless thread while an idle one is waiting.

use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::loom::{thread, thread_local};
use crate::task::{Notified, OwnedTasks};
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

thread_local! {
    /// The address of the pool this thread belongs to (0 if none): a
    /// shutdown started by one of its own calls (the runtime's last owner
    /// may be a call) must not wait for that thread to leave.
    static OWN_POOL: Cell<usize> = Cell::new(0);
}

/// What `Builder` sets for the pool.
#[derive(Debug, Clone)]
pub(crate) struct PoolConfig {
    /// At most this many threads at once.
    pub(crate) max_threads: usize,
    /// An idle thread retires after this long without work.
    pub(crate) keep_alive: Duration,
    /// Threads are named `"{thread_name}-blocking"`.
    pub(crate) thread_name: String,
    pub(crate) stack_size: Option<usize>,
}

/// The runtime's blocking pool (one per runtime, shared by its handles).
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for work or shutdown.
    work: Condvar,
    /// Shutdown waits here for the last thread to leave.
    all_exited: Condvar,
    /// Every queued or running call, so that shutdown can cancel the queued.
    owned: OwnedTasks,
    config: PoolConfig,
    /// The runtime is in debug mode (for the pool tasks' `Schedule::debug`).
    debug: bool,
}

struct State {
    queue: VecDeque<Notified>,
    /// Threads started and not yet retired.
    threads: usize,
    /// Threads waiting on `work`.
    idle: usize,
    /// Wakeups counted for idle threads and not yet taken.
    notified: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new(config: PoolConfig, debug: bool) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
                all_exited: Condvar::new(),
                owned: OwnedTasks::new(1),
                config,
                debug,
            }),
        }
    }

    pub(crate) fn owned(&self) -> &OwnedTasks {
        &self.inner.owned
    }

    pub(crate) fn debug(&self) -> bool {
        self.inner.debug
    }

    /// Queues a call and makes sure a thread will run it.
    pub(crate) fn submit(&self, task: Notified) {
        let mut state = self.inner.state.lock();
        if state.shutdown {
            // The owner list is closed: the task was (or is being) cancelled
            // through it; only this notification's reference goes.
            drop(state);
            drop(task);
            return;
        }
        state.queue.push_back(task);
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            self.inner.work.notify_one();
        } else if state.threads < self.inner.config.max_threads {
            state.threads += 1;
            drop(state);
            self.start_thread();
        }
        // Else at the cap: a running thread takes it when its call returns.
    }

    /// Cancels a call that never started, through its owner-list entry as
    /// shutdown does (the notification keeps the cell alive meanwhile).
    fn cancel_queued(&self, task: Notified) {
        let raw = task.raw();
        if self.inner.owned.remove(raw.header()) {
            // The list's reference is ours now; `shutdown` consumes it.
            raw.shutdown();
        }
        drop(task);
    }

    fn start_thread(&self) {
        let inner = self.inner.clone();
        let mut builder =
            thread::Builder::new().name(format!("{}-blocking", self.inner.config.thread_name));
        if let Some(size) = self.inner.config.stack_size {
            builder = builder.stack_size(size);
        }
        if let Err(err) = builder.spawn(move || inner.run()) {
            // The OS refused a thread. The queued call still runs if any
            // thread exists; if none does, it would wait forever, so it is
            // cancelled instead and the error reported on stderr (a `Task`
            // cannot carry an `io::Error`).
            let mut state = self.inner.state.lock();
            state.threads -= 1;
            if state.threads == 0 {
                let stranded: Vec<Notified> = state.queue.drain(..).collect();
                drop(state);
                eprintln!(
                    "corio: could not start a blocking-pool thread ({err}); \
                     cancelling {} queued to_thread call(s)",
                    stranded.len()
                );
                for task in stranded {
                    self.cancel_queued(task);
                }
            }
        }
    }

    /// Stops the pool: cancels every call not yet started and waits up to
    /// `timeout` (forever if `None`) for the running ones to return.
    /// Returns `false` if some were still running at the deadline.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let mut state = self.inner.state.lock();
        if !state.shutdown {
            state.shutdown = true;
            let queued: Vec<Notified> = state.queue.drain(..).collect();
            drop(state);
            self.inner.work.notify_all();
            // Cancel every call that is not running (the running ones finish
            // on their own); no lock held, as a call's destructor may spawn.
            for task in self.inner.owned.close_and_drain() {
                task.shutdown();
            }
            drop(queued);
            state = self.inner.state.lock();
        }
        // A call of this pool shutting it down is the one thread that leaves
        // only after this returns.
        let here = OWN_POOL
            .try_with(|own| own.get() == self.inner.addr())
            .unwrap_or(false);
        let stay = usize::from(here);
        // An overflowing timeout waits as if it were infinite.
        let deadline = timeout.and_then(|t| crate::loom::clock::now().checked_add(t));
        while state.threads > stay {
            match deadline {
                Some(deadline) => {
                    if self
                        .inner
                        .all_exited
                        .wait_until(&mut state, deadline)
                        .timed_out()
                    {
                        return state.threads <= stay;
                    }
                }
                _ => self.inner.all_exited.wait(&mut state),
            }
        }
        true
    }
}

impl Inner {
    /// Identifies the pool for `OWN_POOL` (it never moves: it is in an `Arc`).
    fn addr(&self) -> usize {
        self as *const Inner as usize
    }

    /// The body of a pool thread.
    fn run(&self) {
        OWN_POOL.with(|own| own.set(self.addr()));
        let mut state = self.state.lock();
        loop {
            while let Some(task) = state.queue.pop_front() {
                drop(state);
                crate::runtime::debug::run(task, None);
                state = self.state.lock();
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let deadline = crate::loom::clock::now().checked_add(self.config.keep_alive);
            let retire = loop {
                let timed_out = match deadline {
                    Some(deadline) => self.work.wait_until(&mut state, deadline).timed_out(),
                    None => {
                        self.work.wait(&mut state);
                        false
                    }
                };
                if state.notified > 0 {
                    // A submitter counted on this thread: take the wakeup
                    // even if the wait also timed out.
                    state.notified -= 1;
                    break false;
                }
                if state.shutdown || timed_out {
                    break true;
                }
                // Spurious wakeup: wait on.
            };
            state.idle -= 1;
            if retire {
                break;
            }
        }
        state.threads -= 1;
        // At 1, a shutdown running on the last thread's call may be waiting.
        if state.threads <= 1 {
            self.all_exited.notify_all();
        }
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .finish()
    }
}
