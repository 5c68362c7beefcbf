//! asyncio's streams: `open_connection`, `start_server`, `StreamReader`,
//! `StreamWriter` and `Server`.
//!
//! * [`StreamReader`] buffers what it reads, pulling from the socket only
//!   when a read needs more bytes (so it reads ahead at most its limit).
//! * [`StreamWriter`] queues what the kernel does not take at once and
//!   writes it out in the background; [`StreamWriter::drain`] is the flow
//!   control.
//! * [`open_connection`] / [`start_server`] (and their Unix twins) make the
//!   pairs over sockets; a child process's pipes use the same types.

// Under loom the socket glue is compiled out; the crate-internal
// constructors and hooks it uses are then unused.
#![cfg_attr(loom, allow(dead_code))]

#[cfg(not(loom))]
mod connect;
mod errors;
mod reader;
#[cfg(not(loom))]
mod serve;
mod server;
#[cfg(not(loom))]
mod sockets;
pub(crate) mod source;
mod writer;

#[cfg(not(loom))]
pub use connect::{open_connection, open_unix_connection};
pub use errors::{IncompleteReadError, LimitOverrunError, ReadUntilError};
pub use reader::{StreamReader, DEFAULT_LIMIT};
#[cfg(not(loom))]
pub use serve::{start_server, start_unix_server};
#[allow(unused_imports)]
pub(crate) use server::ConnectionGuard;
pub use server::Server;
pub use writer::StreamWriter;
