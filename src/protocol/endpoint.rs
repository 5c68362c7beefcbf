//! `create_server`, `create_connection` and `create_datagram_endpoint`: the
//! bodies of the `EventLoop` methods of the same names.
//!
//! # Multi-core accept
//!
//! A server's listening socket is registered on *every* worker's loop (one
//! duplicated descriptor per worker, each with its own reactor), and each
//! loop accepts connections and serves them itself. The kernel wakes every
//! loop waiting on the socket and whichever gets to `accept` first takes the
//! connection; a busy loop is late to the race, so new connections flow to
//! the loops that have time for them, and a connection never moves between
//! threads. (One `SO_REUSEPORT` listener per worker would hash connections
//! to loops whatever their load, and would strand the connections queued on
//! one socket when it closes.) The cost is a wake of each idle loop per
//! accepted burst, which only idle loops pay.
//!
//! Winning the race is not enough to keep a connection, though: a burst
//! accepted by one awake loop would all stay there. The accepting loop
//! keeps a connection only if no other loop of the server serves fewer, and
//! otherwise hands it, before its first callback, to the least-loaded loop
//! (`balance.rs`).

use super::balance::Balance;
use super::datagram::Endpoint;
use super::reactor::Reactor;
use super::{DatagramProtocol, DatagramTransport, Protocol, Transport};
use crate::loom::sync::Arc;
use crate::net::ToSocketAddrs;
use crate::runtime::driver::Driver;
use crate::runtime::scheduler::local::LocalOwner;
use crate::runtime::Handle;
use crate::streams::Server;
use crate::task::spawn_on_owner;
use std::io;
use std::net::SocketAddr;
use std::panic::Location;

pub(crate) async fn create_server<F, P>(
    handle: &Handle,
    factory: F,
    addr: impl ToSocketAddrs,
    location: &'static Location<'static>,
) -> io::Result<Server>
where
    F: Fn() -> P + Send + Sync + 'static,
    P: Protocol,
{
    let mut listeners = Vec::new();
    for a in crate::net::addr::resolve_async(addr).await? {
        let l = std::net::TcpListener::bind(a)?;
        crate::net::util::set_backlog(&l)?;
        l.set_nonblocking(true)?;
        listeners.push(l);
    }
    let local_addrs = listeners
        .iter()
        .map(std::net::TcpListener::local_addr)
        .collect::<io::Result<Vec<SocketAddr>>>()?;
    let server = Server::new(local_addrs);
    let factory: Arc<dyn Fn() -> P + Send + Sync> = Arc::new(factory);
    for listener in &listeners {
        // One reactor per worker, all balanced over (see `balance.rs`).
        let mut reactors: Vec<Reactor<P>> = handle
            .shared
            .remotes
            .iter()
            .map(|remote| Reactor::new(remote.driver.clone()))
            .collect();
        let wakers = reactors.iter_mut().map(Reactor::inbox_waker).collect();
        let balance = Arc::new(Balance::new(wakers));
        for (me, (mut reactor, remote)) in reactors
            .into_iter()
            .zip(handle.shared.remotes.iter())
            .enumerate()
        {
            reactor.join(balance.clone(), me);
            let sock = mio::net::TcpListener::from_std(listener.try_clone()?);
            let stop = reactor.listen(sock, factory.clone(), server.clone())?;
            // The reactor outlives `close` (its connections carry on); the
            // acceptor task only holds the guard that, dropped by `close`,
            // stops the reactor's listener.
            drop(spawn_on_owner(&remote.local, reactor, location));
            let acceptor = spawn_on_owner(
                &remote.local,
                async move {
                    let _stop = stop;
                    std::future::pending::<()>().await
                },
                location,
            );
            server.add_acceptor(acceptor);
        }
    }
    Ok(server)
}

pub(crate) async fn create_connection<P: Protocol>(
    local: &Arc<LocalOwner>,
    driver: &Arc<Driver>,
    factory: impl FnOnce() -> P,
    addr: impl ToSocketAddrs,
    location: &'static Location<'static>,
) -> io::Result<Transport> {
    let stream = crate::net::TcpStream::connect(addr).await?;
    let stream = mio::net::TcpStream::from_std(stream.into_std()?);
    let mut reactor = Reactor::new(driver.clone());
    let transport = reactor.add(stream, factory(), None)?;
    drop(spawn_on_owner(local, reactor, location));
    Ok(transport)
}

pub(crate) async fn create_datagram_endpoint<P: DatagramProtocol>(
    local: &Arc<LocalOwner>,
    driver: &Arc<Driver>,
    factory: impl FnOnce() -> P,
    local_addr: impl ToSocketAddrs,
    location: &'static Location<'static>,
) -> io::Result<DatagramTransport> {
    let mut last = None;
    let mut bound = None;
    for a in crate::net::addr::resolve_async(local_addr).await? {
        match std::net::UdpSocket::bind(a) {
            Ok(s) => {
                bound = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let sock = match bound {
        Some(s) => s,
        None => return Err(last.expect("resolve returns at least one address")),
    };
    sock.set_nonblocking(true)?;
    let (endpoint, transport) = Endpoint::new(driver.clone(), sock, factory())?;
    drop(spawn_on_owner(local, endpoint, location));
    Ok(transport)
}
