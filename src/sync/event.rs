//! [`Event`]: a flag that tasks wait on, asyncio's `Event`.
//!
//! The flag and a [`Waiters`] list live behind one mutex; `set` hands every
//! waiter in line a (unit) payload under the lock and wakes them after
//! unlocking. A waiter completes on its payload, never by re-reading the
//! flag, so a `set()` followed at once by `clear()` still releases every
//! task that was waiting at the `set()`. An atomic mirror of the flag lets
//! `is_set` and a `wait` on a set event skip the lock.

use super::waiters::{wake_all, Key, Waiters, WakeList};
use crate::loom::sync::atomic::{
    AtomicBool,
    Ordering::{Acquire, Relaxed, Release},
};
use crate::loom::sync::Mutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An event flag, asyncio's `Event`: [`wait`](Event::wait) until some task
/// (or thread) calls [`set`](Event::set); [`clear`](Event::clear) makes
/// later waits wait again.
///
/// `set` wakes every waiter, and each of them completes even if the event
/// is cleared again before it runs. `Send + Sync`: share it with `Arc`; its
/// futures need no runtime.
///
/// ```
/// use corio::sync::Event;
/// use std::sync::Arc;
///
/// corio::run(async {
///     let ev = Arc::new(Event::new());
///     let waiter = {
///         let ev = ev.clone();
///         corio::create_task(async move {
///             ev.wait().await;
///             "released"
///         })
///     };
///     ev.set();
///     assert_eq!(waiter.await.unwrap(), "released");
///     ev.clear();
///     assert!(!ev.is_set());
/// });
/// ```
pub struct Event {
    /// Mirrors the flag kept under `waiters`' lock (written only there).
    flag: AtomicBool,
    waiters: Mutex<Waiters<(), ()>>,
}

impl Event {
    /// An event, not set.
    pub fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            waiters: Mutex::new(Waiters::new()),
        }
    }

    /// Sets the flag and wakes every task waiting on it.
    pub fn set(&self) {
        // Always under the lock, even when the flag looks set: an unlocked
        // read could see a `set` from before a `clear` that a waiter now in
        // line already saw, and skip waking it.
        let mut wakers = WakeList::new();
        {
            let mut list = self.waiters.lock();
            // Release: a `wait` that sees the flag without the lock also
            // sees what the setter wrote before `set`.
            self.flag.store(true, Release);
            list.notify_while(&mut wakers, |_| Some(()));
        }
        wake_all(wakers);
    }

    /// Clears the flag: later [`wait`](Event::wait)s wait for the next
    /// `set`. Tasks already released by a `set` still complete.
    pub fn clear(&self) {
        let _list = self.waiters.lock();
        // Relaxed: clearing publishes nothing; the lock orders it against
        // waiters joining.
        self.flag.store(false, Relaxed);
    }

    /// `true` if the flag is set.
    pub fn is_set(&self) -> bool {
        // Acquire, as in `wait`: seeing the flag, the caller sees what the
        // setter did before `set`.
        self.flag.load(Acquire)
    }

    /// Waits until the flag is set; at once if it is set now.
    ///
    /// Cancel-safe: dropping the future leaves no trace (a `set` releases
    /// everyone anyway, so nothing is passed on).
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
            done: false,
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// The future of [`Event::wait`].
///
/// Cancel-safe: dropping it leaves no trace.
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<Key>,
    done: bool,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let event = this.event;
        match this.key {
            Some(key) => {
                if event.waiters.lock().poll(key, cx.waker()).is_pending() {
                    return Poll::Pending;
                }
                this.key = None;
            }
            None => {
                assert!(!this.done, "EventWait polled after completion");
                // Acquire: see `is_set`.
                if !event.flag.load(Acquire) {
                    let mut list = event.waiters.lock();
                    // Relaxed: the flag is written under this lock.
                    if !event.flag.load(Relaxed) {
                        this.key = Some(list.push((), cx.waker()));
                        return Poll::Pending;
                    }
                }
            }
        }
        this.done = true;
        Poll::Ready(())
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A payload handed over is a unit: nothing to pass on.
            self.event.waiters.lock().cancel(key);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
