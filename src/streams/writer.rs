//! `StreamWriter`: a buffered writer that never waits, flushed in the
//! background.
//!
//! `write` first tries the system call inline when nothing is queued (most
//! writes then cost one syscall and no copy), and queues only what the
//! kernel did not take. Queued bytes live in one contiguous buffer (reused:
//! no allocation per write in steady state) that ONE flusher task per writer
//! writes out when the socket is writable. The flusher is spawned lazily, when
//! bytes are left after an inline attempt, and exits as soon as the queue is
//! empty. Every piece of state (queue, flusher flag, flow control, close
//! progress) is under one mutex, so "queue empty, flusher exits" and "bytes
//! queued, flusher needed" cannot interleave: a write either sees the
//! flusher running (and its bytes will be written by it) or sees it gone
//! (and starts another).

use super::source::WriteSink;
use crate::loom::sync::{Arc, Mutex};
use crate::runtime::{context, Handle};
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// asyncio's default high-water mark: 64 KiB.
const DEFAULT_HIGH: usize = 64 * 1024;

/// The write half of a stream connection: asyncio's `StreamWriter`.
///
/// A cheap handle: `Clone` it to share one connection's writer between
/// tasks (a chat server broadcasting to every client); it is `Send + Sync`
/// and every method takes `&self`.
///
/// * [`write`](StreamWriter::write) never waits: bytes the kernel does not
///   take at once are queued and written in the background.
/// * [`drain`](StreamWriter::drain) is the flow control: it waits while the
///   queue is above the high-water mark (until it falls to the low-water
///   mark), and reports a lost connection.
/// * [`close`](StreamWriter::close) flushes what was written, then shuts the
///   write direction down (`FIN`), even if nobody awaits anything after it.
///   Dropping the last handle closes the writer the same way.
///
/// Writes after `close`/`write_eof`, or after the connection failed, are
/// discarded (as asyncio's are); the next `drain` reports it.
///
/// ```
/// corio::run(async {
///     let server = corio::start_server(
///         |mut reader: corio::StreamReader, writer: corio::StreamWriter| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line);
///             writer.drain().await.unwrap();
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, writer) = corio::open_connection(server.local_addrs()[0]).await.unwrap();
///     writer.write(b"hello\n");
///     assert_eq!(reader.readline().await.unwrap(), b"hello\n");
///     writer.close();
///     writer.wait_closed().await.unwrap();
///     server.close();
/// });
/// ```
#[derive(Clone)]
pub struct StreamWriter {
    handle: Arc<UserHandle>,
}

/// What the program's handles share; the flusher holds `Inner` only, so
/// that the last program handle dropping can close the writer.
struct UserHandle {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    runtime: Option<Handle>,
    local_addr: Result<SocketAddr, (io::ErrorKind, String)>,
    peer_addr: Result<SocketAddr, (io::ErrorKind, String)>,
}

struct State {
    /// `None` once closed (or failed): the writer's hold on the socket is
    /// released.
    sink: Option<Box<dyn WriteSink>>,
    /// Queued bytes are `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    high: usize,
    low: usize,
    /// The queue went above `high` and has not yet fallen to `low`.
    paused: bool,
    /// A flusher task is running (it owns writing the queue out).
    flusher: bool,
    /// `write_eof` or `close` was called: shut down once the queue is empty.
    eof_requested: bool,
    /// `close` was called.
    closing: bool,
    /// The write direction was shut down.
    shut: bool,
    /// The failure that ended the connection (kind and message; kept to be
    /// reported again by every `drain`).
    error: Option<(io::ErrorKind, String)>,
    /// Bytes were written after `close`/`write_eof` and discarded.
    discarded: bool,
    /// Tasks in `drain` or `wait_closed`; woken on every change they wait
    /// for, and they check again.
    waiters: Vec<Waker>,
}

impl StreamWriter {
    /// A writer over `sink`, with asyncio's default water marks (64 KiB
    /// and 16 KiB).
    pub(crate) fn from_sink(sink: impl WriteSink) -> StreamWriter {
        StreamWriter::from_sink_on(sink, Handle::try_current())
    }

    /// [`from_sink`](StreamWriter::from_sink) with the runtime its flusher
    /// runs on (`None`: the runtime current at the first spawn).
    pub(crate) fn from_sink_on(sink: impl WriteSink, runtime: Option<Handle>) -> StreamWriter {
        let addr = |r: io::Result<SocketAddr>| r.map_err(|e| (e.kind(), e.to_string()));
        let inner = Inner {
            local_addr: addr(sink.local_addr()),
            peer_addr: addr(sink.peer_addr()),
            runtime,
            state: Mutex::new(State {
                sink: Some(Box::new(sink)),
                buf: Vec::new(),
                pos: 0,
                high: DEFAULT_HIGH,
                low: DEFAULT_HIGH / 4,
                paused: false,
                flusher: false,
                eof_requested: false,
                closing: false,
                shut: false,
                error: None,
                discarded: false,
                waiters: Vec::new(),
            }),
        };
        StreamWriter {
            handle: Arc::new(UserHandle {
                inner: Arc::new(inner),
            }),
        }
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// Writes `data`: never waits, and may be called from any thread (a
    /// thread outside the runtime leaves the whole write to the background
    /// flusher). What the kernel does not take at once is
    /// queued and written in the background; call
    /// [`drain`](StreamWriter::drain) to wait when the queue grows past the
    /// high-water mark.
    ///
    /// After [`close`](StreamWriter::close) or
    /// [`write_eof`](StreamWriter::write_eof), or once the connection
    /// failed, the bytes are discarded and the next `drain` reports an
    /// error.
    pub fn write(&self, data: &[u8]) {
        Inner::write(self.inner(), data);
    }

    /// Writes every buffer of `bufs`, in order, as one write (asyncio's
    /// `writelines`). When nothing is queued they go straight to the kernel
    /// in one `writev`, without being copied; only what it does not take is
    /// queued. Same rules as [`write`](StreamWriter::write).
    pub fn writelines<I>(&self, bufs: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let inner = self.inner();
        let mut state = inner.state.lock();
        if !state.accepts_writes() {
            return;
        }
        let bufs: Vec<I::Item> = bufs.into_iter().collect();
        let mut skip = 0;
        if state.queued() == 0 && !state.flusher && context::is_entered() {
            // At most IOV_MAX (1024 on Linux) slices per call; the rest is
            // queued like any remainder.
            let slices: Vec<IoSlice<'_>> = bufs
                .iter()
                .take(1024)
                .map(|b| IoSlice::new(b.as_ref()))
                .collect();
            match state.write_vectored_now(&slices) {
                Ok(n) => skip = n,
                Err(e) => {
                    state.fail(e);
                    return;
                }
            }
        }
        for b in &bufs {
            let b = b.as_ref();
            let taken = skip.min(b.len());
            skip -= taken;
            state.enqueue(&b[taken..]);
        }
        let spawn = inner.after_enqueue(&mut state);
        drop(state);
        if spawn {
            Inner::spawn_flusher(inner);
        }
    }

    /// Waits until the write queue is small enough (asyncio's flow
    /// control): returns at once unless the queue went above the
    /// high-water mark, and then when it has fallen to the low-water mark.
    ///
    /// # Errors
    /// The connection's failure (`ConnectionReset`, `BrokenPipe`, ...) if
    /// it failed, with the queued bytes lost; `BrokenPipe` if bytes were
    /// written after `close`/`write_eof` (and so discarded).
    ///
    /// Cancel-safe: dropping it loses nothing.
    pub async fn drain(&self) -> io::Result<()> {
        let inner = self.inner();
        poll_fn(|cx| {
            let mut state = inner.state.lock();
            if let Some(e) = state.error() {
                return Poll::Ready(Err(e));
            }
            if state.discarded {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "bytes were written after close() or write_eof() and discarded",
                )));
            }
            if !state.paused {
                return Poll::Ready(Ok(()));
            }
            state.wait(cx);
            Poll::Pending
        })
        .await
    }

    /// Sets the flow-control water marks: `drain` waits once more than
    /// `high` bytes are queued, until at most `low` are. asyncio's defaults
    /// are 64 KiB and 16 KiB. `(0, 0)` makes `drain` wait until every byte
    /// was handed to the kernel.
    ///
    /// # Panics
    /// If `low > high` (asyncio's `ValueError`).
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) {
        assert!(
            low <= high,
            "set_write_buffer_limits: high ({high}) must be >= low ({low})"
        );
        let mut state = self.inner().state.lock();
        state.high = high;
        state.low = low;
        state.update_flow_control();
    }

    /// The number of bytes queued, not yet handed to the kernel.
    pub fn get_write_buffer_size(&self) -> usize {
        self.inner().state.lock().queued()
    }

    /// Shuts the write direction down (`FIN` for a socket, closing a pipe)
    /// once every byte written so far is flushed; the read direction stays
    /// open. Later writes are discarded. Calling it again does nothing.
    pub fn write_eof(&self) {
        let inner = self.inner();
        let mut state = inner.state.lock();
        if state.eof_requested {
            return;
        }
        state.eof_requested = true;
        state.finish_if_idle();
    }

    /// Closes the writer: every byte written before is flushed first (in
    /// the background; nobody needs to await), then the write direction is
    /// shut down and the writer lets go of the socket, which is closed once
    /// the reader is dropped too. Calling it again does nothing.
    ///
    /// Await [`wait_closed`](StreamWriter::wait_closed) to know the bytes
    /// reached the kernel.
    pub fn close(&self) {
        self.inner().close();
    }

    /// Closes at once, discarding whatever is still queued (asyncio's
    /// `writer.transport.abort()`): the socket is shut down in both
    /// directions, so the peer sees the end of the stream and this side's
    /// `StreamReader` reads EOF. For dropping a client that does not keep
    /// up. Afterwards writes are discarded, and `drain` and `wait_closed`
    /// report `ConnectionAborted`. Calling it again, or after the writer
    /// closed, does nothing.
    ///
    /// ```
    /// corio::run(async {
    ///     let server = corio::start_server(
    ///         |_r: corio::StreamReader, w: corio::StreamWriter| async move {
    ///             w.write(b"never mind");
    ///             w.abort();
    ///             let e = w.wait_closed().await.unwrap_err();
    ///             assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted);
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut r, _w) = corio::open_connection(server.local_addrs()[0]).await.unwrap();
    ///     // Whatever the server's inline write sent, then the end.
    ///     let got = r.read_to_end().await.unwrap();
    ///     assert!(b"never mind".starts_with(&got));
    ///     server.close();
    /// });
    /// ```
    pub fn abort(&self) {
        let mut state = self.inner().state.lock();
        // Closed, failed or aborted already: nothing left to end.
        let Some(sink) = state.sink.as_mut() else {
            return;
        };
        // The peer may be gone already; the writer ends either way.
        let _ = sink.abort();
        state.closing = true;
        state.eof_requested = true;
        state.fail(aborted());
    }

    /// `true` once [`close`](StreamWriter::close) was called or the
    /// connection failed.
    pub fn is_closing(&self) -> bool {
        let state = self.inner().state.lock();
        state.closing || state.error.is_some()
    }

    /// Waits until the writer is closed: [`close`](StreamWriter::close)
    /// was called, every byte written was handed to the kernel, and the
    /// write direction was shut down. Waits forever if `close` is never
    /// called (as asyncio's does).
    ///
    /// # Errors
    /// The connection's failure, if it failed (bytes may have been lost).
    pub async fn wait_closed(&self) -> io::Result<()> {
        let inner = self.inner();
        poll_fn(|cx| {
            let mut state = inner.state.lock();
            if let Some(e) = state.error() {
                return Poll::Ready(Err(e));
            }
            if state.closing && state.shut && !state.flusher {
                return Poll::Ready(Ok(()));
            }
            state.wait(cx);
            Poll::Pending
        })
        .await
    }

    /// The local address of the socket.
    ///
    /// # Errors
    /// `Unsupported` for a Unix socket or a pipe.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner()
            .local_addr
            .clone()
            .map_err(|(k, m)| io::Error::new(k, m))
    }

    /// The peer's address.
    ///
    /// # Errors
    /// `Unsupported` for a Unix socket or a pipe.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner()
            .peer_addr
            .clone()
            .map_err(|(k, m)| io::Error::new(k, m))
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner().state.lock();
        f.debug_struct("StreamWriter")
            .field("peer_addr", &self.inner().peer_addr.as_ref().ok())
            .field("queued", &state.queued())
            .field("closing", &state.closing)
            .field("error", &state.error)
            .finish()
    }
}

impl Drop for UserHandle {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl Inner {
    /// `write`'s body: an inline write of `data` if nothing is queued, then
    /// the rest queued.
    fn write(this: &Arc<Inner>, data: &[u8]) {
        let mut state = this.state.lock();
        if !state.accepts_writes() || data.is_empty() {
            return;
        }
        let mut rest = data;
        // Inline only on a runtime thread: a socket's first I/O registers it
        // with the current thread's event loop, which a plain thread lacks
        // (its writes are all left to the flusher).
        if state.queued() == 0 && !state.flusher && context::is_entered() {
            match state.write_now(data) {
                Ok(n) => rest = &data[n..],
                Err(e) => {
                    state.fail(e);
                    return;
                }
            }
            if rest.is_empty() {
                return;
            }
        }
        state.enqueue(rest);
        let spawn = this.after_enqueue(&mut state);
        drop(state);
        if spawn {
            Inner::spawn_flusher(this);
        }
    }

    /// After bytes were queued: updates flow control, and says whether a
    /// flusher must be spawned (the flag is set here, under the lock).
    fn after_enqueue(&self, state: &mut State) -> bool {
        state.update_flow_control();
        if state.queued() > 0 && !state.flusher {
            state.flusher = true;
            return true;
        }
        false
    }

    fn spawn_flusher(this: &Arc<Inner>) {
        let inner = this.clone();
        let flush = async move { poll_fn(|cx| inner.poll_flush(cx)).await };
        let runtime = this
            .runtime
            .clone()
            .or_else(Handle::try_current)
            .expect("StreamWriter::write needs a corio runtime to flush in the background");
        // Detached: the flusher ends on its own once the queue is empty.
        drop(runtime.spawn(flush));
    }

    /// The flusher: writes the queue out, then finishes a requested
    /// shutdown, then exits (clearing `flusher` under the same lock that
    /// writers check it under).
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock();
        loop {
            if state.error.is_some() {
                state.flusher = false;
                state.wake_all();
                return Poll::Ready(());
            }
            if state.queued() == 0 {
                state.flusher = false;
                state.finish_if_idle();
                state.wake_all();
                return Poll::Ready(());
            }
            let State { sink, buf, pos, .. } = &mut *state;
            let sink = sink
                .as_mut()
                .expect("the sink stays until the queue is empty");
            match sink.poll_write_vectored(cx, &[IoSlice::new(&buf[*pos..])]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => state.fail(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    state.consume(n);
                    state.update_flow_control();
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => state.fail(e),
            }
        }
    }

    fn close(&self) {
        let mut state = self.state.lock();
        if state.closing {
            return;
        }
        state.closing = true;
        state.eof_requested = true;
        state.finish_if_idle();
    }
}

impl State {
    fn queued(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn accepts_writes(&mut self) -> bool {
        if self.error.is_some() {
            return false;
        }
        if self.eof_requested {
            self.discarded = true;
            return false;
        }
        true
    }

    fn error(&self) -> Option<io::Error> {
        self.error
            .as_ref()
            .map(|(kind, msg)| io::Error::new(*kind, msg.clone()))
    }

    /// Appends to the queue, first moving the queue to the front of the
    /// buffer if more of it was written than is left (so the buffer does
    /// not grow without bound and each byte moves at most about once).
    fn enqueue(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos >= self.queued() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// One write system call, from the calling task (`write`'s inline
    /// attempt). `Ok(0)` if the socket is not writable now.
    fn write_now(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_vectored_now(&[IoSlice::new(data)])
    }

    /// [`write_now`](Self::write_now) of several buffers (one `writev`).
    fn write_vectored_now(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let sink = self.sink.as_mut().expect("the sink stays until closed");
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            // The flusher (not this call) waits for writability, with its
            // own waker: registering a no-op one here is harmless, as no
            // flusher is waiting when this runs.
            return match sink.poll_write_vectored(&mut cx, bufs) {
                Poll::Pending => Ok(0),
                Poll::Ready(Ok(0)) if total > 0 => Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => Ok(n),
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(e)) => Err(e),
            };
        }
    }

    /// asyncio's pause/resume: pause above `high`, resume at `low`.
    fn update_flow_control(&mut self) {
        let queued = self.queued();
        if queued > self.high {
            self.paused = true;
        } else if self.paused && queued <= self.low {
            self.paused = false;
            self.wake_all();
        }
    }

    /// Shuts down (and, after `close`, lets go of the sink) if a shutdown
    /// was requested and no flusher has bytes left to write.
    fn finish_if_idle(&mut self) {
        if self.flusher || self.error.is_some() {
            return;
        }
        if self.eof_requested && !self.shut {
            self.shut = true;
            if let Some(sink) = self.sink.as_mut() {
                if let Err(e) = sink.shutdown_write() {
                    // The peer already went away: nothing was lost (the
                    // queue is empty), but say so.
                    if e.kind() != io::ErrorKind::NotConnected {
                        self.fail(e);
                        return;
                    }
                }
            }
        }
        if self.closing {
            self.sink = None;
        }
        self.wake_all();
    }

    /// Records the connection's failure: the queue is lost, the sink let go.
    fn fail(&mut self, e: io::Error) {
        self.error = Some((e.kind(), e.to_string()));
        self.buf = Vec::new();
        self.pos = 0;
        self.paused = false;
        self.shut = true;
        self.sink = None;
        self.wake_all();
    }

    fn wait(&mut self, cx: &Context<'_>) {
        if !self.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            self.waiters.push(cx.waker().clone());
        }
    }

    fn wake_all(&mut self) {
        for waker in self.waiters.drain(..) {
            waker.wake();
        }
    }
}

fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the writer was aborted: queued bytes were discarded",
    )
}

/// A waker that does nothing, for the inline write attempt.
pub(crate) fn noop_waker() -> Waker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(|_| RAW, |_| {}, |_| {}, |_| {});
    const RAW: RawWaker = RawWaker::new(std::ptr::null(), &VTABLE);
    // SAFETY: every function of VTABLE ignores the data pointer (null) and
    // does nothing, so the RawWaker contract (thread-safe, clone returns an
    // equivalent waker, drop releases nothing) holds trivially.
    unsafe { Waker::from_raw(RAW) }
}
