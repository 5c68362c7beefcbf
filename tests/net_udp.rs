//! UDP sockets: `corio::net::UdpSocket`.

use corio::net::UdpSocket;
use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Upper bound on any one test, so that a bug shows up as a failure rather
/// than a hang.
const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Bound on one receive that should succeed.
const RECV_LIMIT: Duration = Duration::from_secs(10);

fn block_on<F: Future>(fut: F) -> F::Output {
    let rt = corio::Builder::new().worker_threads(2).build().unwrap();
    rt.block_on(async {
        corio::timeout(TEST_LIMIT, fut)
            .await
            .expect("test timed out")
    })
}

async fn recv_from(s: &UdpSocket, buf: &mut [u8]) -> (usize, SocketAddr) {
    corio::timeout(RECV_LIMIT, s.recv_from(buf))
        .await
        .expect("recv_from timed out")
        .unwrap()
}

#[test]
fn send_to_recv_from_round_trip() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert_ne!(a_addr.port(), 0);
        assert_eq!(a.send_to(b"ping", b_addr).await.unwrap(), 4);
        let mut buf = [0u8; 64];
        let (n, from) = recv_from(&b, &mut buf).await;
        assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));
        // Reply to a "host:port" string.
        let target = format!("127.0.0.1:{}", a_addr.port());
        assert_eq!(b.send_to(b"pong", target.as_str()).await.unwrap(), 4);
        let (n, from) = recv_from(&a, &mut buf).await;
        assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));

        // Many round trips, each datagram intact and in turn, with the
        // receiver in another task.
        let b = Arc::new(b);
        let echo = corio::create_task({
            let b = b.clone();
            async move {
                let mut buf = [0u8; 64];
                for _ in 0..500 {
                    let (n, from) = b.recv_from(&mut buf).await.unwrap();
                    b.send_to(&buf[..n], from).await.unwrap();
                }
            }
        });
        for i in 0..500u32 {
            let msg = format!("datagram {i}");
            a.send_to(msg.as_bytes(), b_addr).await.unwrap();
            let (n, from) = recv_from(&a, &mut buf).await;
            assert_eq!(from, b_addr);
            assert_eq!(&buf[..n], msg.as_bytes());
        }
        echo.await.unwrap();
    });
}

#[test]
fn connected_send_recv() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let other = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

        // Not connected yet.
        assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        // send without a destination: the OS's EDESTADDRREQ.
        assert_eq!(
            a.send(b"x").await.unwrap_err().raw_os_error(),
            Some(libc::EDESTADDRREQ)
        );

        a.connect(b_addr).await.unwrap();
        b.connect(format!("127.0.0.1:{}", a_addr.port()))
            .await
            .unwrap();
        assert_eq!(a.peer_addr().unwrap(), b_addr);
        assert_eq!(b.peer_addr().unwrap(), a_addr);

        // A datagram from a third socket is filtered out by the connected
        // receiver: only the peer's arrives.
        other.send_to(b"stranger", b_addr).await.unwrap();
        a.send(b"from peer").await.unwrap();
        let mut buf = [0u8; 64];
        let n = corio::timeout(RECV_LIMIT, b.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"from peer");
        b.send(b"reply").await.unwrap();
        let n = corio::timeout(RECV_LIMIT, a.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"reply");
        let dbg = format!("{a:?}");
        assert!(dbg.contains(&b_addr.to_string()), "{dbg}");
    });
}

#[test]
fn connected_to_nobody_reports_connection_refused() {
    block_on(async {
        // A port that was just free.
        let gone = UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.connect(gone).await.unwrap();
        s.send(b"anyone?").await.unwrap();
        // The ICMP port-unreachable comes back as an error on the socket,
        // which wakes the receiver.
        let mut buf = [0u8; 16];
        let err = corio::timeout(RECV_LIMIT, s.recv(&mut buf))
            .await
            .expect("the error never arrived")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    });
}

/// A datagram longer than the receive buffer is cut to the buffer's length;
/// the rest of it is discarded, and the next receive gets the next datagram.
#[test]
fn truncation_and_oversized_datagrams() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b_addr = b.local_addr().unwrap();
        let long: Vec<u8> = (0..100u8).collect();
        a.send_to(&long, b_addr).await.unwrap();
        a.send_to(b"next", b_addr).await.unwrap();
        let mut small = [0u8; 10];
        let (n, _) = recv_from(&b, &mut small).await;
        assert_eq!(n, 10);
        assert_eq!(&small[..], &long[..10]);
        let mut buf = [0u8; 100];
        let (n, _) = recv_from(&b, &mut buf).await;
        assert_eq!(&buf[..n], b"next");

        // The largest IPv4 UDP payload goes through whole; one byte more is
        // refused by the OS.
        let max = vec![0xa5u8; 65_507];
        assert_eq!(a.send_to(&max, b_addr).await.unwrap(), max.len());
        let mut big = vec![0u8; 70_000];
        let (n, _) = recv_from(&b, &mut big).await;
        assert_eq!(n, max.len());
        assert!(big[..n].iter().all(|&x| x == 0xa5));
        let err = a.send_to(&vec![0u8; 65_508], b_addr).await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EMSGSIZE), "{err:?}");

        // An empty datagram is a datagram.
        a.send_to(b"", b_addr).await.unwrap();
        let (n, from) = recv_from(&b, &mut buf).await;
        assert_eq!((n, from), (0, a.local_addr().unwrap()));
    });
}

#[test]
fn peek_from_leaves_the_datagram() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(b"peekaboo", b.local_addr().unwrap())
            .await
            .unwrap();
        let mut buf = [0u8; 4];
        let (n, from) = corio::timeout(RECV_LIMIT, b.peek_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((&buf[..n], from), (&b"peek"[..], a.local_addr().unwrap()));
        let mut buf = [0u8; 16];
        let (n, _) = recv_from(&b, &mut buf).await;
        assert_eq!(&buf[..n], b"peekaboo");
    });
}

#[test]
fn readable_writable_and_cancelled_recv() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.writable().await.unwrap();
        let mut buf = [0u8; 16];
        // Nothing sent: the receive times out and is dropped.
        assert!(
            corio::timeout(Duration::from_millis(20), b.recv_from(&mut buf))
                .await
                .is_err()
        );
        assert!(corio::timeout(Duration::from_millis(20), b.readable())
            .await
            .is_err());
        a.send_to(b"late", b.local_addr().unwrap()).await.unwrap();
        corio::timeout(RECV_LIMIT, b.readable())
            .await
            .expect("readable")
            .unwrap();
        let (n, _) = recv_from(&b, &mut buf).await;
        assert_eq!(&buf[..n], b"late");
    });
}

#[test]
fn socket_options_and_addr_in_use() {
    block_on(async {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.set_broadcast(true).unwrap();
        assert!(s.broadcast().unwrap());
        s.set_broadcast(false).unwrap();
        assert!(!s.broadcast().unwrap());
        s.set_ttl(42).unwrap();
        assert_eq!(s.ttl().unwrap(), 42);
        let err = UdpSocket::bind(s.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err:?}");
        let err = UdpSocket::bind("not an address").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    });
}

#[test]
fn from_std_into_std_round_trip() {
    block_on(async {
        let std_sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = std_sock.local_addr().unwrap();
        let s = UdpSocket::from_std(std_sock).unwrap();
        assert_eq!(s.local_addr().unwrap(), addr);
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        peer.send_to(b"one", addr).await.unwrap();
        let mut buf = [0u8; 8];
        let (n, _) = recv_from(&s, &mut buf).await;
        assert_eq!(&buf[..n], b"one");

        let std_sock = s.into_std().unwrap();
        assert_eq!(std_sock.local_addr().unwrap(), addr);
        std_sock.set_nonblocking(false).unwrap();
        std_sock.set_read_timeout(Some(RECV_LIMIT)).unwrap();
        peer.send_to(b"two", addr).await.unwrap();
        let (n, _) = std_sock.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two");

        let s = UdpSocket::from_std(std_sock).unwrap();
        peer.send_to(b"three", addr).await.unwrap();
        let (n, _) = recv_from(&s, &mut buf).await;
        assert_eq!(&buf[..n], b"three");
    });
}

/// Runs `f` on a thread of its own and fails if it does not finish within
/// `limit`: for a bug that spins inside one poll, where no corio timer can
/// fire (the spinning thread is leaked).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {limit:?}"),
    }
}

/// An error from the OS (here ICMP port unreachable) is transient on a UDP
/// socket: once reported, the socket receives again, and a receive with
/// nothing to read waits instead of spinning.
#[test]
fn socket_usable_after_an_error() {
    within(Duration::from_secs(30), "the test", || {
        let rt = corio::Builder::new().worker_threads(2).build().unwrap();
        let res = rt.block_on(async {
            let gone = UdpSocket::bind("127.0.0.1:0")
                .await
                .unwrap()
                .local_addr()
                .unwrap();
            let s = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            s.connect(gone).await.unwrap();
            s.send(b"anyone?").await.unwrap();
            let mut buf = [0u8; 16];
            let err = corio::timeout(RECV_LIMIT, s.recv(&mut buf))
                .await
                .expect("no error")
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
            // Nothing to receive now: the receive must wait (and time out),
            // in a task so that this future can still watch the clock.
            let waiter = corio::create_task({
                let s = s.clone();
                async move {
                    let mut buf = [0u8; 16];
                    corio::timeout(Duration::from_millis(50), s.recv(&mut buf))
                        .await
                        .is_err()
                }
            });
            match corio::timeout(Duration::from_secs(5), waiter).await {
                Ok(timed_out) => assert!(timed_out.unwrap(), "recv returned with nothing sent"),
                Err(_) => {
                    return Err("a receive after the error never returned: it spins in one poll")
                }
            }
            // And a datagram from the peer, now there, arrives.
            let peer = UdpSocket::bind(gone).await.unwrap();
            peer.send_to(b"here now", s.local_addr().unwrap())
                .await
                .unwrap();
            let n = corio::timeout(RECV_LIMIT, s.recv(&mut buf))
                .await
                .expect("recv")
                .unwrap();
            assert_eq!(&buf[..n], b"here now");
            Ok(())
        });
        if res.is_err() {
            // A worker spins forever: dropping the runtime would wait for it.
            std::mem::forget(rt);
        }
        res
    })
    .unwrap();
}
