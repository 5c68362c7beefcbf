//! [`Barrier`]: asyncio's `Barrier`, a meeting point for a fixed number of
//! tasks, reusable round after round.
//!
//! The arrivals of the current round wait in a [`Waiters`] list behind the
//! barrier's mutex, with the `broken` flag. The last arrival hands each of
//! them its arrival index (front to back: 0, 1, ...) as its payload, takes
//! `parties - 1` itself, and the next round starts at once with an empty
//! line. `reset` and `abort` hand every waiter `Err(BrokenBarrierError)`.
//!
//! asyncio's barrier has a *draining* state: released tasks must all resume
//! before the next round may fill, and a `reset` during it breaks those that
//! have not resumed yet. Here a released waiter's index is its own the
//! moment the barrier trips (it is handed over under the lock), so there is
//! nothing to drain: a trip is final, a `reset` or `abort` right after it
//! does not take it back, and a task that comes round again joins the next
//! round directly.

use super::waiters::{wake_all, Key, Waiters, WakeList};
use crate::loom::sync::Mutex;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A barrier for `parties` tasks: each [`wait`](Barrier::wait) blocks until
/// `parties` waits are in, then all of them complete with their arrival
/// index (`0..parties`; the last arrival gets `parties - 1`), and the
/// barrier is ready for the next round.
///
/// [`abort`](Barrier::abort) breaks it (every wait, current and later,
/// fails with [`BrokenBarrierError`] until [`reset`](Barrier::reset));
/// `reset` fails the current waiters and starts a fresh round.
///
/// `Send + Sync`: share it with `Arc`; its futures need no runtime.
///
/// ```
/// use corio::sync::Barrier;
/// use std::sync::Arc;
///
/// corio::run(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let b = barrier.clone();
///             corio::create_task(async move { b.wait().await.unwrap() })
///         })
///         .collect();
///     let mut indices: Vec<usize> = corio::gather_all(tasks)
///         .await
///         .into_iter()
///         .map(Result::unwrap)
///         .collect();
///     indices.sort();
///     assert_eq!(indices, [0, 1, 2]);
///     assert_eq!(barrier.n_waiting(), 0);
/// });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

struct State {
    /// This round's arrivals; payload: the index, or broken.
    waiters: Waiters<(), Result<usize, BrokenBarrierError>>,
    broken: bool,
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0.
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "Barrier::new: parties must be > 0");
        Barrier {
            parties,
            state: Mutex::new(State {
                waiters: Waiters::new(),
                broken: false,
            }),
        }
    }

    /// Arrives and waits for the others: `Ok(index)` when the round is
    /// complete, `Err` if the barrier is broken now or is aborted or reset
    /// while this waits.
    ///
    /// Cancel-safe before the round completes: a dropped wait leaves the
    /// round (it no longer counts as arrived). Once the round completed,
    /// dropping it just loses its index; the others pass either way.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            done: false,
        }
    }

    /// Fails the current waiters with [`BrokenBarrierError`] and starts a
    /// fresh round (also un-breaking an aborted barrier).
    pub fn reset(&self) {
        self.fail_all(false);
    }

    /// Breaks the barrier: current waiters, and every later
    /// [`wait`](Barrier::wait) until [`reset`](Barrier::reset), fail with
    /// [`BrokenBarrierError`].
    pub fn abort(&self) {
        self.fail_all(true);
    }

    fn fail_all(&self, broken: bool) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            state.broken = broken;
            state
                .waiters
                .notify_while(&mut wakers, |_| Some(Err(BrokenBarrierError(()))));
        }
        wake_all(wakers);
    }

    /// The number of tasks needed to pass.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// `true` if the barrier was aborted (and not reset since).
    pub fn is_broken(&self) -> bool {
        self.state.lock().broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (waiting, broken) = {
            let state = self.state.lock();
            (state.waiters.len(), state.broken)
        };
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &waiting)
            .field("broken", &broken)
            .finish()
    }
}

/// The future of [`Barrier::wait`]: the arrival index, or
/// [`BrokenBarrierError`].
///
/// Cancel-safe before its round completes (see [`Barrier::wait`]).
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<Key>,
    done: bool,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let barrier = this.barrier;
        let out = match this.key {
            Some(key) => match barrier.state.lock().waiters.poll(key, cx.waker()) {
                Poll::Ready(out) => {
                    this.key = None;
                    out
                }
                Poll::Pending => return Poll::Pending,
            },
            None => {
                assert!(!this.done, "BarrierWait polled after completion");
                let mut wakers = WakeList::new();
                let out = {
                    let mut state = barrier.state.lock();
                    if state.broken {
                        Err(BrokenBarrierError(()))
                    } else if state.waiters.len() + 1 < barrier.parties {
                        this.key = Some(state.waiters.push((), cx.waker()));
                        return Poll::Pending;
                    } else {
                        // The last arrival: release the round, in arrival
                        // order.
                        let mut index = 0;
                        state.waiters.notify_while(&mut wakers, |_| {
                            index += 1;
                            Some(Ok(index - 1))
                        });
                        Ok(index)
                    }
                };
                wake_all(wakers);
                out
            }
        };
        this.done = true;
        Poll::Ready(out)
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Before the trip it leaves the round; after, its index is
            // dropped (nothing another waiter could use).
            self.barrier.state.lock().waiters.cancel(key);
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// The error of a [`Barrier::wait`] on a barrier that was aborted, or reset
/// while it waited: asyncio's `BrokenBarrierError`.
///
/// ```
/// use corio::sync::Barrier;
///
/// corio::run(async {
///     let b = Barrier::new(2);
///     b.abort();
///     let err = b.wait().await.unwrap_err();
///     assert_eq!(err.to_string(), "the barrier was aborted or reset");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BrokenBarrierError(());

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier was aborted or reset")
    }
}

impl Error for BrokenBarrierError {}
