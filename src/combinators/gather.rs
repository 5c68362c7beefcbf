//! `gather_all`: any number of futures of one type, outputs in order.

use super::future_set::FutureSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs every future of `futures` concurrently in the current task and gives
/// their outputs in argument order, whatever the order they finish in:
/// asyncio's `gather(*aws)`.
///
/// Each future is polled with a waker of its own, so each poll of the gather
/// polls only the futures woken since the last one: a wake costs O(1), not
/// O(N), and a gather of N futures does O(N) work in all (plus whatever the
/// futures themselves do). Pass [`Task`](crate::Task)s to run the work on
/// other cores; a `Task` child gives `Result<T, JoinError>`. An empty input
/// completes at once with an empty `Vec`.
///
/// **Cancels:** dropping the gather before it completes drops every future
/// that has not finished; a future that finishes is dropped at once (its
/// output is kept). **Leaves running:** `Task` children, which a drop only
/// detaches; call [`Task::cancel`](crate::Task::cancel) on them for
/// asyncio's behaviour (which cancels the children when the gather is
/// cancelled).
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let tasks: Vec<_> = [30, 10, 20]
///         .into_iter()
///         .map(|ms| {
///             corio::create_task(async move {
///                 corio::sleep(Duration::from_millis(ms)).await;
///                 ms
///             })
///         })
///         .collect();
///     let outputs: Vec<u64> = corio::gather_all(tasks)
///         .await
///         .into_iter()
///         .map(Result::unwrap)
///         .collect();
///     assert_eq!(outputs, [30, 10, 20]);
/// });
/// ```
pub fn gather_all<I>(futures: I) -> GatherAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let set = FutureSet::new(futures);
    let outputs = std::iter::repeat_with(|| None).take(set.len()).collect();
    GatherAll { set, outputs }
}

/// The future returned by [`gather_all`]: a `Vec` of the outputs in argument
/// order.
#[must_use = "futures do nothing unless awaited"]
pub struct GatherAll<F: Future> {
    set: FutureSet<F>,
    /// By argument index; filled as the children finish.
    outputs: Vec<Option<F::Output>>,
}

// The children are pinned in their own box; the outputs are never pinned.
impl<F: Future> Unpin for GatherAll<F> {}

impl<F: Future> Future for GatherAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = &mut *self;
        loop {
            match this.set.poll_next(cx) {
                Poll::Ready(Some((index, out))) => this.outputs[index] = Some(out),
                Poll::Ready(None) => break,
                Poll::Pending => return Poll::Pending,
            }
        }
        let outputs = std::mem::take(&mut this.outputs);
        if outputs.len() != this.set.len() {
            panic!("a corio gather_all polled after it completed");
        }
        Poll::Ready(
            outputs
                .into_iter()
                .map(|out| out.expect("every child finished"))
                .collect(),
        )
    }
}

impl<F: Future> fmt::Debug for GatherAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("len", &self.set.len())
            .field("remaining", &self.set.remaining())
            .finish()
    }
}
