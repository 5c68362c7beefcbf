//! Drives `examples/echo_server.rs` (both modes) as clients would: plain
//! blocking std sockets on their own threads, the server on a corio runtime.

mod common;

#[allow(dead_code)]
#[path = "../examples/echo_server.rs"]
mod echo_server;

use common::{rt, watchdog, LONG};
use echo_server::Mode;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;

/// Runs `client(addr)` on a plain thread against a fresh server of `mode`,
/// keeping the runtime's `block_on` alive meanwhile, then closes the server.
fn with_server<T: Send + 'static>(
    mode: Mode,
    client: impl FnOnce(SocketAddr) -> T + Send + 'static,
) -> T {
    watchdog(LONG * 3, move || {
        let rt = rt(2);
        rt.block_on(async move {
            let server = echo_server::serve(mode, "127.0.0.1:0").await.unwrap();
            let addr = server.local_addrs()[0];
            let out = corio::to_thread(move || client(addr)).await.unwrap();
            server.close();
            out
        })
    })
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LONG)).unwrap();
    s
}

/// Sends `data` from a second thread (then shuts the write side down) while
/// this one reads everything back until the server closes its side.
fn echo_all(addr: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let mut s = connect(addr);
    let mut w = s.try_clone().unwrap();
    let writer = thread::spawn(move || {
        w.write_all(&data).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    got
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn round_trips(mode: Mode) {
    with_server(mode, |addr| {
        let mut s = connect(addr);
        for (i, size) in [1usize, 64, 1024, 100_000].into_iter().enumerate() {
            let msg = pattern(size, i as u8);
            s.write_all(&msg).unwrap();
            let mut back = vec![0; size];
            s.read_exact(&mut back).unwrap();
            assert!(back == msg, "message {i} ({size} B) came back altered");
        }
    });
}

#[test]
fn streams_echoes_each_message_in_turn() {
    round_trips(Mode::Streams);
}

#[test]
fn protocol_echoes_each_message_in_turn() {
    round_trips(Mode::Protocol);
}

/// 4 MiB sent without waiting for the echo: the server's flow control
/// (drain / pause_reading) must neither lose nor reorder bytes, and after
/// the client's EOF everything is flushed before the server closes.
fn bulk_then_eof(mode: Mode) {
    let data = pattern(4 << 20, 7);
    let expected = data.clone();
    let got = with_server(mode, move |addr| echo_all(addr, data));
    assert_eq!(got.len(), expected.len(), "bytes lost or added");
    assert!(got == expected, "bytes reordered or altered");
}

#[test]
fn streams_flushes_everything_before_closing() {
    bulk_then_eof(Mode::Streams);
}

#[test]
fn protocol_flushes_everything_before_closing() {
    bulk_then_eof(Mode::Protocol);
}

/// Many clients at once each get their own bytes back, not a neighbour's.
fn concurrent_clients(mode: Mode) {
    with_server(mode, |addr| {
        let clients: Vec<_> = (0..16u8)
            .map(|i| {
                thread::spawn(move || {
                    let data = pattern(200_000 + i as usize * 1000, i);
                    let got = echo_all(addr, data.clone());
                    assert!(got == data, "client {i} got other bytes back");
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
    });
}

#[test]
fn streams_keeps_clients_apart() {
    concurrent_clients(Mode::Streams);
}

#[test]
fn protocol_keeps_clients_apart() {
    concurrent_clients(Mode::Protocol);
}

/// A client that resets its connection mid-stream takes only itself down:
/// the next client is served as usual.
fn survives_reset(mode: Mode) {
    with_server(mode, |addr| {
        {
            let mut s = connect(addr);
            s.write_all(&pattern(100_000, 1)).unwrap();
            // SO_LINGER 0: close sends RST instead of FIN.
            set_linger_zero(&s);
        }
        let data = pattern(10_000, 2);
        assert!(echo_all(addr, data.clone()) == data);
    });
}

fn set_linger_zero(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` is a live struct and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt(SO_LINGER)");
}

#[test]
fn streams_survives_a_reset_client() {
    survives_reset(Mode::Streams);
}

#[test]
fn protocol_survives_a_reset_client() {
    survives_reset(Mode::Protocol);
}

#[test]
fn mode_parses_its_two_names_only() {
    assert_eq!("streams".parse::<Mode>(), Ok(Mode::Streams));
    assert_eq!("protocol".parse::<Mode>(), Ok(Mode::Protocol));
    assert!("udp".parse::<Mode>().is_err());
}
