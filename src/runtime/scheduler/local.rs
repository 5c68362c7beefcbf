//! The home of `spawn_local` tasks: one per worker thread and one per thread
//! that calls `block_on`.
//!
//! A local task's future may be `!Send`, so it must only ever be polled or
//! dropped on its owner's thread. Its *wakers*, however, are `Send` and may
//! fire anywhere: waking only pushes the task's pointer onto this queue (under
//! a mutex) and unparks the owner thread, and pointer and reference count are
//! all that a foreign thread ever touches. Only the owner pops the queue, so
//! only the owner polls; and only the owner shuts its tasks down.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::sync::Arc;
use crate::loom::sync::Mutex;
use crate::runtime::context;
use crate::runtime::park::Unparker;
use crate::task::{Header, Notified, OwnedTasks, Schedule};
use std::collections::VecDeque;

pub(crate) struct LocalOwner {
    queue: Mutex<Queue>,
    /// `queue.tasks.len()`, readable without the lock. A stale zero is
    /// harmless: a foreign push is followed by an unpark, and the owner's own
    /// pushes are always visible to itself.
    len: AtomicUsize,
    unparker: Unparker,
    owned: OwnedTasks,
    /// The runtime is in debug mode.
    debug: bool,
}

struct Queue {
    tasks: VecDeque<Notified>,
    /// The owner shut down: new notifications are dropped.
    closed: bool,
}

impl LocalOwner {
    pub(crate) fn new(unparker: Unparker, debug: bool) -> LocalOwner {
        LocalOwner {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
            unparker,
            owned: OwnedTasks::new(1),
            debug,
        }
    }

    pub(crate) fn owned(&self) -> &OwnedTasks {
        &self.owned
    }

    /// Whether `close` or `shutdown` ran.
    pub(crate) fn is_closed(&self) -> bool {
        self.queue.lock().closed
    }

    /// Whether a local task waits to run (a hint; see `len`).
    pub(crate) fn has_tasks(&self) -> bool {
        self.len.load(Relaxed) != 0
    }

    /// How many local tasks wait to run (a hint; see `len`).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// The next local task to run. Owner thread only.
    pub(crate) fn pop(&self) -> Option<Notified> {
        if !self.has_tasks() {
            return None;
        }
        let mut queue = self.queue.lock();
        let task = queue.tasks.pop_front();
        self.len.store(queue.tasks.len(), Relaxed);
        task
    }

    /// Closes the queue from another thread (the runtime shut down elsewhere):
    /// later notifications are dropped. The tasks themselves stay until the
    /// owner thread calls `shutdown` (or exits), as only it may drop them.
    pub(crate) fn close(&self) {
        // New local tasks are refused (cancelled at once) from now on.
        self.owned.close();
        let queued = {
            let mut queue = self.queue.lock();
            queue.closed = true;
            self.len.store(0, Relaxed);
            std::mem::take(&mut queue.tasks)
        };
        drop(queued);
    }

    /// Closes the queue and cancels every local task. Owner thread only: it
    /// drops the tasks' `!Send` futures.
    pub(crate) fn shutdown(&self) {
        let queued = {
            let mut queue = self.queue.lock();
            queue.closed = true;
            self.len.store(0, Relaxed);
            std::mem::take(&mut queue.tasks)
        };
        drop(queued);
        for task in self.owned.close_and_drain() {
            task.shutdown();
        }
        // A destructor above may have woken a local task after the drain.
        let late = std::mem::take(&mut self.queue.lock().tasks);
        drop(late);
    }
}

impl Schedule for Arc<LocalOwner> {
    fn schedule(&self, task: Notified, _is_yield: bool) {
        let mut queue = self.queue.lock();
        if queue.closed {
            drop(queue);
            // The owner is gone; the task was (or will be) cancelled through
            // its owner list. Only this notification's reference goes.
            drop(task);
            return;
        }
        queue.tasks.push_back(task);
        self.len.store(queue.tasks.len(), Relaxed);
        drop(queue);
        if !context::is_current_local_owner(self) {
            self.unparker.unpark();
        }
    }

    fn release(&self, task: &Header) -> bool {
        self.owned.remove(task)
    }

    fn debug(&self) -> bool {
        self.debug
    }
}
