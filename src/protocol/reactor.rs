//! The protocol reactor: one task per loop (per server, or per client
//! connection) that owns that loop's protocol connections and runs their
//! callbacks.
//!
//! Each poll drains the ready list (the connections whose waker fired: see
//! `ready.rs`) and serves each queued connection: flush its write buffer if
//! the socket is writable, call flow-control callbacks, then read into the
//! thread's read buffer and call `data_received`, until the socket would
//! block. Readiness comes from the loop's driver through the same
//! `ScheduledIo` state every corio socket uses (edge-triggered, with its
//! tick check against lost events); only the waker stored there is the
//! connection's, not a task's.
//!
//! Fairness: a connection is read at most `READS_PER_TURN` times per
//! service and the reactor serves at most `SERVICES_PER_POLL` connections
//! per poll before it yields to the loop's other tasks; what is left stays
//! queued.

use super::balance::{Balance, Handed};
use super::ready::{ConnWaker, ReadyList};
use super::transport::{Conn, State, Transport};
use super::Protocol;
use crate::io::scheduled_io::{Direction, ScheduledIo, ERROR, READ_CLOSED, SHUTDOWN};
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Mutex};
use crate::runtime::driver::Driver;
use crate::streams::{ConnectionGuard, Server};
use mio::Interest;
use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Size of each thread's read buffer.
const READ_BUF: usize = 256 * 1024;
/// Reads of one connection per service before the others get a turn.
const READS_PER_TURN: usize = 16;
/// Connections served per poll before the loop's other tasks get a turn.
const SERVICES_PER_POLL: usize = 256;
/// The ready-list index of the listening socket.
const LISTENER: usize = usize::MAX;
/// The ready-list index of the inbox of connections handed over by the
/// server's other loops (`balance.rs`).
const INBOX: usize = usize::MAX - 1;

thread_local! {
    /// The loop's read buffer, lent to one read at a time. Reactors on one
    /// thread never read at the same time (a callback cannot poll another
    /// task), so one buffer per thread serves them all.
    static READ_BUFFER: Cell<Option<Box<[u8]>>> = const { Cell::new(None) };
}

fn take_read_buffer() -> Box<[u8]> {
    READ_BUFFER
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![0; READ_BUF].into_boxed_slice())
}

fn give_back_read_buffer(buf: Box<[u8]>) {
    let _ = READ_BUFFER.try_with(|b| b.set(Some(buf)));
}

/// A connection as its reactor holds it.
struct Entry<P> {
    conn: Arc<Conn>,
    io: Arc<ScheduledIo>,
    token: usize,
    wake: ConnWaker,
    protocol: P,
    /// `pause_writing` was called and `resume_writing` not yet.
    write_paused: bool,
    /// The peer's end of stream was read.
    read_eof: bool,
    /// `connection_made` was called (on the first service, so that it runs
    /// on the reactor's loop whoever set the connection up).
    made: bool,
    /// The server's count of this connection, for `wait_closed`.
    _guard: Option<ConnectionGuard>,
    /// Counted in the server's `Balance` (a server connection, not a
    /// `create_connection` one).
    balanced: bool,
}

/// A server's listening socket on one loop.
pub(super) struct Listener<P> {
    sock: mio::net::TcpListener,
    token: usize,
    io: Arc<ScheduledIo>,
    wake: ConnWaker,
    factory: Arc<dyn Fn() -> P + Send + Sync>,
    server: Server,
    /// Set when the server's acceptor task is dropped (`Server::close`).
    stop: Arc<AtomicBool>,
}

/// Dropped with the server's acceptor task: stops its loop's listener.
pub(super) struct StopOnDrop {
    stop: Arc<AtomicBool>,
    wake: std::task::Waker,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // Release, paired with the reactor's Acquire load: the flag must be
        // seen by the service this wake causes. (The wake's own queued-flag
        // swap and list lock would order it too; this does not rely on them.)
        self.stop.store(true, Ordering::Release);
        self.wake.wake_by_ref();
    }
}

pub(super) struct Reactor<P> {
    driver: Arc<Driver>,
    ready: ReadyList,
    backlog: VecDeque<usize>,
    scratch: Vec<usize>,
    conns: Vec<Option<Entry<P>>>,
    free: Vec<usize>,
    live: usize,
    listener: Option<Listener<P>>,
    /// The server's loops and this one's place among them.
    balance: Option<(Arc<Balance<Handed<P>>>, usize)>,
    inbox_wake: Option<ConnWaker>,
    handed: Vec<Handed<P>>,
}

impl<P: Protocol> Reactor<P> {
    pub(super) fn new(driver: Arc<Driver>) -> Reactor<P> {
        Reactor {
            driver,
            ready: ReadyList::new(),
            backlog: VecDeque::new(),
            scratch: Vec::new(),
            conns: Vec::new(),
            free: Vec::new(),
            live: 0,
            listener: None,
            balance: None,
            inbox_wake: None,
            handed: Vec::new(),
        }
    }

    /// The waker that tells this reactor its inbox has connections; for
    /// [`Balance::new`].
    pub(super) fn inbox_waker(&mut self) -> std::task::Waker {
        let wake = self.ready.waker(INBOX);
        let waker = wake.waker().clone();
        self.inbox_wake = Some(wake);
        waker
    }

    /// Makes this reactor loop `me` of a server's `balance`.
    pub(super) fn join(&mut self, balance: Arc<Balance<Handed<P>>>, me: usize) {
        self.balance = Some((balance, me));
    }

    /// Makes this reactor accept on `sock` (a descriptor of the server's
    /// listening socket) for `server`; returns the guard for the server's
    /// acceptor task.
    pub(super) fn listen(
        &mut self,
        mut sock: mio::net::TcpListener,
        factory: Arc<dyn Fn() -> P + Send + Sync>,
        server: Server,
    ) -> io::Result<StopOnDrop> {
        let (token, io) = self
            .driver
            .sources
            .register(&mut sock, Interest::READABLE)?;
        let wake = self.ready.waker(LISTENER);
        let stop = Arc::new(AtomicBool::new(false));
        let guard = StopOnDrop {
            stop: stop.clone(),
            wake: wake.waker().clone(),
        };
        self.listener = Some(Listener {
            sock,
            token,
            io,
            wake,
            factory,
            server,
            stop,
        });
        Ok(guard)
    }

    /// Takes `stream` on: registers it with the loop and queues it to be
    /// served (its first service calls `connection_made`).
    pub(super) fn add(
        &mut self,
        mut stream: mio::net::TcpStream,
        protocol: P,
        guard: Option<ConnectionGuard>,
    ) -> io::Result<Transport> {
        // As asyncio and uvloop do: a protocol writes whole messages, and
        // Nagle's delay would hold back each small reply.
        let _ = stream.set_nodelay(true);
        let (token, io) = self
            .driver
            .sources
            .register(&mut stream, Interest::READABLE | Interest::WRITABLE)?;
        let index = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let wake = self.ready.waker(index);
        let conn = Arc::new(Conn {
            local: stream.local_addr().ok(),
            peer: stream.peer_addr().ok(),
            state: Mutex::new(State::new(stream)),
            wake: wake.waker().clone(),
        });
        let transport = Transport { conn: conn.clone() };
        self.conns[index] = Some(Entry {
            conn,
            io,
            token,
            wake,
            protocol,
            write_paused: false,
            read_eof: false,
            made: false,
            balanced: guard.is_some() && self.balance.is_some(),
            _guard: guard,
        });
        self.live += 1;
        Ok(transport)
    }

    fn done(&self) -> bool {
        self.listener.is_none()
            && self.live == 0
            && match &self.balance {
                // Nothing may be on its way here from another loop.
                Some((balance, me)) => balance.try_close(*me),
                None => true,
            }
    }

    fn accept(&mut self) {
        let Some(l) = self.listener.as_mut() else {
            return;
        };
        l.wake.prepare();
        // Acquire: pairs with `StopOnDrop`'s Release store.
        if l.stop.load(Ordering::Acquire) {
            self.stop_listening();
            return;
        }
        let waker = l.wake.waker().clone();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..64 {
            let l = self.listener.as_mut().expect("checked above");
            let ev = match l.io.poll_ready(&mut cx, Direction::Read) {
                Poll::Pending => return,
                Poll::Ready(ev) => ev,
            };
            if ev.ready & SHUTDOWN != 0 {
                self.stop_listening();
                return;
            }
            match l.sock.accept() {
                Ok((stream, _)) => {
                    let protocol = (l.factory)();
                    let guard = l.server.connection();
                    match &self.balance {
                        Some((balance, me)) => {
                            let (balance, me) = (balance.clone(), *me);
                            let to = balance.reserve(me);
                            if to == me {
                                self.add_counted(stream, protocol, guard);
                            } else {
                                let conn = Handed {
                                    stream,
                                    protocol,
                                    guard,
                                };
                                balance.hand(to, conn);
                            }
                        }
                        None => {
                            // A connection the loop cannot register (out
                            // of descriptors in epoll) is dropped, which
                            // closes it.
                            let _ = self.add(stream, protocol, Some(guard));
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => l.io.clear_readiness(ev),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The peer gave up before we accepted: try the next one.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(_) => {
                    // Out of descriptors or memory: as asyncio does, stop
                    // accepting for a moment instead of spinning (the
                    // pending connections wait in the backlog).
                    let waker = waker.clone();
                    crate::task::spawn_local(async move {
                        crate::time::sleep(std::time::Duration::from_millis(100)).await;
                        waker.wake();
                    });
                    return;
                }
            }
        }
        // Fairness: let the connections just accepted, and other tasks, run.
        waker.wake_by_ref();
    }

    /// Takes on a connection already counted in the balance: a failed
    /// registration drops it (closing it) and uncounts it.
    fn add_counted(&mut self, stream: mio::net::TcpStream, protocol: P, guard: ConnectionGuard) {
        if self.add(stream, protocol, Some(guard)).is_err() {
            if let Some((balance, me)) = &self.balance {
                balance.left(*me);
            }
        }
    }

    /// Takes on the connections other loops handed to this one.
    fn take_inbox(&mut self) {
        let Some((balance, me)) = self.balance.clone() else {
            return;
        };
        if let Some(wake) = &self.inbox_wake {
            wake.prepare();
        }
        let mut handed = std::mem::take(&mut self.handed);
        balance.take(me, &mut handed);
        for conn in handed.drain(..) {
            self.add_counted(conn.stream, conn.protocol, conn.guard);
        }
        self.handed = handed;
    }

    fn stop_listening(&mut self) {
        if let Some(mut l) = self.listener.take() {
            let _ = self.driver.sources.deregister(l.token, &mut l.sock);
        }
    }

    /// Serves connection `index`: see the module documentation.
    fn service(&mut self, index: usize, buf: &mut [u8]) {
        let Some(Some(entry)) = self.conns.get_mut(index) else {
            return;
        };
        entry.wake.prepare();
        let waker = entry.wake.waker().clone();
        let mut cx = Context::from_waker(&waker);
        if !entry.made {
            entry.made = true;
            entry.protocol.connection_made(Transport {
                conn: entry.conn.clone(),
            });
        }
        let mut reads = 0;
        loop {
            flush(entry, &mut cx);
            let (size, high, low, reading) = {
                let mut state = entry.conn.state.lock();
                if state.aborted {
                    drop(state);
                    return self.finish(index, None);
                }
                if let Some(e) = state.error.take() {
                    drop(state);
                    return self.finish(index, Some(e));
                }
                if state.buf.is_empty() && state.closing {
                    drop(state);
                    return self.finish(index, None);
                }
                state.maybe_send_eof();
                (state.buf.len(), state.high, state.low, state.reading)
            };
            if !entry.write_paused && size > high {
                entry.write_paused = true;
                entry.protocol.pause_writing();
                continue;
            }
            if entry.write_paused && size <= low {
                entry.write_paused = false;
                entry.protocol.resume_writing();
                continue;
            }
            if !reading || entry.read_eof {
                return;
            }
            if reads == READS_PER_TURN {
                // Queue ourselves again behind the other ready connections.
                waker.wake_by_ref();
                return;
            }
            let ev = match entry.io.poll_ready(&mut cx, Direction::Read) {
                Poll::Pending => return,
                Poll::Ready(ev) => ev,
            };
            if ev.ready & SHUTDOWN != 0 {
                return self.finish(index, Some(shut_down()));
            }
            let res = {
                let mut state = entry.conn.state.lock();
                match state.sock.as_mut() {
                    Some(sock) => sock.read(buf),
                    None => return,
                }
            };
            match res {
                Ok(0) => {
                    entry.read_eof = true;
                    if !entry.protocol.eof_received() {
                        let mut state = entry.conn.state.lock();
                        state.closing = true;
                        state.reading = false;
                    }
                }
                Ok(n) => {
                    reads += 1;
                    if n < buf.len() && ev.ready & (READ_CLOSED | ERROR) == 0 {
                        // A short read drained the socket: skip the read
                        // that would only say `WouldBlock` (the tick check
                        // keeps an event that arrived meanwhile). Not when
                        // the peer's end was already reported with the
                        // data: that edge will not come again.
                        entry.io.clear_readiness(ev);
                    }
                    entry.protocol.data_received(&buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => entry.io.clear_readiness(ev),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.finish(index, Some(e)),
            }
        }
    }

    /// Ends connection `index`: closes the socket, calls `connection_lost`
    /// (exactly once: the entry leaves the slab first), then drops the
    /// server's count of it.
    fn finish(&mut self, index: usize, error: Option<io::Error>) {
        let Some(mut entry) = self.conns[index].take() else {
            return;
        };
        self.free.push(index);
        self.live -= 1;
        if entry.balanced {
            if let Some((balance, me)) = &self.balance {
                balance.left(*me);
            }
        }
        self.close_socket(&entry);
        entry.protocol.connection_lost(error);
    }

    fn close_socket(&self, entry: &Entry<P>) {
        let sock = {
            let mut state = entry.conn.state.lock();
            state.closing = true;
            state.reading = false;
            state.buf.clear();
            state.sock.take()
        };
        if let Some(mut sock) = sock {
            let _ = self.driver.sources.deregister(entry.token, &mut sock);
        }
    }
}

/// Writes the connection's buffer while the socket takes it. If bytes are
/// left, the connection's waker is stored for writability; a write error is
/// left in the state for the caller.
fn flush<P>(entry: &mut Entry<P>, cx: &mut Context<'_>) {
    loop {
        if entry.conn.state.lock().buf.is_empty() {
            return;
        }
        let ev = match entry.io.poll_ready(cx, Direction::Write) {
            Poll::Pending => return,
            Poll::Ready(ev) => ev,
        };
        let mut state = entry.conn.state.lock();
        if ev.ready & SHUTDOWN != 0 {
            state.error = Some(shut_down());
            return;
        }
        let state = &mut *state;
        let Some(sock) = state.sock.as_mut() else {
            return;
        };
        while !state.buf.is_empty() {
            match sock.write(state.buf.pending()) {
                Ok(n) => state.buf.consume(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    entry.io.clear_readiness(ev);
                    break;
                }
                Err(e) => {
                    state.error = Some(e);
                    return;
                }
            }
        }
    }
}

fn shut_down() -> io::Error {
    io::Error::other("the corio runtime this connection belonged to has shut down")
}

// The protocol is never pinned (callbacks take `&mut P`), so the task's
// future may move freely whatever `P` is.
impl<P> Unpin for Reactor<P> {}

impl<P: Protocol> Future for Reactor<P> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut buf = take_read_buffer();
        let mut served = 0;
        loop {
            let mut scratch = std::mem::take(&mut this.scratch);
            this.ready.drain(cx.waker(), &mut scratch);
            this.backlog.extend(scratch.drain(..));
            this.scratch = scratch;
            if this.backlog.is_empty() {
                break;
            }
            while let Some(index) = this.backlog.pop_front() {
                if served == SERVICES_PER_POLL {
                    this.backlog.push_front(index);
                    give_back_read_buffer(buf);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                served += 1;
                if index == LISTENER {
                    this.accept();
                } else if index == INBOX {
                    this.take_inbox();
                } else {
                    this.service(index, &mut buf);
                }
            }
        }
        give_back_read_buffer(buf);
        if this.done() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<P> Drop for Reactor<P> {
    fn drop(&mut self) {
        // The loop is going away (runtime shutdown) or the reactor was
        // cancelled: close the sockets (deregistered first, so that a
        // reused descriptor number is never confused with them).
        // `connection_lost` is not called from here: the protocols are
        // dropped instead, as a task's future is at shutdown.
        for entry in self.conns.iter_mut().filter_map(Option::take) {
            let sock = entry.conn.state.lock().sock.take();
            if let Some(mut sock) = sock {
                let _ = self.driver.sources.deregister(entry.token, &mut sock);
            }
        }
        if let Some(mut l) = self.listener.take() {
            let _ = self.driver.sources.deregister(l.token, &mut l.sock);
        }
    }
}
