//! `try_gather_all`: `gather_all` that stops at the first `Err`.

use super::future_set::FutureSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs every future of `futures` (each returning `Result<T, E>`)
/// concurrently in the current task and gives `Ok` of their values in
/// argument order, or the first `Err` to come: asyncio's `gather(*aws)` when
/// a child raises.
///
/// Polls only the futures that were woken, as [`gather_all`](crate::gather_all)
/// does. An empty input completes at once with `Ok(vec![])`.
///
/// **Cancels:** on the first `Err`, every unfinished future is dropped
/// before the error is returned; dropping the `TryGatherAll` drops every
/// unfinished future. **Leaves running:** `Task` children, which a drop only
/// detaches; call [`Task::cancel`](crate::Task::cancel) on them for
/// asyncio's behaviour.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let jobs = (0..5u64).map(|i| async move {
///         corio::sleep(Duration::from_millis(i)).await;
///         if i == 2 { Err(format!("job {i} failed")) } else { Ok(i) }
///     });
///     // The jobs still sleeping when job 2 fails are dropped.
///     let res = corio::try_gather_all(jobs).await;
///     assert_eq!(res, Err("job 2 failed".to_string()));
///
///     let ok = corio::try_gather_all((0..3).map(|i| async move { Ok::<_, String>(i * 10) }));
///     assert_eq!(ok.await, Ok(vec![0, 10, 20]));
/// });
/// ```
pub fn try_gather_all<I, T, E>(futures: I) -> TryGatherAll<I::Item, T>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let set = FutureSet::new(futures);
    let values = std::iter::repeat_with(|| None).take(set.len()).collect();
    TryGatherAll {
        set: Some(set),
        values,
    }
}

/// The future returned by [`try_gather_all`]: `Ok` of the values in
/// argument order, or the first `Err`.
#[must_use = "futures do nothing unless awaited"]
pub struct TryGatherAll<F, T> {
    /// `None` once complete (the children are dropped with it on an `Err`).
    set: Option<FutureSet<F>>,
    /// By argument index; filled as the children finish.
    values: Vec<Option<T>>,
}

// The children are pinned in their own box; the values are never pinned.
impl<F, T> Unpin for TryGatherAll<F, T> {}

impl<F, T, E> Future for TryGatherAll<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let this = &mut *self;
        let Some(set) = this.set.as_mut() else {
            panic!("a corio try_gather_all polled after it completed");
        };
        loop {
            match set.poll_next(cx) {
                Poll::Ready(Some((index, Ok(value)))) => this.values[index] = Some(value),
                Poll::Ready(Some((_, Err(e)))) => {
                    // Cancel the others before reporting, as asyncio does.
                    this.set = None;
                    this.values = Vec::new();
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(None) => break,
                Poll::Pending => return Poll::Pending,
            }
        }
        this.set = None;
        Poll::Ready(Ok(std::mem::take(&mut this.values)
            .into_iter()
            .map(|v| v.expect("every child finished"))
            .collect()))
    }
}

impl<F, T> fmt::Debug for TryGatherAll<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGatherAll")
            .field("len", &self.values.len())
            .field("remaining", &self.set.as_ref().map_or(0, |s| s.remaining()))
            .finish()
    }
}
