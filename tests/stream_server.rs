//! `start_server`/`start_unix_server` and `Server`: ported from CPython's
//! `test_asyncio/test_server.py` and the server tests of `test_streams.py`.

mod common;

use common::{rt, watchdog, LONG};
use corio::{StreamReader, StreamWriter};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

fn run<F: std::future::Future<Output = ()> + Send + 'static>(
    f: impl FnOnce() -> F + Send + 'static,
) {
    watchdog(Duration::from_secs(60), move || rt(2).block_on(f()));
}

/// Echoes lines until EOF.
async fn echo_lines(mut reader: StreamReader, writer: StreamWriter) {
    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) => {
                writer.write(&line);
                if writer.drain().await.is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("corio-stream-server-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

// test_streams.py: test_start_server; test_server.py: test_start_server_1
#[test]
fn line_echo_over_tcp() {
    run(|| async {
        let server = corio::start_server(echo_lines, "127.0.0.1:0")
            .await
            .unwrap();
        assert!(server.is_serving());
        let addr = server.local_addrs()[0];
        let mut clients = Vec::new();
        for i in 0..4 {
            clients.push(corio::create_task(async move {
                let (mut r, w) = corio::open_connection(addr).await.unwrap();
                for j in 0..10 {
                    let msg = format!("client {i} line {j}\n");
                    w.write(msg.as_bytes());
                    assert_eq!(r.readline().await.unwrap(), msg.as_bytes());
                }
                w.write_eof();
                assert_eq!(r.read_to_end().await.unwrap(), b"");
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        server.close();
        assert!(!server.is_serving());
        corio::timeout(LONG, server.wait_closed()).await.unwrap();
    });
}

// test_streams.py: test_start_unix_server; test_server.py:
// test_start_unix_server_1
#[test]
fn line_echo_over_a_unix_socket() {
    run(|| async {
        let path = temp_path("echo.sock");
        let server = corio::start_unix_server(echo_lines, &path).await.unwrap();
        assert!(server.local_addrs().is_empty());
        let (mut r, w) = corio::open_unix_connection(&path).await.unwrap();
        w.write(b"hello\n");
        assert_eq!(r.readline().await.unwrap(), b"hello\n");
        assert_eq!(w.peer_addr().unwrap_err().kind(), ErrorKind::Unsupported);
        assert_eq!(w.local_addr().unwrap_err().kind(), ErrorKind::Unsupported);
        w.close();
        assert_eq!(r.read_to_end().await.unwrap(), b"");
        server.close();
        corio::timeout(LONG, server.wait_closed()).await.unwrap();
        // A second server on the same (still present) path is refused.
        let again = corio::start_unix_server(echo_lines, &path).await;
        assert_eq!(again.unwrap_err().kind(), ErrorKind::AddrInUse);
        std::fs::remove_file(&path).unwrap();
    });
}

// test_server.py: test_start_server_1 (close, then wait_closed)
#[test]
fn close_stops_accepting_while_open_connections_finish() {
    run(|| async {
        let finished = Arc::new(AtomicUsize::new(0));
        let done = finished.clone();
        let server = corio::start_server(
            move |mut reader: StreamReader, writer: StreamWriter| {
                let done = done.clone();
                async move {
                    // Serves until the client says "bye" (or leaves, as
                    // the probes of the closed listener below may).
                    while let Ok(line) = reader.readline().await {
                        writer.write(&line);
                        if line == b"bye\n" {
                            done.fetch_add(1, SeqCst);
                            break;
                        }
                        if line.is_empty() {
                            break;
                        }
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addrs()[0];
        let (mut r, w) = corio::open_connection(addr).await.unwrap();
        w.write(b"hi\n");
        assert_eq!(r.readline().await.unwrap(), b"hi\n");

        server.close();
        let waiter = {
            let server = server.clone();
            corio::create_task(async move { server.wait_closed().await })
        };
        // New connections are refused once the listener is closed (the
        // accept loop is cancelled at its next scheduling point).
        let refused = corio::timeout(LONG, async {
            loop {
                // A connection still in the closing listener's backlog may
                // be accepted, or reset: try again.
                match corio::open_connection(addr).await {
                    Err(e) if e.kind() != ErrorKind::ConnectionReset => break e,
                    _ => corio::sleep(Duration::from_millis(10)).await,
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);

        // The open connection still works, and wait_closed waits for it.
        w.write(b"still here\n");
        assert_eq!(r.readline().await.unwrap(), b"still here\n");
        corio::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_done());
        assert_eq!(finished.load(SeqCst), 0);

        w.write(b"bye\n");
        assert_eq!(r.readline().await.unwrap(), b"bye\n");
        corio::timeout(LONG, waiter).await.unwrap().unwrap();
        assert_eq!(finished.load(SeqCst), 1);
    });
}

#[test]
fn serve_forever_returns_when_closed() {
    run(|| async {
        let server = corio::start_server(echo_lines, "127.0.0.1:0")
            .await
            .unwrap();
        let closer = {
            let server = server.clone();
            corio::create_task(async move {
                corio::sleep(Duration::from_millis(20)).await;
                server.close();
            })
        };
        corio::timeout(LONG, server.serve_forever()).await.unwrap();
        closer.await.unwrap();
        assert!(!server.is_serving());
    });
}

#[test]
fn a_panicking_handler_ends_only_its_connection() {
    run(|| async {
        let server = corio::start_server(
            |mut reader: StreamReader, writer: StreamWriter| async move {
                let line = reader.readline().await.unwrap();
                if line == b"panic\n" {
                    panic!("handler panics on purpose");
                }
                writer.write(&line);
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addrs()[0];
        let (mut r, w) = corio::open_connection(addr).await.unwrap();
        w.write(b"panic\n");
        // The connection is closed under the client.
        assert_eq!(r.read_to_end().await.unwrap_or_default(), b"");
        let (mut r, w) = corio::open_connection(addr).await.unwrap();
        w.write(b"ok\n");
        assert_eq!(r.readline().await.unwrap(), b"ok\n");
        server.close();
        corio::timeout(LONG, server.wait_closed()).await.unwrap();
    });
}

#[test]
fn binding_an_address_in_use_fails() {
    run(|| async {
        let first = corio::start_server(echo_lines, "127.0.0.1:0")
            .await
            .unwrap();
        let addr = first.local_addrs()[0];
        let err = corio::start_server(echo_lines, addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        first.close();
    });
}

#[test]
fn start_server_on_localhost_listens_on_each_address() {
    run(|| async {
        let server = corio::start_server(echo_lines, "localhost:0")
            .await
            .unwrap();
        let addrs = server.local_addrs();
        assert!(!addrs.is_empty());
        for addr in addrs {
            assert!(addr.ip().is_loopback());
            let (mut r, w) = corio::open_connection(addr).await.unwrap();
            w.write(b"x\n");
            assert_eq!(r.readline().await.unwrap(), b"x\n");
        }
        server.close();
    });
}
