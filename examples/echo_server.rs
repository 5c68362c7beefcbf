//! A TCP echo server, written twice: with asyncio-style streams (one task
//! per connection) and with a protocol (callbacks, no task per connection).
//!
//! ```text
//! cargo run --release --example echo_server                          # streams, 127.0.0.1:7000
//! cargo run --release --example echo_server -- --mode protocol
//! cargo run --release --example echo_server -- --addr 127.0.0.1:0 --workers 2 --duration 5
//! ```
//!
//! Prints `listening on <address> (<mode>)` once bound (port 0 picks a free
//! port, and the line shows which), then echoes every byte each client sends
//! until the client closes its side; then it flushes what is left and closes
//! its side too. It runs until killed, or for `--duration` seconds if given
//! (then it stops accepting and exits, dropping the connections still open).
//!
//! * `--mode streams` (the default): [`corio::start_server`] runs
//!   [`echo_stream`] for each connection: `reader.read(64 KiB)`,
//!   `writer.write`, `writer.drain().await`, as one writes it in asyncio.
//!   `drain` is the flow control: a client that sends faster than it reads
//!   its echo stops being read once 64 KiB of echo are queued for it.
//! * `--mode protocol`: [`corio::EventLoop::create_server`] with
//!   [`EchoProtocol`], whose `data_received` calls `transport.write`. A
//!   transport only tells the protocol that its write buffer is above the
//!   high-water mark (`pause_writing`, 64 KiB) and back down
//!   (`resume_writing`); this protocol answers with
//!   `pause_reading`/`resume_reading`: the same bound as `drain`.
//!
//! Try it with `nc 127.0.0.1 7000`. `examples/echo_bench.rs` measures both
//! modes, and `tests/example_echo.rs` drives them as a client would.

use corio::protocol::{Protocol, Transport};
use corio::{Server, StreamReader, StreamWriter};
use std::io;
use std::str::FromStr;
use std::time::Duration;

/// How the server is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `start_server` and a task per connection.
    Streams,
    /// `create_server` and a [`Protocol`].
    Protocol,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "streams" => Ok(Mode::Streams),
            "protocol" => Ok(Mode::Protocol),
            _ => Err(format!("--mode wants streams or protocol, got {s:?}")),
        }
    }
}

/// Starts an echo server on `addr` (port 0 picks one: see
/// [`Server::local_addrs`]). The server runs on the current runtime until
/// closed.
pub async fn serve(mode: Mode, addr: &str) -> io::Result<Server> {
    match mode {
        Mode::Streams => corio::start_server(echo_stream, addr).await,
        Mode::Protocol => {
            corio::get_running_loop()
                .create_server(EchoProtocol::default, addr)
                .await
        }
    }
}

/// Bytes asked for per read: the reader's default buffer limit.
const READ_SIZE: usize = 64 * 1024;

/// Echoes one connection until the client closes its side or the
/// connection fails.
pub async fn echo_stream(mut reader: StreamReader, writer: StreamWriter) {
    loop {
        let data = match reader.read(READ_SIZE).await {
            Ok(data) if data.is_empty() => break,
            Ok(data) => data,
            // Reset by the peer: nothing left to answer.
            Err(_) => return,
        };
        writer.write(&data);
        if writer.drain().await.is_err() {
            return;
        }
    }
    // End of input: flush the last echo, then close our side too.
    writer.close();
    let _ = writer.wait_closed().await;
}

/// The echo as a protocol: whatever arrives is written back.
#[derive(Default)]
pub struct EchoProtocol {
    transport: Option<Transport>,
}

impl Protocol for EchoProtocol {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.transport {
            t.write(data);
        }
    }

    /// The client closed its side: returning `false` lets the transport
    /// flush what is queued and close ours.
    fn eof_received(&mut self) -> bool {
        false
    }

    /// More than the high-water mark of echo is queued (the client does not
    /// read): stop reading from it until it catches up.
    fn pause_writing(&mut self) {
        if let Some(t) = &self.transport {
            t.pause_reading();
        }
    }

    fn resume_writing(&mut self) {
        if let Some(t) = &self.transport {
            t.resume_reading();
        }
    }
}

const USAGE: &str = "\
usage: echo_server [--mode streams|protocol] [--addr HOST:PORT] [--workers N] [--duration SECS]

  --mode M          streams (start_server, the default) or protocol (create_server)
  --addr HOST:PORT  address to listen on (default 127.0.0.1:7000; port 0 picks one)
  --workers N       corio worker threads (default: one per core)
  --duration SECS   stop after this many seconds (default: run until killed)
  --help            print this and exit";

fn main() {
    let mut mode = Mode::Streams;
    let mut addr = "127.0.0.1:7000".to_string();
    let mut workers = None;
    let mut duration = None;
    let usage_error = |msg: String| -> ! {
        eprintln!("echo_server: {msg}\n\n{USAGE}");
        std::process::exit(2);
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            println!("{USAGE}");
            return;
        }
        if !["--mode", "--addr", "--workers", "--duration"].contains(&arg.as_str()) {
            usage_error(format!("unknown argument {arg:?}"));
        }
        let Some(value) = args.next() else {
            usage_error(format!("{arg} needs a value"));
        };
        match arg.as_str() {
            "--mode" => mode = value.parse().unwrap_or_else(|e| usage_error(e)),
            "--addr" => addr = value,
            "--duration" => match value.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => duration = Some(Duration::from_secs_f64(s)),
                _ => usage_error(format!("--duration wants seconds, got {value:?}")),
            },
            _ => match value.parse::<usize>() {
                Ok(n) if n > 0 => workers = Some(n),
                _ => usage_error(format!("--workers wants a positive integer, got {value:?}")),
            },
        }
    }
    let mut builder = corio::Builder::new().thread_name("echo-worker");
    if let Some(n) = workers {
        builder = builder.worker_threads(n);
    }
    let rt = builder.build().unwrap_or_else(|e| {
        eprintln!("echo_server: cannot start the runtime: {e}");
        std::process::exit(1);
    });
    let result = rt.block_on(async {
        let server = serve(mode, &addr).await?;
        for a in server.local_addrs() {
            println!("listening on {a} ({mode:?})");
        }
        match duration {
            Some(d) => {
                let _ = corio::timeout(d, server.serve_forever()).await;
                server.close();
            }
            None => server.serve_forever().await,
        }
        io::Result::Ok(())
    });
    if let Err(e) = result {
        eprintln!("echo_server: cannot listen on {addr}: {e}");
        std::process::exit(1);
    }
}
