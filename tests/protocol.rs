//! `corio::protocol`: Protocol/Transport servers and clients, flow control,
//! closing, errors and datagram endpoints. Ports asyncio's
//! `test_asyncio/test_selector_events.py` and `test_sock_lowlevel.py`
//! intentions (SelectorSocketTransportTests: test_write, test_write_eof,
//! test_close, test_force_close, test_pause_resume_reading,
//! test_write_buffer_limits; test_create_connection_refused;
//! test_create_datagram_endpoint).

mod common;

use common::{rt_named, LONG};
use corio::protocol::{DatagramProtocol, DatagramTransport, Protocol, Transport};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Made,
    Data(Vec<u8>),
    Eof,
    Lost(Option<io::ErrorKind>),
    Pause,
    Resume,
}

/// A hook run with the connection's transport.
type Hook = Arc<dyn Fn(&Transport) + Send + Sync>;

/// What a test protocol does on each event.
#[derive(Clone, Default)]
struct Behaviour {
    echo: bool,
    keep_open_on_eof: bool,
    on_made: Option<Hook>,
    on_eof: Option<Hook>,
}

/// A protocol that reports every event (with the thread it ran on).
struct Rec {
    b: Behaviour,
    t: Option<Transport>,
    tx: mpsc::Sender<(Ev, String)>,
    transports: Option<mpsc::Sender<Transport>>,
}

fn thread() -> String {
    format!("{:?}", std::thread::current().id())
}

impl Rec {
    fn send(&self, ev: Ev) {
        let _ = self.tx.send((ev, thread()));
    }
}

impl Protocol for Rec {
    fn connection_made(&mut self, t: Transport) {
        // The hook first: a test that sees `Made` sees what the hook did.
        if let Some(f) = &self.b.on_made {
            f(&t);
        }
        self.send(Ev::Made);
        if let Some(tx) = &self.transports {
            let _ = tx.send(t.clone());
        }
        self.t = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        if self.b.echo {
            self.t.as_ref().unwrap().write(data);
        }
        self.send(Ev::Data(data.to_vec()));
    }
    fn eof_received(&mut self) -> bool {
        self.send(Ev::Eof);
        if let Some(f) = &self.b.on_eof {
            f(self.t.as_ref().unwrap());
        }
        self.b.keep_open_on_eof
    }
    fn connection_lost(&mut self, e: Option<io::Error>) {
        self.send(Ev::Lost(e.map(|e| e.kind())));
    }
    fn pause_writing(&mut self) {
        self.send(Ev::Pause);
    }
    fn resume_writing(&mut self) {
        self.send(Ev::Resume);
    }
}

struct Fixture {
    rt: corio::Runtime,
    server: corio::streams::Server,
    addr: SocketAddr,
    events: mpsc::Receiver<(Ev, String)>,
    transports: mpsc::Receiver<Transport>,
}

fn serve(b: Behaviour) -> Fixture {
    let rt = rt_named(2, "proto");
    let (tx, events) = mpsc::channel();
    let (ttx, transports) = mpsc::channel();
    let tx = Mutex::new(tx);
    let ttx = Mutex::new(ttx);
    let server = rt
        .block_on(async move {
            corio::get_running_loop()
                .create_server(
                    move || Rec {
                        b: b.clone(),
                        t: None,
                        tx: tx.lock().unwrap().clone(),
                        transports: Some(ttx.lock().unwrap().clone()),
                    },
                    "127.0.0.1:0",
                )
                .await
        })
        .unwrap();
    let addr = server.local_addrs()[0];
    Fixture {
        rt,
        server,
        addr,
        events,
        transports,
    }
}

fn client(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LONG)).unwrap();
    s
}

/// The read ended with an end of stream or a reset, not a timeout.
fn ended(res: io::Result<usize>) {
    if let Err(e) = res {
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
    }
}

fn next(events: &mpsc::Receiver<(Ev, String)>) -> Ev {
    events.recv_timeout(LONG).expect("an event in time").0
}

/// Events until (and including) `connection_lost`, data merged.
fn until_lost(events: &mpsc::Receiver<(Ev, String)>) -> Vec<Ev> {
    let mut out = Vec::new();
    loop {
        let ev = next(events);
        let last = matches!(ev, Ev::Lost(_));
        match (out.last_mut(), ev) {
            (Some(Ev::Data(d)), Ev::Data(more)) => d.extend(more),
            (_, ev) => out.push(ev),
        }
        if last {
            return out;
        }
    }
}

#[test]
fn echo_many_connections_in_order_each_on_one_thread() {
    let f = serve(Behaviour {
        echo: true,
        ..Default::default()
    });
    let addr = f.addr;
    let clients: Vec<_> = (0..32u8)
        .map(|c| {
            std::thread::spawn(move || {
                let mut s = client(addr);
                let msg: Vec<u8> = (0..20_000u32).map(|i| (i as u8).wrapping_add(c)).collect();
                for chunk in msg.chunks(1000) {
                    s.write_all(chunk).unwrap();
                }
                s.shutdown(Shutdown::Write).unwrap();
                let mut back = Vec::new();
                s.read_to_end(&mut back).unwrap();
                assert_eq!(back, msg, "client {c}: echo in order");
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    // Every connection's callbacks ran on one thread: group events by the
    // connection they belong to through per-connection ordering (Made ..
    // Lost on one thread, with no interleaving of threads in between).
    let mut lost = 0;
    let mut threads_of_open: Vec<String> = Vec::new();
    let mut all_threads = std::collections::HashSet::new();
    while lost < 32 {
        let (ev, th) = f.events.recv_timeout(LONG).unwrap();
        all_threads.insert(th.clone());
        match ev {
            Ev::Made => threads_of_open.push(th),
            Ev::Lost(e) => {
                assert_eq!(e, None);
                lost += 1;
            }
            _ => {}
        }
    }
    assert_eq!(threads_of_open.len(), 32);
    assert!(all_threads.len() <= 2, "callbacks only on the two workers");
    f.server.close();
    f.rt.block_on(f.server.wait_closed());
}

#[test]
fn callbacks_of_one_connection_stay_on_its_thread_and_in_order() {
    let f = serve(Behaviour {
        echo: true,
        ..Default::default()
    });
    let mut s = client(f.addr);
    for i in 0..100u8 {
        s.write_all(&[i; 100]).unwrap();
        let mut back = [0; 100];
        s.read_exact(&mut back).unwrap();
        assert_eq!(back, [i; 100]);
    }
    drop(s);
    let mut threads = std::collections::HashSet::new();
    let mut data = Vec::new();
    loop {
        let (ev, th) = f.events.recv_timeout(LONG).unwrap();
        threads.insert(th);
        match ev {
            Ev::Data(d) => data.extend(d),
            Ev::Lost(_) => break,
            _ => {}
        }
    }
    assert_eq!(threads.len(), 1, "one connection, one thread");
    let want: Vec<u8> = (0..100u8).flat_map(|i| [i; 100]).collect();
    assert_eq!(data, want);
}

#[test]
fn eof_received_false_closes_the_transport() {
    let f = serve(Behaviour::default());
    let mut s = client(f.addr);
    s.write_all(b"hi").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    assert_eq!(
        until_lost(&f.events),
        [Ev::Made, Ev::Data(b"hi".to_vec()), Ev::Eof, Ev::Lost(None)]
    );
}

#[test]
fn eof_received_true_keeps_writing_open() {
    let f = serve(Behaviour {
        keep_open_on_eof: true,
        on_eof: Some(Arc::new(|t: &Transport| {
            t.write(b"bye");
            t.close();
        })),
        ..Default::default()
    });
    let mut s = client(f.addr);
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"bye");
    assert_eq!(until_lost(&f.events), [Ev::Made, Ev::Eof, Ev::Lost(None)]);
}

#[test]
fn write_eof_sends_end_of_stream_and_keeps_reading() {
    let f = serve(Behaviour {
        on_made: Some(Arc::new(|t: &Transport| {
            t.write(b"abc");
            t.write_eof();
            t.write(b"ignored after write_eof");
        })),
        ..Default::default()
    });
    let mut s = client(f.addr);
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"abc");
    s.write_all(b"still read").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        until_lost(&f.events),
        [
            Ev::Made,
            Ev::Data(b"still read".to_vec()),
            Ev::Eof,
            Ev::Lost(None)
        ]
    );
}

const BIG: usize = 4 << 20;

#[test]
fn close_flushes_a_large_write_before_connection_lost() {
    let f = serve(Behaviour {
        on_made: Some(Arc::new(|t: &Transport| {
            let data: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
            t.write(&data);
            t.close();
            assert!(t.is_closing());
            t.write(b"dropped: after close");
        })),
        ..Default::default()
    });
    let mut s = client(f.addr);
    assert_eq!(next(&f.events), Ev::Made);
    // The peer has not read yet, so the close waits for the buffer.
    std::thread::sleep(Duration::from_millis(50));
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), BIG);
    assert!(got.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
    let rest = until_lost(&f.events);
    assert_eq!(rest.last(), Some(&Ev::Lost(None)));
    assert!(!rest.contains(&Ev::Made));
}

#[test]
fn abort_discards_the_buffer() {
    let f = serve(Behaviour {
        on_made: Some(Arc::new(|t: &Transport| {
            t.write(&vec![7u8; 16 * BIG]);
            assert!(
                t.get_write_buffer_size() > 0,
                "64 MiB cannot all fit the socket"
            );
            t.abort();
            assert_eq!(t.get_write_buffer_size(), 0);
        })),
        ..Default::default()
    });
    let mut s = client(f.addr);
    let mut got = Vec::new();
    // A reset or an early end (not a hang): either way not everything
    // arrives.
    ended(s.read_to_end(&mut got));
    assert!(got.len() < 16 * BIG);
    let evs = until_lost(&f.events);
    assert_eq!(evs.last(), Some(&Ev::Lost(None)));
}

#[test]
fn pause_and_resume_writing_follow_the_peer() {
    let f = serve(Behaviour {
        on_made: Some(Arc::new(|t: &Transport| {
            t.set_write_buffer_limits(64 * 1024, 16 * 1024);
            t.write(&vec![1u8; BIG]);
        })),
        ..Default::default()
    });
    let mut s = client(f.addr);
    assert_eq!(next(&f.events), Ev::Made);
    assert_eq!(next(&f.events), Ev::Pause, "the peer does not read");
    let t = f.transports.recv_timeout(LONG).unwrap();
    assert!(t.get_write_buffer_size() > 64 * 1024);
    let mut got = vec![0; BIG];
    s.read_exact(&mut got).unwrap();
    assert_eq!(next(&f.events), Ev::Resume);
    assert_eq!(t.get_write_buffer_size(), 0);
    t.close();
    assert_eq!(until_lost(&f.events), [Ev::Lost(None)]);
}

#[test]
fn pause_reading_holds_data_until_resume_reading() {
    let f = serve(Behaviour {
        on_made: Some(Arc::new(|t: &Transport| t.pause_reading())),
        ..Default::default()
    });
    let mut s = client(f.addr);
    assert_eq!(next(&f.events), Ev::Made);
    let t = f.transports.recv_timeout(LONG).unwrap();
    assert!(!t.is_reading());
    s.write_all(b"held").unwrap();
    // Not a speed assertion: nothing may arrive at all while paused.
    assert!(f.events.recv_timeout(Duration::from_millis(200)).is_err());
    t.resume_reading(); // from another thread
    assert!(t.is_reading());
    assert_eq!(next(&f.events), Ev::Data(b"held".to_vec()));
    drop(s);
    assert_eq!(until_lost(&f.events), [Ev::Eof, Ev::Lost(None)]);
}

#[test]
fn reset_peer_reports_the_error() {
    let f = serve(Behaviour {
        on_made: Some(Arc::new(|t: &Transport| t.write(b"unread"))),
        ..Default::default()
    });
    let s = client(f.addr);
    let mut one = [0; 1];
    // Wait until the data is there, leave it unread: closing then resets.
    assert_eq!(s.peek(&mut one).unwrap(), 1);
    drop(s);
    let evs = until_lost(&f.events);
    assert_eq!(evs[0], Ev::Made);
    match evs.last() {
        Some(Ev::Lost(Some(kind))) => assert_eq!(*kind, io::ErrorKind::ConnectionReset),
        other => panic!("expected a reset, got {other:?}"),
    }
}

#[test]
fn server_close_and_wait_closed_wait_for_protocol_connections() {
    let f = serve(Behaviour::default());
    let s = client(f.addr);
    assert_eq!(next(&f.events), Ev::Made);
    f.server.close();
    assert!(!f.server.is_serving());
    let waited = f.rt.block_on(async {
        corio::wait_for(f.server.wait_closed(), Duration::from_millis(100)).await
    });
    assert!(waited.is_err(), "a connection is still open");
    // New connections are refused once the listeners are gone.
    let refused = common::wait_until(LONG, || TcpStream::connect(f.addr).is_err());
    assert!(refused);
    drop(s);
    f.rt.block_on(async { corio::wait_for(f.server.wait_closed(), LONG).await })
        .expect("wait_closed returns once the connection is lost");
    // Every connection (the probes above may have got in before the
    // listeners closed) was lost cleanly before `wait_closed` returned.
    let evs: Vec<Ev> = f.events.try_iter().map(|(ev, _)| ev).collect();
    let made = evs.iter().filter(|e| **e == Ev::Made).count();
    let lost = evs.iter().filter(|e| **e == Ev::Lost(None)).count();
    assert_eq!(lost, made + 1, "{evs:?}");
}

#[test]
fn create_connection_to_a_refused_port() {
    let rt = common::rt(1);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (tx, _rx) = mpsc::channel();
    let err = rt
        .block_on(async move {
            corio::get_running_loop()
                .create_connection(
                    move || Rec {
                        b: Behaviour::default(),
                        t: None,
                        tx,
                        transports: None,
                    },
                    ("127.0.0.1", port),
                )
                .await
        })
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn create_connection_client_talks_to_a_protocol_server() {
    let f = serve(Behaviour {
        echo: true,
        ..Default::default()
    });
    let (tx, events) = mpsc::channel();
    let addr = f.addr;
    let t =
        f.rt.block_on(async move {
            let lp = corio::get_running_loop();
            lp.create_connection(
                move || Rec {
                    b: Behaviour::default(),
                    t: None,
                    tx,
                    transports: None,
                },
                addr,
            )
            .await
        })
        .unwrap();
    assert_eq!(t.peer_addr().unwrap(), addr);
    t.write(b"ping");
    assert_eq!(next(&events), Ev::Made);
    assert_eq!(next(&events), Ev::Data(b"ping".to_vec()));
    t.close();
    assert_eq!(until_lost(&events), [Ev::Lost(None)]);
}

struct UdpEcho {
    t: Option<DatagramTransport>,
    tx: mpsc::Sender<Vec<u8>>,
}

impl DatagramProtocol for UdpEcho {
    fn connection_made(&mut self, t: DatagramTransport) {
        self.t = Some(t);
    }
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        self.t.as_ref().unwrap().sendto(data, addr);
        let _ = self.tx.send(data.to_vec());
    }
    fn connection_lost(&mut self, e: Option<io::Error>) {
        assert!(e.is_none());
        let _ = self.tx.send(b"lost".to_vec());
    }
}

#[test]
fn datagram_echo() {
    let rt = common::rt(2);
    let (tx, rx) = mpsc::channel();
    let t = rt
        .block_on(async move {
            corio::get_running_loop()
                .create_datagram_endpoint(move || UdpEcho { t: None, tx }, "127.0.0.1:0")
                .await
        })
        .unwrap();
    let addr = t.local_addr().unwrap();
    let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(LONG)).unwrap();
    for i in 0..20u8 {
        c.send_to(&[i; 10], addr).unwrap();
        let mut buf = [0; 64];
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[i; 10]);
        assert_eq!(from, addr);
        assert_eq!(rx.recv_timeout(LONG).unwrap(), vec![i; 10]);
    }
    t.close();
    assert_eq!(rx.recv_timeout(LONG).unwrap(), b"lost");
}

/// A protocol whose `connection_made` blocks its loop until the second
/// connection's `connection_made` has run.
struct Blocker {
    started: mpsc::Sender<String>,
    second: Arc<Mutex<mpsc::Receiver<()>>>,
    second_tx: mpsc::Sender<()>,
    first: bool,
}

impl Protocol for Blocker {
    fn connection_made(&mut self, t: Transport) {
        let _ = self.started.send(thread());
        if self.first {
            // Hold this loop: only the other worker can take the next
            // connection.
            let ok = self.second.lock().unwrap().recv_timeout(LONG).is_ok();
            t.write(if ok { b"1" } else { b"0" });
        } else {
            let _ = self.second_tx.send(());
            t.write(b"2");
        }
    }
    fn data_received(&mut self, _: &[u8]) {}
}

#[test]
fn every_worker_accepts_and_serves() {
    let rt = rt_named(2, "accept");
    let (started_tx, started) = mpsc::channel();
    let (second_tx, second_rx) = mpsc::channel();
    let second_rx = Arc::new(Mutex::new(second_rx));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started_tx = Mutex::new(started_tx);
    let second_tx = Mutex::new(second_tx);
    let server = rt
        .block_on(async move {
            corio::get_running_loop()
                .create_server(
                    move || Blocker {
                        started: started_tx.lock().unwrap().clone(),
                        second: second_rx.clone(),
                        second_tx: second_tx.lock().unwrap().clone(),
                        first: count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0,
                    },
                    "127.0.0.1:0",
                )
                .await
        })
        .unwrap();
    let addr = server.local_addrs()[0];
    let mut a = client(addr);
    let first_thread = started.recv_timeout(LONG).unwrap();
    // The first connection's loop is now blocked in its callback.
    let mut b = client(addr);
    let second_thread = started.recv_timeout(LONG).unwrap();
    assert_ne!(first_thread, second_thread, "served by the other worker");
    let mut one = [0; 1];
    b.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"2");
    a.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"1", "the blocked loop saw the other loop accept");
}

#[test]
fn runtime_drop_closes_protocol_connections() {
    let f = serve(Behaviour::default());
    let mut s = client(f.addr);
    assert_eq!(next(&f.events), Ev::Made);
    drop(f.rt);
    let mut rest = Vec::new();
    // The socket is closed with the runtime: the peer reads the end.
    ended(s.read_to_end(&mut rest));
    assert!(rest.is_empty());
}

#[test]
fn create_connection_from_a_spawned_task() {
    let f = serve(Behaviour {
        echo: true,
        ..Default::default()
    });
    let addr = f.addr;
    let (tx, events) = mpsc::channel();
    // The future is `Send`: it can run as a task on any worker.
    let t =
        f.rt.block_on(f.rt.handle().spawn(async move {
            corio::get_running_loop()
                .create_connection(
                    move || Rec {
                        b: Behaviour::default(),
                        t: None,
                        tx,
                        transports: None,
                    },
                    addr,
                )
                .await
        }))
        .unwrap()
        .unwrap();
    t.writelines([&b"a"[..], b"b", b"c"]);
    assert_eq!(next(&events), Ev::Made);
    let mut got = Vec::new();
    while got.len() < 3 {
        match next(&events) {
            Ev::Data(d) => got.extend(d),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, b"abc");
    t.abort();
    assert_eq!(until_lost(&events), [Ev::Lost(None)]);
}

/// Records the thread each connection is served on, and echoes.
struct Placed {
    threads: mpsc::Sender<std::thread::ThreadId>,
    transport: Option<Transport>,
}

impl Protocol for Placed {
    fn connection_made(&mut self, transport: Transport) {
        self.threads.send(std::thread::current().id()).unwrap();
        self.transport = Some(transport);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.transport.as_ref().unwrap().write(data);
    }
}

/// A burst of connections is spread evenly over the workers, whichever
/// loop wins the races to `accept` (the loser of a race is woken for
/// nothing; the winner hands connections on to the loop that serves fewer).
/// A handed-over connection is served like any other.
#[test]
fn a_burst_of_connections_is_spread_evenly_over_the_workers() {
    let rt = rt_named(2, "spread");
    let (tx, threads) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = rt
        .block_on(async move {
            corio::get_running_loop()
                .create_server(
                    move || Placed {
                        threads: tx.lock().unwrap().clone(),
                        transport: None,
                    },
                    "127.0.0.1:0",
                )
                .await
        })
        .unwrap();
    let addr = server.local_addrs()[0];
    let clients: Vec<TcpStream> = (0..20).map(|_| client(addr)).collect();
    let mut per_thread = std::collections::HashMap::new();
    for _ in 0..20 {
        *per_thread
            .entry(threads.recv_timeout(LONG).unwrap())
            .or_insert(0usize) += 1;
    }
    let counts: Vec<usize> = per_thread.values().copied().collect();
    assert_eq!(counts.len(), 2, "both workers serve: {counts:?}");
    // Two loops may each keep a connection on a stale count at once.
    assert!(
        counts[0].abs_diff(counts[1]) <= 2,
        "uneven spread: {counts:?}"
    );
    for (i, mut c) in clients.into_iter().enumerate() {
        c.write_all(&[i as u8; 3]).unwrap();
        let mut back = [0; 3];
        c.read_exact(&mut back).unwrap();
        assert_eq!(back, [i as u8; 3]);
    }
}

/// `writelines` of more pieces than one `writev` takes (IOV_MAX = 1024) and
/// more bytes than the socket takes at once, twice (the second call finds
/// the first one's remainder queued), then `close`: everything arrives, in
/// order.
#[test]
fn writelines_of_many_pieces_arrive_whole_and_in_order() {
    let data: Arc<Vec<u8>> = Arc::new((0..3 << 20).map(|i| (i % 251) as u8).collect());
    let sent = data.clone();
    let f = serve(Behaviour {
        on_made: Some(Arc::new(move |t: &Transport| {
            let (first, second) = sent.split_at(sent.len() / 2);
            t.writelines(first.chunks(700));
            t.writelines(second.chunks(1300).collect::<Vec<_>>());
            t.close();
        })),
        ..Default::default()
    });
    let mut s = client(f.addr);
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == *data, "the bytes arrived altered or out of order");
}
