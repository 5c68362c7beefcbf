//! Property tests of `StreamReader`'s framing: however the bytes of a stream
//! are cut into chunks (fed with `feed_data`, or written to a real socket),
//! `readline`, `readuntil` and `readexactly` give the same results as when
//! the whole input is there at once. (CPython's test_streams.py checks the
//! same with a few fixed chunkings: test_readuntil_multi_chunks,
//! test_readline_limit, test_readexactly.)

use corio::{ReadUntilError, StreamReader};
use proptest::prelude::*;
use std::io::ErrorKind;
use std::sync::OnceLock;

#[derive(Debug, Clone)]
enum Op {
    Readline,
    Readuntil(&'static [u8]),
    Readexactly(usize),
}

/// An operation's result, without what legitimately depends on chunking
/// (a limit error's `consumed` hint).
#[derive(Debug, PartialEq)]
enum Outcome {
    Data(Vec<u8>),
    Incomplete(Vec<u8>, usize),
    LimitOverrun,
}

fn op(with_readline: bool) -> impl Strategy<Value = Op> {
    let mut ops = vec![
        prop::sample::select(vec![&b"\n"[..], b"ab", b"b\na", b"aaa"])
            .prop_map(Op::Readuntil)
            .boxed(),
        (0usize..24).prop_map(Op::Readexactly).boxed(),
    ];
    if with_readline {
        ops.push(Just(Op::Readline).boxed());
    }
    prop::strategy::Union::new(ops)
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"ab\nx".to_vec()), 0..200)
}

/// Cut points (sorted, deduplicated) splitting `len` bytes into chunks.
fn chunks(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.push(0);
    cuts.push(data.len());
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2).map(|w| data[w[0]..w[1]].to_vec()).collect()
}

/// Runs one operation; `Err(())` if the reader needs bytes it was not fed
/// yet (the operation left the buffer as it was).
async fn apply(r: &mut StreamReader, op: &Op) -> Result<Outcome, ()> {
    let until = |res: Result<Vec<u8>, ReadUntilError>| match res {
        Ok(d) => Ok(Outcome::Data(d)),
        Err(ReadUntilError::Incomplete(e)) => Ok(Outcome::Incomplete(e.partial, e.expected)),
        Err(ReadUntilError::LimitOverrun(_)) => Ok(Outcome::LimitOverrun),
        Err(ReadUntilError::Io(e)) if e.kind() == ErrorKind::WouldBlock => Err(()),
        Err(e) => panic!("unexpected error {e:?}"),
    };
    match op {
        Op::Readline => until(r.readline().await),
        Op::Readuntil(sep) => until(r.readuntil(sep).await),
        Op::Readexactly(n) => match r.readexactly(*n).await {
            Ok(d) => Ok(Outcome::Data(d)),
            Err(e) => match e.cause() {
                Some(c) if c.kind() == ErrorKind::WouldBlock => Err(()),
                Some(c) => panic!("unexpected error {c:?}"),
                None => Ok(Outcome::Incomplete(e.partial, e.expected)),
            },
        },
    }
}

/// Feeds `chunks` one at a time, only when an operation needs more.
async fn run_chunked(limit: usize, chunks: &[Vec<u8>], ops: &[Op]) -> Vec<Outcome> {
    let mut r = StreamReader::with_limit(limit);
    let mut next = chunks.iter();
    let mut out = Vec::new();
    for op in ops {
        loop {
            match apply(&mut r, op).await {
                Ok(o) => break out.push(o),
                Err(()) => match next.next() {
                    Some(c) => r.feed_data(c),
                    None => r.feed_eof(),
                },
            }
        }
    }
    out
}

fn runtime() -> &'static corio::Runtime {
    static RT: OnceLock<corio::Runtime> = OnceLock::new();
    RT.get_or_init(|| corio::Builder::new().worker_threads(2).build().unwrap())
}

/// The same operations over a real TCP connection whose peer writes
/// `chunks` one write at a time.
async fn run_socket(limit: usize, chunks: Vec<Vec<u8>>, ops: &[Op]) -> Vec<Outcome> {
    let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = corio::create_task(async move {
        let (peer, _) = listener.accept().await.unwrap();
        for c in chunks {
            peer.write_all(&c).await.unwrap();
            corio::yield_now().await;
        }
        peer.shutdown(std::net::Shutdown::Write).await.unwrap();
        // Stay open until the reader is done, so that EOF is the end.
        let mut buf = [0u8; 1];
        let _ = peer.read(&mut buf).await;
    });
    let (mut r, w) = corio::open_connection(addr).await.unwrap();
    r.set_limit(limit);
    let mut out = Vec::new();
    for op in ops {
        out.push(
            apply(&mut r, op)
                .await
                .expect("a socket reader waits for bytes"),
        );
    }
    w.close();
    writer.await.unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With no limit in play, every operation (readline included) gives the
    /// same results whatever the chunking.
    #[test]
    fn any_chunking_reads_the_same(
        data in input(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        ops in prop::collection::vec(op(true), 1..16),
    ) {
        let limit = 1024;
        runtime().block_on(async {
            let whole = run_chunked(limit, std::slice::from_ref(&data), &ops).await;
            let chunked = run_chunked(limit, &chunks(&data, &cuts), &ops).await;
            prop_assert_eq!(whole, chunked);
            Ok(())
        })?;
    }

    /// With a small limit, readuntil and readexactly still agree (a limit
    /// error keeps the data, so what follows agrees too). readline is left
    /// out: asyncio's readline drops the buffered part of a long line, and
    /// how much is buffered depends on the chunking.
    #[test]
    fn any_chunking_overruns_the_same(
        data in input(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        ops in prop::collection::vec(op(false), 1..16),
        limit in 1usize..12,
    ) {
        runtime().block_on(async {
            let whole = run_chunked(limit, std::slice::from_ref(&data), &ops).await;
            let chunked = run_chunked(limit, &chunks(&data, &cuts), &ops).await;
            prop_assert_eq!(whole, chunked);
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Through a real socket, with a small limit: the reader pulls at most
    /// what the limit allows ahead, in whatever pieces the kernel delivers,
    /// and still agrees with the whole-input answer.
    #[test]
    fn a_socket_reads_the_same(
        data in input(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        ops in prop::collection::vec(op(false), 1..12),
        limit in 1usize..12,
    ) {
        runtime().block_on(async {
            let whole = run_chunked(limit, std::slice::from_ref(&data), &ops).await;
            let got = corio::timeout(
                std::time::Duration::from_secs(10),
                run_socket(limit, chunks(&data, &cuts), &ops),
            )
            .await
            .expect("hang");
            prop_assert_eq!(whole, got);
            Ok(())
        })?;
    }
}
