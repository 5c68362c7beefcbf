//! Address resolution shared by the socket types.

use std::io;
use std::net::SocketAddr;

/// Resolves `addr` on the calling thread (the blocking pool's side of
/// [`resolve_async`]), failing clearly on none.
fn resolve(addr: impl std::net::ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}

/// Tries `f` on each address `addr` resolves to (host names on the blocking
/// pool) in turn; returns the first success or the last error.
pub(crate) async fn each_addr<T, F, Fut>(addr: impl ToSocketAddrs, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve_async(addr).await? {
        match f(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve_async returns at least one address"))
}

/// An address that corio can resolve without blocking its event loop:
/// `"host:port"` strings (`&str`, `String`), `(host, port)` tuples,
/// `SocketAddr`, `(IpAddr, port)` and slices of `SocketAddr`, as std's
/// `ToSocketAddrs` takes.
///
/// Numeric addresses are parsed on the spot (no system call, no thread
/// hop); a host name is looked up with the system resolver on the blocking
/// pool ([`to_thread`](crate::to_thread)), so a slow DNS server stalls only
/// the task that asked. Sealed: corio implements it for std's address types.
pub trait ToSocketAddrs: sealed::Resolve {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// How an address resolves: at once, or by a host-name lookup.
    #[derive(Debug)]
    pub enum Resolution {
        Ready(io::Result<Vec<SocketAddr>>),
        Lookup(String),
    }

    pub trait Resolve {
        /// Parses a numeric address, or names the lookup to make.
        fn resolution(&self) -> Resolution;
    }
}

use sealed::{Resolution, Resolve};

macro_rules! numeric {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl Resolve for $ty {
            fn resolution(&self) -> Resolution {
                Resolution::Ready(std::net::ToSocketAddrs::to_socket_addrs(self).map(Iterator::collect))
            }
        }
    )*};
}

numeric!(
    SocketAddr,
    std::net::SocketAddrV4,
    std::net::SocketAddrV6,
    (std::net::IpAddr, u16),
    (std::net::Ipv4Addr, u16),
    (std::net::Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl Resolve for [SocketAddr] {
    fn resolution(&self) -> Resolution {
        Resolution::Ready(Ok(self.to_vec()))
    }
}

impl ToSocketAddrs for str {}
impl Resolve for str {
    fn resolution(&self) -> Resolution {
        match self.parse::<SocketAddr>() {
            Ok(a) => Resolution::Ready(Ok(vec![a])),
            Err(_) => Resolution::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl Resolve for String {
    fn resolution(&self) -> Resolution {
        self.as_str().resolution()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Resolve for (&str, u16) {
    fn resolution(&self) -> Resolution {
        let (host, port) = *self;
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => Resolution::Ready(Ok(vec![SocketAddr::new(ip, port)])),
            Err(_) => Resolution::Lookup(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Resolve for (String, u16) {
    fn resolution(&self) -> Resolution {
        (self.0.as_str(), self.1).resolution()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: Resolve + ?Sized> Resolve for &T {
    fn resolution(&self) -> Resolution {
        (**self).resolution()
    }
}

/// Resolves `addr` without blocking the event loop (host names on the
/// blocking pool), failing clearly on none.
pub(crate) async fn resolve_async(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.resolution() {
        Resolution::Ready(r) => r?,
        Resolution::Lookup(name) => crate::to_thread(move || resolve(name.as_str()))
            .await
            .map_err(|e| io::Error::other(format!("the host name lookup failed: {e}")))??,
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}
