//! `EventLoop`: asyncio's loop object for the current core.
//!
//! Callbacks are local tasks of the loop's owner thread: they run on that
//! thread only, in the order they were queued (one FIFO queue per loop), and
//! cancelling a handle drops the callback before it runs. Timed callbacks
//! wait on the loop's own timing wheel, which orders them by deadline and
//! then by the order they were set.

use super::driver::Driver;
use super::scheduler::local::LocalOwner;
use crate::loom::clock::{self, Instant};
use crate::loom::sync::Arc;
use crate::runtime::{context, Handle};
use crate::task::{spawn_on_owner, Task};
use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// The event loop of the current core: asyncio's `AbstractEventLoop`.
///
/// On a worker thread it is that worker's loop; inside `run`/`block_on` it is
/// the calling thread's loop (its timers and file descriptors are served by
/// one of the workers' event loops, its callbacks run on the calling thread).
/// It is `Clone + Send`: a clone used from another thread still schedules
/// onto this loop.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// corio::run(async {
///     let lp = corio::get_running_loop();
///     let log = Arc::new(Mutex::new(Vec::new()));
///     for i in 0..3 {
///         let log = log.clone();
///         lp.call_soon(move || log.lock().unwrap().push(i));
///     }
///     corio::sleep(Duration::from_millis(5)).await;
///     assert_eq!(*log.lock().unwrap(), vec![0, 1, 2]);
/// });
/// ```
#[derive(Clone)]
pub struct EventLoop {
    local: Arc<LocalOwner>,
    #[cfg_attr(loom, allow(dead_code))]
    driver: Arc<Driver>,
    /// The runtime, for its blocking pool.
    handle: Handle,
}

/// Returns the event loop of the current thread.
///
/// # Panics
/// Outside a corio runtime (there is no running loop), like asyncio's
/// `get_running_loop`. See [`try_get_running_loop`].
#[track_caller]
pub fn get_running_loop() -> EventLoop {
    try_get_running_loop().unwrap_or_else(|| {
        panic!("get_running_loop must be called from inside a corio runtime (no event loop is running on this thread)")
    })
}

/// Returns the event loop of the current thread, or `None` outside a runtime.
pub fn try_get_running_loop() -> Option<EventLoop> {
    context::current_loop().map(|(local, driver, handle)| EventLoop {
        local,
        driver,
        handle,
    })
}

impl EventLoop {
    /// Runs blocking `f` on the runtime's blocking pool: asyncio's
    /// `loop.run_in_executor(None, f)`, the same as
    /// [`to_thread`](crate::to_thread) (whose docs say what cancelling and
    /// shutdown do). Callable from any thread that holds the loop.
    ///
    /// ```
    /// corio::run(async {
    ///     let lp = corio::get_running_loop();
    ///     let sum = lp.run_in_executor(|| (1..=10u64).sum::<u64>());
    ///     assert_eq!(sum.await.unwrap(), 55);
    /// });
    /// ```
    #[track_caller]
    pub fn run_in_executor<F, R>(&self, f: F) -> Task<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        super::blocking::spawn_blocking(&self.handle, f, Location::caller())
    }

    /// The loop's clock: a monotonic `Instant`, the time base of
    /// [`call_at`](Self::call_at).
    pub fn time(&self) -> Instant {
        clock::now()
    }

    /// Schedules `f` to run on this loop soon, after the callbacks already
    /// queued (FIFO). Callable from any thread.
    #[track_caller]
    pub fn call_soon<F>(&self, f: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let task = spawn_on_owner(&self.local, async move { f() }, Location::caller());
        CallbackHandle { task }
    }

    /// The same as [`call_soon`](Self::call_soon): every corio loop method is
    /// thread-safe; this name is kept for asyncio readers.
    #[track_caller]
    pub fn call_soon_threadsafe<F>(&self, f: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        self.call_soon(f)
    }

    /// Schedules `f` to run on this loop after `delay`. Callbacks due at the
    /// same instant run in the order they were scheduled.
    #[track_caller]
    pub fn call_later<F>(&self, delay: Duration, f: F) -> TimerHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let when = crate::time::sleep_deadline_after(self.time(), delay);
        self.call_at(when, f)
    }

    /// Schedules `f` to run on this loop at `when` (a past instant means as
    /// soon as possible).
    #[track_caller]
    pub fn call_at<F>(&self, when: Instant, f: F) -> TimerHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let fut = async move {
            crate::time::sleep_until(when).await;
            f()
        };
        let task = spawn_on_owner(&self.local, fut, Location::caller());
        TimerHandle { task, when }
    }
}

#[cfg(not(loom))]
impl EventLoop {
    /// Calls `callback` on this loop whenever `fd` is readable (asyncio's
    /// level-triggered semantics), replacing any reader callback already set
    /// for `fd`. The descriptor must stay open until `remove_reader`.
    ///
    /// # Errors
    /// If the descriptor cannot be watched (a regular file, a closed fd, or
    /// one already registered by a corio socket).
    #[track_caller]
    pub fn add_reader<F>(&self, fd: std::os::fd::RawFd, callback: F) -> std::io::Result<()>
    where
        F: FnMut() + Send + 'static,
    {
        let dir = crate::io::scheduled_io::Direction::Read;
        crate::io::fd_watch::add(
            &self.driver,
            &self.local,
            fd,
            dir,
            callback,
            Location::caller(),
        )
    }

    /// Stops watching `fd` for reading; `true` if a reader was set.
    pub fn remove_reader(&self, fd: std::os::fd::RawFd) -> bool {
        crate::io::fd_watch::remove(&self.driver, fd, crate::io::scheduled_io::Direction::Read)
    }

    /// Calls `callback` on this loop whenever `fd` is writable, replacing any
    /// writer callback already set for `fd`.
    ///
    /// # Errors
    /// As for [`add_reader`](Self::add_reader).
    #[track_caller]
    pub fn add_writer<F>(&self, fd: std::os::fd::RawFd, callback: F) -> std::io::Result<()>
    where
        F: FnMut() + Send + 'static,
    {
        let dir = crate::io::scheduled_io::Direction::Write;
        crate::io::fd_watch::add(
            &self.driver,
            &self.local,
            fd,
            dir,
            callback,
            Location::caller(),
        )
    }

    /// Stops watching `fd` for writing; `true` if a writer was set.
    pub fn remove_writer(&self, fd: std::os::fd::RawFd) -> bool {
        crate::io::fd_watch::remove(&self.driver, fd, crate::io::scheduled_io::Direction::Write)
    }

    /// Calls `callback` on this loop (as with [`call_soon`](Self::call_soon))
    /// after each delivery of signal `signum`, replacing a handler this loop
    /// already has for it. Handlers on other loops, and
    /// [`signal`](crate::signal::signal) receivers, get the signal too.
    /// Deliveries that arrive before the callback runs may be coalesced into
    /// one call. See [`corio::signal`](crate::signal) for how the previous
    /// disposition is chained and restored.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// corio::run(async {
    ///     let lp = corio::get_running_loop();
    ///     let got = Arc::new(corio::sync::Event::new());
    ///     let g = got.clone();
    ///     lp.add_signal_handler(libc::SIGWINCH, move || g.set()).unwrap();
    ///     // SAFETY: raising a signal that is being listened to is harmless.
    ///     unsafe { libc::raise(libc::SIGWINCH) };
    ///     got.wait().await;
    ///     assert!(lp.remove_signal_handler(libc::SIGWINCH));
    ///     assert!(lp.add_signal_handler(libc::SIGKILL, || ()).is_err());
    /// });
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` for a signal that cannot be handled (SIGKILL, SIGSTOP,
    /// SIGSEGV, SIGBUS, SIGFPE, SIGILL) or a number that is not a signal.
    #[track_caller]
    pub fn add_signal_handler<F>(&self, signum: i32, callback: F) -> std::io::Result<()>
    where
        F: Fn() + Send + Sync + 'static,
    {
        crate::signal::handlers::add(&self.local, signum, callback, Location::caller())
    }

    /// Removes this loop's handler of `signum`; `true` if there was one. Its
    /// callback is not called again. When no handler or receiver of the
    /// signal is left, its previous disposition is restored (as soon as the
    /// loop drops the cancelled handler task, which holds the
    /// subscription).
    pub fn remove_signal_handler(&self, signum: i32) -> bool {
        crate::signal::handlers::remove(&self.local, signum)
    }
}

/// The Protocol API (`corio::protocol`): asyncio's `create_server`,
/// `create_connection` and `create_datagram_endpoint`.
#[cfg(not(loom))]
impl EventLoop {
    /// Serves `addr` with a new protocol from `protocol_factory` for every
    /// accepted connection: asyncio's `loop.create_server`, corio's fastest
    /// way to serve bytes (no task per connection; see
    /// [`corio::protocol`](crate::protocol)).
    ///
    /// The listening socket is served by *every* worker's loop, whichever
    /// loop this is (also from inside `run`/`block_on`): each worker accepts
    /// connections and runs their callbacks itself, so a server uses every
    /// core, and a connection stays on the worker that accepted it. A host
    /// name that resolves to several addresses gets one listening socket per
    /// address (as in asyncio). The returned [`Server`](crate::streams::Server)
    /// is the one [`start_server`](crate::streams) returns: `close` stops
    /// accepting at once and leaves open connections running;
    /// `wait_closed` also waits until every protocol's `connection_lost`
    /// has returned. Host names are resolved on the calling thread.
    ///
    /// # Errors
    /// If no address resolves, or binding fails (address in use, no
    /// permission).
    ///
    /// ```
    /// use corio::protocol::{Protocol, Transport};
    ///
    /// struct Hello;
    /// impl Protocol for Hello {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         transport.write(b"hello\n");
    ///         transport.close();
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    ///
    /// corio::run(async {
    ///     let server = corio::get_running_loop()
    ///         .create_server(|| Hello, "127.0.0.1:0")
    ///         .await
    ///         .unwrap();
    ///     let s = corio::net::TcpStream::connect(server.local_addrs()[0]).await.unwrap();
    ///     let mut buf = [0; 6];
    ///     s.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"hello\n");
    ///     server.close();
    ///     server.wait_closed().await;
    /// });
    /// ```
    pub async fn create_server<F, P>(
        &self,
        protocol_factory: F,
        addr: impl crate::net::ToSocketAddrs,
    ) -> std::io::Result<crate::streams::Server>
    where
        F: Fn() -> P + Send + Sync + 'static,
        P: crate::protocol::Protocol,
    {
        crate::protocol::create_server(&self.handle, protocol_factory, addr, Location::caller())
            .await
    }

    /// The worker loop that serves this loop's protocol connections: this
    /// loop on a worker; on a `run`/`block_on` thread, the worker whose
    /// event loop already serves that thread's sockets (a `block_on` loop
    /// runs only while `block_on` does, and a connection must be served
    /// after it returns).
    fn protocol_home(&self) -> (Arc<LocalOwner>, Arc<Driver>) {
        let home = self
            .handle
            .shared
            .remotes
            .iter()
            .find(|r| Arc::ptr_eq(&r.driver, &self.driver));
        match home {
            Some(r) => (r.local.clone(), r.driver.clone()),
            None => (self.local.clone(), self.driver.clone()),
        }
    }

    /// Connects to `addr` and runs a protocol from `protocol_factory` on the
    /// connection, on this loop (from inside `run`/`block_on`: on the worker
    /// loop that serves that thread's sockets, so that the connection is
    /// served after `block_on` returns): asyncio's
    /// `loop.create_connection`.
    ///
    /// Returns the [`Transport`](crate::protocol::Transport); the protocol
    /// itself is owned by the loop (asyncio returns a `(transport,
    /// protocol)` pair, but a protocol shared with the caller would need a
    /// lock around every callback: share state through the protocol's own
    /// fields, an `Arc`, or a channel instead). `connection_made` runs on
    /// this loop soon after the call returns; the transport can be written
    /// to at once.
    ///
    /// # Errors
    /// As `TcpStream::connect`: `ConnectionRefused` when nothing listens,
    /// the last address's error when several were tried.
    pub async fn create_connection<F, P>(
        &self,
        protocol_factory: F,
        addr: impl crate::net::ToSocketAddrs,
    ) -> std::io::Result<crate::protocol::Transport>
    where
        F: FnOnce() -> P,
        P: crate::protocol::Protocol,
    {
        let (local, driver) = self.protocol_home();
        crate::protocol::create_connection(
            &local,
            &driver,
            protocol_factory,
            addr,
            Location::caller(),
        )
        .await
    }

    /// Binds a UDP socket to `local_addr` and runs a datagram protocol from
    /// `protocol_factory` on it, on this loop (or, from `run`/`block_on`, a
    /// worker's, as for [`create_connection`](Self::create_connection)):
    /// asyncio's
    /// `loop.create_datagram_endpoint(factory, local_addr=...)`. Returns the
    /// [`DatagramTransport`](crate::protocol::DatagramTransport) (the
    /// protocol is owned by the loop, as for
    /// [`create_connection`](Self::create_connection)).
    ///
    /// # Errors
    /// If no address resolves or binding fails.
    pub async fn create_datagram_endpoint<F, P>(
        &self,
        protocol_factory: F,
        local_addr: impl crate::net::ToSocketAddrs,
    ) -> std::io::Result<crate::protocol::DatagramTransport>
    where
        F: FnOnce() -> P,
        P: crate::protocol::DatagramProtocol,
    {
        let (local, driver) = self.protocol_home();
        crate::protocol::create_datagram_endpoint(
            &local,
            &driver,
            protocol_factory,
            local_addr,
            Location::caller(),
        )
        .await
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop").finish_non_exhaustive()
    }
}

/// A callback queued by [`EventLoop::call_soon`]; dropping the handle leaves
/// the callback scheduled.
#[derive(Debug)]
pub struct CallbackHandle {
    task: Task<()>,
}

impl CallbackHandle {
    /// Unschedules the callback if it has not run yet; `true` if it had not.
    pub fn cancel(&self) -> bool {
        self.task.cancel()
    }

    /// `true` once the callback ran or was cancelled.
    pub fn is_done(&self) -> bool {
        self.task.is_done()
    }

    /// `true` if the callback was cancelled before it ran.
    pub fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }
}

/// A callback scheduled by [`EventLoop::call_later`] or
/// [`EventLoop::call_at`]; dropping the handle leaves it scheduled.
#[derive(Debug)]
pub struct TimerHandle {
    task: Task<()>,
    when: Instant,
}

impl TimerHandle {
    /// Unschedules the callback (and its timer) if it has not run yet; `true`
    /// if it had not.
    pub fn cancel(&self) -> bool {
        self.task.cancel()
    }

    /// When the callback is due.
    pub fn when(&self) -> Instant {
        self.when
    }

    /// `true` once the callback ran or was cancelled.
    pub fn is_done(&self) -> bool {
        self.task.is_done()
    }

    /// `true` if the callback was cancelled before it ran.
    pub fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }
}
