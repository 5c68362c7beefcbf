//! `start_server` and `start_unix_server`: accept loops that run a handler
//! task per connection.

use super::connect::{tcp_streams, unix_streams};
use super::reader::StreamReader;
use super::server::Server;
use super::writer::StreamWriter;
use crate::loom::sync::Arc;
use crate::net::addr::resolve_async;
use crate::net::{TcpListener, ToSocketAddrs, UnixListener};
use std::future::Future;
use std::io;
use std::path::Path;

/// Listens on `addr` and runs `handler(reader, writer)` as its own task for
/// every connection: asyncio's `start_server`.
///
/// `addr` resolves as for [`open_connection`](crate::open_connection); the
/// server listens on every address it resolves to (`"localhost:8080"` may be
/// both `127.0.0.1` and `::1`), skipping the ones the host cannot bind
/// (`AddrNotAvailable`, as asyncio does for a disabled address family) as
/// long as one succeeds. With port 0 each socket gets its own free port:
/// read them with [`Server::local_addrs`]. Sockets are bound with
/// `SO_REUSEADDR`.
///
/// The handler's task may run on any worker. It holds the connection open
/// for [`Server::wait_closed`] until it returns; its reader and writer,
/// when dropped, close the connection (the writer after flushing what was
/// written). A handler that panics ends only its own connection.
///
/// [`Server::close`] stops accepting; connections already accepted carry
/// on.
///
/// # Errors
/// Resolution errors, and the OS's bind errors (`AddrInUse`,
/// `PermissionDenied`, ...).
///
/// ```
/// corio::run(async {
///     let server = corio::start_server(
///         |mut reader: corio::StreamReader, writer: corio::StreamWriter| async move {
///             while let Ok(line) = reader.readline().await {
///                 if line.is_empty() {
///                     break; // EOF
///                 }
///                 writer.write(&line);
///                 if writer.drain().await.is_err() {
///                     break;
///                 }
///             }
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, writer) = corio::open_connection(server.local_addrs()[0]).await.unwrap();
///     writer.write(b"ping\n");
///     assert_eq!(reader.readline().await.unwrap(), b"ping\n");
///     server.close();
///     drop(writer);
///     server.wait_closed().await;
/// });
/// ```
pub async fn start_server<H, F>(handler: H, addr: impl ToSocketAddrs) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut listeners = Vec::new();
    let mut skipped = None;
    for a in resolve_async(addr).await? {
        match TcpListener::bind(a).await {
            Ok(l) => listeners.push(l),
            Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => skipped = Some(e),
            Err(e) => return Err(e),
        }
    }
    if listeners.is_empty() {
        return Err(skipped.expect("resolve_async returns at least one address"));
    }
    let local_addrs = listeners
        .iter()
        .map(TcpListener::local_addr)
        .collect::<io::Result<Vec<_>>>()?;
    let server = Server::new(local_addrs);
    let handler = Arc::new(handler);
    for listener in listeners {
        let (handler, guard_source) = (handler.clone(), server.clone());
        let acceptor = crate::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let (reader, writer) = tcp_streams(stream);
                        serve(&guard_source, &handler, reader, writer);
                    }
                    Err(e) if transient(&e) => continue,
                    Err(_) => break,
                }
            }
        });
        server.add_acceptor(acceptor);
    }
    Ok(server)
}

/// [`start_server`] for a Unix socket at `path`: asyncio's
/// `start_unix_server`. [`Server::local_addrs`] is empty.
///
/// The socket file is created by the bind and left in place when the server
/// closes (as asyncio before 3.13); a file already at `path` is an
/// `AddrInUse` error, not removed.
///
/// # Errors
/// The OS's bind errors: `AddrInUse`, `NotFound` for a missing directory,
/// `PermissionDenied`.
pub async fn start_unix_server<H, F>(handler: H, path: impl AsRef<Path>) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = UnixListener::bind(path).await?;
    let server = Server::new(Vec::new());
    let guard_source = server.clone();
    let handler = Arc::new(handler);
    let acceptor = crate::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let (reader, writer) = unix_streams(stream);
                    serve(&guard_source, &handler, reader, writer);
                }
                Err(e) if transient(&e) => continue,
                Err(_) => break,
            }
        }
    });
    server.add_acceptor(acceptor);
    Ok(server)
}

/// Runs the handler for one connection as its own (detached) task, counted
/// by the server until it ends.
fn serve<H, F>(server: &Server, handler: &Arc<H>, reader: StreamReader, writer: StreamWriter)
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let guard = server.connection();
    let handler = handler.clone();
    drop(crate::spawn(async move {
        // Dropped last, also when the handler panics or the task is
        // cancelled.
        let _guard = guard;
        handler(reader, writer).await;
    }));
}

/// Accept errors that concern one connection only (the peer gave up before
/// it was accepted), not the listener. Running out of descriptors is
/// retried inside `accept` itself.
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}
