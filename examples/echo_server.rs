//! A TCP echo server: one corio task per connection.
//!
//! ```text
//! cargo run --release --example echo_server                          # 127.0.0.1:7000
//! cargo run --release --example echo_server -- --addr 0.0.0.0:9000
//! cargo run --release --example echo_server -- --addr 127.0.0.1:0 --duration 5
//! ```
//!
//! Prints `listening on <address>` once bound (port 0 picks a free port, and
//! the line shows which), then echoes every byte each client sends until the
//! client closes its side. A failing connection is logged to stderr and
//! closed; the server carries on. It runs until killed, or for `--duration`
//! seconds if given, and then prints how many connections and bytes it
//! served.
//!
//! Try it with `nc 127.0.0.1 7000`, or from Python:
//!
//! ```text
//! python3 -c 'import socket; s = socket.create_connection(("127.0.0.1", 7000)); s.sendall(b"hi\n"); print(s.recv(100))'
//! ```

use corio::net::{TcpListener, TcpStream};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "\
usage: echo_server [--addr HOST:PORT] [--duration SECS] [--workers N]

  --addr HOST:PORT  address to listen on (default 127.0.0.1:7000; port 0 picks one)
  --duration SECS   stop after this many seconds (default: run until killed)
  --workers N       corio worker threads (default: one per core)
  --help            print this and exit";

struct Config {
    addr: String,
    duration: Option<Duration>,
    workers: Option<usize>,
}

fn parse_args() -> Config {
    let mut config = Config {
        addr: "127.0.0.1:7000".to_string(),
        duration: None,
        workers: None,
    };
    let usage_error = |msg: String| -> ! {
        eprintln!("echo_server: {msg}\n\n{USAGE}");
        std::process::exit(2);
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        if !["--addr", "--duration", "--workers"].contains(&flag.as_str()) {
            usage_error(format!("unknown argument {flag:?}"));
        }
        let Some(value) = inline.or_else(|| args.next()) else {
            usage_error(format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--addr" => config.addr = value,
            "--duration" => match value.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => {
                    config.duration = Some(Duration::from_secs_f64(s))
                }
                _ => usage_error(format!("--duration wants seconds, got {value:?}")),
            },
            "--workers" => match value.parse::<usize>() {
                Ok(n) if n > 0 => config.workers = Some(n),
                _ => usage_error(format!("--workers wants a positive integer, got {value:?}")),
            },
            _ => usage_error(format!("unknown argument {flag:?}")),
        }
    }
    config
}

/// What the server has done, for the summary at exit.
#[derive(Default)]
struct Stats {
    connections: AtomicU64,
    open: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
}

fn main() {
    let config = parse_args();
    let mut builder = corio::Builder::new().thread_name("echo-worker");
    if let Some(n) = config.workers {
        builder = builder.worker_threads(n);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("echo_server: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let stats = Arc::new(Stats::default());

    let served: io::Result<()> = rt.block_on(async {
        let listener = TcpListener::bind(config.addr.as_str()).await?;
        let addr = listener.local_addr()?;
        println!("listening on {addr}");
        match config.duration {
            Some(d) => {
                // Dropping the accept loop at the deadline closes the
                // listener; connections still open are cancelled when the
                // runtime is dropped below.
                let _ = corio::timeout(d, accept_loop(listener, stats.clone())).await;
                Ok(())
            }
            None => {
                accept_loop(listener, stats.clone()).await;
                Ok(())
            }
        }
    });
    if let Err(e) = served {
        eprintln!("echo_server: cannot listen on {}: {e}", config.addr);
        std::process::exit(1);
    }
    // Cancels the connections still open and joins the workers.
    drop(rt);
    println!(
        "served {} connection{} ({} still open at exit), echoed {} bytes, {} connection error{}",
        stats.connections.load(Ordering::Relaxed),
        if stats.connections.load(Ordering::Relaxed) == 1 {
            ""
        } else {
            "s"
        },
        stats.open.load(Ordering::Relaxed),
        stats.bytes.load(Ordering::Relaxed),
        stats.errors.load(Ordering::Relaxed),
        if stats.errors.load(Ordering::Relaxed) == 1 {
            ""
        } else {
            "s"
        },
    );
}

/// Accepts forever, one task per connection.
async fn accept_loop(listener: TcpListener, stats: Arc<Stats>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                stats.connections.fetch_add(1, Ordering::Relaxed);
                stats.open.fetch_add(1, Ordering::Relaxed);
                let stats = stats.clone();
                corio::spawn(async move {
                    if let Err(e) = echo(&stream, &stats).await {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("echo_server: connection from {peer}: {e}");
                    }
                    stats.open.fetch_sub(1, Ordering::Relaxed);
                });
            }
            // `accept` itself waits out a shortage of descriptors; other
            // errors (a connection reset before it was accepted, ...) concern
            // one connection only. Pause briefly so that a persistent error
            // cannot turn this loop into a busy one.
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("echo_server: accept: {e}");
                corio::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Echoes until the peer closes its side (or an error).
async fn echo(stream: &TcpStream, stats: &Stats) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
        stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}
