//! TCP sockets: `corio::net::TcpListener` and `TcpStream`.

use corio::net::{TcpListener, TcpStream};
use futures_io::{AsyncRead, AsyncWrite};
use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Upper bound on any one test, so that a bug shows up as a failure rather
/// than a hang.
const TEST_LIMIT: Duration = Duration::from_secs(60);

fn runtime(workers: usize) -> corio::Runtime {
    corio::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn block_on<F: Future>(rt: &corio::Runtime, fut: F) -> F::Output {
    rt.block_on(async {
        corio::timeout(TEST_LIMIT, fut)
            .await
            .expect("test timed out")
    })
}

/// A connected pair: (client, server side).
async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = corio::create_task(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (client.await.unwrap(), server)
}

/// Accepts forever, echoing every connection in a task of its own.
fn spawn_echo_server(listener: TcpListener) -> corio::Task<()> {
    corio::create_task(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            corio::create_task(async move {
                let mut buf = [0u8; 4096];
                loop {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    s.write_all(&buf[..n]).await.unwrap();
                }
            });
        }
    })
}

/// Raises the soft file-descriptor limit to at least `n` if the hard limit
/// allows (1 000 connections need 2 000 descriptors in one process).
fn raise_fd_limit(n: u64) {
    // SAFETY: plain system calls on a local, initialized struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && (lim.rlim_cur as u64) < n {
            lim.rlim_cur = (n as libc::rlim_t).min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

#[test]
fn echo_round_trip() {
    let rt = runtime(2);
    block_on(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = spawn_echo_server(listener);
        let s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"hello, corio").await.unwrap();
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello, corio");

        // A larger message than one socket buffer, written and read back
        // concurrently.
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let s = Arc::new(s);
        let writer = corio::create_task({
            let (s, data) = (s.clone(), data.clone());
            async move { s.write_all(&data).await.unwrap() }
        });
        let mut back = vec![0u8; data.len()];
        s.read_exact(&mut back).await.unwrap();
        writer.await.unwrap();
        assert!(back == data, "echoed bytes differ");

        // write_vectored sends the buffers in order.
        let n = s
            .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
            .await
            .unwrap();
        assert_eq!(n, 4);
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abcd");
    });
}

#[test]
fn thousand_concurrent_echo_connections() {
    raise_fd_limit(4096);
    let rt = runtime(2);
    block_on(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = spawn_echo_server(listener);
        let clients: Vec<_> = (0..1000u32)
            .map(|i| {
                corio::create_task(async move {
                    let s = TcpStream::connect(addr).await.unwrap();
                    let mut total = 0;
                    for j in 0..5u32 {
                        // Distinct content per connection and round.
                        let msg: Vec<u8> = format!("conn {i} round {j} ")
                            .bytes()
                            .cycle()
                            .take(100 + j as usize * 50)
                            .collect();
                        s.write_all(&msg).await.unwrap();
                        let mut buf = vec![0u8; msg.len()];
                        s.read_exact(&mut buf).await.unwrap();
                        assert_eq!(buf, msg, "connection {i} round {j}");
                        total += buf.len();
                    }
                    s.shutdown(Shutdown::Write).await.unwrap();
                    let mut rest = [0u8; 1];
                    assert_eq!(
                        s.read(&mut rest).await.unwrap(),
                        0,
                        "echo server closes after our FIN"
                    );
                    total
                })
            })
            .collect();
        let mut total = 0;
        for c in clients {
            total += c.await.unwrap();
        }
        assert_eq!(total, 1000 * (100 + 150 + 200 + 250 + 300));
    });
}

#[test]
fn connection_refused() {
    let rt = runtime(2);
    block_on(&rt, async {
        // A port that was just free: bind, note it, close.
        let addr = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    });
}

#[test]
fn addr_in_use() {
    let rt = runtime(2);
    block_on(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err:?}");
        // Also through a "host:port" string.
        let err = TcpListener::bind(format!("127.0.0.1:{}", addr.port()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err:?}");
    });
}

#[test]
fn local_and_peer_addrs_agree() {
    let rt = runtime(2);
    block_on(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let laddr = listener.local_addr().unwrap();
        assert_ne!(laddr.port(), 0);
        let client = corio::create_task(async move { TcpStream::connect(laddr).await.unwrap() });
        let (server, peer) = listener.accept().await.unwrap();
        let client = client.await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), laddr);
        assert_eq!(server.local_addr().unwrap(), laddr);
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(peer, client.local_addr().unwrap());
        let dbg = format!("{client:?} {server:?} {listener:?}");
        assert!(dbg.contains(&laddr.to_string()), "{dbg}");
    });
}

#[test]
fn read_after_peer_shutdown_returns_zero() {
    let rt = runtime(2);
    block_on(&rt, async {
        let (client, server) = connected_pair().await;
        client.write_all(b"last words").await.unwrap();
        client.shutdown(Shutdown::Write).await.unwrap();
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        loop {
            let n = server.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"last words");
        // EOF stays EOF.
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        // The other direction still works.
        server.write_all(b"reply").await.unwrap();
        let mut reply = [0u8; 5];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"reply");
        // read_exact reports an early end of file.
        drop(server);
        let err = client.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    });
}

#[test]
fn set_nodelay() {
    let rt = runtime(2);
    block_on(&rt, async {
        let (client, _server) = connected_pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
    });
}

#[test]
fn from_std_into_std_round_trip() {
    let rt = runtime(2);
    block_on(&rt, async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);

        let std_client = std::thread::spawn(move || std::net::TcpStream::connect(addr).unwrap());
        let (server, _) = listener.accept().await.unwrap();
        let client = TcpStream::from_std(std_client.join().unwrap()).unwrap();
        client.write_all(b"via corio").await.unwrap();
        let mut buf = [0u8; 9];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"via corio");

        // Back to std: the same connection, usable with blocking calls.
        let fd = server.as_raw_fd();
        let mut std_server = server.into_std().unwrap();
        assert_eq!(std_server.as_raw_fd(), fd);
        std_server.set_nonblocking(false).unwrap();
        client.write_all(b"via std").await.unwrap();
        let mut buf = [0u8; 7];
        std_server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"via std");
        std_server.write_all(b"back").unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");

        // And into corio once more.
        let server = TcpStream::from_std(std_server).unwrap();
        server.write_all(b"again").await.unwrap();
        let mut buf = [0u8; 5];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");

        // The listener converts back too and still accepts.
        let std_listener = listener.into_std().unwrap();
        assert_eq!(std_listener.local_addr().unwrap(), addr);
        let listener = TcpListener::from_std(std_listener).unwrap();
        let c = corio::create_task(async move { TcpStream::connect(addr).await.unwrap() });
        let (_s, peer) = listener.accept().await.unwrap();
        assert_eq!(c.await.unwrap().local_addr().unwrap(), peer);
    });
}

async fn generic_read<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, buf)).await
}

async fn generic_write_all<W: AsyncWrite + Unpin>(w: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, buf)).await?;
        assert!(n > 0);
        buf = &buf[n..];
    }
    poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx)).await
}

/// Echoes everything until end of file, then closes: written against the
/// `futures_io` traits only.
async fn generic_echo<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) -> io::Result<usize> {
    let mut buf = [0u8; 1024];
    let mut total = 0;
    loop {
        let n = generic_read(&mut s, &mut buf).await?;
        if n == 0 {
            break;
        }
        generic_write_all(&mut s, &buf[..n]).await?;
        total += n;
    }
    poll_fn(|cx| Pin::new(&mut s).poll_close(cx)).await?;
    Ok(total)
}

#[test]
fn futures_io_traits() {
    let rt = runtime(2);
    block_on(&rt, async {
        // By value.
        let (client, server) = connected_pair().await;
        let echo = corio::create_task(generic_echo(server));
        let mut client_ref = &client;
        generic_write_all(&mut client_ref, b"generic")
            .await
            .unwrap();
        let v = poll_fn(|cx| {
            Pin::new(&mut client_ref).poll_write_vectored(cx, &[IoSlice::new(b" io")])
        })
        .await
        .unwrap();
        assert_eq!(v, 3);
        poll_fn(|cx| Pin::new(&mut client_ref).poll_close(cx))
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = generic_read(&mut client_ref, &mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"generic io");
        assert_eq!(echo.await.unwrap().unwrap(), 10);

        // By reference.
        let (client, server) = connected_pair().await;
        let echo = corio::create_task(async move { generic_echo(&server).await });
        let mut c = client;
        generic_write_all(&mut c, b"by ref").await.unwrap();
        poll_fn(|cx| Pin::new(&mut c).poll_close(cx)).await.unwrap();
        let mut buf = [0u8; 6];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"by ref");
        assert_eq!(echo.await.unwrap().unwrap(), 6);
    });
}

#[test]
fn dropped_read_is_cancelled_and_stream_still_works() {
    let rt = runtime(2);
    block_on(&rt, async {
        let (client, server) = connected_pair().await;
        let mut buf = [0u8; 16];
        let res = corio::timeout(Duration::from_millis(20), server.read(&mut buf)).await;
        assert!(
            res.is_err(),
            "nothing was sent, the read must time out: {res:?}"
        );
        // Also a read dropped without ever being polled to completion on
        // another task.
        let server = Arc::new(server);
        let t = corio::create_task({
            let server = server.clone();
            async move {
                let mut buf = [0u8; 16];
                server.read(&mut buf).await.map(|n| buf[..n].to_vec())
            }
        });
        corio::sleep(Duration::from_millis(20)).await;
        assert!(t.cancel());
        assert!(t.await.unwrap_err().is_cancelled());

        client.write_all(b"after").await.unwrap();
        let n = corio::timeout(Duration::from_secs(10), server.read(&mut buf))
            .await
            .expect("read after cancel")
            .unwrap();
        assert_eq!(&buf[..n], b"after");
        // And once more, to check readiness is still tracked.
        client.write_all(b"again").await.unwrap();
        let n = corio::timeout(Duration::from_secs(10), server.read(&mut buf))
            .await
            .expect("second read")
            .unwrap();
        assert_eq!(&buf[..n], b"again");
    });
}

/// A listener created on worker A, whose task then spins for 2 s without
/// awaiting: the connection is accepted and read by a task on the other
/// (idle) worker, which polls A's event loop for it, long before the spin
/// ends.
#[test]
fn readiness_delivered_while_home_worker_busy() {
    let rt = runtime(2);
    block_on(&rt, async {
        const SPIN: Duration = Duration::from_secs(2);
        let (tx, rx) = std::sync::mpsc::channel();
        let spin_done = Arc::new(AtomicBool::new(false));
        // The home task hands back the acceptor task once its spin is over.
        #[allow(clippy::async_yields_async)]
        let home = corio::create_task({
            let spin_done = spin_done.clone();
            async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let acceptor = corio::create_task({
                    let spin_done = spin_done.clone();
                    async move {
                        let (s, _) = listener.accept().await.unwrap();
                        let mut b = [0u8; 1];
                        s.read_exact(&mut b).await.unwrap();
                        (Instant::now(), spin_done.load(SeqCst))
                    }
                });
                tx.send(addr).unwrap();
                // Hog this worker: CPU-bound, no await.
                let start = Instant::now();
                while start.elapsed() < SPIN {
                    std::hint::spin_loop();
                }
                spin_done.store(true, SeqCst);
                acceptor
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        // Connect and write from a plain thread, while the home worker spins.
        let sent = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let sent = Instant::now();
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"x").unwrap();
            (sent, s)
        })
        .join()
        .unwrap()
        .0;
        let acceptor = home.await.unwrap();
        let (got, spin_was_done) = acceptor.await.unwrap();
        assert!(
            !spin_was_done,
            "the read completed only after the home worker's spin ended"
        );
        let latency = got - sent;
        assert!(
            latency < Duration::from_secs(1),
            "readiness took {latency:?} to arrive"
        );
    });
}

/// A task reading from a socket that always has data yields now and then
/// (the cooperative budget), so another task on the same single worker gets
/// to run while the reader is still reading.
#[test]
fn coop_budget_reader_does_not_starve_others() {
    const TOTAL: usize = 64 * 1024;
    let rt = runtime(1);
    block_on(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(&vec![7u8; TOTAL]).unwrap();
            s
        });
        let (server, _) = listener.accept().await.unwrap();
        let _client = writer.join().unwrap();
        // Wait until every byte is in the receive queue: from here on, every
        // read is ready at once.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut avail: libc::c_int = 0;
            let fd = server.as_raw_fd();
            // SAFETY: FIONREAD writes one int.
            assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut avail) }, 0);
            if avail as usize == TOTAL {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "data never arrived: {avail} bytes"
            );
            corio::sleep(Duration::from_millis(1)).await;
        }

        let counter = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = corio::create_task({
            let (counter, stop) = (counter.clone(), stop.clone());
            async move {
                while !stop.load(SeqCst) {
                    counter.fetch_add(1, SeqCst);
                    corio::yield_now().await;
                }
            }
        });
        let reader = corio::create_task({
            let counter = counter.clone();
            async move {
                let start = counter.load(SeqCst);
                let mut buf = [0u8; 1];
                let mut read = 0;
                let mut advanced_mid_read = false;
                while read < TOTAL {
                    let n = server.read(&mut buf).await.unwrap();
                    assert_eq!(n, 1);
                    assert_eq!(buf[0], 7);
                    read += n;
                    if read < TOTAL && counter.load(SeqCst) > start + 2 {
                        advanced_mid_read = true;
                    }
                }
                advanced_mid_read
            }
        });
        let advanced = reader.await.unwrap();
        stop.store(true, SeqCst);
        ticker.await.unwrap();
        assert!(
            advanced,
            "the other task never ran while the reader was reading"
        );
    });
}
