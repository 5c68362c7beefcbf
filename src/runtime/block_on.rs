//! Driving a future on the calling thread: `Runtime::block_on` and `run`.
//!
//! The calling thread polls its future when woken, runs the local tasks that
//! were spawned on it, and otherwise sleeps in its own `Parker`. `Send` tasks
//! spawned from here go to the injector and run on the workers.

use super::context::{self, Scheduler};
use super::park::{Parker, Unparker};
use super::scheduler::Shared;
use crate::loom::sync::atomic::{AtomicBool, Ordering::*};
use crate::loom::sync::Arc;
use crate::loom::thread_local;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

/// Local tasks run between two checks of the main future, so that a busy set
/// of local tasks cannot delay the main future indefinitely.
const LOCAL_BUDGET: usize = 61;

thread_local! {
    /// The thread's sleeping place while it is inside `block_on`.
    static PARKER: Parker = Parker::new();
}

/// Wakes the `block_on` thread for its main future.
struct MainWaker {
    woken: AtomicBool,
    unparker: Unparker,
}

impl Wake for MainWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // Release: the waker's writes are visible when the thread sees the flag.
        self.woken.store(true, Release);
        self.unparker.unpark();
    }
}

#[track_caller]
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    if context::is_entered() {
        panic!(
            "Cannot block_on inside a corio runtime: this thread is already running a task or \
             another block_on, and blocking it would stall (or deadlock) its loop; `.await` the \
             future instead, or spawn it with `create_task`"
        );
    }
    // The future runs in a copy of the caller's context, as asyncio runs
    // `run`'s and `run_until_complete`'s coroutine in a task: what it sets
    // is seen by the tasks it creates, and is gone when `block_on` returns
    // (or unwinds).
    crate::context::scope(crate::context::snapshot(), || drive(shared, future))
}

/// The body of `block_on`, in the future's context.
fn drive<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    PARKER.with(|parker| {
        let local = context::block_on_local_owner(shared, || parker.unparker());
        if local.is_closed() {
            // The runtime was shut down from another thread since this thread
            // last ran it: drop the local tasks it left here.
            local.shutdown();
        }
        // Timers and sockets made on this thread go to one worker's event
        // loop, spread over the workers by thread.
        let n = shared.remotes.len();
        let driver = shared.remotes[context::thread_seed() % n].driver.clone();
        let _enter = context::enter(Scheduler::BlockOn {
            shared: shared.clone(),
            local: local.clone(),
            driver,
        });
        // The waker needs std's `Arc` for `Wake`; the flag and the unparker
        // inside are the facade's, which is what loom checks.
        let main = std::sync::Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            unparker: parker.unparker(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            // Acquire pairs with the waker's Release.
            if main.woken.swap(false, Acquire) {
                let _no_task = context::clear_current_task();
                super::coop::reset();
                let poll = super::debug::time_poll(shared.debug, "the block_on/run future", || {
                    future.as_mut().poll(&mut cx)
                });
                if let Poll::Ready(out) = poll {
                    return out;
                }
            }
            // Run the local tasks that were ready when this round began (up to
            // a budget): one that yields goes behind the main future, which
            // gets its turn first if it was woken (asyncio's FIFO ready queue).
            let round = local.len().min(LOCAL_BUDGET);
            let mut ran = 0;
            while ran < round {
                let Some(task) = local.pop() else { break };
                super::debug::run(task, shared.debug);
                ran += 1;
            }
            if ran == 0 && !main.woken.load(Acquire) && !local.has_tasks() {
                parker.park();
            }
        }
    })
}
