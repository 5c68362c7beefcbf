//! What a stream reads from and writes to: a socket or a pipe, behind two
//! small traits so that `StreamReader`/`StreamWriter` serve TCP, Unix
//! sockets and a child's pipes with the same code.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::task::{Context, Poll};

/// The read side of a byte stream, driven by the event loop.
/// `Sync` (though every method takes `&mut self`) so that `StreamReader`
/// is `Sync`, and a `Child` holding readers can be shared by the tasks that
/// `wait` on it.
pub(crate) trait ReadSource: Send + Sync + 'static {
    /// Reads into `buf` once the source is readable: `Ok(0)` at end of
    /// stream. Registers the task's waker when it returns `Pending`.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
}

/// The write side of a byte stream, driven by the event loop.
pub(crate) trait WriteSink: Send + 'static {
    /// Writes some of `bufs` (one `writev`) once the sink is writable.
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;

    /// Ends the write direction: `shutdown(SHUT_WR)` for a socket, closing
    /// the descriptor for a pipe. Called once, after everything buffered was
    /// written.
    fn shutdown_write(&mut self) -> io::Result<()>;

    /// Ends both directions at once, for `StreamWriter::abort`: a socket is
    /// shut down for reading and writing (the peer sees the end, the reader
    /// half reads EOF); by default (pipes) the same as `shutdown_write`.
    fn abort(&mut self) -> io::Result<()> {
        self.shutdown_write()
    }

    /// The local address, for sockets that have one.
    fn local_addr(&self) -> io::Result<SocketAddr> {
        Err(no_address())
    }

    /// The peer's address, for sockets that have one.
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Err(no_address())
    }
}

fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "this stream has no IP address (it is a Unix socket or a pipe)",
    )
}
