//! `as_completed`: outputs in the order the futures finish.

use super::future_set::FutureSet;
use futures_core::{FusedStream, Stream};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs every future of `futures` concurrently in the current task and
/// yields their outputs in the order they finish: asyncio's `as_completed`.
///
/// The result is a [`futures_core::Stream`], and also has an inherent
/// [`next`](AsCompleted::next) to use without any stream trait in scope.
/// Any futures are accepted, [`Task`](crate::Task)s included (a `Task`
/// yields `Result<T, JoinError>`). Only woken futures are polled, as in
/// [`gather_all`](crate::gather_all). Futures that finish in the same poll
/// come out in the order they were woken.
///
/// **Cancels:** dropping the `AsCompleted` drops every future that has not
/// finished; a future that finishes is dropped at once. **Leaves running:**
/// `Task` children, which a drop only detaches; call
/// [`Task::cancel`](crate::Task::cancel) on them to stop them.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let sleeps = [30u64, 10, 20].map(|ms| async move {
///         corio::sleep(Duration::from_millis(ms)).await;
///         ms
///     });
///     let mut done = corio::as_completed(sleeps);
///     let mut order = Vec::new();
///     while let Some(ms) = done.next().await {
///         order.push(ms);
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted {
        set: FutureSet::new(futures),
    }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    set: FutureSet<F>,
}

impl<F: Future> AsCompleted<F> {
    /// The next output to come, or `None` once every future has finished.
    /// Dropping the returned future before it completes loses nothing: the
    /// futures stay in the `AsCompleted`.
    // The contract asks for `next().await` with no trait in scope; this is
    // the async counterpart of `Iterator::next`, not a candidate for it.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Next<'_, F> {
        Next { stream: self }
    }

    /// Futures that have not finished yet.
    pub fn remaining(&self) -> usize {
        self.set.remaining()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.set.poll_next(cx).map(|next| next.map(|(_, out)| out))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.set.remaining(), Some(self.set.remaining()))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.set.remaining() == 0
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("len", &self.set.len())
            .field("remaining", &self.set.remaining())
            .finish()
    }
}

/// The future returned by [`AsCompleted::next`].
#[must_use = "futures do nothing unless awaited"]
pub struct Next<'a, F> {
    stream: &'a mut AsCompleted<F>,
}

impl<F: Future> Future for Next<'_, F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        Pin::new(&mut *self.stream).poll_next(cx)
    }
}

impl<F> fmt::Debug for Next<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("stream", &self.stream)
            .finish()
    }
}
