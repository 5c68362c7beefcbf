//! A source registered with a worker's event loop, and the loop that turns
//! readiness into completed operations.
//!
//! Registration is lazy: a socket joins the event loop of the thread that
//! first waits on it, not of the thread that created it. An accepted
//! connection is therefore served by the loop of the worker that runs its
//! handler task (which work stealing spreads over the cores), not piled onto
//! the loop of the accepting task. From then on the socket stays with that
//! loop; if the task moves to another core, readiness still arrives on the
//! home loop, whose dispatch wakes the task wherever it is.

use super::scheduled_io::{Direction, ScheduledIo, ERROR, READ_CLOSED, SHUTDOWN, WRITE_CLOSED};
use crate::loom::sync::{Arc, Mutex, OnceLock};
use crate::runtime::coop;
use crate::runtime::driver::Driver;
use mio::unix::SourceFd;
use mio::Interest;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{ready, Context, Poll};

/// The registration of one source with its home event loop.
pub(crate) struct Registration {
    driver: Arc<Driver>,
    token: usize,
    io: Arc<ScheduledIo>,
}

impl Registration {
    /// Runs `op` when the source is ready in `direction`, until it does not
    /// report `WouldBlock`. Only `WouldBlock` clears the readiness the task
    /// saw (edge-triggered: anything else could lose an edge).
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(cx, direction, op, |_| false)
    }

    /// `poll_io` for a read of at most `len` bytes from a byte stream (a
    /// stream socket): a read that returns fewer bytes than asked drained
    /// the kernel's buffer, so it clears the readiness at once instead of
    /// leaving the next read to find out with a `WouldBlock` (one system
    /// call saved per message).
    fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io_until_drained(cx, Direction::Read, op, |&n| n > 0 && n < len)
    }

    /// `poll_io`, where a successful result for which `drained` holds also
    /// clears the readiness. Bytes that arrive after the operation are a new
    /// edge: its tick makes the clear fail, or its bits land after the
    /// clear, so nothing is lost. Never when the event also reported the
    /// peer's close or an error: that edge does not come again, and the
    /// next operation must see it.
    fn poll_io_until_drained<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        loop {
            let event = ready!(self.io.poll_ready(cx, direction));
            if event.ready & SHUTDOWN != 0 {
                return Poll::Ready(Err(shut_down()));
            }
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readiness(event),
                res => {
                    if matches!(&res, Ok(r) if drained(r))
                        && event.ready & (READ_CLOSED | WRITE_CLOSED | ERROR) == 0
                    {
                        self.io.clear_readiness(event);
                    }
                    coop::consume();
                    return Poll::Ready(res);
                }
            }
        }
    }

    fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<io::Result<()>> {
        let event = ready!(self.io.poll_ready(cx, direction));
        if event.ready & SHUTDOWN != 0 {
            return Poll::Ready(Err(shut_down()));
        }
        Poll::Ready(Ok(()))
    }
}

fn shut_down() -> io::Error {
    io::Error::other("the corio runtime this socket was registered with has shut down")
}

/// A mio source and its (lazy) registration: deregistered, then closed, on
/// drop.
pub(crate) struct PollEvented<E: AsRawFd> {
    io: Option<E>,
    interest: Interest,
    registration: OnceLock<Registration>,
    /// Serialises the first registration (two tasks may race to it).
    init: Mutex<()>,
}

impl<E: AsRawFd> PollEvented<E> {
    /// Wraps a non-blocking source; it registers on first use.
    pub(crate) fn new(io: E, interest: Interest) -> io::Result<PollEvented<E>> {
        Ok(PollEvented {
            io: Some(io),
            interest,
            registration: OnceLock::new(),
            init: Mutex::new(()),
        })
    }

    pub(crate) fn get(&self) -> &E {
        self.io.as_ref().expect("source present until drop")
    }

    fn fd(&self) -> RawFd {
        self.get().as_raw_fd()
    }

    /// The registration, made with the current thread's event loop on first
    /// use.
    ///
    /// # Panics
    /// If the first use is outside a corio runtime.
    fn registration(&self) -> io::Result<&Registration> {
        if let Some(r) = self.registration.get() {
            return Ok(r);
        }
        let _init = self.init.lock();
        if let Some(r) = self.registration.get() {
            return Ok(r);
        }
        let driver = crate::runtime::context::current_driver("using a corio socket");
        let (token, io) = driver
            .sources
            .register(&mut SourceFd(&self.fd()), self.interest)?;
        Ok(self
            .registration
            .get_or_init(|| Registration { driver, token, io }))
    }

    /// Runs `op` on the source when ready (see `Registration::poll_io`).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let registration = match self.registration() {
            Ok(r) => r,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let io = self.get();
        registration.poll_io(cx, direction, || op(io))
    }

    /// Reads into `buf` from a byte stream when readable (see
    /// `Registration::poll_read_stream`).
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        mut op: impl FnMut(&E, &mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let registration = match self.registration() {
            Ok(r) => r,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let io = self.get();
        let len = buf.len();
        registration.poll_read_stream(cx, len, || op(io, buf))
    }

    /// Waits until the source is ready in `direction` (without clearing).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<()>> {
        match self.registration() {
            Ok(r) => r.poll_ready(cx, direction),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn deregister(&mut self) -> io::Result<()> {
        match self.registration.take() {
            Some(r) => {
                let fd = self.fd();
                r.driver.sources.deregister(r.token, &mut SourceFd(&fd))
            }
            None => Ok(()),
        }
    }

    /// Deregisters and returns the source (for `into_std`).
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        self.deregister()?;
        Ok(self.io.take().expect("source present until drop"))
    }
}

impl<E: AsRawFd> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Deregistering can only fail if the loop is gone (shut down), in
            // which case there is nothing left to deregister from.
            let _ = self.deregister();
        }
    }
}
