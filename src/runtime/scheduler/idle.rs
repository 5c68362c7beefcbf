//! Which workers sleep and which search: the rule that lets an idle runtime
//! use no CPU while a new task still finds a worker at once.
//!
//! One word packs two counters: workers that are awake (`unparked`) and, of
//! those, workers looking for work to steal (`searching`). Three rules follow
//! tokio's multi-thread scheduler:
//!
//! * A producer that queued work wakes a sleeper only if nobody is searching
//!   (a searcher will find the work) and somebody sleeps. So a burst of spawns
//!   wakes one worker, not all.
//! * At most half the workers search at once; the rest park instead of
//!   hammering the other queues.
//! * The last searcher to stop searching (because it found work, or because
//!   it gives up and parks) wakes or re-checks for the next one, so work
//!   pushed while everyone was searching is not stranded.
//!
//! Lost wakeups are excluded by ordering: a producer does "push the task,
//! then read the counters", a parking worker does "update the counters, then
//! (if last searcher) look at the queues". Each is a store followed by a load
//! of another location, which only SeqCst orders across threads (the Dekker
//! pattern), so every access to the counter word is SeqCst.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

/// Bits of the searching counter; the unparked counter sits above.
const UNPARK_SHIFT: usize = 16;
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;
const ONE_UNPARKED: usize = 1 << UNPARK_SHIFT;
const ONE_SEARCHING: usize = 1;

pub(crate) struct Idle {
    state: AtomicUsize,
    /// Indices of parked workers. Changes to `unparked` happen under this lock
    /// so that the list and the count agree.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK, "too many worker threads");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Producer side: picks a parked worker to wake, marking it unparked and
    /// searching, or `None` if waking one is not needed.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        // Check again under the lock: another producer may have woken one.
        if !self.notify_should_wakeup() {
            return None;
        }
        let index = sleepers.pop()?;
        self.state.fetch_add(ONE_UNPARKED | ONE_SEARCHING, SeqCst);
        Some(index)
    }

    fn notify_should_wakeup(&self) -> bool {
        // A read-modify-write, not a load: it takes its place in the single
        // modification order of the word, after the producer's push, which a
        // parking worker's later RMW then synchronizes with.
        let state = self.state.fetch_add(0, SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Worker side: try to start searching; refused if half the workers
    /// already search.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        // Racing workers may overshoot the half by a little; it is a bound on
        // wasted effort, not an invariant anything depends on.
        self.state.fetch_add(ONE_SEARCHING, SeqCst);
        true
    }

    /// Worker side: stop searching (work was found). Returns `true` if this was
    /// the last searcher, which must then wake another worker.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(ONE_SEARCHING, SeqCst);
        searching(prev) == 1
    }

    /// Worker side: going to sleep. Returns `true` if it was the last searcher,
    /// which must then check every queue once more.
    pub(crate) fn transition_worker_to_parked(&self, index: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = ONE_UNPARKED + if is_searching { ONE_SEARCHING } else { 0 };
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(index);
        is_searching && searching(prev) == 1
    }

    /// Worker side, after waking: if the worker is still listed as a sleeper it
    /// woke for its own reasons (its local tasks, shutdown, a spurious wakeup):
    /// it leaves the list and counts as unparked, not searching, and `false` is
    /// returned. Otherwise a producer picked it and already counted it as
    /// unparked and searching: `true`.
    pub(crate) fn transition_worker_from_parked(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        if let Some(pos) = sleepers.iter().position(|&i| i == index) {
            sleepers.swap_remove(pos);
            self.state.fetch_add(ONE_UNPARKED, SeqCst);
            false
        } else {
            true
        }
    }

    /// `(unparked, searching)`, for metrics and tests.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = self.state.load(SeqCst);
        (unparked(state), searching(state))
    }
}
