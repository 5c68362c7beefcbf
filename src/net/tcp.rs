//! TCP: `TcpListener` and `TcpStream`.

use super::addr::each_addr;
use super::stream_impls::{self, async_io_impls, StreamSource};
use super::util::{self, accept_with_backoff, into_std_fd};
use super::ToSocketAddrs;
use crate::io::registration::PollEvented;
use crate::io::scheduled_io::Direction;
use mio::Interest;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read};
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

/// A TCP socket server, listening for connections.
///
/// The socket joins the event loop of the worker that first waits on it;
/// `accept` may be awaited from any task.
///
/// ```
/// use corio::net::{TcpListener, TcpStream};
/// corio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = corio::create_task(async move { TcpStream::connect(addr).await.unwrap() });
///     let (_server_side, peer) = listener.accept().await.unwrap();
///     let client = client.await.unwrap();
///     assert_eq!(client.local_addr().unwrap(), peer);
/// });
/// ```
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (`"host:port"` or a `SocketAddr`; port 0 picks a free
    /// port) and listens, with `SO_REUSEADDR` set. Tries each resolved address
    /// in turn.
    ///
    /// # Errors
    /// The OS's: `AddrInUse` if the address is taken, `AddrNotAvailable` if it
    /// is not local, `PermissionDenied` for a privileged port.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |a| async move {
            let listener = mio::net::TcpListener::bind(a)?;
            util::set_backlog(&listener)?;
            TcpListener::from_mio(listener)
        })
        .await
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener, Interest::READABLE)?,
        })
    }

    /// Accepts a new connection.
    ///
    /// When the process runs out of file descriptors (`EMFILE`, `ENFILE`) or
    /// memory for sockets, `accept` waits and retries (10 ms, doubling up to
    /// 1 s) instead of failing or spinning: the pending connection stays in
    /// the kernel's backlog until a descriptor is free.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = accept_with_backoff(|cx| self.poll_accept_raw(cx)).await?;
        Ok((TcpStream::from_mio(stream)?, addr))
    }

    fn poll_accept_raw(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(mio::net::TcpStream, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |l| l.accept())
    }

    /// Polls for a new connection (no back-off; see [`accept`](Self::accept)).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match self.poll_accept_raw(cx) {
            Poll::Ready(Ok((s, a))) => Poll::Ready(TcpStream::from_mio(s).map(|s| (s, a))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Wraps a listening std socket (it is switched to non-blocking mode).
    ///
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Deregisters the socket and returns it as a std listener (still in
    /// non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let mio = self.io.into_inner()?;
        Ok(into_std_fd(mio))
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection.
///
/// Reading and writing take `&self` as well as `&mut self` forms, so one task
/// may read while another writes (through an `Arc<TcpStream>`). It implements
/// `futures_io::AsyncRead` and `AsyncWrite` (also for `&TcpStream`).
///
/// ```
/// use corio::net::{TcpListener, TcpStream};
/// corio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     corio::create_task(async move {
///         let (stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap();
///     });
///     let stream = TcpStream::connect(addr).await.unwrap();
///     stream.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     stream.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hello");
/// });
/// ```
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// # Errors
    /// The OS's: `ConnectionRefused` when nothing listens there,
    /// `TimedOut`, `NetworkUnreachable`, ...
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |a| async move {
            let stream = TcpStream::from_mio(mio::net::TcpStream::connect(a)?)?;
            stream.connected().await?;
            Ok(stream)
        })
        .await
    }

    /// Waits for a non-blocking connect to finish and reports its outcome.
    async fn connected(&self) -> io::Result<()> {
        poll_fn(|cx| self.io.poll_ready(cx, Direction::Write)).await?;
        let sock = self.io.get();
        if let Some(e) = sock.take_error()? {
            return Err(e);
        }
        match sock.peer_addr() {
            Ok(_) => Ok(()),
            // Writable without an error but not connected: the connect failed
            // in a way only a read reveals.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                let mut buf = [0u8; 1];
                Err((&*sock).read(&mut buf).err().unwrap_or(e))
            }
            Err(e) => Err(e),
        }
    }

    fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Reads into `buf`; `Ok(0)` means the peer closed its side (or `buf` is
    /// empty).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        stream_impls::read(&self.io, buf).await
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the peer closes
    /// first.
    pub async fn read_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        stream_impls::read_exact(&self.io, buf).await
    }

    /// Writes some of `buf`, returning how much.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        stream_impls::write(&self.io, buf).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        stream_impls::write_all(&self.io, buf).await
    }

    /// Writes from several buffers at once (`writev`).
    pub async fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        stream_impls::write_vectored(&self.io, bufs).await
    }

    /// Shuts down the read, write or both halves (`Shutdown::Write` sends
    /// FIN after the data already written).
    pub async fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        StreamSource::shutdown(self.io.get(), how)
    }

    /// Waits until the socket is readable (or closed).
    pub async fn readable(&self) -> io::Result<()> {
        util::ready(&self.io, Direction::Read).await
    }

    /// Waits until the socket is writable (or closed).
    pub async fn writable(&self) -> io::Result<()> {
        util::ready(&self.io, Direction::Write).await
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get().set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get().nodelay()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Wraps a connected std stream (switched to non-blocking mode).
    ///
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Deregisters the socket and returns it as a std stream (still in
    /// non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(into_std_fd(self.io.into_inner()?))
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

async_io_impls!(TcpStream);
async_io_impls!(&TcpStream);

util::fd_impls!(TcpListener, TcpStream);
