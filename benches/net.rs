//! TCP benchmarks over 127.0.0.1: corio and tokio side by side.
//!
//! Each workload is one criterion group with two functions, `corio` and
//! `tokio`, doing the same work on a runtime of `NUM_WORKERS` worker threads
//! (2, the core count of the machine they were written on). Servers and
//! clients are tasks of the same runtime; the servers (and, for the echo
//! workloads, the client connections) are set up once per runtime, outside
//! the measurement. Only one runtime exists at a time. Every socket has
//! `TCP_NODELAY` set.
//!
//! * `tcp_echo_1conn`: one connection, 1 000 round trips of 64 bytes per
//!   iteration (write 64, read 64 back).
//! * `tcp_echo_100conn`: 100 connections at once, 100 round trips each per
//!   iteration.
//! * `tcp_churn`: 4 clients at once, each 50 times: connect, one 64-byte
//!   echo, close; 200 connections per iteration.
//!
//! Throughput is reported in round trips (connections for `tcp_churn`) per
//! second.
//!
//! corio delivers a socket's readiness through the event loop of the worker
//! that first waited on it (the connecting task's, and for the server side
//! the handler task's), and which worker runs those tasks is up to the
//! scheduler.
//! With one connection the two ends share a loop in some runs and not in
//! others, and the time differs between the two cases, so the corio side of
//! the echo workloads prints, on stderr, how many readiness events each
//! worker's loop delivered during its measurement.
//!
//! ```text
//! cargo bench --bench net                        # everything, ~2 minutes
//! cargo bench --bench net -- tcp_churn           # one workload
//! python3 benches/ratios.py                      # corio/tokio median ratios
//! ```

mod common;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use std::time::Duration;

/// Worker threads of both runtimes: the core count of a 2-core machine.
const NUM_WORKERS: usize = 2;
/// The size of every message.
const MSG: usize = 64;

fn corio_rt() -> corio::Runtime {
    common::corio_rt(NUM_WORKERS)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    common::tokio_rt(NUM_WORKERS)
}

/// A group sized so that the whole file runs in about 2 minutes. Iterations
/// take tens of milliseconds: flat sampling (the same number of iterations
/// in every sample) keeps to the time set, where criterion's linear ramp
/// would overrun it.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = common::group(c, name, Duration::from_secs(3), Duration::from_secs(10));
    group.sampling_mode(SamplingMode::Flat);
    group
}

/// What a server does with each connection it accepts.
#[derive(Copy, Clone)]
enum Serve {
    /// Echoes 64-byte messages until the client closes.
    Echo,
    /// Echoes one 64-byte message, then closes (the server closes first, so
    /// `TIME_WAIT` stays on the server side and churning clients do not run
    /// out of ephemeral ports).
    EchoOnceThenClose,
}

mod corio_side {
    use super::{Serve, MSG};
    use corio::net::{TcpListener, TcpStream};
    use std::net::SocketAddr;

    async fn serve(stream: TcpStream, serve: Serve) {
        let mut buf = [0u8; MSG];
        match serve {
            Serve::Echo => {
                while stream.read_exact(&mut buf).await.is_ok() {
                    if stream.write_all(&buf).await.is_err() {
                        break;
                    }
                }
            }
            Serve::EchoOnceThenClose => {
                if stream.read_exact(&mut buf).await.is_ok() {
                    let _ = stream.write_all(&buf).await;
                }
            }
        }
    }

    /// Binds a listener on a worker and spawns its accept loop, which spawns
    /// one task per connection. Runs until the runtime is dropped.
    pub fn start_server(rt: &corio::Runtime, how: Serve) -> SocketAddr {
        let task = rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            corio::spawn(async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    corio::spawn(serve(stream, how));
                }
            });
            addr
        });
        rt.block_on(task).unwrap()
    }

    pub async fn connect(addr: SocketAddr) -> TcpStream {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    /// The readiness events each worker's event loop has delivered so far.
    pub fn io_events(rt: &corio::Runtime) -> Vec<u64> {
        let metrics = rt.handle().metrics();
        metrics.workers().iter().map(|w| w.io_events).collect()
    }

    /// `n` connections, each made by its own task.
    pub fn connect_many(rt: &corio::Runtime, addr: SocketAddr, n: usize) -> Vec<TcpStream> {
        let tasks: Vec<_> = (0..n).map(|_| rt.spawn(connect(addr))).collect();
        rt.block_on(async {
            let mut streams = Vec::with_capacity(n);
            for task in tasks {
                streams.push(task.await.unwrap());
            }
            streams
        })
    }

    /// `k` round trips on `stream`, each in its own task; the streams come
    /// back for the next iteration.
    pub fn round_trips(rt: &corio::Runtime, streams: Vec<TcpStream>, k: usize) -> Vec<TcpStream> {
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                rt.spawn(async move {
                    let msg = [7u8; MSG];
                    let mut buf = [0u8; MSG];
                    for _ in 0..k {
                        stream.write_all(&msg).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                    }
                    assert_eq!(buf, msg);
                    stream
                })
            })
            .collect();
        rt.block_on(async {
            let mut streams = Vec::with_capacity(tasks.len());
            for task in tasks {
                streams.push(task.await.unwrap());
            }
            streams
        })
    }

    /// `clients` tasks, each making `per_client` connections one after the
    /// other: connect, one echo, wait for the server's close, close.
    pub fn churn(rt: &corio::Runtime, addr: SocketAddr, clients: usize, per_client: usize) {
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                rt.spawn(async move {
                    let msg = [7u8; MSG];
                    let mut buf = [0u8; MSG];
                    for _ in 0..per_client {
                        let stream = connect(addr).await;
                        stream.write_all(&msg).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
    }
}

mod tokio_side {
    use super::{Serve, MSG};
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn serve(mut stream: TcpStream, serve: Serve) {
        let mut buf = [0u8; MSG];
        match serve {
            Serve::Echo => {
                while stream.read_exact(&mut buf).await.is_ok() {
                    if stream.write_all(&buf).await.is_err() {
                        break;
                    }
                }
            }
            Serve::EchoOnceThenClose => {
                if stream.read_exact(&mut buf).await.is_ok() {
                    let _ = stream.write_all(&buf).await;
                }
            }
        }
    }

    /// As `corio_side::start_server`.
    pub fn start_server(rt: &tokio::runtime::Runtime, how: Serve) -> SocketAddr {
        let task = rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    tokio::spawn(serve(stream, how));
                }
            });
            addr
        });
        rt.block_on(task).unwrap()
    }

    pub async fn connect(addr: SocketAddr) -> TcpStream {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    pub fn connect_many(
        rt: &tokio::runtime::Runtime,
        addr: SocketAddr,
        n: usize,
    ) -> Vec<TcpStream> {
        let tasks: Vec<_> = (0..n).map(|_| rt.spawn(connect(addr))).collect();
        rt.block_on(async {
            let mut streams = Vec::with_capacity(n);
            for task in tasks {
                streams.push(task.await.unwrap());
            }
            streams
        })
    }

    pub fn round_trips(
        rt: &tokio::runtime::Runtime,
        streams: Vec<TcpStream>,
        k: usize,
    ) -> Vec<TcpStream> {
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                rt.spawn(async move {
                    let msg = [7u8; MSG];
                    let mut buf = [0u8; MSG];
                    for _ in 0..k {
                        stream.write_all(&msg).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                    }
                    assert_eq!(buf, msg);
                    stream
                })
            })
            .collect();
        rt.block_on(async {
            let mut streams = Vec::with_capacity(tasks.len());
            for task in tasks {
                streams.push(task.await.unwrap());
            }
            streams
        })
    }

    pub fn churn(
        rt: &tokio::runtime::Runtime,
        addr: SocketAddr,
        clients: usize,
        per_client: usize,
    ) {
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                rt.spawn(async move {
                    let msg = [7u8; MSG];
                    let mut buf = [0u8; MSG];
                    for _ in 0..per_client {
                        let mut stream = connect(addr).await;
                        stream.write_all(&msg).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
    }
}

/// `conns` persistent connections to an echo server, each doing `k` round
/// trips per iteration in its own task.
fn echo(c: &mut Criterion, name: &str, conns: usize, k: usize) {
    let mut group = group(c, name);
    group.throughput(Throughput::Elements((conns * k) as u64));

    {
        let rt = corio_rt();
        let addr = corio_side::start_server(&rt, Serve::Echo);
        let mut streams = corio_side::connect_many(&rt, addr, conns);
        let before = corio_side::io_events(&rt);
        group.bench_function("corio", |b| {
            b.iter(|| {
                streams = corio_side::round_trips(&rt, std::mem::take(&mut streams), k);
            });
        });
        let after = corio_side::io_events(&rt);
        let per_worker: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        if per_worker.iter().any(|&n| n > 0) {
            eprintln!(
                "{name}/corio: readiness events delivered by each worker's loop: {per_worker:?}"
            );
        }
    }

    {
        let rt = tokio_rt();
        let addr = tokio_side::start_server(&rt, Serve::Echo);
        let mut streams = tokio_side::connect_many(&rt, addr, conns);
        group.bench_function("tokio", |b| {
            b.iter(|| {
                streams = tokio_side::round_trips(&rt, std::mem::take(&mut streams), k);
            });
        });
    }

    group.finish();
}

/// One connection, 1 000 round trips per iteration: the latency of one
/// request/response through both event loops.
fn tcp_echo_1conn(c: &mut Criterion) {
    echo(c, "tcp_echo_1conn", 1, 1_000);
}

/// 100 connections, 100 round trips each per iteration: many sockets ready
/// at once, spread over both workers.
fn tcp_echo_100conn(c: &mut Criterion) {
    echo(c, "tcp_echo_100conn", 100, 100);
}

/// 4 clients at once, 50 short connections each per iteration: connect,
/// one echo, close. Measures registering and deregistering sockets, accept,
/// and task spawn per connection.
fn tcp_churn(c: &mut Criterion) {
    const CLIENTS: usize = 4;
    const PER_CLIENT: usize = 50;

    let mut group = group(c, "tcp_churn");
    group.throughput(Throughput::Elements((CLIENTS * PER_CLIENT) as u64));

    {
        let rt = corio_rt();
        let addr = corio_side::start_server(&rt, Serve::EchoOnceThenClose);
        group.bench_function("corio", |b| {
            b.iter(|| corio_side::churn(&rt, addr, CLIENTS, PER_CLIENT));
        });
    }

    {
        let rt = tokio_rt();
        let addr = tokio_side::start_server(&rt, Serve::EchoOnceThenClose);
        group.bench_function("tokio", |b| {
            b.iter(|| tokio_side::churn(&rt, addr, CLIENTS, PER_CLIENT));
        });
    }

    group.finish();
}

criterion_group!(net, tcp_echo_1conn, tcp_echo_100conn, tcp_churn);
criterion_main!(net);
