//! Address resolution shared by the socket types.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr` to its socket addresses, failing clearly on none.
///
/// Numeric addresses (`"127.0.0.1:80"`, `SocketAddr`) resolve without any
/// system call. A host name is looked up with the system resolver on the
/// calling thread; keep host names out of hot paths until lookups move to the
/// blocking pool.
pub(crate) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}

/// Tries `f` on each address in turn; returns the first success or the last
/// error.
pub(crate) async fn each_addr<T, F, Fut>(addr: impl ToSocketAddrs, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve(addr)? {
        match f(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve returns at least one address"))
}
