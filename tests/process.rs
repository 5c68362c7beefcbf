//! `corio::process`: spawning children, their pipes, their exit.
//!
//! Ported intent from CPython's `test_asyncio/test_subprocess.py`
//! (`SubprocessMixin`); each test names its original. The SIGCHLD fallback
//! path has its own binary (`process_sigchld.rs`), since it is chosen by an
//! environment variable.

mod common;

use common::{rt, watchdog, LONG};
use corio::process::{create_subprocess_exec, create_subprocess_shell, Command};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

fn run<F: std::future::Future<Output = ()>>(f: impl FnOnce() -> F + Send + 'static) {
    watchdog(LONG, move || rt(2).block_on(f()));
}

// test_communicate: a round trip through `cat`.
#[test]
fn communicate_round_trip_through_cat() {
    run(|| async {
        let mut child = create_subprocess_exec("cat", &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (out, err) = child.communicate(Some(b"some data")).await.unwrap();
        assert_eq!(out, b"some data");
        assert_eq!(err, b"", "stderr was not piped");
        assert_eq!(child.returncode(), Some(0));
        assert!(child.stdin.is_none() && child.stdout.is_none());
    });
}

// test_subprocess_communicate_stdout / test_pause_reading: megabytes on both
// stdout and stderr while stdin is still being written: no deadlock.
#[test]
fn communicate_megabytes_on_both_pipes_without_deadlock() {
    run(|| async {
        // `cat` echoes 2 MiB of input to stdout while `head` writes 1.5 MiB
        // of zeros to stderr; every pipe is far beyond its 64 KiB buffer.
        let script = "head -c 1572864 /dev/zero >&2 & cat; wait";
        let mut child = create_subprocess_shell(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        let (out, err) = child.communicate(Some(&input)).await.unwrap();
        assert_eq!(out.len(), input.len());
        assert!(out == input, "stdout is not the input echoed back");
        assert_eq!(err.len(), 1572864);
        assert!(err.iter().all(|&b| b == 0));
        assert_eq!(child.returncode(), Some(0));
    });
}

// test_proc_exited: `exit 7` gives returncode 7 and status code 7.
#[test]
fn exit_code_is_returncode_and_status() {
    run(|| async {
        let child = create_subprocess_shell("exit 7").spawn().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(7));
        assert_eq!(child.returncode(), Some(7));
        assert_eq!(child.id(), None, "a reaped child has no pid");
    });
}

// test_kill: returncode -9.
#[test]
fn kill_gives_minus_nine() {
    run(|| async {
        let child = create_subprocess_exec("sleep", &["1000"]).spawn().unwrap();
        assert!(child.id().is_some());
        assert_eq!(child.returncode(), None);
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), None);
        assert_eq!(child.returncode(), Some(-9));
        // A reaped child is not signalled again (its pid may be reused).
        child.kill().unwrap();
        child.send_signal(libc::SIGTERM).unwrap();
    });
}

// test_terminate: returncode -15.
#[test]
fn terminate_gives_minus_fifteen() {
    run(|| async {
        let child = create_subprocess_exec("sleep", &["1000"]).spawn().unwrap();
        child.terminate().unwrap();
        child.wait().await.unwrap();
        assert_eq!(child.returncode(), Some(-15));
    });
}

// test_send_signal: an arbitrary signal; the child's handler sees it.
#[test]
fn send_signal_reaches_the_child() {
    run(|| async {
        let mut child = create_subprocess_shell(
            "trap 'echo got; exit 0' HUP; echo ready; while :; do sleep 0.01; done",
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
        let out = child.stdout.as_mut().unwrap();
        assert_eq!(out.readline().await.unwrap(), b"ready\n");
        child.send_signal(libc::SIGHUP).unwrap();
        let out = child.stdout.as_mut().unwrap();
        assert_eq!(out.readline().await.unwrap(), b"got\n");
        assert_eq!(child.wait().await.unwrap().code(), Some(0));
        let err = child.send_signal(-1);
        assert!(err.is_ok(), "a reaped child is never signalled");
    });
}

// test_cancel_process_wait and asyncio's many waiters: ten concurrent waits
// get the same status, and a cancelled wait leaves the others working.
#[test]
fn ten_concurrent_waits_get_the_same_status() {
    run(|| async {
        let mut child = create_subprocess_exec("sh", &["-c", "read line; exit 5"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let child = Arc::new(child);
        let cancelled = {
            let c = child.clone();
            corio::spawn(async move { c.wait().await })
        };
        let waiters: Vec<_> = (0..10)
            .map(|_| {
                let c = child.clone();
                corio::spawn(async move { c.wait().await.unwrap() })
            })
            .collect();
        corio::sleep(Duration::from_millis(10)).await;
        assert!(cancelled.cancel());
        assert!(cancelled.await.unwrap_err().is_cancelled());
        stdin.write(b"go\n");
        stdin.close();
        for w in waiters {
            assert_eq!(w.await.unwrap().code(), Some(5));
        }
        // Waiting again after the exit returns the same status at once.
        assert_eq!(child.wait().await.unwrap().code(), Some(5));
    });
}

// try_wait before and after the exit.
#[test]
fn try_wait_before_and_after_exit() {
    run(|| async {
        let mut child = create_subprocess_exec("cat", &[])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        assert_eq!(child.try_wait().unwrap(), None, "cat waits for EOF");
        assert_eq!(child.returncode(), None);
        child.stdin.take().unwrap().close();
        let status = child.wait().await.unwrap();
        assert_eq!(child.try_wait().unwrap(), Some(status));
        assert_eq!(child.returncode(), Some(0));
    });
}

// test_stdin_stdout: line by line through a child.
#[test]
fn readline_from_a_child() {
    run(|| async {
        let mut child = create_subprocess_shell("echo one; echo two; printf three")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.as_mut().unwrap();
        assert_eq!(out.readline().await.unwrap(), b"one\n");
        assert_eq!(out.readline().await.unwrap(), b"two\n");
        assert_eq!(out.readline().await.unwrap(), b"three");
        assert_eq!(out.readline().await.unwrap(), b"");
        assert!(out.at_eof());
        assert_eq!(child.wait().await.unwrap().code(), Some(0));
    });
}

// test_stdin_stdout: stdin written, drained and closed: the child sees EOF.
#[test]
fn stdin_write_and_close_gives_child_eof() {
    run(|| async {
        let mut child = create_subprocess_exec("wc", &["-c"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        stdin.write(b"12345");
        stdin.drain().await.unwrap();
        stdin.write(b"678");
        stdin.close();
        stdin.wait_closed().await.unwrap();
        let out = child.stdout.as_mut().unwrap().read_to_end().await.unwrap();
        assert_eq!(String::from_utf8(out).unwrap().trim(), "8");
        assert_eq!(child.wait().await.unwrap().code(), Some(0));
    });
}

// test_stdin_broken_pipe / test_communicate_ignore_broken_pipe: a child that
// exits without reading: drain reports the broken pipe, communicate ignores
// it, and the process is not killed by SIGPIPE.
#[test]
fn writing_to_an_exited_child() {
    run(|| async {
        let child = create_subprocess_exec("true", &[])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.wait().await.unwrap();
        let stdin = child.stdin.as_ref().unwrap();
        stdin.write(&vec![0u8; 1 << 20]);
        let err = stdin.drain().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");

        let mut child = create_subprocess_exec("true", &[])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.wait().await.unwrap();
        let (out, err) = child.communicate(Some(&vec![0u8; 1 << 20])).await.unwrap();
        assert!(out.is_empty() && err.is_empty());
    });
}

// test_popen_error: a missing program is NotFound.
#[test]
fn spawn_of_a_missing_program_is_not_found() {
    run(|| async {
        let err = Command::new("/nonexistent/corio-no-such-program")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        let err = create_subprocess_exec("corio-no-such-program-in-path", &["x"])
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    });
}

// Spawning outside a runtime is a clear error and starts nothing.
#[test]
fn spawn_outside_a_runtime_is_an_error() {
    let err = Command::new("true").spawn().unwrap_err();
    assert!(err.to_string().contains("inside a corio runtime"), "{err}");
}

// test_shell, plus std's output()/status() shapes.
#[test]
fn output_and_status() {
    run(|| async {
        let out = create_subprocess_shell("echo out; echo err >&2; exit 2")
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        // output() gives the child an empty stdin unless set.
        let out = Command::new("cat").output().await.unwrap();
        assert!(out.status.success() && out.stdout.is_empty());

        let status = Command::new("sh")
            .args(["-c", "test \"$CORIO_X\" = yes && test -z \"$HOME\""])
            .env("CORIO_X", "yes")
            .env_remove("HOME")
            .stdout(Stdio::null())
            .status()
            .await
            .unwrap();
        assert!(status.success());
        let dir = std::env::temp_dir();
        let out = Command::new("pwd")
            .current_dir(&dir)
            .output()
            .await
            .unwrap();
        let pwd = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            std::fs::canonicalize(pwd.trim()).unwrap(),
            std::fs::canonicalize(&dir).unwrap()
        );
        let out = Command::new("/usr/bin/env")
            .env_clear()
            .env("A", "1")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"A=1\n");
    });
}

// test_close_kill_running: kill_on_drop kills; without it the child lives on
// (and is still reaped when it exits).
#[test]
fn kill_on_drop() {
    run(|| async {
        let mut child = create_subprocess_exec("sleep", &["1000"])
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap() as libc::pid_t;
        child.stdin = None;
        drop(child);
        // The reaper reaps it: then the pid is no longer our child.
        let gone = common::wait_until(LONG, || {
            // SAFETY: signal 0 only checks for existence.
            let r = unsafe { libc::kill(pid, 0) };
            r != 0
        });
        assert!(gone, "kill_on_drop child still exists (or was not reaped)");

        let child = create_subprocess_exec("sleep", &["1000"]).spawn().unwrap();
        let pid = child.id().unwrap() as libc::pid_t;
        drop(child);
        corio::sleep(Duration::from_millis(20)).await;
        // SAFETY: signal 0 only checks for existence; then SIGKILL to our
        // own child, which its reaper (still running) reaps.
        assert_eq!(
            unsafe { libc::kill(pid, 0) },
            0,
            "the child should still run"
        );
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
}

// Many children at once, each reaped exactly with its own status.
#[test]
fn many_children_each_get_their_status() {
    run(|| async {
        let children: Vec<_> = (0..20)
            .map(|i| {
                create_subprocess_shell(format!("exit {i}"))
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (i, c) in children.iter().enumerate() {
            assert_eq!(c.wait().await.unwrap().code(), Some(i as i32));
        }
    });
}

// A child outliving the runtime that watched it: `wait` reports the
// runtime's end instead of hanging, and the child can still be killed.
#[test]
fn wait_after_the_watching_runtime_shut_down_is_an_error() {
    watchdog(LONG, || {
        let first = rt(1);
        let child =
            first.block_on(async { create_subprocess_exec("sleep", &["1000"]).spawn().unwrap() });
        drop(first);
        rt(1).block_on(async {
            let err = child.wait().await.unwrap_err();
            assert!(err.to_string().contains("shut down"), "{err}");
        });
        child.kill().unwrap();
        // Not reaped by corio any more: reap it here.
        let pid = child.id().unwrap() as libc::pid_t;
        // SAFETY: waiting for our own child, just killed.
        assert_eq!(unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) }, pid);
    });
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<corio::process::Child>();
    send::<Command>();
}
