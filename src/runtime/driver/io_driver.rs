//! The sources registered with one driver: registering, dispatching events,
//! deregistering.

use crate::io::scheduled_io::{
    ScheduledIo, ERROR, READABLE, READ_CLOSED, SHUTDOWN, WRITABLE, WRITE_CLOSED,
};
use crate::io::slab::Sources;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::sync::{Arc, Mutex};
use mio::event::{Event, Source};
use mio::{Interest, Token};
use std::io;

pub(crate) struct Registry {
    registry: mio::Registry,
    table: Mutex<Table>,
    /// `table.sources.len()`, readable without the lock (a hint).
    count: AtomicUsize,
}

struct Table {
    sources: Sources,
    /// Scratch space for `dispatch`, kept to avoid an allocation per poll.
    scratch: Vec<(Arc<ScheduledIo>, usize)>,
    closed: bool,
}

impl Registry {
    pub(crate) fn new(registry: mio::Registry) -> Registry {
        Registry {
            registry,
            count: AtomicUsize::new(0),
            table: Mutex::new(Table {
                sources: Sources::default(),
                scratch: Vec::new(),
                closed: false,
            }),
        }
    }

    /// Registers `source` for `interest`, edge-triggered.
    pub(crate) fn register(
        &self,
        source: &mut impl Source,
        interest: Interest,
    ) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::default());
        let token = {
            let mut table = self.table.lock();
            if table.closed {
                return Err(io::Error::other(
                    "the corio runtime this socket belongs to has shut down",
                ));
            }
            table
                .sources
                .insert(io.clone())
                .ok_or_else(|| io::Error::other("too many sources on one corio worker"))?
        };
        if let Err(e) = self.registry.register(source, Token(token), interest) {
            self.table.lock().sources.remove(token);
            return Err(e);
        }
        self.count.fetch_add(1, Relaxed);
        Ok((token, io))
    }

    /// Registers a raw descriptor for readability under a fixed token that
    /// the dispatcher handles itself (no readiness state).
    pub(crate) fn register_raw(&self, fd: std::os::fd::RawFd, token: usize) -> io::Result<()> {
        self.registry.register(
            &mut mio::unix::SourceFd(&fd),
            Token(token),
            Interest::READABLE,
        )
    }

    /// Changes the interest of a registered source.
    pub(crate) fn reregister(
        &self,
        token: usize,
        source: &mut impl Source,
        interest: Interest,
    ) -> io::Result<()> {
        self.registry.reregister(source, Token(token), interest)
    }

    /// Removes `source`. Its slot is freed first, so an event for it still in
    /// a batch being dispatched finds no entry (or one of another generation)
    /// and is dropped; the readiness state itself lives on in the `Arc` of a
    /// dispatcher that already looked it up, which only sets bits nobody reads.
    pub(crate) fn deregister(&self, token: usize, source: &mut impl Source) -> io::Result<()> {
        let io = self.table.lock().sources.remove(token);
        if let Some(io) = io {
            self.count.fetch_sub(1, Relaxed);
            io.clear_wakers();
        }
        self.registry.deregister(source)
    }

    /// Sets the readiness of the sources named by `events`; returns how many
    /// events there were.
    pub(crate) fn dispatch<'a>(&self, events: impl Iterator<Item = &'a Event>) -> usize {
        let mut ready = {
            let mut table = self.table.lock();
            let mut scratch = std::mem::take(&mut table.scratch);
            for event in events {
                if let Some(io) = table.sources.get(event.token().0) {
                    scratch.push((io.clone(), readiness(event)));
                }
            }
            scratch
        };
        let n = ready.len();
        // Outside the table lock: a waker may drop (deregister) a source.
        for (io, bits) in ready.drain(..) {
            io.set_readiness(bits);
        }
        let mut table = self.table.lock();
        if table.scratch.capacity() < ready.capacity() {
            table.scratch = ready;
        }
        n
    }

    /// Registered sources (a hint, read without the lock).
    pub(crate) fn len(&self) -> usize {
        self.count.load(Relaxed)
    }

    /// Marks every source as orphaned and wakes its waiters: their operations
    /// then fail instead of waiting forever on a driver that no longer runs.
    pub(crate) fn shutdown(&self) {
        let all = {
            let mut table = self.table.lock();
            table.closed = true;
            self.count.store(0, Relaxed);
            table.sources.drain()
        };
        for io in all {
            io.set_readiness(SHUTDOWN);
        }
    }
}

fn readiness(event: &Event) -> usize {
    let mut bits = 0;
    if event.is_readable() {
        bits |= READABLE;
    }
    if event.is_writable() {
        bits |= WRITABLE;
    }
    if event.is_read_closed() {
        bits |= READ_CLOSED;
    }
    if event.is_write_closed() {
        bits |= WRITE_CLOSED;
    }
    if event.is_error() {
        bits |= ERROR;
    }
    bits
}
