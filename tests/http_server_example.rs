//! Drives `examples/http_server.rs` as HTTP clients would: keep-alive,
//! pipelining, requests split byte by byte, `Connection: close`, HTTP/1.0,
//! a malformed request, and `curl` when it is installed.

mod common;

#[allow(dead_code)]
#[path = "../examples/http_server.rs"]
mod http_server;

use common::LONG;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n";
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

fn start() -> (corio::Runtime, SocketAddr) {
    let rt = common::rt(2);
    let server = rt.block_on(http_server::serve("127.0.0.1:0")).unwrap();
    let addr = server.local_addrs()[0];
    (rt, addr)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LONG)).unwrap();
    s
}

fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn keep_alive_sequence() {
    let (_rt, addr) = start();
    let mut s = connect(addr);
    for _ in 0..5 {
        s.write_all(GET).unwrap();
        assert_eq!(read_n(&mut s, RESPONSE.len()), RESPONSE);
    }
    // A request with a body is skipped by its Content-Length.
    s.write_all(b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap();
    assert_eq!(read_n(&mut s, RESPONSE.len()), RESPONSE);
    assert_eq!(http_server::body(), b"Hello, world!\n");
}

#[test]
fn sixteen_pipelined_requests_in_one_write() {
    let (_rt, addr) = start();
    let mut s = connect(addr);
    s.write_all(&GET.repeat(16)).unwrap();
    assert_eq!(read_n(&mut s, RESPONSE.len() * 16), RESPONSE.repeat(16));
}

#[test]
fn requests_split_byte_by_byte() {
    let (_rt, addr) = start();
    let mut s = connect(addr);
    s.set_nodelay(true).unwrap();
    for _ in 0..2 {
        for b in GET {
            s.write_all(&[*b]).unwrap();
        }
        assert_eq!(read_n(&mut s, RESPONSE.len()), RESPONSE);
    }
}

#[test]
fn connection_close_is_honoured() {
    let (_rt, addr) = start();
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8(all).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(text.contains("Connection: close\r\n"));
    assert!(text.ends_with("\r\n\r\nHello, world!\n"));
}

#[test]
fn http10_closes_unless_keep_alive() {
    let (_rt, addr) = start();
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    assert!(all.ends_with(b"Content-Length: 14\r\nConnection: close\r\n\r\nHello, world!\n"));

    let mut s = connect(addr);
    for _ in 0..2 {
        s.write_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let want = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: keep-alive\r\n\r\nHello, world!\n";
        assert_eq!(read_n(&mut s, want.len()), want);
    }
}

#[test]
fn garbage_gets_400_and_close() {
    let (_rt, addr) = start();
    for garbage in [
        &b"\x00\x01\x02 hello\r\n\r\n"[..],
        b"GET /\r\n\r\n",
        b"get / HTTP/1.1\r\n",
    ] {
        let mut s = connect(addr);
        s.write_all(garbage).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        assert!(
            all.starts_with(b"HTTP/1.1 400 Bad Request\r\n"),
            "{garbage:?} -> {:?}",
            String::from_utf8_lossy(&all)
        );
    }
}

#[test]
fn parser_is_incremental() {
    use http_server::{parse, Parse};
    for cut in 0..GET.len() {
        assert_eq!(parse(&GET[..cut]), Parse::Partial, "cut at {cut}");
    }
    match parse(GET) {
        Parse::Request(h) => assert_eq!((h.len, h.keep_alive), (GET.len(), true)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn curl_gets_the_body() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        // CI installs curl (.ci/run): there, a missing curl is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "curl is not on PATH under CI (.ci/run installs it)"
        );
        println!("note: curl is not on PATH; skipping the curl check");
        return;
    }
    let (_rt, addr) = start();
    let url = format!("http://{addr}/");
    let out = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10", &url, &url])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"Hello, world!\nHello, world!\n");
}
