//! `wait`: wait for tasks to finish without taking their outputs.

use super::outcome::Outcome;
use super::wake_set::WakeSet;
use crate::loom::clock;
use crate::task::{JoinError, Task};
use crate::time::{sleep_deadline_after, Sleep};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// When [`wait`] returns: asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`
/// and `ALL_COMPLETED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task has finished (however it finished).
    FirstCompleted,
    /// As soon as any task has failed: panicked, been cancelled, or returned
    /// an output whose [`Outcome::is_failure`] is `true` (an `Err`); or, if
    /// none fails, when all have finished.
    FirstException,
    /// When every task has finished.
    AllCompleted,
}

/// Waits until the tasks meet `return_when`, or until `timeout` (if any)
/// passes, and gives them back as `(done, pending)`: asyncio's
/// `wait(tasks, timeout=..., return_when=...)`.
///
/// `done` holds the tasks finished at the moment `wait` returns, `pending`
/// the others, each in input order. The finished tasks keep their outputs:
/// await them to get them (`Task::await` gives `Result<T, JoinError>`). On
/// timeout, `wait` returns what is done so far (it does not fail). An empty
/// input returns at once with two empty `Vec`s (asyncio raises
/// `ValueError`); `Some(Duration::ZERO)` only looks.
///
/// Which outputs count as failures for [`ReturnWhen::FirstException`] is
/// up to the [`Outcome`] trait, which `T` must implement (it is for
/// `Result`, the primitive types and more; `impl corio::Outcome for MyType {}`
/// for your own).
///
/// **Cancels:** nothing, ever. **Leaves running:** every pending task, when
/// `wait` returns and when the `Wait` future is dropped (which drops the
/// tasks it holds, detaching them). Cancel them yourself if you need to.
///
/// ```
/// use corio::ReturnWhen;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// corio::run(async {
///     let go = Arc::new(AtomicBool::new(false));
///     let quick = corio::create_task(async { 1 });
///     let g = go.clone();
///     let slow = corio::create_task(async move {
///         while !g.load(Ordering::SeqCst) {
///             corio::sleep(Duration::from_millis(1)).await;
///         }
///         2
///     });
///     let (done, pending) = corio::wait([quick, slow], ReturnWhen::FirstCompleted, None).await;
///     assert_eq!((done.len(), pending.len()), (1, 1));
///     assert_eq!(done.into_iter().next().unwrap().await.unwrap(), 1);
///     // The pending task was not cancelled: it still finishes.
///     go.store(true, Ordering::SeqCst);
///     assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), 2);
/// });
/// ```
pub fn wait<T, I>(tasks: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
    T: Outcome,
{
    let tasks: Vec<Task<T>> = tasks.into_iter().collect();
    let n = tasks.len();
    Wait {
        wakes: Some(WakeSet::new(n)),
        finished: vec![false; n],
        unfinished: n,
        tasks,
        woken: VecDeque::new(),
        failed: false,
        return_when,
        timer: timeout.map(|d| Sleep::new(sleep_deadline_after(clock::now(), d))),
    }
}

/// The future returned by [`wait`]: `(done, pending)`.
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    tasks: Vec<Task<T>>,
    /// By input index: seen finished (and not polled again).
    finished: Vec<bool>,
    unfinished: usize,
    /// A finished task failed.
    failed: bool,
    /// `None` once `wait` returned (dropping it forgets our waker, which
    /// the pending tasks may still wake).
    wakes: Option<WakeSet>,
    /// Woken tasks not yet looked at.
    woken: VecDeque<u32>,
    return_when: ReturnWhen,
    timer: Option<Sleep>,
}

impl<T: Outcome> Future for Wait<T> {
    type Output = (Vec<Task<T>>, Vec<Task<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(wakes) = &this.wakes else {
            panic!("a corio wait polled after it completed");
        };
        wakes.drain(cx.waker(), &mut this.woken);
        while let Some(index) = this.woken.pop_front() {
            let i = index as usize;
            if this.finished[i] {
                // Its flag stays set: its stale wakes are not queued again.
                continue;
            }
            let waker = wakes.prepare(index);
            let task = &mut this.tasks[i];
            if task.poll_done(&mut Context::from_waker(&waker)).is_ready() {
                this.finished[i] = true;
                this.unfinished -= 1;
                this.failed |= task.output_ref().is_some_and(failed);
            }
        }
        let met = match this.return_when {
            ReturnWhen::FirstCompleted => this.unfinished < this.tasks.len(),
            ReturnWhen::FirstException => this.failed || this.unfinished == 0,
            ReturnWhen::AllCompleted => this.unfinished == 0,
        };
        // An empty input meets every condition at once.
        let met = met || this.tasks.is_empty();
        if !met {
            let elapsed = match &mut this.timer {
                Some(timer) => timer.poll_elapsed(cx).is_ready(),
                None => false,
            };
            if !elapsed {
                return Poll::Pending;
            }
        }
        this.wakes = None;
        this.timer = None;
        // As asyncio does, sort by the state at return time: a task that
        // finished since its last wake is done too.
        let (done, pending) = std::mem::take(&mut this.tasks)
            .into_iter()
            .partition(|t| t.is_done());
        Poll::Ready((done, pending))
    }
}

/// Did a finished task fail, in the sense of `FirstException`?
fn failed<T: Outcome>(output: &Result<T, JoinError>) -> bool {
    match output {
        Ok(value) => value.is_failure(),
        // Panicked, cancelled, or failed in a group.
        Err(_) => true,
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("unfinished", &self.unfinished)
            .field("return_when", &self.return_when)
            .field("returned", &self.wakes.is_none())
            .finish()
    }
}
