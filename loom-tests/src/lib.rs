//! Shared pieces of corio's loom models (the models are in `tests/`).
//!
//! Build and run them only under `--cfg loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p loom-tests --release --target-dir target/loom
//! ```
//!
//! (one model: append `--test FILE -- --exact NAME`). The models check
//! corio's own code: corio reaches every atomic, cell, lock, thread-local and
//! thread through its `loom` facade, which is loom's under `--cfg loom`.
//!
//! * `task_state.rs`: the task state word and harness on real task cells
//!   (`corio::loom_hooks::TaskSet`), without a runtime around them.
//! * `park.rs`: the `Parker`/`Unparker` every sleeping thread uses.
//! * `runtime_*.rs`: whole runtimes through the public API: work arriving
//!   while workers go to sleep, stealing, shutdown racing with spawns and
//!   wakes, cancel and handle drop on a worker.
//! * `task_group.rs`: `TaskGroup` failures racing with sibling completion,
//!   `join` and `create_task`.
//! * `driver.rs`: the workers' event loops (timers, readiness, handoff).
//! * `queue.rs`: `corio::queue`, put and get racing with cancelled getters and
//!   putters and with shutdown, without a runtime.
//! * `promise.rs`: `corio::sync::Promise`, completion racing with waiters,
//!   callbacks and completion, without a runtime.
//! * `sync_lock.rs`: `corio::sync::Mutex`/`Lock` (release racing with a
//!   waiter's cancellation, FIFO handoff) and `Condition` (a notification
//!   racing with its waiter's cancellation), without a runtime.
//! * `combinators.rs`: the combinators' per-child wakers (`WakeSet`), and
//!   `shield` and `wait` on a runtime.
//! * `sync_waiters.rs`: the FIFO waiter list of `corio::sync`
//!   (`loom_hooks::Turnstile`): handoff racing with cancel, waker
//!   replacement, FIFO order.
//! * `protocol.rs`: the protocol reactor's per-connection wakers
//!   (`loom_hooks::ReadyList`): readiness and foreign `Transport` calls
//!   racing with the reactor's drain, and wakes after the reactor is gone;
//!   and a server's hand-over of a connection to its least-loaded loop
//!   racing with that loop's reactor finishing (`loom_hooks::Balance`).
//! * `sync_semaphore.rs`, `sync_event.rs`, `sync_barrier.rs`: those
//!   primitives without a runtime (release/set/abort racing with waiters
//!   leaving, arriving, barging).
//! * `streams.rs`: `StreamWriter`'s background flusher exiting while
//!   another thread writes and closes (`loom_hooks::GatedSink`).
//! * `signal.rs`: `corio::signal`'s registry (`loom_hooks::SignalRegistry`):
//!   a delivery racing with the pipe reader's drain and dispatch, receivers
//!   leaving during a dispatch.
//!
//! Helpers:
//!
//! * [`model`] runs one loom model and reports its iteration count and time.
//! * [`signal`] is a oneshot whose sender may fire from any loom thread: the
//!   way a model makes a wakeup race with a poll.
//! * [`Probe`] counts what happened to a future: polled to completion, future
//!   dropped, output dropped, so that a model can assert "exactly once".
//! * [`block_on`] waits for a future on loom's own park (not corio's), and
//!   [`poll_once`] polls once with a no-op waker.
//! * [`idle_runtime`] and [`quiet_drop`] take a runtime's start-up and
//!   shutdown out of the exploration, for models whose subject lies between.
//!
//! Everything shared here is built on loom's types (`loom::sync::Arc`,
//! atomics, mutexes): loom then checks its accesses for causality, and a
//! task that is never freed leaks one of these `Arc`s (the runtime's
//! `Shared`, or the probe's counters, held by the task), which loom reports
//! at the end of the execution as "Arc leaked".
//!
//! Cost: loom allows five threads per model, the main thread included (a
//! runtime with N workers uses N of them). What a model costs grows with
//! every thread and every synchronizing operation; the runtime models keep
//! the main thread's side short (one spawn, one wait) and the subject
//! narrow. A failing model panics inside loom with loom objects still
//! alive, which usually aborts the whole test binary: rerun the one model
//! with `--exact` to see the others.

#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom::sync::{Arc, Mutex};
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::{Layer, SubscriberExt};

/// The preemption bound used when `LOOM_MAX_PREEMPTIONS` is not set (an
/// unbounded exhaustive check of a runtime model would not finish).
pub const DEFAULT_PREEMPTIONS: usize = 2;

/// Runs `f` under loom, exploring its interleavings, then prints (straight to
/// stderr, past the test harness's capture) one line:
///
/// `loom model NAME: N iterations in T (LOOM_MAX_PREEMPTIONS=P)`
///
/// and appends it to the file named by `LOOM_STATS_FILE`, if set.
///
/// Same environment as `loom::model` (`LOOM_MAX_PREEMPTIONS`, `LOOM_LOG`,
/// `LOOM_LOCATION`, `LOOM_MAX_BRANCHES`, ...), except that the preemption
/// bound defaults to [`DEFAULT_PREEMPTIONS`]. With `LOOM_LOG=loom::model=info`
/// loom itself also logs `Completed in N iterations`. When a model fails,
/// the failing iteration's number is printed; exploration is deterministic,
/// so `LOOM_LOG=trace LOOM_LOCATION=1 LOOM_TRACE_ITER=N` (with
/// `--nocapture`) then logs every step of just that interleaving.
///
/// Models run one at a time per process, and each iteration starts with the
/// same task ids (`corio::loom_hooks::align_ids`): ids come from a
/// process-wide counter that loom does not reset, and an exploration that
/// depends on them is not deterministic.
pub fn model<F>(name: &str, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let iterations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = iterations.clone();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_PREEMPTIONS);
    }
    let bound = builder.preemption_bound;

    // One model at a time per process, so that each iteration sees the same
    // task ids (see `align_ids`). A failed model poisons the lock; the next
    // one may still run.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    install_panic_hook();
    CURRENT.with(|c| *c.borrow_mut() = Some((name.to_owned(), iterations.clone())));
    // As `loom::model` does: loom's own logging, filtered by `LOOM_LOG`; and
    // with `LOOM_TRACE_ITER=N`, only for iteration N.
    let only = std::env::var("LOOM_TRACE_ITER")
        .ok()
        .map(|v| v.parse::<usize>().expect("invalid LOOM_TRACE_ITER"));
    let current = iterations.clone();
    let layer = tracing_subscriber::fmt::layer()
        .with_test_writer()
        .without_time()
        .with_filter(tracing_subscriber::EnvFilter::from_env("LOOM_LOG").and(
            tracing_subscriber::filter::dynamic_filter_fn(move |meta, _| {
                meta.is_span()
                    || only.is_none_or(|n| current.load(std::sync::atomic::Ordering::Relaxed) == n)
            }),
        ));
    let subscriber = tracing_subscriber::registry().with(layer);
    let start = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        builder.check(move || {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            corio::loom_hooks::align_ids(ID_ALIGN);
            f();
        });
    });
    let elapsed = start.elapsed();
    CURRENT.with(|c| *c.borrow_mut() = None);

    let line = format!(
        "loom model {name}: {} iterations in {:.2}s (LOOM_MAX_PREEMPTIONS={})\n",
        iterations.load(std::sync::atomic::Ordering::Relaxed),
        elapsed.as_secs_f64(),
        bound.map_or_else(|| "unbounded".to_owned(), |b| b.to_string()),
    );
    // `eprint!` would be captured by the test harness; write past it.
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Ok(path) = std::env::var("LOOM_STATS_FILE") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

/// Serializes models within a test binary (see `model`).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Task ids start at a multiple of this in every iteration (more than any
/// count of shards or slots an id could pick among).
const ID_ALIGN: u64 = 64;

type Running = Option<(String, std::sync::Arc<std::sync::atomic::AtomicUsize>)>;

std::thread_local! {
    /// The model running on this OS thread (loom runs all of a model's
    /// threads as coroutines on the test's thread) and its iteration count.
    static CURRENT: std::cell::RefCell<Running> = const { std::cell::RefCell::new(None) };
}

/// On a panic inside a model, says which iteration failed and how to log
/// just that one: loom explores deterministically, so the same iteration
/// fails again, and `LOOM_TRACE_ITER` keeps the log to that iteration.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            prev(info);
            let _ = CURRENT.try_with(|c| {
                // Only the first panic: loom's clean-up may panic again.
                if let Ok(mut c) = c.try_borrow_mut() {
                    if let Some((name, iter)) = c.take() {
                        let n = iter.load(std::sync::atomic::Ordering::Relaxed);
                        let _ = writeln!(
                            std::io::stderr(),
                            "loom model {name} failed in iteration {n}; to log that \
                             interleaving, rerun it with LOOM_LOG=trace LOOM_LOCATION=1 \
                             LOOM_TRACE_ITER={n} (and --nocapture)"
                        );
                    }
                }
            });
        }));
    });
}

/// A one-shot wakeup: the [`Receiver`] future is ready once the [`Sender`]
/// fired. The sender is meant to fire from another loom thread, racing with
/// whoever polls the receiver.
pub fn signal() -> (Sender, Receiver) {
    let inner = Arc::new(Mutex::new(SignalState {
        fired: false,
        waker: None,
    }));
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct SignalState {
    fired: bool,
    waker: Option<Waker>,
}

/// The firing end of a [`signal`].
pub struct Sender {
    inner: Arc<Mutex<SignalState>>,
}

/// The awaiting end of a [`signal`]; resolves to `()`.
pub struct Receiver {
    inner: Arc<Mutex<SignalState>>,
}

impl Sender {
    /// Whether the receiver is waiting: polled, and its waker stored.
    pub fn has_waiter(&self) -> bool {
        self.inner.lock().unwrap().waker.is_some()
    }

    /// Fires without waking: hands the registered waker (if any) to the
    /// caller, who wakes it when (and how) the model wants.
    pub fn fire_and_take(self) -> Option<Waker> {
        self.take()
    }

    fn take(&self) -> Option<Waker> {
        let mut state = self.inner.lock().unwrap();
        state.fired = true;
        state.waker.take()
    }

    /// Fires: wakes the registered waker by value (`Waker::wake`).
    pub fn fire(self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }

    /// Fires: wakes by reference (`Waker::wake_by_ref`), then drops the
    /// waker.
    pub fn fire_by_ref(self) {
        if let Some(waker) = self.take() {
            waker.wake_by_ref();
            drop(waker);
        }
    }
}

impl Future for Receiver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.inner.lock().unwrap();
        if state.fired {
            return Poll::Ready(());
        }
        match &state.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// Counts what happens to the futures it tracks and to their outputs.
/// Clones share the counts.
#[derive(Clone)]
pub struct Probe {
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    completed: AtomicUsize,
    future_drops: AtomicUsize,
    output_drops: AtomicUsize,
}

impl Probe {
    /// A new probe, shared by the model and the futures it tracks.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Probe {
        Probe {
            counts: Arc::new(Counts::default()),
        }
    }

    /// Wraps `future`: the wrapper counts its completion and its drop, and
    /// its output is an [`Out`] that counts its own drop.
    pub fn track<F: Future>(&self, future: F) -> Tracked<F> {
        Tracked {
            future: Box::pin(future),
            counts: self.counts.clone(),
        }
    }

    /// Polls of tracked futures that returned `Ready`.
    pub fn completed(&self) -> usize {
        self.counts.completed.load(Relaxed)
    }

    /// Tracked futures dropped.
    pub fn future_drops(&self) -> usize {
        self.counts.future_drops.load(Relaxed)
    }

    /// Outputs of tracked futures dropped.
    pub fn output_drops(&self) -> usize {
        self.counts.output_drops.load(Relaxed)
    }

    /// Every tracked future (`n` of them) was dropped exactly once, and every
    /// output produced was dropped exactly once.
    pub fn assert_all_dropped(&self, n: usize) {
        assert_eq!(self.future_drops(), n, "futures dropped");
        assert!(self.completed() <= n, "a future completed twice");
        assert_eq!(
            self.output_drops(),
            self.completed(),
            "outputs dropped vs produced"
        );
    }
}

/// A future tracked by a [`Probe`].
pub struct Tracked<F: Future> {
    future: Pin<Box<F>>,
    counts: Arc<Counts>,
}

impl<F: Future> Future for Tracked<F> {
    type Output = Out<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Out<F::Output>> {
        match self.future.as_mut().poll(cx) {
            Poll::Ready(value) => {
                self.counts.completed.fetch_add(1, Relaxed);
                Poll::Ready(Out {
                    value,
                    counts: self.counts.clone(),
                })
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future> Drop for Tracked<F> {
    fn drop(&mut self) {
        self.counts.future_drops.fetch_add(1, Relaxed);
    }
}

/// The output of a [`Tracked`] future; counts its drop.
pub struct Out<T> {
    /// What the inner future returned.
    pub value: T,
    counts: Arc<Counts>,
}

/// Never a failure, so that `corio::wait` takes tasks of tracked futures.
impl<T> corio::Outcome for Out<T> {}

impl<T> Drop for Out<T> {
    fn drop(&mut self) {
        self.counts.output_drops.fetch_add(1, Relaxed);
    }
}

/// Polls `future` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A waker that counts its wakeups, built on loom types (so a leaked clone is
/// reported by loom).
pub struct CountingWaker {
    wakes: AtomicUsize,
    _alive: Arc<()>,
}

impl CountingWaker {
    /// A new waker and the counter behind it.
    pub fn new() -> (Waker, std::sync::Arc<CountingWaker>) {
        let inner = std::sync::Arc::new(CountingWaker {
            wakes: AtomicUsize::new(0),
            _alive: Arc::new(()),
        });
        (Waker::from(inner.clone()), inner)
    }

    /// Wakeups so far.
    pub fn wakes(&self) -> usize {
        self.wakes.load(Relaxed)
    }
}

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.wakes.fetch_add(1, Relaxed);
    }
}

/// Blocks the current loom thread on `future`, parking it (loom's own
/// `thread::park`, not corio's) between polls. A wakeup that never comes is a
/// deadlock, which loom reports.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(ThreadWaker {
        thread: loom::thread::current(),
        _alive: Arc::new(()),
    }));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        loom::thread::park();
    }
}

struct ThreadWaker {
    thread: loom::thread::Thread,
    _alive: Arc<()>,
}

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.thread.unpark();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.thread.unpark();
    }
}

/// Builds a runtime with `workers` workers and lets them all go to sleep
/// before the model's interleavings start: the start-up runs in one fixed
/// interleaving (loom's `stop_exploring`), then exploration resumes.
///
/// Start-up races (work arriving while workers start and first look for
/// work) are the subject of their own models; the models that take this
/// instead spend their interleavings on what follows.
pub fn idle_runtime(workers: usize) -> corio::Runtime {
    loom::stop_exploring();
    let rt = corio::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap();
    while rt.handle().metrics().unparked_workers > 0 {
        loom::thread::yield_now();
    }
    loom::explore();
    rt
}

/// Drops (shuts down) `rt` in one fixed interleaving: for the models whose
/// subject ends before shutdown. Leaks are still checked at the end.
pub fn quiet_drop(rt: corio::Runtime) {
    loom::stop_exploring();
    drop(rt);
}
