//! Sockets on corio's event loops: TCP, UDP and Unix-domain.
//!
//! Each socket is registered with the event loop of the worker that created
//! it and implements `futures_io::AsyncRead`/`AsyncWrite` where it streams.
//! Errors are the operating system's: a refused connection is
//! `ConnectionRefused`, an address in use is `AddrInUse`.

mod addr;
mod tcp;

pub use tcp::{TcpListener, TcpStream};
