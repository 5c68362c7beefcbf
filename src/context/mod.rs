//! Context variables: Python's `contextvars`, per task.
//!
//! A context is an immutable map from variable to value, shared by
//! reference counting. Every task carries one (in its header); a task starts
//! with its creator's, so it sees the values its creator had set, and a
//! `set` replaces the task's map with a modified copy (copy on write), so a
//! child's changes never reach its parent or siblings. Code that is not in a
//! task (`block_on`'s own future, plain threads, blocking-pool calls) uses a
//! per-thread context instead; `to_thread` installs its caller's copy there
//! for the duration of the call, and `block_on` a copy of its caller's for
//! the duration of its future (so, as with `asyncio.run`, what the future
//! sets does not outlive `block_on`).
//!
//! Reading takes no lock: only the thread polling a task touches its
//! context (it holds the task's `RUNNING` bit), so the read is a thread-local
//! lookup, a pointer chase and a search in a short sorted vector.
//!
//! The maps are `std::sync::Arc`s, not the loom facade's: once published, a
//! map is never written again (every change makes a new one), so its
//! reference count is the only thing threads share, and that carries no
//! ordering of ours.

mod var;

pub use var::{ContextVar, Token};

use crate::runtime::context as rt_context;
use std::any::Any;
use std::sync::Arc;

/// One stored value, type-erased.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;

/// A context: `None` is the empty one (the common case costs nothing).
pub(crate) type Snapshot = Option<Arc<Vars>>;

/// The variables set in a context, sorted by variable id.
#[derive(Clone, Default)]
pub(crate) struct Vars(Vec<(u64, Value)>);

impl Vars {
    fn get(&self, id: u64) -> Option<&Value> {
        self.0
            .binary_search_by_key(&id, |(k, _)| *k)
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Sets or (with `None`) removes `id`'s value; returns the old one.
    fn put(&mut self, id: u64, value: Option<Value>) -> Option<Value> {
        match (self.0.binary_search_by_key(&id, |(k, _)| *k), value) {
            (Ok(i), Some(v)) => Some(std::mem::replace(&mut self.0[i].1, v)),
            (Ok(i), None) => Some(self.0.remove(i).1),
            (Err(i), Some(v)) => {
                self.0.insert(i, (id, v));
                None
            }
            (Err(_), None) => None,
        }
    }
}

/// A copy of the current context, for a task or call being created.
pub(crate) fn snapshot() -> Snapshot {
    rt_context::with_current_context(|snap| snap.clone())
}

/// The current value of variable `id`, if set.
fn lookup(id: u64) -> Option<Value> {
    // The value's `Arc` is cloned out so that user code (`T::clone`) never
    // runs while the context is borrowed.
    rt_context::with_current_context(|snap| snap.as_ref()?.get(id).cloned())
}

/// Sets (or removes) variable `id` in the current context; returns the old
/// value. No user code runs while the context is borrowed: the old value
/// leaves the closure to be dropped (or kept in a `Token`) by the caller.
fn store(id: u64, value: Option<Value>) -> Option<Value> {
    rt_context::with_current_context_mut(|snap| {
        let mut vars = match snap.take() {
            // Copy on write: a map shared with another context is copied
            // (cloning `Arc`s only); one we alone hold is reused.
            Some(vars) => Arc::try_unwrap(vars).unwrap_or_else(|shared| (*shared).clone()),
            None => Vars::default(),
        };
        let old = vars.put(id, value);
        *snap = (!vars.0.is_empty()).then(|| Arc::new(vars));
        old
    })
}

/// Runs `f` with `snap` as this thread's context (how `to_thread` hands its
/// caller's context to a pool thread).
pub(crate) fn scope<R>(snap: Snapshot, f: impl FnOnce() -> R) -> R {
    let prev = rt_context::replace_thread_context(snap);
    struct Restore(Option<Snapshot>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let old = rt_context::replace_thread_context(self.0.take().flatten());
            drop(old);
        }
    }
    let _restore = Restore(Some(prev));
    f()
}
