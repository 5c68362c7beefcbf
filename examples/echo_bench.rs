//! Echo and HTTP load bench: corio's streams and protocols against tokio and a
//! runtime-free ceiling, each server in its own process.
//!
//! ```text
//! cargo run --release --example echo_bench                       # full echo matrix
//! cargo run --release --example echo_bench -- --duration 2 --warmup 0.5 \
//!     --kinds ceiling,tokio --conns 100 --sizes 64
//! cargo run --release --example echo_bench -- --http             # HTTP hello world
//! cargo run --release --example echo_bench -- --help
//! ```
//!
//! # Echo mode (the default)
//!
//! For every server kind, connection count and message size it starts a
//! fresh server in a child process (this same binary re-executed with
//! `--serve KIND --addr 127.0.0.1:0`), opens the connections from the parent
//! and runs a closed loop on each: send one message, wait for its full echo,
//! repeat. After `--warmup` seconds (default 1) it counts round trips for
//! `--duration` seconds (default 5) and reads the server's CPU time
//! (user + system, all its threads, from `/proc/<pid>/stat`: the kernel's
//! rusage figures) at both ends of that window, so start-up, connecting and
//! warm-up are not charged to the server.
//!
//! Server kinds (all with two worker threads, `TCP_NODELAY` on every socket):
//!
//! * `ceiling`: no runtime at all. One `mio` loop per thread, each with its
//!   own `SO_REUSEPORT` listener on the same port, reading into a buffer and
//!   writing it straight back (a per-connection pending buffer holds what a
//!   short write left over, and reading pauses until it is flushed).
//! * `tokio`: tokio's multi-thread runtime, `accept` + `spawn` per
//!   connection, `BufReader::fill_buf` + `write_all` + `consume`.
//! * `corio-streams`: `examples/echo_server.rs --mode streams`:
//!   `start_server` with `reader.read(n)`, `writer.write`, `drain().await`.
//! * `corio-protocol`: `examples/echo_server.rs --mode protocol`:
//!   `EventLoop::create_server` with a `Protocol` whose `data_received`
//!   calls `transport.write`.
//!
//! The load generator is the same for every kind: two plain `mio` threads in
//! the parent, each driving half of the connections. Client and server share
//! the machine's cores, so a server that needs less CPU leaves more to the
//! client; round trips per second therefore measure the pair, and CPU time
//! per round trip is the server's own cost.
//!
//! At the end it prints one row per (kind, connections, size): round trips
//! per second, that as a fraction of the ceiling's, server CPU microseconds
//! per round trip, and both as ratios to tokio's (throughput ratio above 1
//! and CPU ratio below 1 favour the kind); then corio's targets, each marked
//! met or missed: protocols at ≥ 0.99 of the ceiling's round trips/s and
//! ≤ 0.7 × tokio's CPU per round trip, streams at ≥ tokio's round trips/s
//! and ≤ 0.9 × tokio's CPU per round trip.
//!
//! # HTTP mode (`--http`)
//!
//! Hello-world requests per second of `examples/http_server.rs` (corio
//! protocols) against a minimal tokio HTTP/1.1 server of this file (`--serve
//! tokio-http`: keep-alive and pipelining, `http_server.rs`'s own parser run
//! in place on the read buffer, the same responses byte for byte, all
//! answers to one read in one write). Each connection sends `GET / HTTP/1.1` and waits
//! for the whole response before the next (its length is learnt from the
//! first response's `Content-Length`). `benches/http_wrk.sh` runs the same
//! comparison with `wrk` when it is installed. The `http_server` example
//! must be built (`cargo build --release --examples`); `--http-server PATH`
//! overrides where it is looked for.

#[allow(dead_code)]
#[path = "echo_server.rs"]
mod echo_server;
#[allow(dead_code)]
#[path = "http_server.rs"]
mod http_server;

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: echo_bench [--duration SECS] [--warmup SECS] [--kinds K,K..] [--conns N,N..] [--sizes B,B..]
       echo_bench --http [--duration SECS] [--warmup SECS] [--conns N,N..] [--http-server PATH]
       echo_bench --serve KIND --addr HOST:PORT [--no-stdin]
                    child mode: one server (KIND: ceiling, tokio, tokio-http,
                    corio-streams, corio-protocol); prints `listening on ADDR`
                    and exits when its stdin closes (never with --no-stdin)

  --duration SECS   measured time per run (default 5)
  --warmup SECS     unmeasured time before it (default 1)
  --kinds LIST      server kinds (default ceiling,tokio,corio-streams,corio-protocol)
  --conns LIST      connection counts (default 100,1000; --http: 100)
  --sizes LIST      message sizes in bytes (default 64,1024)
  --http            HTTP hello world: examples/http_server.rs against tokio
  --http-server P   the corio HTTP server binary (default: next to this one)";

/// Server kinds of the echo mode, in the order the table shows them.
const ECHO_KINDS: [&str; 4] = ["ceiling", "tokio", "corio-streams", "corio-protocol"];
/// Worker threads of every server (one per core of the 2-core bench box).
const SERVER_THREADS: usize = 2;
/// Threads of the load generator.
const CLIENT_THREADS: usize = 2;
/// Listen backlog of the servers this file starts.
const BACKLOG: i32 = 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if let Some(kind) = flag(&args, "--serve") {
        let addr = flag(&args, "--addr").unwrap_or_else(|| "127.0.0.1:0".into());
        serve(&kind, &addr, !args.iter().any(|a| a == "--no-stdin"))
    } else {
        parent(&args)
    };
    if let Err(e) = result {
        eprintln!("echo_bench: {e}");
        std::process::exit(1);
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn bad_arg(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{msg}\n\n{USAGE}"))
}

fn list<T: std::str::FromStr>(args: &[String], name: &str, default: &str) -> io::Result<Vec<T>> {
    let text = flag(args, name).unwrap_or_else(|| default.to_string());
    text.split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| bad_arg(format!("{name}: cannot parse {s:?}")))
        })
        .collect()
}

fn secs(args: &[String], name: &str, default: f64) -> io::Result<Duration> {
    let value = match flag(args, name) {
        None => default,
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| bad_arg(format!("{name} wants seconds, got {s:?}")))?,
    };
    Ok(Duration::from_secs_f64(value))
}

// ---------------------------------------------------------------------------
// Parent: runs the matrix and prints the table
// ---------------------------------------------------------------------------

/// One measured run.
struct Figures {
    round_trips: u64,
    elapsed: Duration,
    server_cpu: Duration,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.round_trips as f64 / self.elapsed.as_secs_f64()
    }

    /// Server CPU microseconds per round trip.
    fn cpu_per_rt(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.round_trips.max(1) as f64
    }
}

fn parent(args: &[String]) -> io::Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let known = [
        "--duration",
        "--warmup",
        "--kinds",
        "--conns",
        "--sizes",
        "--http",
        "--http-server",
    ];
    let mut i = 0;
    while i < args.len() {
        if !known.contains(&args[i].as_str()) && args[i] != "--bench" {
            return Err(bad_arg(format!("unknown argument {:?}", args[i])));
        }
        // Every flag but --http (and cargo's --bench) takes a value.
        i += if args[i] == "--http" || args[i] == "--bench" {
            1
        } else {
            2
        };
    }
    let duration = secs(args, "--duration", 5.0)?;
    let warmup = secs(args, "--warmup", 1.0)?;
    if duration.is_zero() {
        return Err(bad_arg("--duration must be above 0".into()));
    }
    if args.iter().any(|a| a == "--http") {
        return http_parent(args, warmup, duration);
    }
    let kinds: Vec<String> = list(args, "--kinds", &ECHO_KINDS.join(","))?;
    for k in &kinds {
        if !ECHO_KINDS.contains(&k.as_str()) {
            return Err(bad_arg(format!("unknown kind {k:?}")));
        }
    }
    let conns: Vec<usize> = list(args, "--conns", "100,1000")?;
    let sizes: Vec<usize> = list(args, "--sizes", "64,1024")?;
    if conns.contains(&0) || sizes.contains(&0) {
        return Err(bad_arg(
            "connection counts and sizes must be above 0".into(),
        ));
    }

    let exe = std::env::current_exe()?;
    let mut results: BTreeMap<(usize, usize), Vec<(String, Figures)>> = BTreeMap::new();
    for &n in &conns {
        for &size in &sizes {
            for kind in &kinds {
                let mut cmd = Command::new(&exe);
                cmd.args(["--serve", kind, "--addr", "127.0.0.1:0"]);
                let workload = Workload::echo(size);
                let figures = run_one(cmd, &workload, n, warmup, duration).map_err(|e| {
                    io::Error::new(e.kind(), format!("{kind}, {n} conns, {size} B: {e}"))
                })?;
                println!(
                    "{kind:>15} {n:>5} conns {size:>5} B: {:>9.0} rt/s, {:.2} µs server CPU/rt",
                    figures.rate(),
                    figures.cpu_per_rt()
                );
                results
                    .entry((n, size))
                    .or_default()
                    .push((kind.clone(), figures));
            }
        }
    }
    print_echo_table(&results);
    print_targets(&results);
    Ok(())
}

/// The goals corio's two server styles are measured against, met or not.
fn print_targets(results: &BTreeMap<(usize, usize), Vec<(String, Figures)>>) {
    let mut lines = Vec::new();
    for ((n, size), runs) in results {
        let of = |name: &str| runs.iter().find(|(k, _)| k == name).map(|(_, f)| f);
        let (Some(tokio), ceiling) = (of("tokio"), of("ceiling")) else {
            continue;
        };
        let mark = |ok: bool| if ok { "met" } else { "MISSED" };
        if let Some(p) = of("corio-protocol") {
            if let Some(c) = ceiling {
                let r = p.rate() / c.rate();
                lines.push(format!(
                    "{n:>5} conns {size:>5} B  protocol rt/s ≥ 0.99 × ceiling: {r:.3} {}",
                    mark(r >= 0.99)
                ));
            }
            let r = p.cpu_per_rt() / tokio.cpu_per_rt();
            lines.push(format!(
                "{n:>5} conns {size:>5} B  protocol CPU/rt ≤ 0.7 × tokio: {r:.3} {}",
                mark(r <= 0.7)
            ));
        }
        if let Some(st) = of("corio-streams") {
            let r = st.rate() / tokio.rate();
            lines.push(format!(
                "{n:>5} conns {size:>5} B  streams rt/s ≥ tokio: {r:.3} {}",
                mark(r >= 1.0)
            ));
            let r = st.cpu_per_rt() / tokio.cpu_per_rt();
            lines.push(format!(
                "{n:>5} conns {size:>5} B  streams CPU/rt ≤ 0.9 × tokio: {r:.3} {}",
                mark(r <= 0.9)
            ));
        }
    }
    if !lines.is_empty() {
        println!();
        println!("targets:");
        for l in lines {
            println!("  {l}");
        }
    }
}

fn print_echo_table(results: &BTreeMap<(usize, usize), Vec<(String, Figures)>>) {
    println!();
    println!(
        "{:<15} {:>6} {:>6} {:>10} {:>9} {:>9} {:>11} {:>12}",
        "kind", "conns", "size", "rt/s", "/ceiling", "µs CPU/rt", "rt/s÷tokio", "CPU/rt÷tokio"
    );
    for ((n, size), runs) in results {
        let of = |name: &str| runs.iter().find(|(k, _)| k == name).map(|(_, f)| f);
        let ceiling = of("ceiling");
        let tokio = of("tokio");
        for (kind, f) in runs {
            let fmt_ratio = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.3}"));
            println!(
                "{:<15} {:>6} {:>6} {:>10.0} {:>9} {:>9.2} {:>11} {:>12}",
                kind,
                n,
                size,
                f.rate(),
                fmt_ratio(ceiling.map(|c| f.rate() / c.rate())),
                f.cpu_per_rt(),
                fmt_ratio(tokio.map(|t| f.rate() / t.rate())),
                fmt_ratio(tokio.map(|t| f.cpu_per_rt() / t.cpu_per_rt())),
            );
        }
    }
}

fn http_parent(args: &[String], warmup: Duration, duration: Duration) -> io::Result<()> {
    let conns: Vec<usize> = list(args, "--conns", "100")?;
    let exe = std::env::current_exe()?;
    let corio_server = match flag(args, "--http-server") {
        Some(p) => p.into(),
        None => exe.with_file_name("http_server"),
    };
    if !corio_server.exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} not found: build it with `cargo build --release --examples` or pass --http-server",
                corio_server.display()
            ),
        ));
    }
    let workload = Workload::http();
    let mut rows = Vec::new();
    for &n in &conns {
        let mut tokio_cmd = Command::new(&exe);
        tokio_cmd.args(["--serve", "tokio-http", "--addr", "127.0.0.1:0"]);
        let mut corio_cmd = Command::new(&corio_server);
        corio_cmd.args([
            "--addr",
            "127.0.0.1:0",
            "--workers",
            &SERVER_THREADS.to_string(),
        ]);
        for (name, cmd) in [("tokio-http", tokio_cmd), ("corio-http", corio_cmd)] {
            let f = run_one(cmd, &workload, n, warmup, duration)
                .map_err(|e| io::Error::new(e.kind(), format!("{name}, {n} conns: {e}")))?;
            println!(
                "{name:>10} {n:>5} conns: {:>9.0} req/s, {:.2} µs server CPU/req",
                f.rate(),
                f.cpu_per_rt()
            );
            rows.push((name, n, f));
        }
    }
    println!();
    println!(
        "{:<10} {:>6} {:>10} {:>10} {:>12} {:>13}",
        "server", "conns", "req/s", "µs CPU/req", "req/s÷tokio", "CPU/req÷tokio"
    );
    for (name, n, f) in &rows {
        let tokio = rows
            .iter()
            .find(|(k, m, _)| *k == "tokio-http" && m == n)
            .map(|(_, _, f)| f);
        println!(
            "{:<10} {:>6} {:>10.0} {:>10.2} {:>12} {:>13}",
            name,
            n,
            f.rate(),
            f.cpu_per_rt(),
            tokio.map_or("-".into(), |t| format!("{:.3}", f.rate() / t.rate())),
            tokio.map_or("-".into(), |t| format!(
                "{:.3}",
                f.cpu_per_rt() / t.cpu_per_rt()
            )),
        );
    }
    Ok(())
}

/// A server child: killed (and reaped) when dropped, whatever happened.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `cmd` and waits for the `listening on ADDR` line every server
    /// of this bench prints once bound.
    fn start(mut cmd: Command) -> io::Result<ServerProcess> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.strip_prefix("listening on ") {
                        // The address may have a scheme before it and more
                        // words after it.
                        let word = rest.split_whitespace().next().unwrap_or("");
                        let word = word.strip_prefix("http://").unwrap_or(word);
                        match word.parse::<SocketAddr>() {
                            Ok(a) => break a,
                            Err(_) => {
                                let _ = child.kill();
                                let _ = child.wait();
                                return Err(io::Error::other(format!(
                                    "server printed an unparsable address: {line:?}"
                                )));
                            }
                        }
                    }
                }
                _ => {
                    let _ = child.kill();
                    let status = child.wait()?;
                    return Err(io::Error::other(format!(
                        "server exited ({status}) before printing `listening on ADDR`"
                    )));
                }
            }
        };
        // Keep draining its stdout so that a chatty server never blocks.
        thread::spawn(move || for _ in lines {});
        Ok(ServerProcess { child, addr })
    }

    /// User + system CPU time of the whole process so far.
    fn cpu(&self) -> io::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name (which may hold spaces, hence the
        // last ')'): state is field 3, utime 14 and stime 15, in clock ticks.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .ok_or_else(|| io::Error::other("unexpected /proc/<pid>/stat format"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| -> io::Result<u64> {
            fields
                .get(i)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| io::Error::other("unexpected /proc/<pid>/stat format"))
        };
        let total = ticks(11)? + ticks(12)?;
        // SAFETY: sysconf only reads a configuration value.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_nanos(total * 1_000_000_000 / hz))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What each connection sends per round trip and how many bytes the answer
/// has.
struct Workload {
    request: Vec<u8>,
    /// Bytes per answer; `None`: learn it from the first HTTP response.
    answer: Option<usize>,
}

impl Workload {
    fn echo(size: usize) -> Workload {
        Workload {
            request: (0..size).map(|i| b'a' + (i % 26) as u8).collect(),
            answer: Some(size),
        }
    }

    fn http() -> Workload {
        Workload {
            request: b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
            answer: None,
        }
    }
}

fn run_one(
    cmd: Command,
    workload: &Workload,
    conns: usize,
    warmup: Duration,
    duration: Duration,
) -> io::Result<Figures> {
    let server = ServerProcess::start(cmd)?;
    let mut streams = Vec::with_capacity(conns);
    let mut answer = workload.answer;
    for _ in 0..conns {
        let s = std::net::TcpStream::connect(server.addr)?;
        s.set_nodelay(true)?;
        if answer.is_none() {
            answer = Some(first_http_response(&s, &workload.request)?);
        }
        s.set_nonblocking(true)?;
        streams.push(s);
    }
    let answer = answer.expect("set above");

    let stop = Arc::new(AtomicBool::new(false));
    let counters: Vec<Arc<AtomicU64>> = (0..CLIENT_THREADS)
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();
    let mut shares: Vec<Vec<std::net::TcpStream>> =
        (0..CLIENT_THREADS).map(|_| Vec::new()).collect();
    for (i, s) in streams.into_iter().enumerate() {
        shares[i % CLIENT_THREADS].push(s);
    }
    let request: Arc<[u8]> = workload.request.clone().into();
    let threads: Vec<_> = shares
        .into_iter()
        .zip(&counters)
        .map(|(share, counter)| {
            let (stop, counter, request) = (stop.clone(), counter.clone(), request.clone());
            thread::spawn(move || client_loop(share, &request, answer, &counter, &stop))
        })
        .collect();
    let total = || {
        counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum::<u64>()
    };

    thread::sleep(warmup);
    let (rt0, cpu0, t0) = (total(), server.cpu()?, Instant::now());
    thread::sleep(duration);
    let (rt1, cpu1, t1) = (total(), server.cpu()?, Instant::now());
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("client thread panicked")?;
    }
    drop(server);
    if rt1 == rt0 {
        return Err(io::Error::other(
            "no round trip completed in the measured window",
        ));
    }
    Ok(Figures {
        round_trips: rt1 - rt0,
        elapsed: t1 - t0,
        server_cpu: cpu1.saturating_sub(cpu0),
    })
}

/// Sends `request` on a blocking stream and reads one HTTP response in full;
/// returns its length in bytes (head + `Content-Length` body).
fn first_http_response(mut s: &std::net::TcpStream, request: &[u8]) -> io::Result<usize> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request)?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let body: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| io::Error::other("HTTP response without Content-Length"))?;
            let len = end + 4 + body;
            while got.len() < len {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                got.extend_from_slice(&buf[..n]);
            }
            if got.len() > len {
                return Err(io::Error::other("more bytes than one HTTP response"));
            }
            s.set_read_timeout(None)?;
            return Ok(len);
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed before a full HTTP response",
            ));
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// One client connection of the closed loop.
struct ClientConn {
    stream: mio::net::TcpStream,
    written: usize,
    read: usize,
}

/// Drives `streams` until `stop`: each sends `request`, waits for `answer`
/// bytes back, and sends again. Completed round trips are added to `count`.
fn client_loop(
    streams: Vec<std::net::TcpStream>,
    request: &[u8],
    answer: usize,
    count: &AtomicU64,
    stop: &AtomicBool,
) -> io::Result<()> {
    use mio::{Events, Interest, Poll, Token};
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(streams.len());
    for (i, s) in streams.into_iter().enumerate() {
        let mut stream = mio::net::TcpStream::from_std(s);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(ClientConn {
            stream,
            written: 0,
            read: 0,
        });
    }
    let send = |c: &mut ClientConn| -> io::Result<()> {
        while c.written < request.len() {
            match c.stream.write(&request[c.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => c.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    for c in &mut conns {
        send(c)?;
    }
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match poll.poll(&mut events, Some(Duration::from_millis(50))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let mut done = 0;
        for ev in &events {
            let c = &mut conns[ev.token().0];
            if ev.is_writable() {
                send(c)?;
            }
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the server closed a connection",
                        ))
                    }
                    Ok(n) => {
                        c.read += n;
                        if c.read > answer {
                            return Err(io::Error::other("the server sent more than asked for"));
                        }
                        if c.read == answer {
                            done += 1;
                            c.read = 0;
                            c.written = 0;
                            send(c)?;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        count.fetch_add(done, Ordering::Relaxed);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Children: the servers
// ---------------------------------------------------------------------------

fn serve(kind: &str, addr: &str, watch_stdin: bool) -> io::Result<()> {
    // The parent closes our stdin when it is done (or dies): exit then, so
    // that no server outlives its bench. Scripts that kill the server
    // themselves pass `--no-stdin` instead.
    if watch_stdin {
        thread::spawn(|| {
            let _ = io::copy(&mut io::stdin(), &mut io::sink());
            std::process::exit(0);
        });
    }
    match kind {
        "ceiling" => serve_ceiling(addr),
        "tokio" => serve_tokio(addr, false),
        "tokio-http" => serve_tokio(addr, true),
        "corio-streams" => serve_corio(addr, echo_server::Mode::Streams),
        "corio-protocol" => serve_corio(addr, echo_server::Mode::Protocol),
        _ => Err(bad_arg(format!("unknown server kind {kind:?}"))),
    }
}

fn announce(addr: SocketAddr) {
    println!("listening on {addr}");
    let _ = io::stdout().flush();
}

fn serve_corio(addr: &str, mode: echo_server::Mode) -> io::Result<()> {
    let rt = corio::Builder::new()
        .worker_threads(SERVER_THREADS)
        .thread_name("echo-bench")
        .build()?;
    rt.block_on(async {
        let server = echo_server::serve(mode, addr).await?;
        announce(server.local_addrs()[0]);
        server.serve_forever().await;
        Ok(())
    })
}

fn serve_tokio(addr: &str, http: bool) -> io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SERVER_THREADS)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        announce(listener.local_addr()?);
        loop {
            let (mut socket, _) = listener.accept().await?;
            socket.set_nodelay(true)?;
            tokio::spawn(async move {
                let (rd, mut wr) = socket.split();
                let mut rd = tokio::io::BufReader::new(rd);
                let _ = if http {
                    tokio_http_conn(&mut rd, &mut wr).await
                } else {
                    async {
                        loop {
                            let buf = rd.fill_buf().await?;
                            if buf.is_empty() {
                                return Ok(());
                            }
                            let n = buf.len();
                            wr.write_all(buf).await?;
                            rd.consume(n);
                        }
                    }
                    .await
                };
            });
        }
    })
}

// The tokio side of the HTTP comparison: the same parser as
// examples/http_server.rs (`http_server::parse`, pure and allocation-free),
// the same responses byte for byte, and like it parsing in place in the read
// buffer and copying only a request cut across two reads.

const OK_KEEP_ALIVE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n";
const OK_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: close\r\n\r\nHello, world!\n";
const OK_KEEP_ALIVE_10: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: keep-alive\r\n\r\nHello, world!\n";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Keep-alive HTTP/1.1 on one connection: answers every complete request
/// of a read with one write; closes after `Connection: close` or a
/// malformed request (400).
async fn tokio_http_conn<R, W>(rd: &mut R, wr: &mut W) -> io::Result<()>
where
    R: tokio::io::AsyncBufRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use http_server::Parse;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    // A request cut across reads; empty most of the time.
    let mut partial = Vec::new();
    let mut out = Vec::new();
    loop {
        let buf = rd.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        let n = buf.len();
        let data: &[u8] = if partial.is_empty() {
            buf
        } else {
            partial.extend_from_slice(buf);
            &partial
        };
        let mut start = 0;
        let mut close = false;
        while start < data.len() {
            match http_server::parse(&data[start..]) {
                Parse::Request(head) => {
                    out.extend_from_slice(if !head.keep_alive {
                        OK_CLOSE
                    } else if head.http10 {
                        OK_KEEP_ALIVE_10
                    } else {
                        OK_KEEP_ALIVE
                    });
                    start += head.len;
                    if !head.keep_alive {
                        close = true;
                        break;
                    }
                }
                Parse::Partial => break,
                Parse::Invalid => {
                    out.extend_from_slice(BAD_REQUEST);
                    close = true;
                    break;
                }
            }
        }
        let rest = data[start..].to_vec();
        rd.consume(n);
        partial.clear();
        partial.extend_from_slice(&rest);
        if !out.is_empty() {
            wr.write_all(&out).await?;
            out.clear();
        }
        if close {
            return wr.shutdown().await;
        }
    }
}

// The ceiling: no runtime, one mio loop per thread with SO_REUSEPORT.

fn serve_ceiling(addr: &str) -> io::Result<()> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| bad_arg(format!("ceiling wants an IP:port address, got {addr:?}")))?;
    let first = reuseport_listener(addr)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..SERVER_THREADS {
        listeners.push(reuseport_listener(addr)?);
    }
    announce(addr);
    let threads: Vec<_> = listeners
        .into_iter()
        .map(|l| thread::spawn(move || ceiling_loop(l)))
        .collect();
    for t in threads {
        t.join().expect("ceiling thread panicked")?;
    }
    Ok(())
}

/// A non-blocking listener with `SO_REUSEADDR` and `SO_REUSEPORT` set before
/// `bind`, so that every thread can have its own on the same port (the
/// kernel spreads connections over them).
fn reuseport_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    for opt in [libc::SO_REUSEADDR, libc::SO_REUSEPORT] {
        // SAFETY: `one` is a live c_int and the length passed is its size.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: sockaddr_storage is plain old data for which all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any
            // sockaddr, sockaddr_in included.
            let sin = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
    let rc = unsafe {
        libc::bind(
            fd,
            &storage as *const _ as *const libc::sockaddr,
            len as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: plain listen(2) on the descriptor we own.
    if unsafe { libc::listen(fd, BACKLOG) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(std::net::TcpListener::from(owned))
}

/// One server connection of the ceiling.
struct CeilingConn {
    stream: mio::net::TcpStream,
    /// What a short write left over; reading waits until it is flushed.
    pending: Vec<u8>,
}

fn ceiling_loop(listener: std::net::TcpListener) -> io::Result<()> {
    use mio::{Events, Interest, Poll, Token};
    const LISTENER: Token = Token(usize::MAX);
    let mut poll = Poll::new()?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns: Vec<Option<CeilingConn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for ev in &events {
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            stream.set_nodelay(true)?;
                            let i = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry().register(
                                &mut stream,
                                Token(i),
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            conns[i] = Some(CeilingConn {
                                stream,
                                pending: Vec::new(),
                            });
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let i = ev.token().0;
            let Some(conn) = conns[i].as_mut() else {
                continue;
            };
            // A connection that fails or ends is simply closed.
            if !matches!(ceiling_echo(conn, &mut buf), Ok(true)) {
                let mut conn = conns[i].take().expect("checked above");
                let _ = poll.registry().deregister(&mut conn.stream);
                free.push(i);
            }
        }
    }
}

/// Flushes what is pending, then echoes until reading would block (or a
/// write falls short). `Ok(false)` at end of stream.
fn ceiling_echo(conn: &mut CeilingConn, buf: &mut [u8]) -> io::Result<bool> {
    if !conn.pending.is_empty() {
        let mut off = 0;
        let flushed = write_some(&mut conn.stream, &conn.pending, &mut off);
        conn.pending.drain(..off);
        flushed?;
        if !conn.pending.is_empty() {
            return Ok(true);
        }
    }
    loop {
        let n = match conn.stream.read(buf) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut off = 0;
        write_some(&mut conn.stream, &buf[..n], &mut off)?;
        if off < n {
            conn.pending.extend_from_slice(&buf[off..n]);
            // Stop reading: the writable edge brings us back here.
            return Ok(true);
        }
    }
}

/// Writes `data[*off..]` until done or the socket would block; `*off`
/// advances past what was written.
fn write_some(stream: &mut mio::net::TcpStream, data: &[u8], off: &mut usize) -> io::Result<()> {
    while *off < data.len() {
        match stream.write(&data[*off..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *off += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
