//! Datagram endpoints: `DatagramTransport` and the task that serves one
//! endpoint (an endpoint is one socket, so one task is all it needs).

use super::DatagramProtocol;
use crate::io::scheduled_io::{Direction, ScheduledIo, SHUTDOWN};
use crate::loom::sync::{Arc, Mutex};
use crate::runtime::driver::Driver;
use mio::Interest;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Largest UDP payload (over IPv4): the receive buffer's size.
const MAX_DATAGRAM: usize = 65_507;
/// Datagrams handled per poll before other tasks get a turn.
const PER_POLL: usize = 64;

struct Shared {
    state: Mutex<State>,
    local: Option<SocketAddr>,
}

struct State {
    /// `None` once the endpoint is closed.
    sock: Option<mio::net::UdpSocket>,
    /// Datagrams the socket did not take yet, in order.
    queue: VecDeque<(Vec<u8>, SocketAddr)>,
    queued_bytes: usize,
    /// Send errors, reported through `error_received` on the loop.
    errors: Vec<io::Error>,
    closing: bool,
    /// The endpoint task's waker.
    task: Option<Waker>,
}

/// A datagram endpoint's handle: asyncio's `DatagramTransport`.
///
/// Cheap to clone, `Send + Sync`; usable from any thread (the socket is
/// behind a lock, and the endpoint's loop is woken for what it must do).
#[derive(Clone)]
pub struct DatagramTransport {
    shared: Arc<Shared>,
}

impl DatagramTransport {
    /// Sends `data` to `addr`: at once if nothing is queued and the socket
    /// takes it, else queued (in order) until it is writable. A failure is
    /// reported to the protocol's `error_received`, on its loop. Ignored once
    /// the endpoint is closing.
    pub fn sendto(&self, data: &[u8], addr: SocketAddr) {
        let wake = {
            let mut state = self.shared.state.lock();
            if state.closing {
                return;
            }
            let Some(sock) = state.sock.as_ref() else {
                return;
            };
            if state.queue.is_empty() {
                match sock.send_to(data, addr) {
                    Ok(_) => return,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        state.queued_bytes += data.len();
                        state.queue.push_back((data.to_vec(), addr));
                    }
                    Err(e) => state.errors.push(e),
                }
            } else {
                state.queued_bytes += data.len();
                state.queue.push_back((data.to_vec(), addr));
            }
            state.task.clone()
        };
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Closes the endpoint once the queued datagrams are sent; then the
    /// protocol's `connection_lost(None)` is called on its loop.
    pub fn close(&self) {
        let wake = {
            let mut state = self.shared.state.lock();
            if state.closing {
                return;
            }
            state.closing = true;
            state.task.clone()
        };
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Closes the endpoint at once, dropping the queued datagrams.
    pub fn abort(&self) {
        {
            let mut state = self.shared.state.lock();
            state.queue.clear();
            state.queued_bytes = 0;
        }
        self.close();
    }

    /// `true` once closing.
    pub fn is_closing(&self) -> bool {
        self.shared.state.lock().closing
    }

    /// Bytes queued and not yet sent.
    pub fn get_write_buffer_size(&self) -> usize {
        self.shared.state.lock().queued_bytes
    }

    /// The address the endpoint is bound to.
    ///
    /// # Errors
    /// `NotConnected` if the OS could not tell it.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.local.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "the local address is not known",
            )
        })
    }
}

impl fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramTransport")
            .field("local", &self.shared.local)
            .finish()
    }
}

/// The task serving one endpoint.
pub(super) struct Endpoint<P> {
    driver: Arc<Driver>,
    shared: Arc<Shared>,
    token: usize,
    io: Arc<ScheduledIo>,
    protocol: P,
    made: bool,
    buf: Box<[u8]>,
}

impl<P: DatagramProtocol> Endpoint<P> {
    pub(super) fn new(
        driver: Arc<Driver>,
        sock: std::net::UdpSocket,
        protocol: P,
    ) -> io::Result<(Endpoint<P>, DatagramTransport)> {
        let mut sock = mio::net::UdpSocket::from_std(sock);
        let (token, io) = driver
            .sources
            .register(&mut sock, Interest::READABLE | Interest::WRITABLE)?;
        let shared = Arc::new(Shared {
            local: sock.local_addr().ok(),
            state: Mutex::new(State {
                sock: Some(sock),
                queue: VecDeque::new(),
                queued_bytes: 0,
                errors: Vec::new(),
                closing: false,
                task: None,
            }),
        });
        let transport = DatagramTransport {
            shared: shared.clone(),
        };
        let endpoint = Endpoint {
            driver,
            shared,
            token,
            io,
            protocol,
            made: false,
            buf: vec![0; MAX_DATAGRAM].into_boxed_slice(),
        };
        Ok((endpoint, transport))
    }

    /// Sends queued datagrams while the socket takes them.
    fn flush(&mut self, cx: &mut Context<'_>) {
        loop {
            if self.shared.state.lock().queue.is_empty() {
                return;
            }
            let ev = match self.io.poll_ready(cx, Direction::Write) {
                Poll::Pending => return,
                Poll::Ready(ev) => ev,
            };
            let mut state = self.shared.state.lock();
            let state = &mut *state;
            let Some(sock) = state.sock.as_ref() else {
                return;
            };
            while let Some((data, addr)) = state.queue.front() {
                match sock.send_to(data, *addr) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.io.clear_readiness(ev);
                        break;
                    }
                    res => {
                        if let Err(e) = res {
                            state.errors.push(e);
                        }
                        state.queued_bytes -= data.len();
                        state.queue.pop_front();
                    }
                }
            }
        }
    }

    fn finish(&mut self, error: Option<io::Error>) {
        let sock = {
            let mut state = self.shared.state.lock();
            state.closing = true;
            state.queue.clear();
            state.queued_bytes = 0;
            state.task = None;
            state.sock.take()
        };
        if let Some(mut sock) = sock {
            let _ = self.driver.sources.deregister(self.token, &mut sock);
        }
        self.protocol.connection_lost(error);
    }
}

// The protocol is never pinned (callbacks take `&mut P`), so the task's
// future may move freely whatever `P` is.
impl<P> Unpin for Endpoint<P> {}

impl<P: DatagramProtocol> Future for Endpoint<P> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        {
            let mut state = this.shared.state.lock();
            if state.sock.is_none() {
                return Poll::Ready(());
            }
            match &state.task {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => state.task = Some(cx.waker().clone()),
            }
        }
        if !this.made {
            this.made = true;
            this.protocol.connection_made(DatagramTransport {
                shared: this.shared.clone(),
            });
        }
        let mut handled = 0;
        loop {
            this.flush(cx);
            let (errors, closing, queued) = {
                let mut state = this.shared.state.lock();
                (
                    std::mem::take(&mut state.errors),
                    state.closing,
                    !state.queue.is_empty(),
                )
            };
            for e in errors {
                this.protocol.error_received(e);
            }
            if closing {
                if !queued {
                    this.finish(None);
                    return Poll::Ready(());
                }
                return Poll::Pending;
            }
            if handled == PER_POLL {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let ev = match this.io.poll_ready(cx, Direction::Read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(ev) => ev,
            };
            if ev.ready & SHUTDOWN != 0 {
                this.finish(Some(io::Error::other(
                    "the corio runtime this endpoint belonged to has shut down",
                )));
                return Poll::Ready(());
            }
            let res = {
                let state = this.shared.state.lock();
                match state.sock.as_ref() {
                    Some(sock) => sock.recv_from(&mut this.buf),
                    None => return Poll::Ready(()),
                }
            };
            handled += 1;
            match res {
                Ok((n, addr)) => this.protocol.datagram_received(&this.buf[..n], addr),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => this.io.clear_readiness(ev),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // An ICMP error reported for an earlier send: the socket
                // stays usable.
                Err(e) => this.protocol.error_received(e),
            }
        }
    }
}

impl<P> Drop for Endpoint<P> {
    fn drop(&mut self) {
        let sock = self.shared.state.lock().sock.take();
        if let Some(mut sock) = sock {
            let _ = self.driver.sources.deregister(self.token, &mut sock);
        }
    }
}
