//! Sockets on corio's event loops: TCP, UDP and Unix-domain.
//!
//! Each socket is registered with the event loop of the worker that first
//! waits on it (so accepted connections spread over the cores with the tasks
//! that serve them), and implements `futures_io::AsyncRead`/`AsyncWrite` where it streams.
//! Errors are the operating system's: a refused connection is
//! `ConnectionRefused`, an address in use is `AddrInUse`, a Unix path that
//! does not exist is `NotFound`.

pub(crate) mod addr;
mod stream_impls;
mod tcp;
mod udp;
mod unix;
pub(crate) mod util;

pub use addr::ToSocketAddrs;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
