//! A loom-checkable stand-in for the parts of `crossbeam_deque` corio uses.
//!
//! Same names, same signatures, same FIFO semantics (corio only builds FIFO
//! workers): the owner pushes at the back and pops at the front, stealers take
//! from the front. One loom mutex guards each queue, so every access is a
//! point where loom may switch threads. `Steal::Retry` is never returned: the
//! mutex makes every attempt definitive, and corio's callers treat `Retry`
//! like a fresh attempt anyway.

use super::sync::{Arc, Mutex};
use std::collections::VecDeque;

/// The result of a steal attempt, as in crossbeam.
#[derive(Debug)]
#[allow(dead_code)] // `Retry` exists to keep the callers' match arms identical.
pub(crate) enum Steal<T> {
    Empty,
    Success(T),
    Retry,
}

/// Most tasks moved by one batch steal, like crossbeam's limit.
const MAX_BATCH: usize = 32;

/// The owner's end of a local queue.
#[derive(Debug)]
pub(crate) struct Worker<T> {
    queue: Arc<Mutex<VecDeque<T>>>,
}

/// A thief's end of a local queue.
#[derive(Debug)]
pub(crate) struct Stealer<T> {
    queue: Arc<Mutex<VecDeque<T>>>,
}

/// The shared global queue.
#[derive(Debug)]
pub(crate) struct Injector<T> {
    queue: Mutex<VecDeque<T>>,
}

impl<T> Worker<T> {
    pub(crate) fn new_fifo() -> Worker<T> {
        Worker {
            queue: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    pub(crate) fn push(&self, task: T) {
        self.queue.lock().push_back(task);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        self.queue.lock().pop_front()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.lock().len()
    }

    pub(crate) fn stealer(&self) -> Stealer<T> {
        Stealer {
            queue: self.queue.clone(),
        }
    }
}

/// Moves half of `src` (at most `MAX_BATCH`) into `dest`, returning the first.
fn steal_half<T>(src: &mut VecDeque<T>, dest: &Worker<T>) -> Steal<T> {
    let Some(first) = src.pop_front() else {
        return Steal::Empty;
    };
    let extra = (src.len() / 2).min(MAX_BATCH - 1);
    if extra > 0 {
        let mut dest = dest.queue.lock();
        dest.extend(src.drain(..extra));
    }
    Steal::Success(first)
}

impl<T> Stealer<T> {
    #[allow(dead_code)]
    pub(crate) fn steal(&self) -> Steal<T> {
        match self.queue.lock().pop_front() {
            Some(task) => Steal::Success(task),
            None => Steal::Empty,
        }
    }

    pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
        if Arc::ptr_eq(&self.queue, &dest.queue) {
            return self.steal();
        }
        // Take the batch out under the source lock only, then push it under
        // the destination lock: never hold both, so two thieves robbing each
        // other cannot deadlock.
        let mut src = self.queue.lock();
        let Some(first) = src.pop_front() else {
            return Steal::Empty;
        };
        let extra = (src.len() / 2).min(MAX_BATCH - 1);
        let batch: Vec<T> = src.drain(..extra).collect();
        drop(src);
        if !batch.is_empty() {
            dest.queue.lock().extend(batch);
        }
        Steal::Success(first)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.lock().len()
    }
}

impl<T> Clone for Stealer<T> {
    fn clone(&self) -> Stealer<T> {
        Stealer {
            queue: self.queue.clone(),
        }
    }
}

impl<T> Injector<T> {
    pub(crate) fn new() -> Injector<T> {
        Injector {
            queue: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn push(&self, task: T) {
        self.queue.lock().push_back(task);
    }

    pub(crate) fn steal(&self) -> Steal<T> {
        match self.queue.lock().pop_front() {
            Some(task) => Steal::Success(task),
            None => Steal::Empty,
        }
    }

    pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
        let mut src = self.queue.lock();
        steal_half(&mut src, dest)
    }

    /// Moves a batch to the back of `dest`, as `steal_batch_and_pop` without
    /// the pop.
    pub(crate) fn steal_batch(&self, dest: &Worker<T>) -> Steal<()> {
        let mut src = self.queue.lock();
        if src.is_empty() {
            return Steal::Empty;
        }
        let n = src.len().div_ceil(2).min(MAX_BATCH);
        dest.queue.lock().extend(src.drain(..n));
        Steal::Success(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.lock().len()
    }
}
