//! `corio::process` on its fallback path: child exits observed through
//! SIGCHLD (as on kernels without `pidfd_open`), forced with
//! `CORIO_CHILD_WATCHER=sigchld`. One test, so that the variable is set
//! before any child is spawned in this process.
//!
//! Ported intent from CPython's `test_asyncio/test_subprocess.py`, which
//! runs its `SubprocessMixin` tests once per child watcher
//! (`SubprocessSafeWatcherTests`, `SubprocessPidfdWatcherTests`, ...).

mod common;

use common::{rt, wait_until, watchdog, LONG};
use corio::process::{create_subprocess_exec, create_subprocess_shell};
use std::process::Stdio;
use std::sync::Arc;

fn sigchld_disposition() -> usize {
    // SAFETY: zeroed is a valid sigaction; a null `act` only reads.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old) },
        0
    );
    old.sa_sigaction
}

#[test]
fn children_are_reaped_through_sigchld() {
    std::env::set_var("CORIO_CHILD_WATCHER", "sigchld");
    assert_eq!(sigchld_disposition(), libc::SIG_DFL);
    watchdog(LONG, || {
        rt(2).block_on(async {
            // test_proc_exited, test_kill, test_terminate.
            let running = create_subprocess_exec("sleep", &["1000"]).spawn().unwrap();
            assert_ne!(
                sigchld_disposition(),
                libc::SIG_DFL,
                "the SIGCHLD watcher is not installed"
            );
            let exits = create_subprocess_shell("exit 7").spawn().unwrap();
            assert_eq!(exits.wait().await.unwrap().code(), Some(7));
            assert_eq!(exits.returncode(), Some(7));
            running.kill().unwrap();
            running.wait().await.unwrap();
            assert_eq!(running.returncode(), Some(-9));
            let t = create_subprocess_exec("sleep", &["1000"]).spawn().unwrap();
            t.terminate().unwrap();
            t.wait().await.unwrap();
            assert_eq!(t.returncode(), Some(-15));

            // test_communicate, with megabytes on both pipes.
            let mut child = create_subprocess_shell("head -c 1048576 /dev/zero >&2 & cat; wait")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let input = vec![7u8; 1 << 20];
            let (out, err) = child.communicate(Some(&input)).await.unwrap();
            assert!(out == input);
            assert_eq!(err.len(), 1 << 20);
            assert_eq!(child.returncode(), Some(0));

            // Concurrent waiters; many children exiting at once (SIGCHLDs
            // coalesce, yet each child is reaped with its own status).
            let children: Vec<_> = (0..20)
                .map(|i| {
                    Arc::new(
                        create_subprocess_shell(format!("exit {i}"))
                            .spawn()
                            .unwrap(),
                    )
                })
                .collect();
            let mut waits = Vec::new();
            for (i, c) in children.iter().enumerate() {
                for _ in 0..3 {
                    let c = c.clone();
                    waits.push((i, corio::spawn(async move { c.wait().await.unwrap() })));
                }
            }
            for (i, w) in waits {
                assert_eq!(w.await.unwrap().code(), Some(i as i32));
            }
            // try_wait before and after.
            let mut cat = create_subprocess_exec("cat", &[])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            assert_eq!(cat.try_wait().unwrap(), None);
            cat.stdin.take().unwrap().close();
            let status = cat.wait().await.unwrap();
            assert_eq!(cat.try_wait().unwrap(), Some(status));
        });
    });
    // Every child reaped: the last SIGCHLD receiver left, and the previous
    // disposition came back.
    assert!(
        wait_until(LONG, || sigchld_disposition() == libc::SIG_DFL),
        "SIGCHLD disposition not restored"
    );
}
