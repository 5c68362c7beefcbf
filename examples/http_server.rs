//! HTTP/1.1 "Hello, world!" server on corio's Protocol API (no task per
//! connection): keep-alive, pipelining, `Connection: close`, HTTP/1.0
//! closing unless it asks for keep-alive, 400 for malformed requests, and
//! requests split across any number of `data_received` chunks.
//!
//! ```text
//! cargo run --release --example http_server -- --addr 127.0.0.1:8080 --workers 2
//! ```
//!
//! The parser works in place on the loop's read buffer; only a request cut
//! across two reads is copied (into a per-connection buffer reused for the
//! connection's life). Responses to every complete request of one read go
//! out in one write.

use corio::protocol::{Protocol, Transport};
use std::io;

const BODY: &[u8] = b"Hello, world!\n";
/// Largest request head accepted (request line and headers).
const MAX_HEAD: usize = 8 * 1024;

const OK_KEEP_ALIVE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n";
const OK_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: close\r\n\r\nHello, world!\n";
const OK_KEEP_ALIVE_10: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: keep-alive\r\n\r\nHello, world!\n";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// One parsed request head: what the response depends on.
#[derive(Debug, PartialEq)]
pub struct Head {
    /// Bytes of the request, head and body.
    pub len: usize,
    /// The connection stays open after the response.
    pub keep_alive: bool,
    /// HTTP/1.0 asking for keep-alive (the response says so).
    pub http10: bool,
}

/// The result of parsing the front of a buffer.
#[derive(Debug, PartialEq)]
pub enum Parse {
    /// A whole request.
    Request(Head),
    /// Not enough bytes yet.
    Partial,
    /// Not HTTP/1.x.
    Invalid,
}

/// Parses the request at the front of `buf` without allocating.
pub fn parse(buf: &[u8]) -> Parse {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD || !plausible_prefix(buf) {
            Parse::Invalid
        } else {
            Parse::Partial
        };
    };
    let head = &buf[..end];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parse::Invalid;
    };
    if method.is_empty() || !method.iter().all(u8::is_ascii_uppercase) || target.is_empty() {
        return Parse::Invalid;
    }
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return Parse::Invalid,
    };
    let mut keep_alive = !http10;
    let mut body = 0usize;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Parse::Invalid;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || name.iter().any(|b| b.is_ascii_whitespace()) {
            return Parse::Invalid;
        }
        if name.eq_ignore_ascii_case(b"connection") {
            if value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                Some(n) => body = n,
                None => return Parse::Invalid,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Chunked bodies are not supported by this example.
            return Parse::Invalid;
        }
    }
    let len = end + 4 + body;
    if buf.len() < len {
        return Parse::Partial;
    }
    Parse::Request(Head {
        len,
        keep_alive,
        http10,
    })
}

/// Whether `buf` could still become a request line (rejects garbage before
/// the head is complete).
fn plausible_prefix(buf: &[u8]) -> bool {
    let first_line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let method_end = first_line
        .iter()
        .position(|&b| b == b' ')
        .unwrap_or(first_line.len());
    first_line[..method_end].iter().all(u8::is_ascii_uppercase)
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One connection.
#[derive(Default)]
pub struct Http {
    transport: Option<Transport>,
    /// The unparsed tail of earlier reads (a request cut in two).
    pending: Vec<u8>,
    /// Responses to the requests of the current read.
    out: Vec<u8>,
    closed: bool,
}

impl Http {
    /// Answers every whole request at the front of `data`; returns how many
    /// bytes it consumed.
    fn handle(&mut self, data: &[u8]) -> usize {
        let mut at = 0;
        while !self.closed && at < data.len() {
            match parse(&data[at..]) {
                Parse::Partial => break,
                Parse::Invalid => {
                    self.out.extend_from_slice(BAD_REQUEST);
                    self.closed = true;
                    at = data.len();
                }
                Parse::Request(head) => {
                    at += head.len;
                    let response = match (head.keep_alive, head.http10) {
                        (false, _) => OK_CLOSE,
                        (true, true) => OK_KEEP_ALIVE_10,
                        (true, false) => OK_KEEP_ALIVE,
                    };
                    self.out.extend_from_slice(response);
                    self.closed = !head.keep_alive;
                }
            }
        }
        at
    }
}

impl Protocol for Http {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if self.closed {
            return;
        }
        if self.pending.is_empty() {
            // The fast path: parse the loop's buffer in place.
            let used = self.handle(data);
            self.pending.extend_from_slice(&data[used..]);
        } else {
            self.pending.extend_from_slice(data);
            let pending = std::mem::take(&mut self.pending);
            let used = self.handle(&pending);
            self.pending = pending;
            self.pending.drain(..used);
        }
        let t = self.transport.as_ref().expect("connection_made came first");
        if !self.out.is_empty() {
            t.write(&self.out);
            self.out.clear();
        }
        if self.closed {
            t.close();
        }
    }

    fn eof_received(&mut self) -> bool {
        // The client is done sending: close once the answers are out.
        false
    }

    fn connection_lost(&mut self, _error: Option<io::Error>) {
        self.transport = None;
    }
}

/// Starts the server on the current runtime's loops, listening on `addr`.
pub async fn serve(addr: &str) -> io::Result<corio::streams::Server> {
    corio::get_running_loop()
        .create_server(Http::default, addr)
        .await
}

/// The body is fixed: exposed for tests.
pub fn body() -> &'static [u8] {
    BODY
}

#[allow(dead_code)]
fn main() -> io::Result<()> {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut workers = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs a value"),
            "--workers" => {
                let n = args.next().expect("--workers needs a value");
                workers = Some(n.parse::<usize>().expect("--workers takes a number"));
            }
            other => panic!("unknown argument {other:?} (use --addr HOST:PORT --workers N)"),
        }
    }
    let rt = match workers {
        Some(n) => corio::Builder::new().worker_threads(n).build()?,
        None => corio::Builder::new().build()?,
    };
    rt.block_on(async {
        let server = serve(&addr).await?;
        println!("listening on http://{}", server.local_addrs()[0]);
        server.serve_forever().await;
        Ok(())
    })
}
