//! The signal state shared by the OS handler, the dispatcher and receivers,
//! with no file descriptors in it (so that loom can check it).
//!
//! Three steps carry a signal to a receiver:
//!
//! 1. The OS handler calls [`Registry::record`] (a store to the signal's
//!    `pending` flag), then writes one byte to the self-pipe.
//! 2. Whoever reads the pipe drains it until it is empty, then calls
//!    [`Registry::dispatch`]: every flag that was set is cleared and every
//!    receiver of that signal is notified.
//! 3. A receiver's [`Slot::poll_take`] consumes its notification.
//!
//! No signal is lost between 2's drain and its dispatch: the handler sets the
//! flag *before* it writes the byte. If the dispatcher's swap misses the
//! flag, the flag was set after the drain finished, so the byte was written
//! after it too and is still in the pipe: the pipe becomes readable again
//! and the next drain dispatches it. If the drain read that byte, the pipe's
//! write-then-read ordered the flag's store before the swap, which sees it.
//! Several deliveries before one dispatch count once (as in tokio).

use crate::loom::sync::atomic::{AtomicBool, Ordering::*};
use crate::loom::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// One receiver's mailbox: a notification flag and the waker of the task
/// waiting on it.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    notified: bool,
    waker: Option<Waker>,
}

impl Slot {
    /// Marks the slot notified and returns the waker to wake (outside any
    /// registry lock).
    fn notify(&self) -> Option<Waker> {
        let mut st = self.state.lock();
        st.notified = true;
        st.waker.take()
    }

    /// Consumes a notification, or registers `cx`'s waker for the next one.
    /// The flag and waker share one lock, so a notification racing with the
    /// registration either is seen here or finds the new waker.
    pub(crate) fn poll_take(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.state.lock();
        if std::mem::take(&mut st.notified) {
            return Poll::Ready(());
        }
        match &mut st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Consumes a notification if there is one, without registering.
    #[cfg_attr(loom, allow(dead_code))] // used by the fd side only
    pub(crate) fn try_take(&self) -> bool {
        std::mem::take(&mut self.state.lock().notified)
    }
}

/// Per-signal pending flags and receivers.
pub(crate) struct Registry {
    /// Set by the OS handler: the only field it touches.
    pending: Box<[AtomicBool]>,
    /// The receivers of each signal.
    slots: Mutex<Vec<Vec<Arc<Slot>>>>,
}

impl Registry {
    /// A registry for signals `0..count`.
    pub(crate) fn new(count: usize) -> Registry {
        Registry {
            pending: (0..count).map(|_| AtomicBool::new(false)).collect(),
            slots: Mutex::new((0..count).map(|_| Vec::new()).collect()),
        }
    }

    /// The signal arrived. Async-signal-safe: one atomic store, no lock.
    pub(crate) fn record(&self, sig: usize) {
        if let Some(flag) = self.pending.get(sig) {
            // Relaxed: the flag carries no data, and the self-pipe's write
            // (after this store) and read (before the dispatcher's swap)
            // order it for the dispatcher (see the module docs).
            flag.store(true, Relaxed);
        }
    }

    /// Notifies every receiver of every signal recorded since the last
    /// dispatch. Call after draining the self-pipe.
    pub(crate) fn dispatch(&self) {
        let mut wake = Vec::new();
        {
            let slots = self.slots.lock();
            for (sig, flag) in self.pending.iter().enumerate() {
                // The cheap load first: almost every flag is clear. Relaxed
                // as for `record`; the swap consumes the delivery once.
                if flag.load(Relaxed) && flag.swap(false, Relaxed) {
                    wake.extend(slots[sig].iter().filter_map(|s| s.notify()));
                }
            }
        }
        // Outside the lock: a waker may run arbitrary code.
        for w in wake {
            w.wake();
        }
    }

    /// Adds a receiver of `sig`; `first` runs (under the registry lock)
    /// when it is the signal's first receiver, to install the OS handler. A
    /// delivery recorded while nobody listened is forgotten first, so that
    /// the new receiver sees only signals that arrive from now on.
    pub(crate) fn subscribe<E>(
        &self,
        sig: usize,
        first: impl FnOnce() -> Result<(), E>,
    ) -> Result<Arc<Slot>, E> {
        let mut slots = self.slots.lock();
        if slots[sig].is_empty() {
            // Relaxed: no handler for `sig` is installed (it is installed
            // below, after this store, by a syscall that orders the two).
            self.pending[sig].store(false, Relaxed);
            first()?;
        }
        let slot = Arc::new(Slot::default());
        slots[sig].push(slot.clone());
        Ok(slot)
    }

    /// Removes a receiver; `last` runs (under the lock) when it was the
    /// signal's last one, to restore the previous disposition.
    pub(crate) fn unsubscribe(&self, sig: usize, slot: &Arc<Slot>, last: impl FnOnce()) {
        let mut slots = self.slots.lock();
        let list = &mut slots[sig];
        let before = list.len();
        list.retain(|s| !Arc::ptr_eq(s, slot));
        if before != list.len() && list.is_empty() {
            last();
        }
    }
}
