//! Helpers shared by the integration tests: a multi-waiter gate, a oneshot
//! channel, drop guards, bounded waits and a watchdog against hangs.
//!
//! Every test binary includes this module and uses a different subset.
#![allow(dead_code)]

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Generous bound for anything that should happen "soon".
pub const LONG: Duration = Duration::from_secs(10);

/// A runtime with `n` workers.
pub fn rt(n: usize) -> corio::Runtime {
    corio::Builder::new().worker_threads(n).build().unwrap()
}

/// A runtime with `n` workers whose threads are named `{name}-{i}`.
pub fn rt_named(n: usize, name: &str) -> corio::Runtime {
    corio::Builder::new()
        .worker_threads(n)
        .thread_name(name)
        .build()
        .unwrap()
}

/// Runs `f` on a fresh thread and fails the test if it does not finish within
/// `timeout` (a hang becomes a failure instead of a stuck test run). A panic in
/// `f` is re-raised with its original payload.
#[track_caller]
pub fn watchdog<T: Send + 'static>(timeout: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let join = thread::Builder::new()
        .name("watchdog-body".into())
        .spawn(move || {
            let out = f();
            let _ = tx.send(());
            out
        })
        .unwrap();
    match rx.recv_timeout(timeout) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match join.join() {
            Ok(out) => out,
            Err(payload) => std::panic::resume_unwind(payload),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("test body did not finish within {timeout:?} (hang)")
        }
    }
}

/// Polls `cond` from a plain thread until it is true or `timeout` passes;
/// returns the last value of `cond`.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return cond();
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// A future that stays pending until some thread opens the gate. Any number
/// of waiters; opening is permanent.
#[derive(Clone, Default)]
pub struct Gate {
    inner: Arc<Mutex<GateState>>,
}

#[derive(Default)]
struct GateState {
    open: bool,
    wakers: Vec<Waker>,
    /// How many times a waiter was polled while closed.
    pending_polls: usize,
}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    pub fn open(&self) {
        let wakers = {
            let mut s = self.inner.lock().unwrap();
            s.open = true;
            std::mem::take(&mut s.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }

    pub fn is_open(&self) -> bool {
        self.inner.lock().unwrap().open
    }

    /// How many times a waiter saw the gate closed (so: "has been polled").
    pub fn pending_polls(&self) -> usize {
        self.inner.lock().unwrap().pending_polls
    }

    /// Number of wakers currently registered.
    pub fn waiters(&self) -> usize {
        self.inner.lock().unwrap().wakers.len()
    }

    pub fn wait(&self) -> GateWait {
        GateWait { gate: self.clone() }
    }
}

pub struct GateWait {
    gate: Gate,
}

impl Future for GateWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.gate.inner.lock().unwrap();
        if s.open {
            return Poll::Ready(());
        }
        s.pending_polls += 1;
        if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            s.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A oneshot channel on a `Mutex` and a `Waker`. The receiver resolves to
/// `Err(())` if the sender is dropped without sending.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(OneshotState {
        value: None,
        closed: false,
        waker: None,
    }));
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

struct OneshotState<T> {
    value: Option<T>,
    closed: bool,
    waker: Option<Waker>,
}

pub struct Sender<T> {
    inner: Option<Arc<Mutex<OneshotState<T>>>>,
}

impl<T> Sender<T> {
    pub fn send(mut self, value: T) {
        let inner = self.inner.take().unwrap();
        let waker = {
            let mut s = inner.lock().unwrap();
            s.value = Some(value);
            s.closed = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let waker = {
                let mut s = inner.lock().unwrap();
                s.closed = true;
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

pub struct Receiver<T> {
    inner: Arc<Mutex<OneshotState<T>>>,
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, ()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, ()>> {
        let mut s = self.inner.lock().unwrap();
        if let Some(v) = s.value.take() {
            return Poll::Ready(Ok(v));
        }
        if s.closed {
            return Poll::Ready(Err(()));
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Counts drops: each `guard()` increments `dropped()` once when dropped.
#[derive(Clone, Default)]
pub struct DropCounter {
    count: Arc<AtomicUsize>,
}

impl DropCounter {
    pub fn new() -> DropCounter {
        DropCounter::default()
    }
    pub fn guard(&self) -> DropGuard {
        DropGuard {
            count: self.count.clone(),
        }
    }
    pub fn dropped(&self) -> usize {
        self.count.load(SeqCst)
    }
}

pub struct DropGuard {
    count: Arc<AtomicUsize>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.count.fetch_add(1, SeqCst);
    }
}

/// Runs a closure when dropped.
pub struct OnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> OnDrop<F> {
    pub fn new(f: F) -> Self {
        OnDrop(Some(f))
    }
}

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A shared flag.
#[derive(Clone, Default)]
pub struct Flag(Arc<AtomicBool>);

impl Flag {
    pub fn new() -> Flag {
        Flag::default()
    }
    pub fn set(&self) {
        self.0.store(true, SeqCst);
    }
    pub fn get(&self) -> bool {
        self.0.load(SeqCst)
    }
}

struct NoopWake;
impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// A waker that does nothing (`Waker::noop` is newer than the crate's MSRV).
pub fn noop_waker() -> Waker {
    Waker::from(Arc::new(NoopWake))
}

/// Polls `fut` once with a no-op waker.
pub fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(fut).poll(&mut cx)
}

/// The text of a panic payload (`&str` or `String`), or `""`.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    }
}

/// Runs `f`, expecting it to panic, and returns the panic message.
#[track_caller]
pub fn panic_of<R>(f: impl FnOnce() -> R) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic, but the call returned"),
        Err(payload) => panic_message(&*payload),
    }
}

/// The current thread's name, or `""`.
pub fn thread_name() -> String {
    thread::current().name().unwrap_or("").to_owned()
}

/// Busy-spins for about `d` without sleeping (keeps a worker occupied).
pub fn spin_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Total metric counters over all workers.
pub fn total_polls(h: &corio::Handle) -> u64 {
    h.metrics().workers().iter().map(|w| w.polls).sum()
}

pub fn total_steals(h: &corio::Handle) -> u64 {
    h.metrics().workers().iter().map(|w| w.steals).sum()
}

pub fn total_parks(h: &corio::Handle) -> u64 {
    h.metrics().workers().iter().map(|w| w.parks).sum()
}

/// Waits (bounded) until every worker of `h` is parked.
pub fn wait_all_parked(h: &corio::Handle) -> bool {
    wait_until(LONG, || {
        let m = h.metrics();
        m.unparked_workers == 0 && m.searching_workers == 0
    })
}

/// What one task of [`rendezvous`] saw.
#[derive(Debug, Clone)]
pub struct Met {
    /// All tasks were running at the same moment.
    pub met: bool,
    pub thread: thread::ThreadId,
    pub thread_name: String,
}

/// Spawns `n` tasks on `h` (from outside the runtime) that each spin until all
/// `n` are running at the same time, or until a generous deadline passes.
/// Since a task holds its worker while spinning, they can only all meet if they
/// run on `n` different workers in parallel.
pub fn rendezvous(h: &corio::Handle, n: usize) -> Vec<Met> {
    let started = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let started = started.clone();
            h.spawn(async move {
                started.fetch_add(1, SeqCst);
                let deadline = Instant::now() + LONG;
                let met = loop {
                    if started.load(SeqCst) >= n {
                        break true;
                    }
                    if Instant::now() > deadline {
                        break false;
                    }
                    std::hint::spin_loop();
                };
                Met {
                    met,
                    thread: thread::current().id(),
                    thread_name: thread_name(),
                }
            })
        })
        .collect();
    h.block_on(async {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    })
}
