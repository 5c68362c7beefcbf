//! A worker's event loop: its `mio::Poll`, its timers, and how it sleeps.
//!
//! Each worker owns one `Driver`. The worker sleeps in `park`, which is
//! `epoll_wait` on its own `Poll` with the nearest timer as the timeout, and
//! is woken by `unpark`, which fires the `Poll`'s `mio::Waker` (an eventfd
//! write) only if the worker is actually asleep in it. A busy worker polls its
//! driver with a zero timeout every 61 ticks so that a long run queue does not
//! starve I/O.
//!
//! The `Poll` sits behind a mutex that its owner holds while it polls or
//! sleeps. When the owner is stuck in one long task poll, an idle worker
//! `try_lock`s that mutex and polls the driver for it (`try_handoff`):
//! readiness and timers of a busy core are delivered within a few
//! milliseconds instead of waiting for the long poll to end.
//!
//! Timers live in a per-driver timing wheel behind their own mutex, so that a
//! timer can be set or cancelled from any thread (a task stolen to another
//! core drops its `Sleep` there) while the owner sleeps in `epoll_wait`.

use crate::loom::clock::{self, Instant};
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::loom::sys;
use crate::time::wheel::{Fired, TimerKey, Wheel};
use std::io;
use std::task::Waker;
use std::time::Duration;

#[cfg(not(loom))]
pub(crate) mod alarm;
#[cfg(not(loom))]
pub(crate) mod io_driver;

/// The token of the driver's own waker; sources use tokens from 1.
const WAKER_TOKEN: sys::Token = sys::Token(0);
/// The token of the watched peer's alarm (see `alarm.rs`).
#[cfg(not(loom))]
const WATCH_TOKEN: sys::Token = sys::Token(usize::MAX);

/// Park states (an unpark token, as with `std::thread::park`).
const AWAKE: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// `next_wake` of an owner that is awake (it will look at its timers itself).
const WAKE_AWAKE: u64 = 0;
/// `next_wake` of an owner asleep with no timer.
const WAKE_NEVER: u64 = u64::MAX;

/// A driver not polled for this long is polled by an idle worker.
pub(crate) const HANDOFF_AFTER: Duration = Duration::from_millis(2);

pub(crate) struct Driver {
    state: AtomicUsize,
    io: Mutex<IoCore>,
    waker: sys::Waker,
    #[cfg(not(loom))]
    pub(crate) sources: io_driver::Registry,
    /// This driver's watch alarm (registered in the next worker's loop).
    #[cfg(not(loom))]
    alarm: std::sync::Arc<alarm::Alarm>,
    /// The alarm of the peer this driver watches.
    #[cfg(not(loom))]
    watched_alarm: std::sync::OnceLock<std::sync::Arc<alarm::Alarm>>,
    /// Armed timers, kept current under the timer lock and read without it
    /// by idle peers deciding whether to watch us.
    timer_count: AtomicUsize,
    /// Descriptors watched by `EventLoop::add_reader`/`add_writer`.
    #[cfg(not(loom))]
    pub(crate) fd_watches: Mutex<crate::io::fd_watch::FdWatches>,
    timers: Mutex<TimerCore>,
    /// Tick 0 of every driver of the runtime, so that ticks compare.
    origin: Instant,
    /// The tick at which the sleeping owner will wake by itself: a timer set
    /// earlier than this must unpark it. `WAKE_AWAKE` while it runs.
    next_wake: AtomicU64,
    /// Milliseconds since `origin` of the last poll of this driver.
    last_polled: AtomicU64,
    pub(crate) io_events: AtomicU64,
    pub(crate) timers_fired: AtomicU64,
}

struct IoCore {
    poll: sys::Poll,
    events: sys::Events,
}

struct TimerCore {
    wheel: Wheel,
    /// The runtime shut down: timers can no longer fire.
    shut_down: bool,
    /// Reused buffer of fired timers, woken outside the lock.
    fired: Vec<Fired>,
}

/// The driver's `Poll`, held by whoever polls it; dropping it releases the
/// driver to others.
pub(crate) struct Polled<'a> {
    core: MutexGuard<'a, IoCore>,
}

/// A timer was used after its runtime shut down (tokio does the same).
#[cold]
#[track_caller]
fn timer_after_shutdown() -> ! {
    panic!("a corio timer was used after its runtime shut down: the runtime that runs its event loop is gone")
}

impl Driver {
    pub(crate) fn new(origin: Instant) -> io::Result<Driver> {
        let poll = sys::Poll::new()?;
        let waker = sys::Waker::new(poll.registry(), WAKER_TOKEN)?;
        #[cfg(not(loom))]
        let sources = io_driver::Registry::new(poll.registry().try_clone()?);
        Ok(Driver {
            state: AtomicUsize::new(AWAKE),
            io: Mutex::new(IoCore {
                poll,
                events: sys::Events::with_capacity(1024),
            }),
            waker,
            #[cfg(not(loom))]
            sources,
            #[cfg(not(loom))]
            fd_watches: Mutex::new(Default::default()),
            #[cfg(not(loom))]
            alarm: std::sync::Arc::new(alarm::Alarm::new()?),
            #[cfg(not(loom))]
            watched_alarm: std::sync::OnceLock::new(),
            timer_count: AtomicUsize::new(0),
            timers: Mutex::new(TimerCore {
                wheel: Wheel::new(),
                shut_down: false,
                fired: Vec::new(),
            }),
            origin,
            next_wake: AtomicU64::new(WAKE_AWAKE),
            last_polled: AtomicU64::new(0),
            io_events: AtomicU64::new(0),
            timers_fired: AtomicU64::new(0),
        })
    }

    /// The tick of `t`, rounded up: a timer never fires before its deadline.
    pub(crate) fn deadline_tick(&self, t: Instant) -> u64 {
        let nanos = t.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(1_000_000)).unwrap_or(u64::MAX - 1)
    }

    /// The tick that `t` is in (rounded down).
    fn now_tick(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX - 1)
    }

    // ---- sleeping and waking -------------------------------------------

    /// Owner only: sleeps in the `Poll` until an event, an unpark, its next
    /// timer, or `cap` (if given), whichever is first. The caller then updates
    /// its idle state and calls `dispatch` with the returned guard, so the
    /// events are handed out after the worker counts as awake again.
    pub(crate) fn park(&self, cap: Option<Duration>) -> Polled<'_> {
        let mut core = self.io.lock();
        // Decide how long to sleep and publish it in one critical section of
        // the timer lock: a timer inserted before it is part of the decision;
        // one inserted after it reads `next_wake` under the same lock and, if
        // it is due sooner, unparks us (a token that sticks even if it lands
        // before we are inside `epoll_wait`). Deciding outside the lock would
        // let a timer slip in between and sleep past it.
        let now = clock::now();
        let timeout = {
            let timers = self.timers.lock();
            let timer = timers
                .wheel
                .next_expiration()
                .map(|tick| self.until_tick(tick, now));
            let timeout = match (timer, cap) {
                (Some(t), Some(c)) => Some(t.min(c)),
                (t, c) => t.or(c),
            };
            let wake_tick = timeout
                .and_then(|t| now.checked_add(t))
                .map_or(WAKE_NEVER, |t| self.deadline_tick(t).max(1));
            self.next_wake.store(wake_tick, SeqCst);
            timeout
        };
        match self.state.compare_exchange(AWAKE, PARKED, SeqCst, SeqCst) {
            Ok(_) => {
                let IoCore { poll, events } = &mut *core;
                if let Err(e) = poll.poll(events, timeout) {
                    if e.kind() != io::ErrorKind::Interrupted {
                        panic!("corio: polling the worker's event loop failed: {e}");
                    }
                }
                // Consume our state: PARKED, or NOTIFIED if someone unparked.
                self.state.swap(AWAKE, SeqCst);
            }
            Err(_) => {
                // NOTIFIED: an unpark arrived before we slept. Poll without
                // blocking so that ready I/O is still collected.
                // A swap, not a store: it must acquire the token of every
                // unpark it consumes, including one that landed after the
                // compare-exchange (see `Parker::park`).
                self.state.swap(AWAKE, SeqCst);
                let IoCore { poll, events } = &mut *core;
                let _ = poll.poll(events, Some(Duration::ZERO));
            }
        }
        self.next_wake.store(WAKE_AWAKE, SeqCst);
        Polled { core }
    }

    /// Wakes the owner if it sleeps in `park`, or makes its next `park`
    /// return at once.
    pub(crate) fn unpark(&self) {
        // SeqCst: pairs with the owner's SeqCst transitions in `park`; the
        // caller's queue push before this is visible once the owner wakes.
        if self.state.swap(NOTIFIED, SeqCst) == PARKED {
            // Only an owner really asleep in epoll_wait costs a system call.
            if let Err(e) = self.waker.wake() {
                panic!("corio: waking a worker's event loop failed: {e}");
            }
        }
    }

    /// Whether the owner is asleep in `park` right now.
    pub(crate) fn is_parked(&self) -> bool {
        self.state.load(SeqCst) == PARKED
    }

    /// Makes this driver watch `peer`'s alarm (see `alarm.rs`).
    pub(crate) fn watch(&self, peer: &Driver) -> io::Result<()> {
        #[cfg(not(loom))]
        {
            self.sources
                .register_raw(peer.alarm.raw_fd(), WATCH_TOKEN.0)?;
            let _ = self.watched_alarm.set(peer.alarm.clone());
        }
        #[cfg(loom)]
        let _ = peer;
        Ok(())
    }

    /// The owner left its sleep alone with work to watch: make sure `peer`
    /// looks in if the owner stays awake past `HANDOFF_AFTER`.
    pub(crate) fn arm_watch(&self, peer: &Driver) {
        #[cfg(not(loom))]
        {
            let _ = peer;
            self.alarm.arm(HANDOFF_AFTER);
        }
        // loom has no timerfd: wake the peer at once (it then watches with a
        // bounded sleep, which is the behaviour the models check).
        #[cfg(loom)]
        peer.unpark();
    }

    // ---- polling ---------------------------------------------------------

    /// Owner's periodic check while busy: collects ready I/O and due timers
    /// without blocking. Skipped if another worker is polling it right now.
    pub(crate) fn poll_now(&self) {
        if !self.has_watchable() {
            // No socket and no timer: nothing to collect, so no system call.
            // (Unparks do not need draining: they are a token in `state`.)
            return;
        }
        if let Some(mut core) = self.io.try_lock() {
            let IoCore { poll, events } = &mut *core;
            let _ = poll.poll(events, Some(Duration::ZERO));
            self.dispatch(Polled { core });
        } else {
            self.fire_timers(clock::now());
        }
    }

    /// Another (idle) worker's attempt to poll this driver for its busy
    /// owner. Returns `true` if it did.
    pub(crate) fn try_handoff(&self) -> bool {
        if self.is_parked() {
            return false;
        }
        let now = clock::now();
        let last = self.last_polled.load(Relaxed);
        if self.now_tick(now).saturating_sub(last) < HANDOFF_AFTER.as_millis() as u64 {
            return false;
        }
        let Some(mut core) = self.io.try_lock() else {
            return false;
        };
        let IoCore { poll, events } = &mut *core;
        let _ = poll.poll(events, Some(Duration::ZERO));
        self.dispatch(Polled { core });
        true
    }

    /// Hands the collected events to their sources, releases the `Poll`, and
    /// fires due timers. Wakers run on the calling thread: on a worker, the
    /// woken tasks land in that worker's queue.
    pub(crate) fn dispatch(&self, polled: Polled<'_>) {
        let now = clock::now();
        // Relaxed: a hint for `try_handoff`, never used to order memory.
        self.last_polled.store(self.now_tick(now), Relaxed);
        let core = polled.core;
        #[cfg(not(loom))]
        {
            if core.events.iter().any(|e| e.token() == WATCH_TOKEN) {
                if let Some(alarm) = self.watched_alarm.get() {
                    alarm.fired();
                }
            }
            let own = |e: &&mio::event::Event| e.token() != WAKER_TOKEN && e.token() != WATCH_TOKEN;
            let n = self.sources.dispatch(core.events.iter().filter(own));
            if n > 0 {
                self.io_events.fetch_add(n as u64, Relaxed);
            }
        }
        #[cfg(loom)]
        for event in core.events.iter() {
            debug_assert_eq!(event.token(), WAKER_TOKEN);
        }
        drop(core);
        self.fire_timers(now);
    }

    // ---- timers ------------------------------------------------------------

    /// How long from `now` until the start of tick `tick`.
    fn until_tick(&self, tick: u64, now: Instant) -> Duration {
        if tick <= self.now_tick(now) {
            return Duration::ZERO;
        }
        (self.origin + Duration::from_millis(tick)).saturating_duration_since(now)
    }

    /// Whether this driver has anything another worker could need to
    /// deliver for it: registered sources or armed timers.
    pub(crate) fn has_watchable(&self) -> bool {
        // Relaxed: hints for the idle-watch decision; a stale answer costs one
        // needless or one late look, never a lost event (the owner itself
        // always polls its loop).
        #[cfg(not(loom))]
        if self.sources.len() > 0 {
            return true;
        }
        self.timer_count.load(Relaxed) > 0
    }

    /// Arms a timer for `deadline`; the owner is woken if it sleeps past it.
    pub(crate) fn insert_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        let tick = self.deadline_tick(deadline);
        let mut timers = self.timers.lock();
        if timers.shut_down {
            drop(timers);
            timer_after_shutdown();
        }
        let key = timers.wheel.insert(tick, deadline, Some(waker.clone()));
        self.timer_count.store(timers.wheel.len(), Relaxed);
        // Read under the lock: see `park` for the other side.
        let wake = self.next_wake.load(SeqCst);
        drop(timers);
        if wake != WAKE_AWAKE && tick < wake {
            self.unpark();
        }
        key
    }

    /// `true` if the timer fired, else stores `waker` for when it does.
    pub(crate) fn poll_timer(&self, key: TimerKey, waker: &Waker) -> bool {
        let mut timers = self.timers.lock();
        if timers.shut_down {
            drop(timers);
            timer_after_shutdown();
        }
        timers.wheel.poll_fired(key, waker)
    }

    /// Forgets a timer, fired or not.
    pub(crate) fn remove_timer(&self, key: TimerKey) {
        let mut timers = self.timers.lock();
        timers.wheel.remove(key);
        self.timer_count.store(timers.wheel.len(), Relaxed);
    }

    /// Fires every timer due at `now`, in deadline-then-FIFO order.
    pub(crate) fn fire_timers(&self, now: Instant) {
        let now_tick = self.now_tick(now);
        let mut fired = {
            let mut timers = self.timers.lock();
            match timers.wheel.next_expiration() {
                Some(next) if next <= now_tick => {}
                _ => return,
            }
            let mut fired = std::mem::take(&mut timers.fired);
            timers.wheel.advance(now_tick, &mut fired);
            self.timer_count.store(timers.wheel.len(), Relaxed);
            fired
        };
        self.timers_fired.fetch_add(fired.len() as u64, Relaxed);
        for f in fired.iter_mut() {
            if let Some(w) = f.waker.take() {
                w.wake();
            }
        }
        fired.clear();
        let mut timers = self.timers.lock();
        if timers.fired.capacity() < fired.capacity() {
            timers.fired = fired;
        }
    }

    /// Runtime shutdown: every source is told it is closed, so nothing waits
    /// on this driver any more.
    pub(crate) fn shutdown(&self) {
        // Timers can no longer fire: wake their waiters, whose next poll
        // reports the shutdown instead of sleeping forever.
        let wakers = {
            let mut timers = self.timers.lock();
            timers.shut_down = true;
            timers.wheel.take_wakers()
        };
        for w in wakers {
            w.wake();
        }
        #[cfg(not(loom))]
        {
            self.sources.shutdown();
            drop(std::mem::take(&mut *self.fd_watches.lock()));
        }
    }
}
