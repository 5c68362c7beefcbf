//! `StreamReader` and `StreamWriter`: asyncio's stream semantics (ported from
//! CPython's `test_asyncio/test_streams.py`) and the writer's buffering, flow
//! control and close over real sockets.

mod common;

use common::{rt, watchdog, LONG};
use corio::net::TcpListener;
use corio::{ReadUntilError, StreamReader, StreamWriter};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// Runs `f` on a 2-worker runtime, failing on a hang.
fn run<F: std::future::Future<Output = ()> + Send + 'static>(
    f: impl FnOnce() -> F + Send + 'static,
) {
    watchdog(Duration::from_secs(60), move || rt(2).block_on(f()));
}

fn fed(limit: usize, chunks: &[&[u8]], eof: bool) -> StreamReader {
    let mut r = StreamReader::with_limit(limit);
    for c in chunks {
        r.feed_data(c);
    }
    if eof {
        r.feed_eof();
    }
    r
}

/// What is left in the buffer (ends the stream first).
async fn rest(r: &mut StreamReader) -> Vec<u8> {
    if !r.at_eof() {
        r.feed_eof();
    }
    r.read_to_end().await.unwrap()
}

// test_streams.py: test_at_eof, test_readline, test_readline_eof,
// test_readline_empty_eof
#[test]
fn readline_and_at_eof() {
    run(|| async {
        let mut r = fed(64 * 1024, &[b"some data\n"], false);
        assert!(!r.at_eof());
        assert_eq!(r.readline().await.unwrap(), b"some data\n");
        assert!(!r.at_eof());
        r.feed_data(b"line1\nline2");
        r.feed_eof();
        assert_eq!(r.readline().await.unwrap(), b"line1\n");
        // At EOF: the partial last line, then empty.
        assert_eq!(r.readline().await.unwrap(), b"line2");
        assert!(r.at_eof());
        assert_eq!(r.readline().await.unwrap(), b"");
    });
}

// test_streams.py: test_readline_limit_with_existing_data
#[test]
fn readline_over_the_limit_with_existing_data() {
    run(|| async {
        let mut r = fed(3, &[b"li", b"ne1\nline2\n"], false);
        let err = r.readline().await.unwrap_err();
        assert!(matches!(err, ReadUntilError::LimitOverrun(_)), "{err:?}");
        // The long line was dropped through its separator.
        assert_eq!(rest(&mut r).await, b"line2\n");

        let mut r = fed(3, &[b"li", b"ne1", b"li"], false);
        assert!(matches!(
            r.readline().await,
            Err(ReadUntilError::LimitOverrun(_))
        ));
        // No separator: the whole buffer was dropped.
        assert_eq!(rest(&mut r).await, b"");
    });
}

// test_streams.py: test_readline_limit (the fed-before-reading variants)
#[test]
fn readline_limit_is_strict() {
    run(|| async {
        let mut r = fed(7, &[b"chunk1", b"chunk2\n", b"chunk3\n"], true);
        assert!(r.readline().await.is_err());
        assert_eq!(rest(&mut r).await, b"chunk3\n");

        let mut r = fed(7, &[b"1234567\n"], false);
        assert_eq!(r.readline().await.unwrap(), b"1234567\n");
        r.feed_data(b"12345678\n");
        let err = r.readline().await.unwrap_err();
        assert_eq!(err.consumed(), Some(8));
        r.feed_data(b"12345678");
        assert!(r.readline().await.is_err());
        assert_eq!(rest(&mut r).await, b"");
    });
}

// test_streams.py: test_readuntil_separator, test_readuntil_multi_chunks
#[test]
fn readuntil_multi_byte_separator() {
    run(|| async {
        let mut r = fed(64 * 1024, &[b"lineAAA", b"xxxA", b"AAzz"], false);
        assert_eq!(r.readuntil(b"AAA").await.unwrap(), b"lineAAA");
        assert_eq!(r.readuntil(b"AAA").await.unwrap(), b"xxxAAA");
        assert_eq!(rest(&mut r).await, b"zz");
    });
}

// test_streams.py: test_readuntil_eof
#[test]
fn readuntil_at_eof_returns_the_partial_bytes() {
    run(|| async {
        let mut r = fed(64 * 1024, &[b"some dataAA"], true);
        match r.readuntil(b"AAA").await {
            Err(ReadUntilError::Incomplete(e)) => {
                assert_eq!(e.partial, b"some dataAA");
                assert_eq!(e.expected, b"some dataAA".len() + 3);
                assert!(e.cause().is_none());
                let io: std::io::Error = e.into();
                assert_eq!(io.kind(), ErrorKind::UnexpectedEof);
            }
            other => panic!("{other:?}"),
        }
        assert!(r.at_eof());
    });
}

// test_streams.py: test_readuntil_limit_found_sep
#[test]
fn readuntil_limit_overrun_keeps_the_data() {
    run(|| async {
        let mut r = fed(3, &[b"some dataAA"], false);
        let err = r.readuntil(b"AAA").await.unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");
        assert_eq!(err.consumed(), Some(9));
        r.feed_data(b"A");
        let err = r.readuntil(b"AAA").await.unwrap_err();
        assert!(err.to_string().contains("is found"), "{err}");
        assert_eq!(err.consumed(), Some(9));
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), ErrorKind::InvalidData);
        // Still readable, byte for byte.
        assert_eq!(r.read(4).await.unwrap(), b"some");
        assert_eq!(rest(&mut r).await, b" dataAAA");
    });
}

// test_streams.py: test_readuntil_separator (the empty-separator ValueError)
#[test]
fn readuntil_empty_separator_is_an_error_and_leaves_the_buffer() {
    run(|| async {
        let mut r = fed(64 * 1024, &[b"abc"], false);
        assert!(matches!(
            r.readuntil(b"").await,
            Err(ReadUntilError::EmptySeparator)
        ));
        assert_eq!(rest(&mut r).await, b"abc");
    });
}

// test_streams.py: test_readexactly, test_readexactly_zero_or_less,
// test_readexactly_limit, test_readexactly_eof
#[test]
fn readexactly_and_its_eof_error() {
    run(|| async {
        let mut r = fed(4, &[b"chunk1", b"chunk2", b"chunk3"], false);
        assert_eq!(r.readexactly(0).await.unwrap(), b"");
        // Longer than the limit is fine.
        assert_eq!(r.readexactly(12).await.unwrap(), b"chunk1chunk2");
        r.feed_eof();
        let err = r.readexactly(10).await.unwrap_err();
        assert_eq!(err.partial, b"chunk3");
        assert_eq!(err.expected, 10);
        assert_eq!(
            err.to_string(),
            "6 bytes read on a total of 10 expected bytes"
        );
        assert!(r.at_eof());
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), ErrorKind::UnexpectedEof);
    });
}

// test_streams.py: test_read_zero, test_read, test_read_eof,
// test_read_until_eof
#[test]
fn read_n_and_read_to_end() {
    run(|| async {
        let mut r = fed(64 * 1024, &[b"line1\nline2\n"], false);
        assert_eq!(r.read(0).await.unwrap(), b"");
        assert_eq!(r.read(3).await.unwrap(), b"lin");
        assert_eq!(r.read(100).await.unwrap(), b"e1\nline2\n");
        r.feed_data(b"chunk1\n");
        r.feed_data(b"chunk2");
        r.feed_eof();
        assert_eq!(r.read_to_end().await.unwrap(), b"chunk1\nchunk2");
        assert_eq!(r.read(10).await.unwrap(), b"");
        assert!(r.at_eof());
    });
}

#[test]
fn a_standalone_reader_waiting_for_data_nobody_can_feed_errors_instead_of_hanging() {
    run(|| async {
        let mut r = fed(64 * 1024, &[b"ab"], false);
        let err = r.readexactly(3).await.unwrap_err();
        assert_eq!(err.cause().unwrap().kind(), ErrorKind::WouldBlock);
        // Nothing was lost: feeding more completes the read.
        r.feed_data(b"c");
        assert_eq!(r.readexactly(3).await.unwrap(), b"abc");
    });
}

#[test]
#[should_panic(expected = "limit must be greater than 0")]
fn a_zero_limit_is_refused() {
    let _ = StreamReader::with_limit(0);
}

/// A connected pair: (reader, writer) on the client side, and the accepted
/// server-side socket.
async fn client_and_peer() -> (StreamReader, StreamWriter, corio::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = corio::create_task(async move { listener.accept().await.unwrap().0 });
    let (r, w) = corio::open_connection(addr).await.unwrap();
    (r, w, accept.await.unwrap())
}

async fn read_all(peer: &corio::net::TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match peer.read(&mut buf).await.unwrap() {
            0 => return out,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

// test_streams.py: test_read_all_from_pipe_reader (over a socket), and
// cancel safety of readexactly (asyncio keeps the data on cancellation).
#[test]
fn cancelled_readexactly_keeps_what_it_read() {
    run(|| async {
        let (mut r, _w, peer) = client_and_peer().await;
        peer.write_all(b"abc").await.unwrap();
        // Pending for want of bytes: cancelled by the timeout.
        let first = corio::timeout(Duration::from_millis(50), r.readexactly(6)).await;
        assert!(first.is_err());
        peer.write_all(b"def").await.unwrap();
        assert_eq!(r.readexactly(6).await.unwrap(), b"abcdef");
    });
}

#[test]
fn four_mib_written_then_closed_arrive_whole() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        let data = pattern(4 << 20);
        let sent = data.clone();
        // The writing task returns right after close: the flush must go on
        // without anybody awaiting it.
        corio::create_task(async move {
            for chunk in sent.chunks(100_000) {
                w.write(chunk);
            }
            w.close();
            assert!(w.is_closing());
        })
        .await
        .unwrap();
        let got = read_all(&peer).await;
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the bytes arrived altered");
    });
}

/// `writelines` goes out with `writev` straight from the caller's buffers:
/// more pieces than one `writev` takes (IOV_MAX = 1024), more bytes than
/// the socket takes at once (the rest is queued), twice in a row (the second
/// call finds the first one's remainder queued), all arrive in order.
#[test]
fn writelines_of_many_pieces_arrive_whole_and_in_order() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        let data = pattern(3 << 20);
        let sent = data.clone();
        corio::create_task(async move {
            let (first, second) = sent.split_at(sent.len() / 2);
            w.writelines(first.chunks(700));
            w.writelines(second.chunks(1300).collect::<Vec<_>>());
            w.close();
        })
        .await
        .unwrap();
        let got = read_all(&peer).await;
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the bytes arrived altered or out of order");
    });
}

/// `abort` (asyncio's `transport.abort()`) ends the connection at once
/// even with megabytes queued for a peer that does not read: the queue is
/// discarded, the peer sees the end, this side's reader reads EOF, and
/// `drain`/`wait_closed` report it instead of waiting.
#[test]
fn abort_discards_the_queue_and_ends_both_directions() {
    run(|| async {
        let (mut r, w, peer) = client_and_peer().await;
        let data = pattern(8 << 20);
        w.write(&data);
        assert!(w.get_write_buffer_size() > 0, "the peer reads nothing yet");
        w.abort();
        assert!(w.is_closing());
        assert_eq!(w.get_write_buffer_size(), 0);
        for e in [
            w.drain().await.unwrap_err(),
            w.wait_closed().await.unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::ConnectionAborted);
        }
        w.write(b"after");
        // Our own reader half sees the end at once.
        assert!(r.read_to_end().await.unwrap().is_empty());
        // The peer gets what the kernel took before the abort, then the end.
        let got = read_all(&peer).await;
        assert!(got.len() < data.len());
        assert!(
            data.starts_with(&got),
            "the bytes before the abort arrive intact"
        );
    });
}

#[test]
fn dropping_every_writer_handle_flushes_and_sends_eof() {
    run(|| async {
        let (r, w, peer) = client_and_peer().await;
        let w2 = w.clone();
        w.write(b"one ");
        drop(w);
        w2.writelines([&b"two "[..], b"three"]);
        drop(w2);
        drop(r);
        assert_eq!(read_all(&peer).await, b"one two three");
    });
}

#[test]
fn wait_closed_waits_for_the_flush() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        let data = pattern(8 << 20);
        w.write(&data);
        w.close();
        let reader = corio::create_task(async move { read_all(&peer).await });
        corio::timeout(LONG, w.wait_closed())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(w.get_write_buffer_size(), 0);
        assert_eq!(reader.await.unwrap().len(), data.len());
    });
}

#[test]
fn drain_waits_above_high_water_until_the_peer_reads() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        w.set_write_buffer_limits(64 * 1024, 16 * 1024);
        // More than the kernel's buffers hold: the rest stays queued while
        // the peer reads nothing.
        let data = pattern(32 << 20);
        w.write(&data);
        assert!(w.get_write_buffer_size() > 64 * 1024);
        let drained = Arc::new(AtomicBool::new(false));
        let (w2, flag) = (w.clone(), drained.clone());
        let drain = corio::create_task(async move {
            w2.drain().await.unwrap();
            flag.store(true, SeqCst);
        });
        // Nobody reads: the drain cannot finish.
        corio::sleep(Duration::from_millis(100)).await;
        assert!(!drained.load(SeqCst));
        let reader = corio::create_task(async move { read_all(&peer).await.len() });
        corio::timeout(LONG, drain).await.unwrap().unwrap();
        assert!(w.get_write_buffer_size() <= 16 * 1024);
        w.close();
        assert_eq!(reader.await.unwrap(), data.len());
    });
}

#[test]
fn drain_against_a_reset_peer_returns_the_error() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        let data = pattern(32 << 20);
        w.write(&data);
        assert!(w.get_write_buffer_size() > 64 * 1024);
        let w2 = w.clone();
        let drain = corio::create_task(async move { w2.drain().await });
        // Closing a socket with unread bytes in its receive buffer resets
        // the connection (RST), as SO_LINGER 0 would.
        peer.readable().await.unwrap();
        drop(peer);
        let err = corio::timeout(LONG, drain)
            .await
            .unwrap()
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "{err:?}"
        );
        assert!(w.is_closing());
        // Every later drain and wait_closed report it too; writes are dropped.
        w.write(b"more");
        assert_eq!(w.drain().await.unwrap_err().kind(), err.kind());
        assert_eq!(w.wait_closed().await.unwrap_err().kind(), err.kind());
    });
}

#[test]
fn write_after_close_is_discarded_and_drain_says_so() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        w.write(b"kept");
        w.close();
        w.write(b"lost");
        assert_eq!(w.drain().await.unwrap_err().kind(), ErrorKind::BrokenPipe);
        w.wait_closed().await.unwrap();
        assert_eq!(read_all(&peer).await, b"kept");
    });
}

#[test]
fn write_eof_keeps_the_read_side_open() {
    run(|| async {
        let (mut r, w, peer) = client_and_peer().await;
        w.write(b"request");
        w.write_eof();
        assert!(!w.is_closing());
        assert_eq!(read_all(&peer).await, b"request");
        peer.write_all(b"response").await.unwrap();
        drop(peer);
        assert_eq!(r.read_to_end().await.unwrap(), b"response");
    });
}

#[test]
fn addresses_of_the_writer() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        assert_eq!(w.peer_addr().unwrap(), peer.local_addr().unwrap());
        assert_eq!(w.local_addr().unwrap(), peer.peer_addr().unwrap());
    });
}

#[test]
fn a_reset_while_reading_is_reported_after_the_buffered_bytes() {
    run(|| async {
        let (mut r, w, peer) = client_and_peer().await;
        peer.write_all(b"partial").await.unwrap();
        // Reset from our side's peer: it closes with our bytes unread.
        w.write(b"x");
        peer.readable().await.unwrap();
        drop(peer);
        let err = corio::timeout(LONG, r.readexactly(100))
            .await
            .unwrap()
            .unwrap_err();
        // The bytes that arrived before the reset are the partial read,
        // whether the reset hid them (no cause) or followed them.
        if let Some(cause) = err.cause() {
            assert_eq!(cause.kind(), ErrorKind::ConnectionReset);
        }
        assert!(
            err.partial.is_empty() || err.partial == b"partial",
            "{err:?}"
        );
    });
}

#[test]
fn open_connection_refused() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = corio::open_connection(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn open_connection_resolves_localhost() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accept = corio::create_task(async move {
            let first = listener.accept().await.unwrap().0;
            let _second = listener.accept().await.unwrap();
            first
        });
        // "localhost" may resolve to ::1 first (refused): the next address
        // is tried.
        let (_r, w) = corio::open_connection(format!("localhost:{port}"))
            .await
            .unwrap();
        let (_r2, _w2) = corio::open_connection(("127.0.0.1", port)).await.unwrap();
        let peer = accept.await.unwrap();
        assert_eq!(w.peer_addr().unwrap(), peer.local_addr().unwrap());
    });
}

#[test]
fn open_connection_to_an_unknown_host_fails_clearly() {
    run(|| async {
        let err = corio::open_connection("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert_ne!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    });
}

/// A chat server's broadcast: clones of one writer used from several tasks
/// at once. Each `write` goes out whole (never interleaved with another
/// write's bytes), and one task's writes keep their order.
#[test]
fn concurrent_writes_through_clones_stay_whole_and_ordered() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        let tasks: Vec<_> = (0..4)
            .map(|t| {
                let w = w.clone();
                corio::create_task(async move {
                    for i in 0..500 {
                        w.write(
                            format!("task {t} message {i:04} {}\n", "x".repeat(200)).as_bytes(),
                        );
                        if i % 50 == 0 {
                            w.drain().await.unwrap();
                        }
                    }
                })
            })
            .collect();
        let reader = corio::create_task(async move { read_all(&peer).await });
        for t in tasks {
            t.await.unwrap();
        }
        w.close();
        let got = reader.await.unwrap();
        let mut next = [0usize; 4];
        let mut lines = 0;
        for line in got.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let line = std::str::from_utf8(line).unwrap();
            let mut words = line.split(' ');
            assert_eq!(words.next(), Some("task"), "{line}");
            let t: usize = words.next().unwrap().parse().unwrap();
            assert_eq!(words.next(), Some("message"));
            let i: usize = words.next().unwrap().parse().unwrap();
            assert_eq!(
                words.next().unwrap().len(),
                200,
                "a write was split: {line}"
            );
            assert_eq!(i, next[t], "task {t}'s writes out of order");
            next[t] += 1;
            lines += 1;
        }
        assert_eq!(lines, 2000);
    });
}

#[test]
fn write_and_close_from_a_plain_thread() {
    run(|| async {
        let (_r, w, peer) = client_and_peer().await;
        let data = pattern(1 << 20);
        let sent = data.clone();
        // Outside the runtime: the whole write goes to the flusher.
        std::thread::spawn(move || {
            w.write(&sent);
            w.close();
        })
        .join()
        .unwrap();
        assert!(read_all(&peer).await == data);
    });
}
