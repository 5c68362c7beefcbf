//! Internals exposed to the loom models of `loom-tests/`; compiled only under
//! `--cfg loom`, hidden from the docs, and no part of corio's API.
//!
//! Most models drive corio through its public API (a `Runtime`, `block_on`,
//! `Handle::spawn`, `Task`). What is here lets a model reach the pieces below
//! that, to check one protocol with as few loom threads and operations as
//! possible:
//!
//! * [`Parker`] / [`Unparker`]: the park/unpark seam every sleeping thread
//!   uses, unchanged.
//! * [`TaskSet`]: corio's real task cell, state word, harness, wakers,
//!   `Task<T>` handle and owner list, bound to a minimal scheduler (a locked
//!   queue that a model drains by hand), so that wake, cancel, completion and
//!   handle drop can race without any worker loop in the way.
//! * [`align_ids`]: makes task ids the same in every iteration of a model.
//! * [`WakeSet`]: the per-child wakers of the combinators over N futures.
//! * [`ReadyList`]: the protocol reactor's per-connection wakers.
//! * [`Turnstile`]: the smallest primitive on `sync::waiters::Waiters`, to
//!   model the waiter list's own protocol.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::sync::{Arc, Mutex};
use crate::task::{new_task, Header, Notified, OwnedTasks, Schedule, Task};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::Location;

/// Advances the process-wide id counter (task and runtime ids) until the
/// next id is a multiple of `align`.
///
/// The counter is a plain std atomic that loom does not reset between
/// iterations, so without this each iteration of a model would see other
/// ids. Whatever an id steers that loom sees (it used to pick a task's
/// owner-list shard, a loom mutex; under loom the list now has one shard)
/// would then differ between iterations, and loom's exploration would not be
/// deterministic: loom fails with "Reached unexpected exploration state", or
/// worse, silently explores the wrong interleavings. Call it at the start of
/// every iteration, with no other model running in the process meanwhile
/// (`loom_tests::model` does both).
pub fn align_ids(align: u64) {
    while (crate::loom::ids::next() + 1) % align != 0 {}
}

/// corio's `runtime::park::Parker`: the sleeping end.
pub struct Parker(crate::runtime::park::Parker);

/// corio's `runtime::park::Unparker`: the waking end.
#[derive(Clone)]
pub struct Unparker(crate::runtime::park::Unparker);

impl Parker {
    /// A parker with no token.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Parker {
        Parker(crate::runtime::park::Parker::new())
    }

    /// A waking end for this parker.
    pub fn unparker(&self) -> Unparker {
        Unparker(self.0.unparker())
    }

    /// Blocks until a token is available, and consumes it.
    pub fn park(&self) {
        self.0.park()
    }
}

impl Unparker {
    /// Makes the parked thread (or its next `park`) return.
    pub fn unpark(&self) {
        self.0.unpark()
    }
}

impl fmt::Debug for Parker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Parker")
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unparker")
    }
}

/// A set of tasks on a scheduler that never runs anything by itself: woken
/// tasks wait in a queue until a model calls [`run_one`](TaskSet::run_one)
/// (from any loom thread). Cloning shares the set.
///
/// Each task cell holds the scheduler, so the set and its tasks reference
/// each other until [`shutdown`](TaskSet::shutdown): a model that forgets to
/// call it leaks, and loom says so.
#[derive(Clone)]
pub struct TaskSet {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Mutex<Queue>,
    owned: OwnedTasks,
    /// Task cells deallocated (each drops its `Sched` exactly once).
    freed: AtomicUsize,
    /// Tasks polled or cancelled through `run_one`.
    runs: AtomicUsize,
}

struct Queue {
    tasks: VecDeque<Notified>,
    closed: bool,
}

/// The scheduler handle stored in each task cell. Its drop is the cell's
/// deallocation, which `TaskSet::freed` counts.
struct Sched {
    inner: Arc<Inner>,
}

impl Drop for Sched {
    fn drop(&mut self) {
        self.inner.freed.fetch_add(1, Relaxed);
    }
}

impl Schedule for Sched {
    fn schedule(&self, task: Notified, _is_yield: bool) {
        self.inner.push(task);
    }

    fn release(&self, task: &Header) -> bool {
        self.inner.owned.remove(task)
    }
}

impl Inner {
    fn push(&self, task: Notified) {
        let mut queue = self.queue.lock();
        if queue.closed {
            drop(queue);
            // Shut down: the task was cancelled through the owner list.
            drop(task);
            return;
        }
        // The NOTIFIED bit makes a second `Notified` impossible.
        assert!(
            !queue
                .tasks
                .iter()
                .any(|t| std::ptr::eq(t.header(), task.header())),
            "a task was queued twice"
        );
        queue.tasks.push_back(task);
    }
}

impl TaskSet {
    /// An empty set.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TaskSet {
        TaskSet {
            inner: Arc::new(Inner {
                queue: Mutex::new(Queue {
                    tasks: VecDeque::new(),
                    closed: false,
                }),
                owned: OwnedTasks::new(1),
                freed: AtomicUsize::new(0),
                runs: AtomicUsize::new(0),
            }),
        }
    }

    /// Spawns `future` (queued, not polled yet), as `Handle::spawn` does.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let sched = Sched {
            inner: self.inner.clone(),
        };
        let (task, notified) = new_task(future, sched, &self.inner.owned, None, Location::caller());
        if let Some(notified) = notified {
            self.inner.push(notified);
        }
        task
    }

    /// Runs (polls, or cancels) the task at the front of the queue; `false`
    /// if the queue was empty.
    pub fn run_one(&self) -> bool {
        let task = self.inner.queue.lock().tasks.pop_front();
        match task {
            Some(task) => {
                self.inner.runs.fetch_add(1, Relaxed);
                task.run();
                true
            }
            None => false,
        }
    }

    /// Runs queued tasks until the queue is empty; returns how many ran.
    pub fn run_all(&self) -> usize {
        let mut n = 0;
        while self.run_one() {
            n += 1;
        }
        n
    }

    /// Notifications waiting in the queue.
    pub fn queued(&self) -> usize {
        self.inner.queue.lock().tasks.len()
    }

    /// Task cells deallocated so far.
    pub fn freed(&self) -> usize {
        self.inner.freed.load(Relaxed)
    }

    /// `run_one` calls that found a task.
    pub fn runs(&self) -> usize {
        self.inner.runs.load(Relaxed)
    }

    /// Tasks not complete yet (still in the owner list).
    pub fn live(&self) -> usize {
        self.inner.owned.len()
    }

    /// As runtime shutdown: closes the set, cancels every task that has not
    /// completed, and drops the queued notifications.
    pub fn shutdown(&self) {
        let queued = {
            let mut queue = self.inner.queue.lock();
            queue.closed = true;
            std::mem::take(&mut queue.tasks)
        };
        drop(queued);
        for task in self.inner.owned.close_and_drain() {
            task.shutdown();
        }
        let late = std::mem::take(&mut self.inner.queue.lock().tasks);
        drop(late);
    }
}

impl fmt::Debug for TaskSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSet").finish_non_exhaustive()
    }
}

// ---- the per-core event loop ---------------------------------------------

/// The mock clock of the loom build (see `src/loom/loom_impl/clock.rs`).
pub mod clock {
    use std::time::{Duration, Instant};

    /// The current mock time.
    pub fn now() -> Instant {
        crate::loom::clock::now()
    }

    /// Moves the mock clock forward.
    pub fn advance(by: Duration) {
        crate::loom::clock::advance(by)
    }
}

/// corio's per-worker event-loop driver (`runtime::driver::Driver`), over
/// the loom mock of `mio::Poll`/`mio::Waker`: its park/unpark token
/// protocol, its timer wheel and its handoff, exactly as the workers use
/// them. Cloning shares the driver.
#[derive(Clone)]
pub struct Driver(Arc<crate::runtime::driver::Driver>);

/// A timer armed in a [`Driver`].
#[derive(Copy, Clone, Debug)]
pub struct TimerKey(crate::time::wheel::TimerKey);

impl Driver {
    /// A driver whose tick 0 is now.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Driver {
        let driver =
            crate::runtime::driver::Driver::new(crate::loom::clock::now()).expect("mock poll");
        Driver(Arc::new(driver))
    }

    /// Owner side: sleeps until unparked, its next timer, or `cap` (a timed
    /// sleep advances the mock clock), then dispatches (fires due timers).
    pub fn park(&self, cap: Option<std::time::Duration>) {
        let polled = self.0.park(cap);
        self.0.dispatch(polled);
    }

    /// Wakes the owner, or makes its next `park` return at once.
    pub fn unpark(&self) {
        self.0.unpark()
    }

    /// Arms a timer (unparking the owner if it sleeps past `deadline`).
    pub fn insert_timer(&self, deadline: std::time::Instant, waker: &std::task::Waker) -> TimerKey {
        TimerKey(self.0.insert_timer(deadline, waker))
    }

    /// `true` if the timer fired, else stores `waker`.
    pub fn poll_timer(&self, key: TimerKey, waker: &std::task::Waker) -> bool {
        self.0.poll_timer(key.0, waker)
    }

    /// Forgets a timer.
    pub fn remove_timer(&self, key: TimerKey) {
        self.0.remove_timer(key.0)
    }

    /// Fires the timers due at the mock clock's now.
    pub fn fire_timers(&self) {
        self.0.fire_timers(crate::loom::clock::now())
    }

    /// The owner's periodic non-blocking poll.
    pub fn poll_now(&self) {
        self.0.poll_now()
    }

    /// Another worker's attempt to poll this driver for its busy owner.
    pub fn try_handoff(&self) -> bool {
        self.0.try_handoff()
    }

    /// Whether timers are armed.
    pub fn has_watchable(&self) -> bool {
        self.0.has_watchable()
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Driver")
    }
}

// ---- readiness -------------------------------------------------------------

/// corio's `io::scheduled_io::ScheduledIo` together with the token table
/// (`io::slab::Sources`) it is registered in: the state a driver's dispatch
/// and a socket's task share.
#[derive(Clone)]
pub struct Source {
    table: Arc<Mutex<crate::io::slab::Sources>>,
    token: usize,
    io: Arc<crate::io::scheduled_io::ScheduledIo>,
}

/// What a task saw when told its source is readable.
#[derive(Copy, Clone, Debug)]
pub struct ReadyEvent(crate::io::scheduled_io::ReadyEvent);

impl Source {
    /// A new source registered in a fresh table.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Source {
        let io = Arc::new(crate::io::scheduled_io::ScheduledIo::default());
        let mut table = crate::io::slab::Sources::default();
        let token = table.insert(io.clone()).expect("token");
        Source {
            table: Arc::new(Mutex::new(table)),
            token,
            io,
        }
    }

    /// Driver side, as `io_driver::Registry::dispatch` does it: look the
    /// token up under the table lock, then set readiness outside it.
    /// Returns whether the token was still registered.
    pub fn dispatch_readable(&self) -> bool {
        let io = self.table.lock().get(self.token).cloned();
        match io {
            Some(io) => {
                io.set_readiness(crate::io::scheduled_io::READABLE);
                true
            }
            None => false,
        }
    }

    /// Socket side, as `io_driver::Registry::deregister` does it.
    pub fn deregister(&self) {
        let io = self.table.lock().remove(self.token);
        if let Some(io) = io {
            io.clear_wakers();
        }
    }

    /// Task side: ready to read, or the waker is stored.
    pub fn poll_readable(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<ReadyEvent> {
        self.io
            .poll_ready(cx, crate::io::scheduled_io::Direction::Read)
            .map(ReadyEvent)
    }

    /// Task side: the read hit `WouldBlock`.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event.0)
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Source")
    }
}

/// corio's `combinators::wake_set::WakeSet`, unchanged: `n` child wakers that
/// queue their index and wake the parent, as `gather_all`, `as_completed`
/// and `wait` use them.
pub struct WakeSet(crate::combinators::wake_set::WakeSet);

impl WakeSet {
    /// `n` children, all queued.
    pub fn new(n: usize) -> WakeSet {
        WakeSet(crate::combinators::wake_set::WakeSet::new(n))
    }

    /// Parent side: stores `parent` and appends the queued indices to `out`.
    pub fn drain(&self, parent: &std::task::Waker, out: &mut VecDeque<u32>) {
        self.0.drain(parent, out)
    }

    /// Parent side, before polling child `index`: clears its queued flag and
    /// returns (a clone of) its waker, as a child would keep it.
    pub fn prepare(&self, index: u32) -> std::task::Waker {
        (*self.0.prepare(index)).clone()
    }
}

impl fmt::Debug for WakeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ---- the waiter list ---------------------------------------------------------

/// A one-permit semaphore with handoff, built on corio's
/// `sync::waiters::Waiters` exactly as the `corio::sync` primitives use it
/// (state and list under one lock; register on the first pending poll;
/// `cancel` in `Drop`, passing on a payload handed over). Cloning shares it.
#[derive(Clone)]
pub struct Turnstile(Arc<Mutex<(bool, crate::sync::waiters::Waiters<usize, ()>)>>);

/// The future of [`Turnstile::enter`]; ready once it holds the permit.
pub struct Enter {
    turnstile: Turnstile,
    tag: usize,
    key: Option<crate::sync::waiters::Key>,
}

impl Turnstile {
    /// A turnstile whose permit is free (`open`) or held.
    pub fn new(open: bool) -> Turnstile {
        Turnstile(Arc::new(Mutex::new((
            open,
            crate::sync::waiters::Waiters::new(),
        ))))
    }

    /// Waits for the permit; `tag` names the waiter in [`front`](Self::front).
    pub fn enter(&self, tag: usize) -> Enter {
        Enter {
            turnstile: self.clone(),
            tag,
            key: None,
        }
    }

    /// Gives the permit up: to the front waiter, or back to the turnstile.
    pub fn leave(&self) {
        let waker = Self::pass_on(&mut self.0.lock());
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn pass_on(
        state: &mut (bool, crate::sync::waiters::Waiters<usize, ()>),
    ) -> Option<std::task::Waker> {
        match state.1.notify_front(()) {
            Ok(waker) => waker,
            Err(()) => {
                assert!(!state.0, "the permit was given up twice");
                state.0 = true;
                None
            }
        }
    }

    /// Whether the permit is free.
    pub fn is_free(&self) -> bool {
        self.0.lock().0
    }

    /// Waiters in line.
    pub fn waiting(&self) -> usize {
        self.0.lock().1.len()
    }

    /// The tag of the front waiter.
    pub fn front(&self) -> Option<usize> {
        self.0.lock().1.front().copied()
    }
}

impl Future for Enter {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let this = &mut *self;
        let mut state = this.turnstile.0.lock();
        match this.key {
            Some(key) => {
                let ready = state.1.poll(key, cx.waker());
                if ready.is_ready() {
                    this.key = None;
                }
                ready
            }
            None if state.0 && state.1.is_empty() => {
                state.0 = false;
                std::task::Poll::Ready(())
            }
            None => {
                this.key = Some(state.1.push(this.tag, cx.waker()));
                std::task::Poll::Pending
            }
        }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            let mut state = self.turnstile.0.lock();
            match state.1.cancel(key) {
                Some(()) => Turnstile::pass_on(&mut state),
                None => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl fmt::Debug for Turnstile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Turnstile")
    }
}

impl fmt::Debug for Enter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enter").field("tag", &self.tag).finish()
    }
}

// ---- stream writer ---------------------------------------------------------

/// A `StreamWriter` over an in-memory sink that refuses bytes (`Pending`)
/// until [`GatedSink::open`] is called, for the writer's flusher handoff.
#[derive(Clone)]
pub struct GatedSink(Arc<Mutex<GateState>>);

struct GateState {
    open: bool,
    waker: Option<std::task::Waker>,
    received: Vec<u8>,
    shut_down: bool,
}

impl GatedSink {
    /// A closed gate and a writer over it whose flusher runs on `handle`.
    pub fn writer(handle: &crate::Handle) -> (crate::StreamWriter, GatedSink) {
        let gate = GatedSink(Arc::new(Mutex::new(GateState {
            open: false,
            waker: None,
            received: Vec::new(),
            shut_down: false,
        })));
        let writer = crate::StreamWriter::from_sink_on(gate.clone(), Some(handle.clone()));
        (writer, gate)
    }

    /// Opens the gate (for good) and wakes the flusher if it waits.
    pub fn open(&self) {
        let waker = {
            let mut state = self.0.lock();
            state.open = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The bytes written so far, and whether the write side was shut down.
    pub fn received(&self) -> (Vec<u8>, bool) {
        let state = self.0.lock();
        (state.received.clone(), state.shut_down)
    }
}

impl crate::streams::source::WriteSink for GatedSink {
    fn poll_write_vectored(
        &mut self,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let mut state = self.0.lock();
        if !state.open {
            state.waker = Some(cx.waker().clone());
            return std::task::Poll::Pending;
        }
        let mut n = 0;
        for b in bufs {
            state.received.extend_from_slice(b);
            n += b.len();
        }
        std::task::Poll::Ready(Ok(n))
    }

    fn shutdown_write(&mut self) -> std::io::Result<()> {
        self.0.lock().shut_down = true;
        Ok(())
    }
}

impl fmt::Debug for GatedSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GatedSink")
    }
}

// ---- signals ----------------------------------------------------------------

/// The signal registry of `corio::signal` (pending flags and receiver
/// slots), without the OS handler and the self-pipe that surround it
/// (a model plays those: a `record` then a pipe write is the handler).
pub struct SignalRegistry(crate::signal::registry::Registry);

/// One receiver's slot in a [`SignalRegistry`].
pub struct SignalSlot(Arc<crate::signal::registry::Slot>);

impl SignalRegistry {
    /// A registry for signals `0..count`.
    pub fn new(count: usize) -> SignalRegistry {
        SignalRegistry(crate::signal::registry::Registry::new(count))
    }

    /// What the OS handler does before writing to the pipe.
    pub fn record(&self, sig: usize) {
        self.0.record(sig)
    }

    /// What the pipe's reader does after draining it.
    pub fn dispatch(&self) {
        self.0.dispatch()
    }

    /// Adds a receiver of `sig`.
    pub fn subscribe(&self, sig: usize) -> SignalSlot {
        SignalSlot(self.0.subscribe(sig, || Ok::<(), ()>(())).unwrap())
    }

    /// Removes a receiver of `sig`.
    pub fn unsubscribe(&self, sig: usize, slot: &SignalSlot) {
        self.0.unsubscribe(sig, &slot.0, || ())
    }
}

impl SignalSlot {
    /// `Signal::recv`'s wait on its slot.
    pub fn poll_take(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.0.poll_take(cx)
    }
}

impl fmt::Debug for SignalRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalRegistry").finish_non_exhaustive()
    }
}

impl fmt::Debug for SignalSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalSlot").finish_non_exhaustive()
    }
}

// ---- protocol reactor -------------------------------------------------------

/// corio's `protocol::ready::ReadyList`, unchanged: per-connection wakers
/// that queue the connection's index and wake the reactor.
pub struct ReadyList(crate::protocol::ready::ReadyList);

/// One connection's waker in a [`ReadyList`].
pub struct ConnWaker(crate::protocol::ready::ConnWaker);

impl ReadyList {
    /// An empty list.
    #[allow(clippy::new_without_default)]
    pub fn new() -> ReadyList {
        ReadyList(crate::protocol::ready::ReadyList::new())
    }

    /// A new connection's waker (the connection starts queued).
    pub fn waker(&self, index: usize) -> ConnWaker {
        ConnWaker(self.0.waker(index))
    }

    /// Reactor side: stores `reactor` and appends the queued indices.
    pub fn drain(&self, reactor: &std::task::Waker, out: &mut Vec<usize>) {
        self.0.drain(reactor, out)
    }
}

impl ConnWaker {
    /// Reactor side, before serving the connection: clears its flag.
    pub fn prepare(&self) {
        self.0.prepare()
    }

    /// A clone of the waker, as a socket's readiness state keeps it.
    pub fn waker(&self) -> std::task::Waker {
        self.0.waker().clone()
    }
}

impl fmt::Debug for ReadyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyList").finish_non_exhaustive()
    }
}

impl fmt::Debug for ConnWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnWaker").finish_non_exhaustive()
    }
}

// ---- protocol server balance ------------------------------------------------

/// corio's `protocol::balance::Balance` over plain values: a server's
/// accepting loop handing a connection to the least-loaded loop, racing with
/// that loop's reactor finishing.
pub struct Balance(crate::protocol::balance::Balance<u32>);

impl Balance {
    /// A balance over loops woken (to take their inbox) by `wakers`.
    pub fn new(wakers: Vec<std::task::Waker>) -> Balance {
        Balance(crate::protocol::balance::Balance::new(wakers))
    }

    /// The loop that takes a connection accepted by loop `me` (counted).
    pub fn reserve(&self, me: usize) -> usize {
        self.0.reserve(me)
    }

    /// Hands `item` to loop `to`, reserved by [`reserve`](Self::reserve).
    pub fn hand(&self, to: usize, item: u32) {
        self.0.hand(to, item)
    }

    /// What was handed to loop `me`.
    pub fn take(&self, me: usize) -> Vec<u32> {
        let mut out = Vec::new();
        self.0.take(me, &mut out);
        out
    }

    /// One of loop `me`'s connections ended.
    pub fn left(&self, me: usize) {
        self.0.left(me)
    }

    /// Loop `me` finishes if nothing is served by or on its way to it.
    pub fn try_close(&self, me: usize) -> bool {
        self.0.try_close(me)
    }
}

impl fmt::Debug for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balance").finish_non_exhaustive()
    }
}
