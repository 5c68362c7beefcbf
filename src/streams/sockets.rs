//! The read and write halves of stream sockets, as a stream's source and
//! sink: both halves share the socket (reads and writes on one socket may
//! run at once), which closes when both are dropped.

use super::source::{ReadSource, WriteSink};
use crate::loom::sync::Arc;
use crate::net::{TcpStream, UnixStream};
use futures_io::{AsyncRead, AsyncWrite};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One half of a shared stream socket.
pub(crate) struct Half<S>(pub(crate) Arc<S>);

macro_rules! halves {
    ($ty:ty $(, $addrs:item)*) => {
        impl ReadSource for Half<$ty> {
            fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                Pin::new(&mut &*self.0).poll_read(cx, buf)
            }
        }

        impl WriteSink for Half<$ty> {
            fn poll_write_vectored(
                &mut self,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut &*self.0).poll_write_vectored(cx, bufs)
            }

            fn shutdown_write(&mut self) -> io::Result<()> {
                shutdown(&*self.0)
            }

            fn abort(&mut self) -> io::Result<()> {
                use std::os::fd::AsRawFd;
                // SAFETY: the descriptor is open while `self.0` (one of the
                // socket's two owners) lives; `shutdown` only changes the
                // connection's state.
                let rc = unsafe { libc::shutdown(self.0.as_raw_fd(), libc::SHUT_RDWR) };
                if rc == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            }

            $($addrs)*
        }
    };
}

halves!(
    TcpStream,
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    },
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
);
// A Unix socket has no IP address: the trait's `Unsupported` defaults.
halves!(UnixStream);

/// `shutdown(SHUT_WR)` without waiting: the sockets' `poll_close` is that,
/// and completes at its first poll.
fn shutdown<S>(sock: &S) -> io::Result<()>
where
    for<'a> &'a S: AsyncWrite,
{
    let waker = super::writer::noop_waker();
    let mut cx = Context::from_waker(&waker);
    match Pin::new(&mut &*sock).poll_close(&mut cx) {
        Poll::Ready(r) => r,
        Poll::Pending => Ok(()),
    }
}
