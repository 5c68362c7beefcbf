//! asyncio's protocols and transports: callback-driven connections with no
//! task per connection. This is corio's fastest way to serve bytes (what
//! uvloop is to asyncio).
//!
//! A [`Protocol`] is a set of callbacks; a [`Transport`] is its handle to the
//! connection. [`EventLoop::create_server`](crate::runtime::EventLoop::create_server)
//! and [`EventLoop::create_connection`](crate::runtime::EventLoop::create_connection)
//! make stream connections; [`EventLoop::create_datagram_endpoint`](crate::runtime::EventLoop::create_datagram_endpoint)
//! makes a UDP endpoint for a [`DatagramProtocol`].
//!
//! # How it runs
//!
//! Every loop that serves protocol connections runs a *reactor*: one task,
//! pinned to that loop, that owns the loop's connections (and the
//! protocols) in a slab. Each connection has a waker made once at set-up;
//! readiness of its socket (or a [`Transport`] call from another thread)
//! queues the connection's index and wakes the reactor, which serves only
//! the queued connections. Reads go into one reused 64 KiB buffer per
//! thread, and [`Protocol::data_received`] borrows it: no allocation per
//! read. [`Transport::write`] writes to the socket at once when nothing is
//! queued and buffers only what the socket did not take.
//!
//! The callbacks of one connection always run on its loop's thread, one at a
//! time, in the order the events happened.
//!
//! ```
//! use corio::protocol::{Protocol, Transport};
//!
//! struct Echo(Option<Transport>);
//!
//! impl Protocol for Echo {
//!     fn connection_made(&mut self, transport: Transport) {
//!         self.0 = Some(transport);
//!     }
//!     fn data_received(&mut self, data: &[u8]) {
//!         self.0.as_ref().unwrap().write(data);
//!     }
//! }
//!
//! corio::run(async {
//!     let lp = corio::get_running_loop();
//!     let server = lp.create_server(|| Echo(None), "127.0.0.1:0").await.unwrap();
//!     let addr = server.local_addrs()[0];
//!     let mut s = corio::net::TcpStream::connect(addr).await.unwrap();
//!     s.write_all(b"ping").await.unwrap();
//!     let mut buf = [0; 4];
//!     s.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"ping");
//!     server.close();
//! });
//! ```

pub(crate) mod balance;
#[cfg(not(loom))]
mod buffer;
#[cfg(not(loom))]
mod datagram;
#[cfg(not(loom))]
mod endpoint;
#[cfg(not(loom))]
mod reactor;
pub(crate) mod ready;
#[cfg(not(loom))]
mod transport;

#[cfg(not(loom))]
pub use datagram::DatagramTransport;
#[cfg(not(loom))]
pub(crate) use endpoint::{create_connection, create_datagram_endpoint, create_server};
#[cfg(not(loom))]
pub use transport::Transport;

use std::io;
use std::net::SocketAddr;

/// The callbacks of one stream connection: asyncio's `asyncio.Protocol`.
///
/// Each callback runs on the loop that owns the connection, never two at a
/// time for one connection. The order is: [`connection_made`] once; then
/// [`data_received`] any number of times, possibly [`eof_received`] once;
/// [`pause_writing`] and [`resume_writing`] in alternation whenever the write
/// buffer crosses its limits; and [`connection_lost`] exactly once, last.
///
/// [`Transport`] calls made inside a callback that would, in asyncio, call
/// back into the protocol synchronously (a `write` that crosses the high
/// water mark calls `pause_writing`) call it right after the current
/// callback returns instead: Rust does not allow the re-entrant `&mut self`.
///
/// [`connection_made`]: Protocol::connection_made
/// [`data_received`]: Protocol::data_received
/// [`eof_received`]: Protocol::eof_received
/// [`pause_writing`]: Protocol::pause_writing
/// [`resume_writing`]: Protocol::resume_writing
/// [`connection_lost`]: Protocol::connection_lost
pub trait Protocol: Send + 'static {
    /// The connection is up; keep `transport` (a cheap handle) to write.
    fn connection_made(&mut self, transport: Transport);

    /// Bytes arrived, in order. `data` borrows the loop's read buffer: copy
    /// what must outlive the call.
    fn data_received(&mut self, data: &[u8]);

    /// The peer closed its writing side. Return `false` (the default) to
    /// have the transport close itself (after flushing what is buffered);
    /// `true` keeps it open for writing, and the protocol closes it later.
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection is closed: `None` after a clean close (by
    /// [`Transport::close`], [`Transport::abort`], or the end of stream),
    /// `Some(error)` when an I/O error ended it (a reset peer). Called
    /// exactly once; the transport does nothing from then on.
    fn connection_lost(&mut self, error: Option<io::Error>) {
        let _ = error;
    }

    /// The write buffer went above its high-water mark (default 64 KiB):
    /// stop producing until [`resume_writing`](Protocol::resume_writing).
    fn pause_writing(&mut self) {}

    /// The write buffer drained to its low-water mark (default a quarter of
    /// the high-water mark).
    fn resume_writing(&mut self) {}
}

/// The callbacks of a datagram endpoint: asyncio's
/// `asyncio.DatagramProtocol`.
///
/// They run on the loop that created the endpoint, one at a time.
pub trait DatagramProtocol: Send + 'static {
    /// The endpoint is up; keep `transport` to send.
    fn connection_made(&mut self, transport: DatagramTransport);

    /// A datagram arrived from `addr`. `data` borrows the loop's buffer.
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr);

    /// A send or receive failed (an ICMP port-unreachable reported on a
    /// later call, for one). The endpoint stays open.
    fn error_received(&mut self, error: io::Error) {
        let _ = error;
    }

    /// The endpoint is closed (`None` after [`DatagramTransport::close`]).
    /// Called exactly once.
    fn connection_lost(&mut self, error: Option<io::Error>) {
        let _ = error;
    }
}

#[cfg(loom)]
#[doc(hidden)]
/// Placeholder under loom (no sockets).
#[derive(Debug)]
pub struct Transport;
#[cfg(loom)]
#[doc(hidden)]
/// Placeholder under loom (no sockets).
#[derive(Debug)]
pub struct DatagramTransport;
