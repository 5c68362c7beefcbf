//! UDP: `UdpSocket`.

use super::addr::{each_addr, resolve_async};
use super::util::{self, into_std_fd};
use super::ToSocketAddrs;
use crate::io::registration::PollEvented;
use crate::io::scheduled_io::Direction;
use mio::Interest;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

/// A UDP socket.
///
/// Every method takes `&self`, so several tasks may send and receive on one
/// socket at once (through an `Arc<UdpSocket>`). The socket belongs to the
/// event loop of the worker that first waits on it; its methods may be awaited
/// from any task.
///
/// A datagram is sent and received whole: `recv`/`recv_from` with a buffer
/// smaller than the datagram fill the buffer, return its length, and the rest
/// of that datagram is discarded (the next call returns the next datagram).
/// A datagram larger than UDP allows (65 507 bytes over IPv4) is refused by
/// the OS with `EMSGSIZE`.
///
/// ```
/// use corio::net::UdpSocket;
/// corio::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (`"host:port"` or a `SocketAddr`; port 0
    /// picks a free port), trying each resolved address in turn.
    ///
    /// # Errors
    /// The OS's: `AddrInUse` if the address is taken, `AddrNotAvailable` if it
    /// is not local, `PermissionDenied` for a privileged port.
    ///
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |a| async move {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(a)?)
        })
        .await
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Sets the default destination of [`send`](Self::send) and limits
    /// [`recv`](Self::recv) to datagrams from `addr` (the first resolved
    /// address the OS accepts). No packet is sent: a peer that is not there
    /// shows up later, as `ConnectionRefused` from `send` or `recv`.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |a| async move { self.io.get().connect(a) }).await
    }

    /// Sends `buf` as one datagram to the connected peer; returns the bytes
    /// sent (all of `buf`).
    ///
    /// # Errors
    /// The OS's `EDESTADDRREQ` if [`connect`](Self::connect) was not called;
    /// `ConnectionRefused` if an earlier datagram found no listener.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Write, |s| s.send(buf))).await
    }

    /// Receives one datagram from the connected peer into `buf` (truncated
    /// to `buf.len()`, see the type's docs); returns its length.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))).await
    }

    /// Sends `buf` as one datagram to `target`; returns the bytes sent.
    ///
    /// A host name in `target` is resolved (by the system resolver, on the
    /// blocking pool) and its first address used; numeric addresses need no
    /// lookup.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve_async(target).await?[0];
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
        })
        .await
    }

    /// Receives one datagram into `buf` (truncated to `buf.len()`); returns
    /// its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))).await
    }

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram queued:
    /// the next receive returns it again.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.peek_from(buf))).await
    }

    /// Waits until a datagram (or an error) can be received.
    pub async fn readable(&self) -> io::Result<()> {
        util::ready(&self.io, Direction::Read).await
    }

    /// Waits until a datagram can be sent.
    pub async fn writable(&self) -> io::Result<()> {
        util::ready(&self.io, Direction::Write).await
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The connected peer's address (`NotConnected` if none).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Sets `SO_BROADCAST`: whether datagrams may be sent to a broadcast
    /// address.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get().set_broadcast(on)
    }

    /// Reads `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get().broadcast()
    }

    /// Sets `IP_TTL`: the time-to-live of outgoing datagrams.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get().set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get().ttl()
    }

    /// Wraps a bound std socket (switched to non-blocking mode).
    ///
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Deregisters the socket and returns it as a std socket (still in
    /// non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(into_std_fd(self.io.into_inner()?))
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

util::fd_impls!(UdpSocket);
