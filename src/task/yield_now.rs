//! `yield_now`: asyncio's `await asyncio.sleep(0)`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives other tasks a turn: the current task runs again after every other
/// task that is ready on its worker, and after work waiting in the shared
/// injector queue.
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
