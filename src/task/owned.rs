//! The list of a scheduler's live tasks, for shutdown and `all_tasks`.
//!
//! Each entry holds one reference to its task, given back when the task
//! completes (`remove`) or when shutdown drains the list. The list is split
//! into shards, each a slab behind its own mutex, so that spawning and
//! completing on different cores rarely meet on one lock. A task's slot index
//! lives in its header and is only touched under its shard's lock.

use super::raw::{Header, RawTask};
use super::TaskInfo;
use crate::loom::sync::atomic::Ordering::Relaxed;
use crate::loom::sync::Mutex;
use std::ptr::NonNull;

pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    mask: usize,
}

struct Shard {
    slots: Vec<Option<RawTask>>,
    free: Vec<usize>,
    len: usize,
    closed: bool,
}

/// The list was closed by shutdown: the task must be cancelled at once.
pub(crate) struct Closed;

impl OwnedTasks {
    /// A list with `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> OwnedTasks {
        // Under loom, one shard: the shard is picked by task id, and ids come
        // from a process-wide counter that loom does not reset between the
        // iterations of a model, which would make its exploration depend on
        // the iteration.
        let shards = if cfg!(loom) { 1 } else { shards };
        let n = shards.max(1).next_power_of_two();
        let shards = (0..n).map(|_| {
            Mutex::new(Shard {
                slots: Vec::new(),
                free: Vec::new(),
                len: 0,
                closed: false,
            })
        });
        OwnedTasks {
            shards: shards.collect(),
            mask: n - 1,
        }
    }

    fn shard(&self, header: &Header) -> &Mutex<Shard> {
        &self.shards[(header.id.0 as usize) & self.mask]
    }

    /// Adds a new task, taking over the reference counted for the list.
    pub(crate) fn bind(&self, task: RawTask) -> Result<(), Closed> {
        let mut shard = self.shard(task.header()).lock();
        if shard.closed {
            return Err(Closed);
        }
        let index = match shard.free.pop() {
            Some(i) => {
                shard.slots[i] = Some(task);
                i
            }
            None => {
                shard.slots.push(Some(task));
                shard.slots.len() - 1
            }
        };
        shard.len += 1;
        // Relaxed: the shard lock orders every access to the slot index.
        task.header().owned_slot.store(index, Relaxed);
        Ok(())
    }

    /// Removes a completing task; `true` if it was in the list, in which case
    /// the caller now owns the list's reference.
    pub(crate) fn remove(&self, header: &Header) -> bool {
        let mut shard = self.shard(header).lock();
        let index = header.owned_slot.load(Relaxed);
        let me = NonNull::from(header);
        match shard.slots.get(index) {
            Some(Some(t)) if t.header_ptr() == me => {
                shard.slots[index] = None;
                shard.free.push(index);
                shard.len -= 1;
                true
            }
            // Already drained by shutdown.
            _ => false,
        }
    }

    /// Closes the list to new tasks, leaving the entries in place (for an
    /// owner whose tasks must be dropped later, on another thread).
    pub(crate) fn close(&self) {
        for shard in self.shards.iter() {
            shard.lock().closed = true;
        }
    }

    /// Closes the list to new tasks and takes every entry out (each with its
    /// reference). Callers shut the tasks down without holding any lock, since
    /// a task's destructor may spawn or wake other tasks.
    pub(crate) fn close_and_drain(&self) -> Vec<RawTask> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.closed = true;
            out.extend(shard.slots.drain(..).flatten());
            shard.free.clear();
            shard.len = 0;
        }
        out
    }

    /// The number of live tasks.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len).sum()
    }

    /// Snapshots of the unfinished tasks.
    pub(crate) fn infos(&self, out: &mut Vec<TaskInfo>) {
        for shard in self.shards.iter() {
            let shard = shard.lock();
            for task in shard.slots.iter().flatten() {
                let info = TaskInfo::from_header(task.header());
                if info.state() != super::TaskState::Done {
                    out.push(info);
                }
            }
        }
    }
}
