//! c10k: ten thousand TCP connections in one process, all corio tasks.
//!
//! ```text
//! cargo run --release --example c10k
//! cargo run --release --example c10k -- --connections 1000 --duration 3
//! cargo run --release --example c10k -- --help
//! ```
//!
//! One corio runtime (one worker per core unless `--workers`) runs both ends:
//!
//! 1. an echo server on 127.0.0.1 (port 0): one accept loop, one task per
//!    connection, echoing whatever it reads;
//! 2. N clients (default 10 000), connected with at most half the listen
//!    backlog (1024, raised from the default 128) started but not yet
//!    accepted by the server at any time, so that the backlog never
//!    overflows into SYN retransmits (which would show up as connect
//!    latencies of a second or more);
//! 3. for D seconds (default 10), every client loops: write an M-byte message
//!    (default 64), read it back in full, check it, record the round-trip time.
//!    One progress line per second.
//!
//! At the end it prints the connections still held, round trips and their
//! rate, p50/p99 latency from a log-bucketed histogram (about 3% resolution),
//! resident memory per connection, CPU time, and the per-worker counters of
//! `Handle::metrics`. Clients and server share the same cores, so every
//! round trip costs both ends' work: the rates are those of one machine
//! talking to itself over loopback.
//!
//! Each client writes its whole message before reading the echo, so a
//! `--size` beyond what the two sockets' buffers hold (several MiB on
//! loopback) would stall; the defaults are far below that.
//!
//! Each connection costs two file descriptors (client and server side). The
//! soft `RLIMIT_NOFILE` is raised towards the hard limit as far as needed; if
//! the hard limit is too low for N, N is capped and the output says so.
//!
//! Only corio, `std` and `libc` are used.

use corio::net::{TcpListener, TcpStream};
use corio::runtime::RuntimeMetrics;
use corio::Task;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The listen backlog `TcpListener::bind` asks for: how many handshaken
/// connections the kernel queues for `accept` (capped by
/// `net.core.somaxconn`). Used to pace the connects below.
const LISTEN_BACKLOG: i32 = 1024;
/// Descriptors kept free beyond those already open and the two per
/// connection (reading `/proc`, anything the runtime opens later).
const FD_SLACK: u64 = 32;
/// How long to wait for a stage that should take milliseconds before calling
/// it stuck.
const STAGE_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

struct Config {
    connections: usize,
    size: usize,
    duration: u64,
    workers: Option<usize>,
}

const USAGE: &str = "\
usage: c10k [--connections N] [--size BYTES] [--duration SECS] [--workers N]

  --connections N   client connections to open (default 10000)
  --size BYTES      bytes per echoed message (default 64)
  --duration SECS   how long the clients run their echo loop (default 10)
  --workers N       corio worker threads (default: one per core)
  --help            print this and exit";

fn parse_args() -> Config {
    let mut config = Config {
        connections: 10_000,
        size: 64,
        duration: 10,
        workers: None,
    };
    let usage_error = |msg: String| -> ! {
        eprintln!("c10k: {msg}\n\n{USAGE}");
        std::process::exit(2);
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        if !["--connections", "--size", "--duration", "--workers"].contains(&flag.as_str()) {
            usage_error(format!("unknown argument {flag:?}"));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => usage_error(format!("{flag} needs a value")),
        };
        let number = match value.parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => usage_error(format!("{flag} wants a positive integer, got {value:?}")),
        };
        match flag.as_str() {
            "--connections" => config.connections = number as usize,
            "--size" => config.size = number as usize,
            "--duration" => config.duration = number,
            "--workers" => config.workers = Some(number as usize),
            _ => usage_error(format!("unknown argument {flag:?}")),
        }
    }
    config
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

/// Counters shared by the server, the clients and the reporting loop.
#[derive(Default)]
struct Shared {
    /// Connections the server has accepted.
    accepted: AtomicUsize,
    /// Server tasks still serving a connection.
    server_live: AtomicUsize,
    /// Server-side errors (accept or per connection).
    server_errors: AtomicUsize,
    /// Client connects that failed.
    connect_failed: AtomicUsize,
    /// Client tasks still looping with a healthy connection.
    clients_live: AtomicUsize,
    /// Client round trips that failed (I/O error or wrong bytes back).
    client_errors: AtomicUsize,
    /// The first error of each side, to show what went wrong.
    first_error: Mutex<Vec<String>>,
    /// Cleared to stop the clients.
    running: AtomicBool,
}

impl Shared {
    fn note_error(&self, what: String) {
        let mut errors = self.first_error.lock().unwrap();
        if errors.len() < 5 {
            errors.push(what);
        }
    }
}

fn main() {
    let config = parse_args();
    let mut builder = corio::Builder::new().thread_name("c10k-worker");
    if let Some(n) = config.workers {
        builder = builder.worker_threads(n);
    }
    let rt = builder
        .build()
        .unwrap_or_else(|e| fail("starting the runtime", e));
    let workers = rt.handle().metrics().num_workers();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "corio c10k: echo server and clients in one process, {workers} worker{} on {cores} core{}",
        plural(workers),
        plural(cores)
    );

    let shared = Arc::new(Shared::default());
    let listener = rt
        .block_on(async { TcpListener::bind("127.0.0.1:0").await })
        .unwrap_or_else(|e| fail("binding the echo server", e));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| fail("reading the server address", e));

    let n = plan_connections(config.connections);
    println!(
        "  {} connections, {} B messages, {} s echo loop; server at {addr}",
        thousands(n as u64),
        thousands(config.size as u64),
        config.duration
    );

    // The accept loop runs on a worker; each connection gets its own task.
    let server_buf = config.size.min(16 * 1024);
    rt.spawn(accept_loop(listener, server_buf, shared.clone()));

    let rss_before = read_status_kib("VmRSS:");

    // ---- 1. connect --------------------------------------------------------
    // At most `window` connections may be started but not yet accepted by
    // the server: half the effective listen backlog, so it never overflows.
    let backlog = somaxconn().map_or(LISTEN_BACKLOG as usize, |m| m.min(LISTEN_BACKLOG as usize));
    let window = (backlog / 2).max(1);
    println!(
        "\n[1] connecting {} clients (listen backlog {backlog}; at most {window} connects not yet accepted at a time)",
        thousands(n as u64)
    );
    let connect_hist = Arc::new(Histogram::new());
    let start = Instant::now();
    let streams = rt.block_on(open_connections(addr, n, window, &shared, &connect_hist));
    let connect_time = start.elapsed();
    let c = connect_hist.snapshot();
    println!(
        "    {} established in {} ({}/s); connect latency p50 {}  p99 {}  max {}",
        thousands(streams.len() as u64),
        fmt_secs(connect_time),
        thousands(rate(streams.len() as u64, connect_time)),
        fmt_ns(c.quantile(0.50)),
        fmt_ns(c.quantile(0.99)),
        fmt_ns(c.max()),
    );
    if c.max() >= 900_000_000 {
        println!(
            "    (a connect of ~1 s or more is a SYN retransmit: the listen backlog overflowed)"
        );
    }
    let failed = shared.connect_failed.load(Ordering::Relaxed);
    if failed > 0 {
        println!("    {} connects FAILED", thousands(failed as u64));
    }
    let accepted = rt.block_on(wait_until(STAGE_TIMEOUT, || {
        shared.accepted.load(Ordering::Relaxed) >= streams.len()
    }));
    println!(
        "    server accepted {}{}",
        thousands(shared.accepted.load(Ordering::Relaxed) as u64),
        if accepted {
            String::new()
        } else {
            format!(" (still short after {} s)", STAGE_TIMEOUT.as_secs())
        }
    );
    if streams.is_empty() {
        print_errors(&shared);
        fail(
            "connecting",
            io::Error::other("no connection could be opened"),
        );
    }

    // ---- 2. echo loop --------------------------------------------------------
    let held = streams.len();
    println!(
        "\n[2] echo loop: each client writes {} B, reads it back, repeats; {} s",
        config.size, config.duration
    );
    println!(
        "    {:>6} {:>8} {:>10} {:>12} {:>10} {:>10}",
        "time", "conns", "rt/s", "total rt", "p50", "p99"
    );
    let hist = Arc::new(Histogram::new());
    shared.running.store(true, Ordering::SeqCst);
    shared.clients_live.store(held, Ordering::SeqCst);
    let cpu_before = cpu_time();
    let run_start = Instant::now();
    let clients: Vec<Task<()>> = streams
        .into_iter()
        .enumerate()
        .map(|(id, stream)| {
            rt.spawn(client(
                stream,
                id,
                config.size,
                shared.clone(),
                hist.clone(),
            ))
        })
        .collect();
    let rss_after = rt.block_on(progress(&config, run_start, &shared, &hist));
    let run_time = run_start.elapsed();
    // Round trips that finish while the clients stop are not counted.
    let h = hist.snapshot();
    let cpu_used = cpu_time().saturating_sub(cpu_before);
    let peak_rss = read_status_kib("VmHWM:");
    let kernel_tcp = kernel_tcp_pages();

    // ---- stop ----------------------------------------------------------------
    let stop_start = Instant::now();
    shared.running.store(false, Ordering::SeqCst);
    let stopped = rt.block_on(async {
        corio::timeout(STAGE_TIMEOUT, async {
            for task in clients {
                let _ = task.await;
            }
        })
        .await
        .is_ok()
    });
    let clients_stop_time = stop_start.elapsed();
    let servers_done = rt.block_on(wait_until(STAGE_TIMEOUT, || {
        shared.server_live.load(Ordering::Relaxed) == 0
    }));
    let servers_stop_time = stop_start.elapsed();
    let metrics = rt.handle().metrics();

    // ---- 3. results ----------------------------------------------------------
    let total = h.count();
    let still_held = shared.clients_live.load(Ordering::Relaxed);
    println!("\n[3] results");
    println!(
        "    connections held   {} of {} requested{}",
        thousands(still_held as u64),
        thousands(config.connections as u64),
        if still_held == held {
            String::new()
        } else {
            format!(
                " ({} lost during the run)",
                thousands((held - still_held) as u64)
            )
        }
    );
    println!(
        "    round trips        {} in {} = {}/s ({}/s per connection)",
        thousands(total),
        fmt_secs(run_time),
        thousands(rate(total, run_time)),
        fmt_float(total as f64 / run_time.as_secs_f64() / held as f64)
    );
    println!(
        "    latency            p50 {}   p99 {}   p99.9 {}   max {}",
        fmt_ns(h.quantile(0.50)),
        fmt_ns(h.quantile(0.99)),
        fmt_ns(h.quantile(0.999)),
        fmt_ns(h.max())
    );
    println!(
        "                       (closed loop, one message in flight per connection: \
         latency ~ connections / rate)"
    );
    println!(
        "    connect phase      {} for {} connections",
        fmt_secs(connect_time),
        thousands(held as u64)
    );
    println!(
        "    CPU                {} of CPU time in {} of echo loop: {} cores busy",
        fmt_secs(cpu_used),
        fmt_secs(run_time),
        fmt_float(cpu_used.as_secs_f64() / run_time.as_secs_f64())
    );
    match (rss_before, rss_after) {
        (Some(before), Some(after)) => {
            let per_conn = after.saturating_sub(before) as f64 * 1024.0 / held as f64;
            println!(
                "    memory (RSS)       {} before connecting, {} with {} connections \
                 (peak {}): {} per connection, client and server side",
                fmt_kib(before),
                fmt_kib(after),
                thousands(held as u64),
                peak_rss.map_or("?".into(), fmt_kib),
                fmt_bytes(per_conn),
            );
        }
        _ => println!("    memory (RSS)       unavailable (no /proc/self/status)"),
    }
    if let Some(pages) = kernel_tcp {
        println!(
            "    kernel TCP buffers {} (whole system, /proc/net/sockstat; not part of RSS)",
            fmt_kib(pages * page_size() / 1024)
        );
    }
    let server_errors = shared.server_errors.load(Ordering::Relaxed);
    let client_errors = shared.client_errors.load(Ordering::Relaxed);
    println!(
        "    errors             {} client, {} server, {} connect",
        client_errors, server_errors, failed
    );
    print_errors(&shared);

    // ---- 4. runtime counters ---------------------------------------------------
    print_metrics(&metrics, total);

    // ---- 5. shutdown -------------------------------------------------------------
    let drop_start = Instant::now();
    drop(rt);
    println!(
        "\n[5] shutdown: clients stopped in {}{}, server tasks saw EOF after {}{}, runtime dropped in {}",
        fmt_ms(clients_stop_time),
        if stopped { "" } else { " (TIMED OUT, some never stopped)" },
        fmt_ms(servers_stop_time),
        if servers_done { "" } else { " (TIMED OUT, some still open)" },
        fmt_ms(drop_start.elapsed())
    );
}

// ---------------------------------------------------------------------------
// Descriptor limit
// ---------------------------------------------------------------------------

/// Raises the soft `RLIMIT_NOFILE` as far as `wanted` connections need (up to
/// the hard limit) and returns how many connections can be opened.
// `rlim_t` is `u64` on 64-bit Linux but not on every target.
#[allow(clippy::unnecessary_cast)]
fn plan_connections(wanted: usize) -> usize {
    let in_use = open_fds();
    let needed = in_use + 2 * wanted as u64 + FD_SLACK;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        fail("reading RLIMIT_NOFILE", io::Error::last_os_error());
    }
    let (soft, hard) = (lim.rlim_cur as u64, lim.rlim_max as u64);
    let target = needed.min(hard);
    if soft < target {
        lim.rlim_cur = target as libc::rlim_t;
        // SAFETY: `lim` is a valid rlimit with soft <= hard.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            fail("raising RLIMIT_NOFILE", io::Error::last_os_error());
        }
    }
    let now = soft.max(target);
    println!(
        "  file descriptors: {} needed ({} open + 2 per connection + {FD_SLACK} spare); \
         limit {}{} (hard {})",
        thousands(needed),
        in_use,
        thousands(now),
        if now > soft {
            format!(", raised from {}", thousands(soft))
        } else {
            String::new()
        },
        fmt_limit(hard)
    );
    let mut n = wanted;
    if needed > hard {
        n = (hard.saturating_sub(in_use + FD_SLACK) / 2) as usize;
        println!(
            "  NOTE: the hard limit on open files ({}) is too low for {} connections, which need \
             {} descriptors;\n        running {} connections instead. Raising the hard limit \
             needs root (CAP_SYS_RESOURCE), e.g. `ulimit -Hn {}` before running.",
            thousands(hard),
            thousands(wanted as u64),
            thousands(needed),
            thousands(n as u64),
            needed
        );
        if n == 0 {
            eprintln!("c10k: not enough file descriptors for even one connection");
            std::process::exit(1);
        }
    }
    // Every connection to the same server address needs its own ephemeral
    // port.
    if let Some(ports) = ephemeral_ports() {
        if n as u64 > ports {
            println!(
                "  NOTE: only {} ephemeral ports (net.ipv4.ip_local_port_range); running {} connections",
                thousands(ports),
                thousands(ports)
            );
            n = ports as usize;
        }
    }
    n
}

fn somaxconn() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?;
    text.trim().parse().ok()
}

fn open_fds() -> u64 {
    // The directory handle itself is one of the entries; count it anyway.
    std::fs::read_dir("/proc/self/fd").map_or(16, |d| d.count() as u64)
}

fn ephemeral_ports() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<u64>());
    let (lo, hi) = (it.next()?.ok()?, it.next()?.ok()?);
    Some(hi.saturating_sub(lo) + 1)
}

// `rlim_t` is `u64` on 64-bit Linux but not on every target.
#[allow(clippy::unnecessary_cast)]
fn fmt_limit(n: u64) -> String {
    if n == libc::RLIM_INFINITY as u64 {
        "unlimited".into()
    } else {
        thousands(n)
    }
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

async fn accept_loop(listener: TcpListener, buf_size: usize, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                shared.server_live.fetch_add(1, Ordering::Relaxed);
                shared.accepted.fetch_add(1, Ordering::Release);
                corio::spawn(serve(stream, buf_size, shared.clone()));
            }
            Err(e) => {
                // `accept` already waits out descriptor exhaustion; anything
                // else concerns one connection only.
                shared.server_errors.fetch_add(1, Ordering::Relaxed);
                shared.note_error(format!("server accept: {e}"));
            }
        }
    }
}

/// Echoes until the client closes its side.
async fn serve(stream: TcpStream, buf_size: usize, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; buf_size];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                server_error(&shared, "read", e);
                break;
            }
        };
        if let Err(e) = stream.write_all(&buf[..n]).await {
            server_error(&shared, "write", e);
            break;
        }
    }
    shared.server_live.fetch_sub(1, Ordering::Relaxed);
}

fn server_error(shared: &Shared, what: &str, e: io::Error) {
    // A client that stops while its last message is in flight may reset the
    // connection; that is not a server failure.
    if shared.running.load(Ordering::Relaxed) {
        shared.server_errors.fetch_add(1, Ordering::Relaxed);
        shared.note_error(format!("server {what}: {e}"));
    }
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

/// Opens `n` connections to `addr`, keeping at most `window` of them started
/// but not yet accepted, and returns the ones that succeeded.
async fn open_connections(
    addr: SocketAddr,
    n: usize,
    window: usize,
    shared: &Arc<Shared>,
    hist: &Arc<Histogram>,
) -> Vec<TcpStream> {
    let mut tasks: Vec<Task<Option<TcpStream>>> = Vec::with_capacity(n);
    let mut last_progress = (0, Instant::now());
    while tasks.len() < n {
        let settled =
            shared.accepted.load(Ordering::Acquire) + shared.connect_failed.load(Ordering::Acquire);
        if settled != last_progress.0 {
            last_progress = (settled, Instant::now());
        } else if last_progress.1.elapsed() > STAGE_TIMEOUT {
            println!(
                "    no connection accepted or failed for {} s: stopping at {} started, {} accepted",
                STAGE_TIMEOUT.as_secs(),
                thousands(tasks.len() as u64),
                thousands(shared.accepted.load(Ordering::Relaxed) as u64)
            );
            break;
        }
        let outstanding = tasks.len().saturating_sub(settled);
        if outstanding >= window {
            corio::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let batch = (window - outstanding).min(n - tasks.len());
        for _ in 0..batch {
            let (shared, hist) = (shared.clone(), hist.clone());
            tasks.push(corio::spawn(async move {
                let start = Instant::now();
                // A connect that has not finished in `STAGE_TIMEOUT` counts
                // as failed rather than stalling the whole program.
                let res = corio::timeout(STAGE_TIMEOUT, TcpStream::connect(addr))
                    .await
                    .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()));
                match res {
                    Ok(stream) => {
                        hist.record(start.elapsed());
                        let _ = stream.set_nodelay(true);
                        Some(stream)
                    }
                    Err(e) => {
                        shared.connect_failed.fetch_add(1, Ordering::Release);
                        shared.note_error(format!("connect: {e}"));
                        None
                    }
                }
            }));
        }
        // Let the batch get going before looking at the counters again.
        corio::yield_now().await;
    }
    let mut streams = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(Some(stream)) = task.await {
            streams.push(stream);
        }
    }
    streams
}

/// Echo round trips until `shared.running` is cleared or the connection fails.
async fn client(
    stream: TcpStream,
    id: usize,
    size: usize,
    shared: Arc<Shared>,
    hist: Arc<Histogram>,
) {
    // A message that differs between connections, so that crossed wires show.
    let msg: Vec<u8> = (0..size).map(|i| (id.wrapping_mul(31) + i) as u8).collect();
    let mut buf = vec![0u8; size];
    while shared.running.load(Ordering::Relaxed) {
        let start = Instant::now();
        let res = async {
            stream.write_all(&msg).await?;
            stream.read_exact(&mut buf).await
        }
        .await;
        let failure = match res {
            Ok(()) if buf == msg => None,
            Ok(()) => Some("echo returned different bytes".to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(what) = failure {
            shared.client_errors.fetch_add(1, Ordering::Relaxed);
            shared.clients_live.fetch_sub(1, Ordering::Relaxed);
            shared.note_error(format!("client {id}: {what}"));
            return;
        }
        hist.record(start.elapsed());
    }
}

/// Prints one line per second until the run is over; returns the RSS
/// measured at the end, with every connection open and in use.
async fn progress(
    config: &Config,
    start: Instant,
    shared: &Shared,
    hist: &Histogram,
) -> Option<u64> {
    let mut ticker = corio::interval(Duration::from_secs(1));
    ticker.tick().await; // the first tick is immediate
    let mut prev = hist.snapshot();
    let mut prev_at = start;
    for _ in 0..config.duration {
        ticker.tick().await;
        let now = Instant::now();
        let snap = hist.snapshot();
        let delta = snap.minus(&prev);
        println!(
            "    {:>5.1}s {:>8} {:>10} {:>12} {:>10} {:>10}",
            (now - start).as_secs_f64(),
            thousands(shared.clients_live.load(Ordering::Relaxed) as u64),
            thousands(rate(delta.count(), now - prev_at)),
            thousands(snap.count()),
            fmt_ns(delta.quantile(0.50)),
            fmt_ns(delta.quantile(0.99)),
        );
        prev = snap;
        prev_at = now;
    }
    read_status_kib("VmRSS:")
}

/// Polls `cond` every millisecond until it holds or `limit` passes.
async fn wait_until(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        corio::sleep(Duration::from_millis(1)).await;
    }
    true
}

// ---------------------------------------------------------------------------
// Latency histogram
// ---------------------------------------------------------------------------

/// Sub-buckets per power of two: values are kept to within 1/32 (about 3%).
const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

/// A log-bucketed histogram of nanoseconds (HDR-like), shared by all tasks:
/// recording is one relaxed `fetch_add`.
struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot(
            self.counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
        )
    }
}

/// Values below `SUB` have a bucket each; above, each power of two is split
/// into `SUB` equal buckets.
fn bucket_of(v: u64) -> usize {
    if v < SUB as u64 {
        v as usize
    } else {
        let shift = 63 - v.leading_zeros() - SUB_BITS;
        (shift as usize + 1) * SUB + ((v >> shift) as usize - SUB)
    }
}

/// The largest value that lands in bucket `i`.
fn bucket_high(i: usize) -> u64 {
    if i < SUB {
        i as u64
    } else {
        let shift = (i / SUB - 1) as u32;
        let mantissa = (i % SUB + SUB) as u64;
        (mantissa << shift).saturating_add((1u64 << shift) - 1)
    }
}

struct Snapshot(Vec<u64>);

impl Snapshot {
    fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The value at quantile `q` (0..=1), as its bucket's upper bound; 0 if
    /// empty.
    fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, &c) in self.0.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return bucket_high(i);
            }
        }
        0
    }

    fn max(&self) -> u64 {
        self.0.iter().rposition(|&c| c > 0).map_or(0, bucket_high)
    }

    fn minus(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot(self.0.iter().zip(&earlier.0).map(|(a, b)| a - b).collect())
    }
}

// ---------------------------------------------------------------------------
// Process figures
// ---------------------------------------------------------------------------

/// A `kB` field of `/proc/self/status` (`VmRSS:`, `VmHWM:`), in KiB.
fn read_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// Pages of memory the kernel's TCP sockets hold, system-wide.
fn kernel_tcp_pages() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let mut words = line.split_whitespace();
    words.find(|&w| w == "mem")?;
    words.next()?.parse().ok()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as u64
    } else {
        4096
    }
}

/// User plus system CPU time of the whole process so far.
fn cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn print_metrics(m: &RuntimeMetrics, round_trips: u64) {
    println!("\n[4] runtime counters (Handle::metrics, whole run)");
    let row =
        |name: &str, polls: u64, steals: u64, parks: u64, io: u64, timers: u64, queue: &str| {
            println!(
                "    {name:>6} {:>14} {:>8} {:>8} {:>14} {:>8} {queue:>6}",
                thousands(polls),
                thousands(steals),
                thousands(parks),
                thousands(io),
                thousands(timers),
            );
        };
    println!(
        "    {:>6} {:>14} {:>8} {:>8} {:>14} {:>8} {:>6}",
        "worker", "polls", "steals", "parks", "I/O events", "timers", "queue"
    );
    for (i, w) in m.workers().iter().enumerate() {
        let queue = w.local_queue_depth.to_string();
        row(
            &i.to_string(),
            w.polls,
            w.steals,
            w.parks,
            w.io_events,
            w.timers_fired,
            &queue,
        );
    }
    let sum = |f: fn(&corio::runtime::WorkerMetrics) -> u64| m.workers().iter().map(f).sum::<u64>();
    let polls = sum(|w| w.polls);
    row(
        "all",
        polls,
        sum(|w| w.steals),
        sum(|w| w.parks),
        sum(|w| w.io_events),
        sum(|w| w.timers_fired),
        "",
    );
    if round_trips > 0 {
        println!(
            "    {} task polls and {} I/O events per round trip (client and server side together)",
            fmt_float(polls as f64 / round_trips as f64),
            fmt_float(sum(|w| w.io_events) as f64 / round_trips as f64)
        );
    }
    println!(
        "    injector depth {}, live tasks {}, workers awake {}, searching {}",
        m.injector_depth, m.live_tasks, m.unparked_workers, m.searching_workers
    );
}

fn print_errors(shared: &Shared) {
    for e in shared.first_error.lock().unwrap().iter() {
        println!("      first errors: {e}");
    }
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

fn fail(what: &str, e: io::Error) -> ! {
    eprintln!("c10k: {what}: {e}");
    std::process::exit(1);
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn rate(count: u64, elapsed: Duration) -> u64 {
    (count as f64 / elapsed.as_secs_f64().max(1e-9)).round() as u64
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt_float(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn fmt_ns(ns: u64) -> String {
    let ns = ns as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{} µs", fmt_float(ns / 1e3))
    } else if ns < 1e9 {
        format!("{} ms", fmt_float(ns / 1e6))
    } else {
        format!("{} s", fmt_float(ns / 1e9))
    }
}

fn fmt_ms(d: Duration) -> String {
    format!("{} ms", fmt_float(d.as_secs_f64() * 1e3))
}

fn fmt_secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn fmt_kib(kib: u64) -> String {
    if kib >= 1024 {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    } else {
        format!("{kib} KiB")
    }
}

fn fmt_bytes(b: f64) -> String {
    if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}
