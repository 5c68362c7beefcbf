//! Subprocess benchmarks: corio's `Child::communicate` against
//! `tokio::process` doing the same work.
//!
//! * `communicate_1mib`: spawn `cat` with piped stdin and stdout, push 1 MiB
//!   through it and read all of it back, then reap it. corio:
//!   `child.communicate(Some(&input)).await`; tokio: `write_all` + drop of
//!   stdin (its shutdown) run concurrently with `read_to_end` of stdout
//!   (`tokio::join!`), then `wait`. Both check that every byte came back.
//!
//! Both sides run on a runtime of `NUM_WORKERS` (2) worker threads; each
//! iteration includes spawning the process, so the figure is dominated by
//! `fork`/`exec` plus the copy through two pipes. Throughput is reported in
//! bytes of input per second.
//!
//! ```text
//! cargo bench --bench process
//! python3 benches/ratios.py                      # corio/tokio median ratios
//! ```

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::process::Stdio;
use std::time::Duration;

/// Worker threads of both runtimes: the core count of a 2-core machine.
const NUM_WORKERS: usize = 2;
/// Bytes pushed through `cat` per iteration.
const INPUT: usize = 1 << 20;

fn input() -> Vec<u8> {
    (0..INPUT).map(|i| (i % 251) as u8).collect()
}

fn communicate_1mib(c: &mut Criterion) {
    let input = input();
    let mut group = common::group(
        c,
        "communicate_1mib",
        Duration::from_secs(1),
        Duration::from_secs(5),
    );
    group.throughput(Throughput::Bytes(INPUT as u64));

    {
        let rt = common::corio_rt(NUM_WORKERS);
        group.bench_function("corio", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut child = corio::process::create_subprocess_exec("cat", &[])
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn()
                        .expect("spawn cat");
                    let (out, _) = child.communicate(Some(&input)).await.expect("communicate");
                    assert!(out == input, "cat returned {} bytes", out.len());
                    let status = child.wait().await.expect("wait");
                    assert!(status.success(), "cat failed: {status}");
                })
            })
        });
    }

    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rt = common::tokio_rt(NUM_WORKERS);
        group.bench_function("tokio", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut child = tokio::process::Command::new("cat")
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn()
                        .expect("spawn cat");
                    let mut stdin = child.stdin.take().expect("piped");
                    let mut stdout = child.stdout.take().expect("piped");
                    let write = async {
                        stdin.write_all(&input).await.expect("write stdin");
                        // Dropping the pipe is tokio's way to close it: cat
                        // sees end of input.
                        drop(stdin);
                    };
                    let read = async {
                        let mut out = Vec::with_capacity(INPUT);
                        stdout.read_to_end(&mut out).await.expect("read stdout");
                        out
                    };
                    let ((), out) = tokio::join!(write, read);
                    assert!(out == input, "cat returned {} bytes", out.len());
                    let status = child.wait().await.expect("wait");
                    assert!(status.success(), "cat failed: {status}");
                })
            })
        });
    }
    group.finish();
}

criterion_group!(process, communicate_1mib);
criterion_main!(process);
