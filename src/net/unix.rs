//! Unix-domain sockets: `UnixListener`, `UnixStream` and `UnixDatagram`.
//!
//! Addresses are filesystem paths (`AsRef<Path>`); `local_addr`/`peer_addr`
//! return `std::os::unix::net::SocketAddr`. Binding creates the socket file,
//! which is not removed when the socket is closed (as with std): remove it
//! yourself, or binding the same path again fails with `AddrInUse`.

use super::stream_impls::{self, async_io_impls, StreamSource};
use super::util::{self, accept_with_backoff, into_std_fd};
use crate::io::registration::PollEvented;
use crate::io::scheduled_io::Direction;
use mio::Interest;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};
use std::time::Duration;

/// A Unix-domain stream socket server, listening for connections.
///
/// The socket joins the event loop of the worker that first waits on it;
/// `accept` may be awaited from any task.
///
/// ```
/// use corio::net::{UnixListener, UnixStream};
/// let path = std::env::temp_dir().join(format!("corio-doc-listener-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// corio::run(async {
///     let listener = UnixListener::bind(&path).await.unwrap();
///     let client = corio::create_task({
///         let path = path.clone();
///         async move {
///             let stream = UnixStream::connect(&path).await.unwrap();
///             stream.write_all(b"hi").await.unwrap();
///         }
///     });
///     let (stream, _peer) = listener.accept().await.unwrap();
///     let mut buf = [0; 2];
///     stream.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///     client.await.unwrap();
/// });
/// std::fs::remove_file(&path).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file `path` and listens on it.
    ///
    /// `async` for symmetry with [`TcpListener::bind`](super::TcpListener::bind);
    /// it does not wait.
    ///
    /// # Errors
    /// The OS's: `AddrInUse` if `path` exists (a socket file left by an
    /// earlier listener included), `NotFound` if its directory does not,
    /// `PermissionDenied`, `InvalidInput` for a path too long for a socket
    /// address.
    ///
    pub async fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = mio::net::UnixListener::bind(path)?;
        util::set_backlog(&listener)?;
        UnixListener::from_mio(listener)
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: PollEvented::new(listener, Interest::READABLE)?,
        })
    }

    /// Accepts a new connection; returns it with the peer's address (usually
    /// unnamed: clients rarely bind).
    ///
    /// When the process runs out of file descriptors (`EMFILE`, `ENFILE`) or
    /// memory for sockets, `accept` waits and retries (10 ms, doubling up to
    /// 1 s) instead of failing or spinning, as
    /// [`TcpListener::accept`](super::TcpListener::accept) does.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = accept_with_backoff(|cx| self.poll_accept_raw(cx)).await?;
        Ok((UnixStream::from_mio(stream)?, addr))
    }

    fn poll_accept_raw(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(mio::net::UnixStream, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |l| l.accept())
    }

    /// Polls for a new connection (no back-off; see [`accept`](Self::accept)).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        match self.poll_accept_raw(cx) {
            Poll::Ready(Ok((s, a))) => Poll::Ready(UnixStream::from_mio(s).map(|s| (s, a))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The address (path) the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Wraps a listening std socket (it is switched to non-blocking mode).
    ///
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    /// Deregisters the socket and returns it as a std listener (still in
    /// non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(into_std_fd(self.io.into_inner()?))
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// First and last pause of `UnixStream::connect` while the listener's backlog
/// is full.
const CONNECT_RETRY_START: Duration = Duration::from_millis(1);
const CONNECT_RETRY_MAX: Duration = Duration::from_millis(64);

/// A Unix-domain stream connection.
///
/// Reading and writing take `&self`, so one task may read while another
/// writes (through an `Arc<UnixStream>`). It implements
/// `futures_io::AsyncRead` and `AsyncWrite` (also for `&UnixStream`).
///
/// ```
/// use corio::net::UnixStream;
/// corio::run(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the listener at `path`.
    ///
    /// While the listener's backlog is full (the OS answers `EAGAIN`), the
    /// connect is retried after a short pause (1 ms, doubling up to 64 ms)
    /// for as long as it takes, like a blocking `connect`; wrap it in
    /// [`timeout`](crate::timeout) to bound the wait.
    ///
    /// # Errors
    /// The OS's: `NotFound` if `path` does not exist, `ConnectionRefused` if
    /// it exists but nothing listens on it, `PermissionDenied`.
    ///
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let mut pause = CONNECT_RETRY_START;
        let stream = loop {
            match mio::net::UnixStream::connect(path) {
                Ok(s) => break UnixStream::from_mio(s)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::time::sleep(pause).await;
                    pause = (pause * 2).min(CONNECT_RETRY_MAX);
                }
                Err(e) => return Err(e),
            }
        };
        // Linux completes a Unix connect at once; elsewhere it may still be in
        // progress: it is done when the socket turns writable.
        poll_fn(|cx| stream.io.poll_ready(cx, Direction::Write)).await?;
        if let Some(e) = stream.io.get().take_error()? {
            return Err(e);
        }
        Ok(stream)
    }

    /// Creates a pair of connected, unnamed sockets (`socketpair`).
    ///
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    #[track_caller]
    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
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

    /// Shuts down the read, write or both halves (`Shutdown::Write`: the
    /// peer reads end-of-file after the data already written).
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

    /// The local address (unnamed unless the socket was bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The peer's address (the listener's path for a connected client).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Wraps a connected std stream (switched to non-blocking mode).
    ///
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Deregisters the socket and returns it as a std stream (still in
    /// non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(into_std_fd(self.io.into_inner()?))
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

async_io_impls!(UnixStream);
async_io_impls!(&UnixStream);

/// A Unix-domain datagram socket.
///
/// Every method takes `&self`, so several tasks may send and receive on one
/// socket at once. Datagrams are delivered whole and in order; a receive
/// buffer smaller than the datagram gets its first `buf.len()` bytes and the
/// rest is discarded.
///
/// ```
/// use corio::net::UnixDatagram;
/// corio::run(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one").await.unwrap();
///     a.send(b"two").await.unwrap();
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one");
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"two");
/// });
/// ```
pub struct UnixDatagram {
    io: PollEvented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to the new socket file `path`.
    ///
    /// `async` for symmetry with [`UdpSocket::bind`](super::UdpSocket::bind);
    /// it does not wait.
    ///
    /// # Errors
    /// The OS's: `AddrInUse` if `path` exists, `NotFound` if its directory
    /// does not, `PermissionDenied`.
    ///
    pub async fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind(path)?)
    }

    /// Creates a socket bound to no address: it can send (with
    /// [`send_to`](Self::send_to), or after [`connect`](Self::connect)), and
    /// receive replies only once connected, since nobody can name it.
    ///
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// Creates a pair of connected, unnamed sockets (`socketpair`).
    ///
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    #[track_caller]
    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollEvented::new(socket, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Sets the default destination of [`send`](Self::send) and limits
    /// [`recv`](Self::recv) to datagrams from the socket bound at `path`.
    ///
    /// # Errors
    /// `NotFound` if `path` does not exist, `ConnectionRefused` if no socket
    /// is bound there.
    pub async fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get().connect(path)
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// # Errors
    /// `NotConnected` if the socket is not connected.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Write, |s| s.send(buf))).await
    }

    /// Receives one datagram into `buf`; returns its length (truncated to
    /// `buf.len()`).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))).await
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    ///
    /// # Errors
    /// `NotFound` if `path` does not exist, `ConnectionRefused` if no socket
    /// is bound there.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |s| s.send_to(buf, path))
        })
        .await
    }

    /// Receives one datagram into `buf`; returns its length and the sender's
    /// address (unnamed if the sender is not bound).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))).await
    }

    /// Waits until a datagram (or an error) can be received.
    pub async fn readable(&self) -> io::Result<()> {
        util::ready(&self.io, Direction::Read).await
    }

    /// Waits until a datagram can be sent.
    pub async fn writable(&self) -> io::Result<()> {
        util::ready(&self.io, Direction::Write).await
    }

    /// The local address (unnamed unless bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The connected peer's address (`NotConnected` if none).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Wraps a std socket (switched to non-blocking mode).
    ///
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Deregisters the socket and returns it as a std socket (still in
    /// non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(into_std_fd(self.io.into_inner()?))
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

util::fd_impls!(UnixListener, UnixStream, UnixDatagram);
