//! `open_connection` and `open_unix_connection`: a connected socket as a
//! reader/writer pair.

use super::reader::{StreamReader, DEFAULT_LIMIT};
use super::sockets::Half;
use super::writer::StreamWriter;
use crate::loom::sync::Arc;
use crate::net::addr::resolve_async;
use crate::net::{TcpStream, ToSocketAddrs, UnixStream};
use std::io;
use std::path::Path;

/// Connects to `addr` over TCP and returns the connection as a
/// reader/writer pair: asyncio's `open_connection`.
///
/// `addr` is `"host:port"`, `(host, port)` or a `SocketAddr`. A host name is
/// looked up on the blocking pool (numeric addresses need no lookup); each
/// address it resolves to is tried in turn. The reader's limit is 64 KiB
/// (change it with [`StreamReader::set_limit`]).
///
/// The socket closes once both halves are dropped; dropping the writer (or
/// calling [`StreamWriter::close`]) sends `FIN` after the bytes written.
///
/// # Errors
/// The OS's, for the last address tried: `ConnectionRefused` when nothing
/// listens there, `TimedOut`, `NetworkUnreachable`; a failed lookup's error
/// for an unknown host.
///
/// ```no_run
/// corio::run(async {
///     let (mut reader, writer) = corio::open_connection("example.com:80").await?;
///     writer.write(b"HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n");
///     let status = reader.readline().await?;
///     println!("{}", String::from_utf8_lossy(&status));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn open_connection(addr: impl ToSocketAddrs) -> io::Result<(StreamReader, StreamWriter)> {
    let mut last = None;
    for a in resolve_async(addr).await? {
        match TcpStream::connect(a).await {
            Ok(stream) => return Ok(tcp_streams(stream)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve_async returns at least one address"))
}

/// Connects to the Unix socket at `path`: asyncio's
/// `open_unix_connection`. As [`open_connection`], except that the writer's
/// `peer_addr`/`local_addr` are `Unsupported` (a Unix socket has no IP
/// address).
///
/// # Errors
/// `NotFound` if `path` does not exist, `ConnectionRefused` if nothing
/// listens on it, `PermissionDenied`.
pub async fn open_unix_connection(
    path: impl AsRef<Path>,
) -> io::Result<(StreamReader, StreamWriter)> {
    Ok(unix_streams(UnixStream::connect(path).await?))
}

/// A connected TCP socket as a reader/writer pair.
pub(crate) fn tcp_streams(stream: TcpStream) -> (StreamReader, StreamWriter) {
    let stream = Arc::new(stream);
    (
        StreamReader::from_source(Half(stream.clone()), DEFAULT_LIMIT),
        StreamWriter::from_sink(Half(stream)),
    )
}

/// A connected Unix socket as a reader/writer pair.
pub(crate) fn unix_streams(stream: UnixStream) -> (StreamReader, StreamWriter) {
    let stream = Arc::new(stream);
    (
        StreamReader::from_source(Half(stream.clone()), DEFAULT_LIMIT),
        StreamWriter::from_sink(Half(stream)),
    )
}
