//! asyncio's streams: `open_connection`, `start_server`, `StreamReader`,
//! `StreamWriter` and `Server`.

mod server;
pub(crate) mod source;

pub use server::Server;
#[allow(unused_imports)]
pub(crate) use server::ConnectionGuard;
