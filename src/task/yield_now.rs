//! `yield_now`: asyncio's `await asyncio.sleep(0)`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives other tasks a turn: the current task runs again after the other
/// tasks that are ready on its worker. (Every 61st scheduling tick the
/// yielded tasks and a batch of outside work join the back of the worker's
/// queue together, so neither can starve the other.)
///
/// ```
/// corio::run(async {
///     for _ in 0..3 {
///         corio::yield_now().await;
///     }
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken while running, the task is re-queued at the back by the
        // worker when this poll returns (see `State::transition_to_idle`).
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
