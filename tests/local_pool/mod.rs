//! A deterministic single-threaded executor for the `sync_*` tests: it
//! plays the role of asyncio's one-thread event loop, so that the ports of
//! CPython's `test_locks.py` can assert exact orders (who runs after a
//! `release`, in which order waiters are served) without racing workers.
//! The multi-core behaviour is tested separately, on real runtimes.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

type Boxed = Pin<Box<dyn Future<Output = ()>>>;

/// Tasks polled in the order they were woken (spawned tasks are woken).
#[derive(Default)]
pub struct LocalPool {
    tasks: Vec<Option<Boxed>>,
    ready: Arc<Mutex<VecDeque<usize>>>,
}

struct TaskWaker {
    id: usize,
    ready: Arc<Mutex<VecDeque<usize>>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        let mut ready = self.ready.lock().unwrap();
        if !ready.contains(&self.id) {
            ready.push_back(self.id);
        }
    }
}

impl LocalPool {
    pub fn new() -> LocalPool {
        LocalPool::default()
    }

    /// Adds a task (queued to run); returns its id.
    pub fn spawn(&mut self, fut: impl Future<Output = ()> + 'static) -> usize {
        let id = self.tasks.len();
        self.tasks.push(Some(Box::pin(fut)));
        self.ready.lock().unwrap().push_back(id);
        id
    }

    /// Runs woken tasks, in wake order, until none is woken: asyncio's
    /// `await asyncio.sleep(0)` repeated until quiet.
    pub fn run_until_stalled(&mut self) {
        while self.run_one() {}
    }

    /// Runs each task that is woken now, once, in wake order (tasks woken
    /// meanwhile wait for the next call): one pass of asyncio's loop.
    pub fn tick(&mut self) {
        let n = self.ready.lock().unwrap().len();
        for _ in 0..n {
            self.run_one();
        }
    }

    fn run_one(&mut self) -> bool {
        let Some(id) = self.ready.lock().unwrap().pop_front() else {
            return false;
        };
        if let Some(fut) = self.tasks[id].as_mut() {
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                ready: self.ready.clone(),
            }));
            if fut
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
            {
                self.tasks[id] = None;
            }
        }
        true
    }

    /// Drops the task's future: asyncio's `task.cancel()` delivered.
    pub fn cancel(&mut self, id: usize) {
        self.tasks[id] = None;
    }

    /// The task finished or was cancelled.
    pub fn is_done(&self, id: usize) -> bool {
        self.tasks[id].is_none()
    }

    /// Tasks queued to run.
    pub fn woken(&self) -> usize {
        self.ready.lock().unwrap().len()
    }
}

/// Pending once, then ready: `await asyncio.sleep(0)` inside a task.
pub async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// A shared log of events, in order.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }

    pub fn get(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}
