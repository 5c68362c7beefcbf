//! Putting a thread to sleep until it is needed: the park/unpark seam.
//!
//! Every sleeping thread of corio (an idle worker, a `block_on` thread
//! waiting for its future) sleeps in a [`Parker`] and is woken through its
//! [`Unparker`]. Unparking is a token, as with `std::thread::park`: an unpark
//! that arrives before the park makes the park return at once, so "I found no
//! work" followed by "someone queued work and unparked me" followed by "I
//! park" cannot lose the wakeup.
//!
//! Workers sleep in their event loop instead (`runtime::driver`, which keeps
//! the same token protocol around `epoll_wait`); an `Unparker` wakes either
//! kind, so the code that queues a task and wakes its owner does not care.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::{Arc, Condvar, Mutex};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// The sleeping end; owned by the one thread that parks on it.
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// The waking end; any thread, any number of clones.
#[derive(Clone)]
pub(crate) enum Unparker {
    /// A thread sleeping in a `Parker` (a `block_on` thread).
    Thread(Arc<Inner>),
    /// A worker sleeping in its event loop.
    Driver(Arc<crate::runtime::driver::Driver>),
}

pub(crate) struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                cvar: Condvar::new(),
            }),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker::Thread(self.inner.clone())
    }

    /// Blocks until an unpark token is available, and consumes it.
    pub(crate) fn park(&self) {
        let inner = &*self.inner;
        // Fast path: a token is already there. Acquire pairs with the Release
        // of `unpark`, so whatever the unparker published (a queued task) is
        // visible once we return.
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed)
            .is_ok()
        {
            return;
        }
        let mut guard = inner.lock.lock();
        // Relaxed on success: the lock orders PARKED against `unpark`, which
        // takes the same lock before notifying.
        if let Err(actual) = inner
            .state
            .compare_exchange(EMPTY, PARKED, Relaxed, Acquire)
        {
            debug_assert_eq!(actual, NOTIFIED, "two threads parked on one Parker");
            // A swap, not a store: another unpark may have landed since the
            // compare-exchange read NOTIFIED, and its token is consumed here
            // too, so this must acquire what that unparker published (found
            // by loom: with a plain store, a second producer's work could stay
            // invisible while its token was gone).
            inner.state.swap(EMPTY, Acquire);
            return;
        }
        loop {
            inner.cvar.wait(&mut guard);
            // Condition variables wake spuriously: only a token ends the wait.
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl Unparker {
    /// Makes the parked thread return from `park`, or its next `park` return
    /// at once.
    pub(crate) fn unpark(&self) {
        let inner = match self {
            Unparker::Thread(inner) => &**inner,
            Unparker::Driver(driver) => return driver.unpark(),
        };
        // Release: publishes what the caller did before waking the thread.
        match inner.state.swap(NOTIFIED, Release) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock means the parker is inside `cvar.wait` (it
                // set PARKED under the lock), so the notification reaches it.
                drop(inner.lock.lock());
                inner.cvar.notify_one();
            }
            _ => unreachable!("invalid park state"),
        }
    }
}
