//! A source registered with a worker's event loop, and the loop that turns
//! readiness into completed operations.

use super::scheduled_io::{Direction, ScheduledIo};
use crate::loom::sync::Arc;
use crate::runtime::coop;
use crate::runtime::driver::Driver;
use mio::event::Source;
use mio::Interest;
use std::io;
use std::task::{ready, Context, Poll};

/// The registration of one source with the event loop of the worker it was
/// created on (its *home*). Readiness is always delivered by that loop, even
/// when the task using the source runs on another core; the home loop's
/// waker then reschedules the task.
pub(crate) struct Registration {
    driver: Arc<Driver>,
    token: usize,
    io: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `source` with the current thread's event loop.
    ///
    /// # Panics
    /// Outside a corio runtime.
    #[track_caller]
    pub(crate) fn new(source: &mut impl Source, interest: Interest) -> io::Result<Registration> {
        let driver = crate::runtime::context::current_driver("creating a corio socket");
        let (token, io) = driver.sources.register(source, interest)?;
        Ok(Registration { driver, token, io })
    }

    /// Runs `op` when the source is ready in `direction`, until it does not
    /// report `WouldBlock`. Only `WouldBlock` clears the readiness the task
    /// saw (edge-triggered: anything else could lose an edge).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        loop {
            let event = ready!(self.io.poll_ready(cx, direction));
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readiness(event),
                res => {
                    coop::consume();
                    return Poll::Ready(res);
                }
            }
        }
    }

    /// Waits until the source is ready in `direction` (without clearing).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<()> {
        self.io.poll_ready(cx, direction).map(|_| ())
    }

    /// Removes the source from its event loop; the caller closes it after.
    pub(crate) fn deregister(&self, source: &mut impl Source) -> io::Result<()> {
        self.driver.sources.deregister(self.token, source)
    }
}

/// A mio source with its registration: deregistered, then closed, on drop.
pub(crate) struct PollEvented<E: Source> {
    io: Option<E>,
    registration: Registration,
}

impl<E: Source> PollEvented<E> {
    #[track_caller]
    pub(crate) fn new(mut io: E, interest: Interest) -> io::Result<PollEvented<E>> {
        let registration = Registration::new(&mut io, interest)?;
        Ok(PollEvented { io: Some(io), registration })
    }

    pub(crate) fn get(&self) -> &E {
        self.io.as_ref().expect("source present until drop")
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Runs `op` on the source when ready (see `Registration::poll_io`).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get();
        self.registration.poll_io(cx, direction, || op(io))
    }

    /// Deregisters and returns the source (for `into_std`).
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("source present until drop");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Deregistering can only fail if the loop is gone (shut down), in
            // which case there is nothing left to deregister from.
            let _ = self.registration.deregister(&mut io);
        }
    }
}
