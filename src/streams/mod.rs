//! asyncio's streams: `open_connection`, `start_server`, `StreamReader`,
//! `StreamWriter` and `Server`.

mod errors;
mod reader;
mod server;
pub(crate) mod source;
mod writer;

pub use errors::{IncompleteReadError, LimitOverrunError, ReadUntilError};
pub use reader::{StreamReader, DEFAULT_LIMIT};
#[allow(unused_imports)]
pub(crate) use server::ConnectionGuard;
pub use server::Server;
pub use writer::StreamWriter;
