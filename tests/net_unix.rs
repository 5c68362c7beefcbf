//! Unix-domain sockets: `corio::net::{UnixListener, UnixStream, UnixDatagram}`.

use corio::net::{UnixDatagram, UnixListener, UnixStream};
use futures_io::{AsyncRead, AsyncWrite};
use std::future::{poll_fn, Future};
use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
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

/// A unique socket path under the temp dir, removed (if it exists) when
/// dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "corio-test-{}-{}-{tag}.sock",
            std::process::id(),
            N.fetch_add(1, Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl AsRef<Path> for TempPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn stream_echo_through_listener() {
    block_on(async {
        let path = TempPath::new("echo");
        let listener = UnixListener::bind(&path).await.unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let server = corio::create_task(async move {
            // Echo 50 connections, each in its own task.
            let mut conns = Vec::new();
            for _ in 0..50 {
                let (s, peer) = listener.accept().await.unwrap();
                assert!(peer.is_unnamed(), "{peer:?}");
                conns.push(corio::create_task(async move {
                    let mut buf = [0u8; 1024];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                }));
            }
            for c in conns {
                c.await.unwrap();
            }
        });
        let clients: Vec<_> = (0..50u32)
            .map(|i| {
                let path = path.0.clone();
                corio::create_task(async move {
                    let s = UnixStream::connect(&path).await.unwrap();
                    assert_eq!(s.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
                    assert!(s.local_addr().unwrap().is_unnamed());
                    for j in 0..5u32 {
                        let msg = format!("client {i} message {j}");
                        s.write_all(msg.as_bytes()).await.unwrap();
                        let mut buf = vec![0u8; msg.len()];
                        s.read_exact(&mut buf).await.unwrap();
                        assert_eq!(buf, msg.as_bytes());
                    }
                    s.shutdown(Shutdown::Write).await.unwrap();
                    let mut b = [0u8; 1];
                    assert_eq!(s.read(&mut b).await.unwrap(), 0);
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
}

#[test]
fn stream_pair_large_transfer_and_shutdown() {
    block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
        let writer = corio::create_task({
            let data = data.clone();
            async move {
                a.write_all(&data).await.unwrap();
                let n = a
                    .write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"yz")])
                    .await
                    .unwrap();
                assert_eq!(n, 3);
                a.shutdown(Shutdown::Write).await.unwrap();
                a
            }
        });
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = b.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let a = writer.await.unwrap();
        assert_eq!(got.len(), data.len() + 3);
        assert!(got[..data.len()] == data[..], "bytes differ");
        assert_eq!(&got[data.len()..], b"xyz");
        // The other direction is still open.
        b.write_all(b"back").await.unwrap();
        let mut four = [0u8; 4];
        a.read_exact(&mut four).await.unwrap();
        assert_eq!(&four, b"back");
        // Closing one end: EOF (read_exact fails) at the other.
        drop(b);
        assert_eq!(
            a.read_exact(&mut four).await.unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
    });
}

#[test]
fn connect_errors() {
    block_on(async {
        // No such path.
        let missing = TempPath::new("missing");
        let err = UnixStream::connect(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err:?}");

        // A socket file nobody listens on any more (std and corio leave the
        // file behind).
        let stale = TempPath::new("stale");
        drop(UnixListener::bind(&stale).await.unwrap());
        assert!(stale.0.exists());
        let err = UnixStream::connect(&stale).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");

        // Binding over an existing file.
        let err = UnixListener::bind(&stale).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err:?}");

        // A directory that does not exist.
        let err = UnixListener::bind(missing.0.join("sub.sock"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err:?}");
    });
}

#[test]
fn cancelled_read_then_stream_still_works() {
    block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 8];
        assert!(corio::timeout(Duration::from_millis(20), b.read(&mut buf))
            .await
            .is_err());
        assert!(corio::timeout(Duration::from_millis(20), b.readable())
            .await
            .is_err());
        a.writable().await.unwrap();
        a.write_all(b"later").await.unwrap();
        let n = corio::timeout(RECV_LIMIT, b.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"later");
    });
}

async fn generic_echo_once<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) -> usize {
    let mut buf = [0u8; 64];
    let n = poll_fn(|cx| Pin::new(&mut s).poll_read(cx, &mut buf))
        .await
        .unwrap();
    let mut out = &buf[..n];
    while !out.is_empty() {
        let m = poll_fn(|cx| Pin::new(&mut s).poll_write(cx, out))
            .await
            .unwrap();
        out = &out[m..];
    }
    poll_fn(|cx| Pin::new(&mut s).poll_flush(cx)).await.unwrap();
    poll_fn(|cx| Pin::new(&mut s).poll_close(cx)).await.unwrap();
    n
}

#[test]
fn futures_io_traits() {
    block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let echo = corio::create_task(generic_echo_once(b));
        a.write_all(b"owned").await.unwrap();
        let mut buf = [0u8; 16];
        let n = a.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"owned");
        assert_eq!(
            a.read(&mut buf).await.unwrap(),
            0,
            "poll_close shuts down writing"
        );
        assert_eq!(echo.await.unwrap(), 5);

        let (a, b) = UnixStream::pair().unwrap();
        let echo = corio::create_task(async move { generic_echo_once(&b).await });
        let mut a_ref = &a;
        poll_fn(|cx| {
            Pin::new(&mut a_ref)
                .poll_write_vectored(cx, &[IoSlice::new(b"by "), IoSlice::new(b"ref")])
        })
        .await
        .unwrap();
        let mut buf = [0u8; 6];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"by ref");
        assert_eq!(echo.await.unwrap(), 6);
    });
}

#[test]
fn stream_and_listener_from_std_into_std() {
    block_on(async {
        let path = TempPath::new("std");
        let listener =
            UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path).unwrap()).unwrap();
        let client = std::thread::spawn({
            let path = path.0.clone();
            move || {
                let mut s = std::os::unix::net::UnixStream::connect(path).unwrap();
                s.write_all(b"std client").unwrap();
                s
            }
        });
        let (server, _) = listener.accept().await.unwrap();
        let client = client.join().unwrap();
        let mut buf = [0u8; 10];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"std client");

        let client = UnixStream::from_std(client).unwrap();
        let mut std_server = server.into_std().unwrap();
        std_server.set_nonblocking(false).unwrap();
        client.write_all(b"to std").await.unwrap();
        let mut buf = [0u8; 6];
        std_server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"to std");
        let server = UnixStream::from_std(std_server).unwrap();
        server.write_all(b"ok").await.unwrap();
        let mut buf = [0u8; 2];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");

        let std_listener = listener.into_std().unwrap();
        assert_eq!(
            std_listener.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let listener = UnixListener::from_std(std_listener).unwrap();
        let c = corio::create_task({
            let path = path.0.clone();
            async move { UnixStream::connect(path).await.unwrap() }
        });
        let (_s, _) = listener.accept().await.unwrap();
        c.await.unwrap();
        let dbg = format!("{listener:?}");
        assert!(dbg.contains("corio-test"), "{dbg}");
    });
}

#[test]
fn datagram_bound_send_to_recv_from() {
    block_on(async {
        let (pa, pb) = (TempPath::new("dg-a"), TempPath::new("dg-b"));
        let a = UnixDatagram::bind(&pa).await.unwrap();
        let b = UnixDatagram::bind(&pb).await.unwrap();
        assert_eq!(a.local_addr().unwrap().as_pathname(), Some(pa.0.as_path()));
        assert_eq!(a.send_to(b"hello", &pb).await.unwrap(), 5);
        let mut buf = [0u8; 64];
        let (n, from) = corio::timeout(RECV_LIMIT, b.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(from.as_pathname(), Some(pa.0.as_path()));
        // Reply to the sender's address.
        b.send_to(b"hi back", from.as_pathname().unwrap())
            .await
            .unwrap();
        let (n, _) = corio::timeout(RECV_LIMIT, a.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"hi back");

        // Truncation: the rest of a long datagram is discarded.
        a.send_to(&[1u8; 100], &pb).await.unwrap();
        a.send_to(b"short", &pb).await.unwrap();
        let mut small = [0u8; 10];
        assert_eq!(
            corio::timeout(RECV_LIMIT, b.recv(&mut small))
                .await
                .unwrap()
                .unwrap(),
            10
        );
        let n = corio::timeout(RECV_LIMIT, b.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"short");

        // An unbound socket can send; its address is unnamed.
        let u = UnixDatagram::unbound().unwrap();
        u.send_to(b"anon", &pb).await.unwrap();
        let (n, from) = corio::timeout(RECV_LIMIT, b.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"anon");
        assert!(from.is_unnamed());

        // Errors: missing path, bound path nobody owns any more, path in use.
        let missing = TempPath::new("dg-missing");
        assert_eq!(
            a.send_to(b"x", &missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        let stale = TempPath::new("dg-stale");
        drop(UnixDatagram::bind(&stale).await.unwrap());
        assert_eq!(
            a.send_to(b"x", &stale).await.unwrap_err().kind(),
            ErrorKind::ConnectionRefused
        );
        assert_eq!(
            UnixDatagram::bind(&pa).await.unwrap_err().kind(),
            ErrorKind::AddrInUse
        );
    });
}

#[test]
fn datagram_connected_and_pair() {
    block_on(async {
        let (pa, pb) = (TempPath::new("dgc-a"), TempPath::new("dgc-b"));
        let a = UnixDatagram::bind(&pa).await.unwrap();
        let b = UnixDatagram::bind(&pb).await.unwrap();
        assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        let err = a.send(b"nowhere").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected, "{err:?}");
        a.connect(&pb).await.unwrap();
        b.connect(&pa).await.unwrap();
        assert_eq!(a.peer_addr().unwrap().as_pathname(), Some(pb.0.as_path()));
        a.send(b"connected").await.unwrap();
        let mut buf = [0u8; 32];
        let n = corio::timeout(RECV_LIMIT, b.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"connected");
        b.send(b"yes").await.unwrap();
        let n = corio::timeout(RECV_LIMIT, a.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"yes");
        let missing = TempPath::new("dgc-missing");
        assert_eq!(
            a.connect(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );

        // A pair, with a receiver waiting in another task before anything is
        // sent, and many datagrams in order.
        let (x, y) = UnixDatagram::pair().unwrap();
        let receiver = corio::create_task(async move {
            let mut buf = [0u8; 32];
            let mut got = Vec::new();
            for _ in 0..200 {
                let n = y.recv(&mut buf).await.unwrap();
                got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
            }
            got
        });
        corio::sleep(Duration::from_millis(10)).await;
        for i in 0..200 {
            x.send(format!("d{i}").as_bytes()).await.unwrap();
        }
        let got = corio::timeout(RECV_LIMIT, receiver).await.unwrap().unwrap();
        let want: Vec<String> = (0..200).map(|i| format!("d{i}")).collect();
        assert_eq!(got, want);
        x.writable().await.unwrap();
        assert!(corio::timeout(Duration::from_millis(20), x.readable())
            .await
            .is_err());
    });
}

#[test]
fn datagram_from_std_into_std() {
    block_on(async {
        let (sa, sb) = std::os::unix::net::UnixDatagram::pair().unwrap();
        let a = UnixDatagram::from_std(sa).unwrap();
        sb.send(b"from std").unwrap();
        let mut buf = [0u8; 16];
        let n = corio::timeout(RECV_LIMIT, a.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"from std");
        let sa = a.into_std().unwrap();
        sa.set_nonblocking(false).unwrap();
        sb.send(b"blocking").unwrap();
        let n = sa.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"blocking");
        let a = Arc::new(UnixDatagram::from_std(sa).unwrap());
        a.send(b"back").await.unwrap();
        let n = sb.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"back");
        let dbg = format!("{a:?}");
        assert!(dbg.starts_with("UnixDatagram"), "{dbg}");
    });
}

/// A listener with a backlog of 1, made by hand (std and mio ask for the
/// system maximum).
fn listener_with_backlog_1(path: &Path) -> std::os::unix::net::UnixListener {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: plain system calls on a fresh descriptor and a zeroed, then
    // filled, address; the descriptor is owned by the returned listener.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let listener = std::os::unix::net::UnixListener::from_raw_fd(fd);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let bytes = path.as_os_str().as_bytes();
        assert!(bytes.len() < addr.sun_path.len());
        for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len),
            0
        );
        assert_eq!(libc::listen(fd, 1), 0);
        listener
    }
}

/// While the listener's backlog is full the OS refuses a non-blocking
/// connect with `EAGAIN`; `connect` keeps trying (like a blocking connect)
/// and succeeds once the listener accepts, instead of failing with
/// `WouldBlock`.
#[test]
fn connect_waits_while_backlog_is_full() {
    block_on(async {
        let path = TempPath::new("backlog");
        let listener = UnixListener::from_std(listener_with_backlog_1(&path.0)).unwrap();
        // Fill the backlog: Linux queues backlog + 1 connections.
        let queued: Vec<_> = (0..2)
            .map(|_| std::os::unix::net::UnixStream::connect(&path).unwrap())
            .collect();
        let waiting = corio::create_task({
            let path = path.0.clone();
            async move { UnixStream::connect(path).await }
        });
        corio::sleep(Duration::from_millis(100)).await;
        assert!(
            !waiting.is_done(),
            "connect finished although the backlog was full: {queued:?}"
        );
        let (first, _) = listener.accept().await.unwrap();
        let client = corio::timeout(RECV_LIMIT, waiting)
            .await
            .expect("connect never completed")
            .unwrap()
            .unwrap();
        drop(first);
        // Drain the backlog down to our client, and check it is connected.
        let (_second, _) = listener.accept().await.unwrap();
        let (third, _) = listener.accept().await.unwrap();
        client.write_all(b"made it").await.unwrap();
        let mut buf = [0u8; 7];
        third.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"made it");
    });
}
