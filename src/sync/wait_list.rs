//! A list of parked wakers with O(1) registration and removal.
//!
//! Each waiting future keeps the key of its own entry, so that a future
//! dropped while waiting (a cancelled wait) takes its entry out at once
//! instead of leaving it to pile up until the next wake-all. Freed entries
//! are reused through a free list, so the list's storage is bounded by the
//! largest number of futures waiting at one time.
//!
//! The list does no locking of its own: its owner keeps it behind its lock,
//! takes it out whole with [`WaitList::take`] under that lock, and wakes the
//! taken list after unlocking, so that no waker runs under the lock.

use std::fmt;
use std::mem;
use std::task::Waker;

/// End of the free list.
const NONE: usize = usize::MAX;

/// The wakers of the futures waiting for one event.
pub(crate) struct WaitList {
    entries: Vec<Entry>,
    /// Head of the chain of vacant entries threaded through `Entry::Vacant`.
    free: usize,
    /// Entries in use.
    len: usize,
}

enum Entry {
    Waiting(Waker),
    /// Vacant; holds the index of the next vacant entry (or `NONE`).
    Vacant(usize),
}

impl WaitList {
    /// An empty list (allocates nothing).
    pub(crate) const fn new() -> WaitList {
        WaitList {
            entries: Vec::new(),
            free: NONE,
            len: 0,
        }
    }

    /// Registers `waker` for the future whose key is `*key`: a new entry if
    /// `*key` is `None` (its key is stored there), else an update of that
    /// entry, cloning the waker only if the stored one would not wake the
    /// same task.
    ///
    /// Returns the waker this replaced, for the caller to drop after
    /// unlocking: dropping a waker may drop a task, and so run arbitrary
    /// destructors.
    pub(crate) fn register(&mut self, key: &mut Option<usize>, waker: &Waker) -> Option<Waker> {
        if let Some(k) = *key {
            return match &mut self.entries[k] {
                Entry::Waiting(w) if w.will_wake(waker) => None,
                Entry::Waiting(w) => Some(mem::replace(w, waker.clone())),
                Entry::Vacant(_) => unreachable!("WaitList: a waiter's entry was vacant"),
            };
        }
        let entry = Entry::Waiting(waker.clone());
        let k = if self.free == NONE {
            self.entries.push(entry);
            self.entries.len() - 1
        } else {
            let k = self.free;
            match mem::replace(&mut self.entries[k], entry) {
                Entry::Vacant(next) => self.free = next,
                Entry::Waiting(_) => unreachable!("WaitList: free list points at a waiter"),
            }
            k
        };
        self.len += 1;
        *key = Some(k);
        None
    }

    /// Removes the entry of `key` and returns its waker (to be dropped by
    /// the caller after unlocking, as for [`register`](Self::register)).
    pub(crate) fn remove(&mut self, key: usize) -> Waker {
        match mem::replace(&mut self.entries[key], Entry::Vacant(self.free)) {
            Entry::Waiting(w) => {
                self.free = key;
                self.len -= 1;
                w
            }
            Entry::Vacant(_) => unreachable!("WaitList: removed a vacant entry"),
        }
    }

    /// Takes every entry out, leaving the list empty.
    ///
    /// Every key handed out before is then stale: the owner must stop using
    /// them (a `Promise` does, since nothing waits on it once it is done).
    pub(crate) fn take(&mut self) -> WaitList {
        mem::replace(self, WaitList::new())
    }

    /// Wakes every waiter in the list, in the order of their entries.
    pub(crate) fn wake_all(self) {
        for entry in self.entries {
            if let Entry::Waiting(w) = entry {
                w.wake();
            }
        }
    }

    /// Entries in use.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Entries allocated, in use or vacant.
    #[cfg(test)]
    fn capacity_used(&self) -> usize {
        self.entries.len()
    }
}

impl fmt::Debug for WaitList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList").field("len", &self.len).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counting() -> (Waker, Arc<Count>) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (Waker::from(c.clone()), c)
    }

    #[test]
    fn removed_entries_are_reused() {
        let mut list = WaitList::new();
        let (w, _) = counting();
        let mut keys = [None; 3];
        for k in &mut keys {
            assert!(list.register(k, &w).is_none());
        }
        assert_eq!(list.len(), 3);
        for _ in 0..100 {
            let k = keys[1].take().unwrap();
            drop(list.remove(k));
            assert_eq!(list.len(), 2);
            list.register(&mut keys[1], &w);
        }
        assert_eq!(list.len(), 3);
        assert_eq!(list.capacity_used(), 3, "vacant entries were not reused");
    }

    #[test]
    fn waker_replaced_only_when_it_would_not_wake_the_same_task() {
        let mut list = WaitList::new();
        let (a, a_count) = counting();
        let (b, b_count) = counting();
        let mut key = None;
        list.register(&mut key, &a);
        assert!(list.register(&mut key, &a.clone()).is_none());
        let old = list.register(&mut key, &b).expect("a replaced by b");
        assert!(old.will_wake(&a));
        assert_eq!(list.len(), 1);
        list.take().wake_all();
        assert_eq!(a_count.0.load(SeqCst), 0);
        assert_eq!(b_count.0.load(SeqCst), 1);
    }

    #[test]
    fn take_wakes_each_live_entry_once() {
        let mut list = WaitList::new();
        let (w, count) = counting();
        let mut keys = [None; 4];
        for k in &mut keys {
            list.register(k, &w);
        }
        drop(list.remove(keys[2].unwrap()));
        let taken = list.take();
        assert_eq!(list.len(), 0);
        assert_eq!(taken.len(), 3);
        taken.wake_all();
        assert_eq!(count.0.load(SeqCst), 3);
    }
}
