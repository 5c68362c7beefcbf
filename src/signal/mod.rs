//! Unix signals delivered through the event loop: asyncio's
//! `loop.add_signal_handler` (see
//! [`EventLoop::add_signal_handler`](crate::EventLoop::add_signal_handler))
//! and tokio's `signal::unix::signal`.
//!
//! ```no_run
//! use corio::signal::{signal, SignalKind};
//! corio::run(async {
//!     let mut hup = signal(SignalKind::hangup()).unwrap();
//!     while hup.recv().await.is_some() {
//!         println!("reloading configuration");
//!     }
//! });
//! ```
//!
//! How a signal travels: corio's `sigaction` handler sets the signal's
//! pending flag and writes a byte to a non-blocking self-pipe; a receiver
//! waiting in [`Signal::recv`] has a duplicate of the pipe's read end
//! registered with its loop, drains the pipe when it becomes readable, and
//! notifies every receiver of every signal whose flag was set, in any
//! runtime. Several deliveries of one signal before a receiver looks may
//! count once (as in tokio).
//!
//! Dispositions: the first receiver of a signal installs corio's handler;
//! a handler that was there before (a function, not `SIG_DFL`/`SIG_IGN`)
//! is still called after corio's (chained). When the last receiver is
//! dropped the previous disposition is restored, like asyncio's
//! `remove_signal_handler` (tokio instead leaves its handler in place for
//! the life of the process): after `ctrl_c().await` returns and nothing else
//! listens, a second Ctrl-C terminates the program as usual.
//!
//! SIGPIPE: building a [`Runtime`](crate::Runtime) sets SIGPIPE to "ignore"
//! if it has its default disposition, so that writing to a closed socket or
//! pipe fails with `EPIPE` (`ErrorKind::BrokenPipe`) instead of killing the
//! process. Child processes get the default back (std's `Command` does so).

#[cfg(not(loom))]
pub(crate) mod handlers;
mod kind;
#[cfg(not(loom))]
pub(crate) mod os;
pub(crate) mod registry;

pub use kind::SignalKind;

#[cfg(not(loom))]
pub use self::unix::{ctrl_c, signal, Signal};

#[cfg(not(loom))]
mod unix {
    use super::os::{self, Subscription};
    use super::SignalKind;
    use crate::io::registration::PollEvented;
    use crate::io::scheduled_io::Direction;
    use std::fmt;
    use std::future::poll_fn;
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::task::{Context, Poll};

    /// A stream of deliveries of one signal, from [`signal`].
    ///
    /// Each `Signal` gets every delivery that arrives while it exists (with
    /// coalescing: several before one `recv` may count once). It may be
    /// created anywhere, but is polled inside a corio runtime: it registers
    /// with the loop of the thread that first awaits it.
    pub struct Signal {
        sub: Subscription,
        pipe: PollEvented<OwnedFd>,
    }

    /// Listens to `kind`: from now on, each delivery of the signal is
    /// received by [`Signal::recv`] instead of taking the signal's previous
    /// action (see the [module docs](super) for chaining and restoring).
    ///
    /// # Errors
    /// `InvalidInput` for SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL
    /// (which cannot be caught or cannot be handled safely) and for numbers
    /// that are not signals; an OS error if the self-pipe cannot be made.
    ///
    /// ```
    /// use corio::signal::{signal, SignalKind};
    /// corio::run(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    ///     // SAFETY: raising a signal that is being listened to is harmless.
    ///     unsafe { libc::raise(libc::SIGUSR2) };
    ///     assert_eq!(usr2.recv().await, Some(()));
    ///     assert!(signal(SignalKind::from_raw(libc::SIGKILL)).is_err());
    /// });
    /// ```
    pub fn signal(kind: SignalKind) -> io::Result<Signal> {
        let (sub, fd) = os::subscribe(kind.as_raw_value())?;
        let pipe = PollEvented::new(fd, mio::Interest::READABLE)?;
        Ok(Signal { sub, pipe })
    }

    /// Waits for one SIGINT (Ctrl-C). Only deliveries after the call count.
    ///
    /// # Errors
    /// If the handler cannot be installed.
    pub async fn ctrl_c() -> io::Result<()> {
        let mut sig = signal(SignalKind::interrupt())?;
        sig.recv().await;
        Ok(())
    }

    impl Signal {
        /// Waits for the next delivery: `Some(())`, or `None` when none can
        /// come any more (the runtime this receiver was registered with has
        /// shut down). Cancel-safe: a delivery is consumed only by a `recv`
        /// that returns it.
        ///
        /// # Panics
        /// If first awaited outside a corio runtime.
        pub async fn recv(&mut self) -> Option<()> {
            poll_fn(|cx| self.poll_recv(cx)).await
        }

        /// Polls for the next delivery (the poll form of
        /// [`recv`](Self::recv)).
        pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
            loop {
                if self.sub.slot.poll_take(cx).is_ready() {
                    return Poll::Ready(Some(()));
                }
                // Nothing for us yet: read the pipe ourselves (no other task
                // is guaranteed to), dispatching to every receiver.
                match self
                    .pipe
                    .poll_io(cx, Direction::Read, |fd| os::drain(fd.as_raw_fd()))
                {
                    Poll::Ready(Ok(())) => os::dispatch(),
                    Poll::Ready(Err(_)) => {
                        // The loop is gone; deliver what already arrived.
                        os::dispatch();
                        return match self.sub.slot.try_take() {
                            true => Poll::Ready(Some(())),
                            false => Poll::Ready(None),
                        };
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
        }

        /// The signal this receiver listens to.
        pub fn kind(&self) -> SignalKind {
            SignalKind::from_raw(self.sub.sig as i32)
        }
    }

    impl fmt::Debug for Signal {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Signal")
                .field("signum", &self.sub.sig)
                .finish_non_exhaustive()
        }
    }
}
