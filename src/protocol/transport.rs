//! `Transport`: a protocol's handle to its stream connection.
//!
//! The connection's state is shared between the reactor (which reads, flushes
//! and runs the callbacks) and every `Transport` clone, behind one mutex per
//! connection. Writing happens under that lock, which is what makes a write
//! from another thread safe and keeps bytes in the order the calls were made.
//! Anything the reactor must act on (bytes left to flush, a close, resumed
//! reading) is signalled by waking the connection's waker.

use super::buffer::WriteBuf;
use crate::loom::sync::{Arc, Mutex};
use std::fmt;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::Waker;

/// Default high-water mark of the write buffer (asyncio's).
pub(super) const DEFAULT_HIGH: usize = 64 * 1024;

/// What a connection's reactor and its transports share.
pub(super) struct Conn {
    pub(super) state: Mutex<State>,
    /// Queues the connection on its reactor.
    pub(super) wake: Waker,
    pub(super) local: Option<SocketAddr>,
    pub(super) peer: Option<SocketAddr>,
}

pub(super) struct State {
    /// `None` once the connection is lost.
    pub(super) sock: Option<mio::net::TcpStream>,
    pub(super) buf: WriteBuf,
    pub(super) high: usize,
    pub(super) low: usize,
    /// `close` (or `abort`, or an end of stream the protocol did not keep
    /// open) was called: writes are refused, the rest is flushed.
    pub(super) closing: bool,
    pub(super) aborted: bool,
    /// `write_eof` was called; `eof_sent` once the socket's write side shut.
    pub(super) eof_pending: bool,
    pub(super) eof_sent: bool,
    pub(super) reading: bool,
    /// A write failed: the reactor ends the connection with it.
    pub(super) error: Option<io::Error>,
}

impl State {
    pub(super) fn new(sock: mio::net::TcpStream) -> State {
        State {
            sock: Some(sock),
            buf: WriteBuf::default(),
            high: DEFAULT_HIGH,
            low: DEFAULT_HIGH / 4,
            closing: false,
            aborted: false,
            eof_pending: false,
            eof_sent: false,
            reading: true,
            error: None,
        }
    }

    /// Writes `data` to the socket at once if nothing is queued, queues what
    /// it does not take; `true` if the reactor must now flush.
    fn write(&mut self, data: &[u8]) -> bool {
        if data.is_empty() || self.closing || self.eof_pending || self.error.is_some() {
            return false;
        }
        let Some(sock) = self.sock.as_mut() else {
            return false;
        };
        let mut rest = data;
        if self.buf.is_empty() {
            loop {
                match sock.write(rest) {
                    Ok(n) => {
                        rest = &rest[n..];
                        if rest.is_empty() {
                            return false;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        self.error = Some(e);
                        return true;
                    }
                }
            }
        }
        self.buf.push(rest);
        true
    }

    /// [`write`](Self::write) of several buffers: one inline `writev` (at
    /// most IOV_MAX slices) if nothing is queued, then the rest queued.
    fn write_vectored<B: AsRef<[u8]>>(&mut self, bufs: &[B]) -> bool {
        if self.closing || self.eof_pending || self.error.is_some() {
            return false;
        }
        let Some(sock) = self.sock.as_mut() else {
            return false;
        };
        let mut skip = 0;
        if self.buf.is_empty() {
            let slices: Vec<io::IoSlice<'_>> = bufs
                .iter()
                .take(1024)
                .map(|b| io::IoSlice::new(b.as_ref()))
                .collect();
            loop {
                match sock.write_vectored(&slices) {
                    Ok(n) => skip = n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        self.error = Some(e);
                        return true;
                    }
                }
                break;
            }
        }
        let mut queued = false;
        for b in bufs {
            let b = b.as_ref();
            let taken = skip.min(b.len());
            skip -= taken;
            if taken < b.len() {
                self.buf.push(&b[taken..]);
                queued = true;
            }
        }
        queued
    }

    /// Shuts the socket's write side if `write_eof` asked for it and
    /// everything before it is written.
    pub(super) fn maybe_send_eof(&mut self) {
        if self.eof_pending && !self.eof_sent && self.buf.is_empty() {
            self.eof_sent = true;
            if let Some(sock) = &self.sock {
                // A peer that already went away makes this fail; the read
                // side reports that.
                let _ = sock.shutdown(Shutdown::Write);
            }
        }
    }
}

/// A protocol's handle to its connection: asyncio's `asyncio.Transport`.
///
/// Cheap to clone (a reference count), `Send + Sync`. Every method may be
/// called from any thread: the connection's state is behind a lock, and
/// what the loop must do in response (flush, close, read again) is queued to
/// the connection's own loop, where the protocol's callbacks run. Called
/// from the loop's thread inside a callback (the usual case), `write` costs
/// one uncontended lock and, when nothing is queued, one `send` system call.
///
/// Once the connection is lost every method does nothing (writes are
/// dropped, as asyncio drops them with a warning).
#[derive(Clone)]
pub struct Transport {
    pub(super) conn: Arc<Conn>,
}

impl Transport {
    /// Writes `data`: sent at once if the socket takes it and nothing is
    /// queued, buffered otherwise (flushed as the socket becomes writable).
    /// Never blocks. Ignored after [`close`](Transport::close),
    /// [`write_eof`](Transport::write_eof) or a lost connection.
    ///
    /// When the buffer goes above the high-water mark the protocol's
    /// `pause_writing` is called (right after the current callback, when
    /// called from one).
    pub fn write(&self, data: &[u8]) {
        let wake = self.conn.state.lock().write(data);
        if wake {
            self.conn.wake.wake_by_ref();
        }
    }

    /// Writes the buffers in order, as one write: when nothing is queued
    /// they go to the socket in one `writev` straight from the caller's
    /// buffers, and only what it does not take is queued. Under one lock, so
    /// no other thread's write lands in between.
    pub fn writelines<I, B>(&self, bufs: I)
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let bufs: Vec<B> = bufs.into_iter().collect();
        let wake = self.conn.state.lock().write_vectored(&bufs);
        if wake {
            self.conn.wake.wake_by_ref();
        }
    }

    /// Closes the write side once the buffered bytes are sent (the peer
    /// reads an end of stream); reading goes on. Later writes are ignored.
    pub fn write_eof(&self) {
        let mut state = self.conn.state.lock();
        if state.closing || state.eof_pending {
            return;
        }
        state.eof_pending = true;
        state.maybe_send_eof();
    }

    /// `true`: TCP transports support [`write_eof`](Transport::write_eof).
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes the connection after the buffered bytes are sent; then the
    /// protocol's `connection_lost(None)` is called (on its loop). Reading
    /// stops at once. Calling it again does nothing.
    pub fn close(&self) {
        {
            let mut state = self.conn.state.lock();
            if state.closing || state.sock.is_none() {
                return;
            }
            state.closing = true;
            state.reading = false;
        }
        self.conn.wake.wake_by_ref();
    }

    /// Closes the connection at once, discarding the buffered bytes; then
    /// `connection_lost(None)` is called (on its loop).
    pub fn abort(&self) {
        {
            let mut state = self.conn.state.lock();
            if state.aborted || state.sock.is_none() {
                return;
            }
            state.aborted = true;
            state.closing = true;
            state.reading = false;
            state.buf.clear();
            if let Some(sock) = &state.sock {
                // The descriptor itself is closed by the reactor, which must
                // deregister it first; the peer sees the end now.
                let _ = sock.shutdown(Shutdown::Both);
            }
        }
        self.conn.wake.wake_by_ref();
    }

    /// `true` once [`close`](Transport::close) or
    /// [`abort`](Transport::abort) was called or the connection was lost.
    pub fn is_closing(&self) -> bool {
        let state = self.conn.state.lock();
        state.closing || state.sock.is_none()
    }

    /// Stops [`data_received`](super::Protocol::data_received) calls until
    /// [`resume_reading`](Transport::resume_reading); the peer is then held
    /// back by TCP flow control. Takes effect before the next read.
    pub fn pause_reading(&self) {
        self.conn.state.lock().reading = false;
    }

    /// Resumes reading after [`pause_reading`](Transport::pause_reading).
    /// Does nothing once closing.
    pub fn resume_reading(&self) {
        {
            let mut state = self.conn.state.lock();
            if state.closing || state.reading {
                return;
            }
            state.reading = true;
        }
        self.conn.wake.wake_by_ref();
    }

    /// `true` unless reading is paused or the transport is closing.
    pub fn is_reading(&self) -> bool {
        let state = self.conn.state.lock();
        state.reading && !state.closing
    }

    /// Bytes buffered and not yet sent.
    pub fn get_write_buffer_size(&self) -> usize {
        self.conn.state.lock().buf.len()
    }

    /// The current `(low, high)` water marks (asyncio's
    /// `get_write_buffer_limits`).
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        let state = self.conn.state.lock();
        (state.low, state.high)
    }

    /// Sets the water marks of flow control: `pause_writing` when the buffer
    /// goes above `high`, `resume_writing` when it drains to `low` or below.
    /// asyncio's defaults are 64 KiB and `high / 4`; `(0, 0)` pauses on any
    /// buffered byte.
    ///
    /// # Panics
    /// If `low > high` (asyncio raises `ValueError`).
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) {
        assert!(
            low <= high,
            "set_write_buffer_limits: low ({low}) must not exceed high ({high})"
        );
        {
            let mut state = self.conn.state.lock();
            state.high = high;
            state.low = low;
        }
        // The new marks may call for a pause or a resume now.
        self.conn.wake.wake_by_ref();
    }

    /// The peer's address.
    ///
    /// # Errors
    /// `NotConnected` if the OS could not tell it when the connection was
    /// set up.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.conn.peer.ok_or_else(not_connected)
    }

    /// The local address of the connection.
    ///
    /// # Errors
    /// As for [`peer_addr`](Transport::peer_addr).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.conn.local.ok_or_else(not_connected)
    }
}

fn not_connected() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the address of this connection is not known",
    )
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("peer", &self.conn.peer)
            .field("closing", &self.is_closing())
            .finish()
    }
}
