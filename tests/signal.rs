//! `corio::signal` and `EventLoop::add_signal_handler`.
//!
//! Signal dispositions are process-wide, and the tests of one binary run on
//! parallel threads: every test here uses its own signal, and a signal is
//! raised only while something listens to it (or its default is "ignore").
//! Ported intent from CPython's `test_asyncio/test_unix_events.py`
//! (`SelectorEventLoopSignalTests`) and `test_asyncio/test_events.py`
//! (`test_add_signal_handler`, `test_remove_signal_handler`).

mod common;

use common::{rt, watchdog, LONG};
use corio::signal::{signal, SignalKind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

fn raise(sig: i32) {
    // SAFETY: every caller listens to `sig` (or its default is to ignore).
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

fn disposition(sig: i32) -> usize {
    // SAFETY: zeroed is a valid sigaction; a null `act` only reads.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) },
        0
    );
    old.sa_sigaction
}

/// Raises `sig` until `task` finishes: the task subscribes at its first
/// poll, which the test cannot observe, so one early raise could miss it (a
/// guard receiver kept by the caller makes the extra raises harmless).
async fn raise_until_done<T: Send + 'static>(sig: i32, mut task: corio::Task<T>) -> T {
    loop {
        raise(sig);
        if let Ok(out) = corio::wait_for(&mut task, Duration::from_millis(20)).await {
            return out.unwrap();
        }
    }
}

// test_unix_events: test_add_signal_handler (the delivery half), with tokio's
// shape: a raised signal reaches `recv`.
#[test]
fn raised_signal_reaches_recv() {
    watchdog(LONG, || {
        rt(2).block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            assert_eq!(usr1.kind(), SignalKind::user_defined1());
            raise(libc::SIGUSR1);
            assert_eq!(usr1.recv().await, Some(()));
            // A second delivery after the first was consumed comes too.
            raise(libc::SIGUSR1);
            assert_eq!(usr1.recv().await, Some(()));
        })
    });
}

// Every receiver gets each delivery, in any runtime; one runtime shutting
// down does not stop delivery to receivers of another.
#[test]
fn every_receiver_in_every_runtime_gets_the_signal() {
    watchdog(LONG, || {
        let a = rt(1);
        let b = rt(1);
        let mut in_a = signal(SignalKind::from_raw(libc::SIGRTMIN() + 2)).unwrap();
        let mut in_b = signal(SignalKind::from_raw(libc::SIGRTMIN() + 2)).unwrap();
        let mut in_b2 = signal(SignalKind::from_raw(libc::SIGRTMIN() + 2)).unwrap();
        // Register `in_a` with runtime a's loop, then shut a down.
        a.block_on(async {
            let res = corio::wait_for(in_a.recv(), Duration::from_millis(1)).await;
            assert!(res.is_err(), "nothing was raised yet");
        });
        drop(a);
        raise(libc::SIGRTMIN() + 2);
        b.block_on(async {
            assert_eq!(in_b.recv().await, Some(()));
            assert_eq!(in_b2.recv().await, Some(()));
        });
        drop(in_a);
    });
}

// test_events: test_add_signal_handler: the callback runs on the loop it
// was added to.
#[test]
fn add_signal_handler_runs_callback_on_its_loop() {
    watchdog(LONG, || {
        rt(2).block_on(async {
            let lp = corio::get_running_loop();
            let calls = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(corio::sync::Event::new());
            let here = std::thread::current().id();
            let (c, d) = (calls.clone(), done.clone());
            lp.add_signal_handler(libc::SIGUSR2, move || {
                assert_eq!(std::thread::current().id(), here, "callback off its loop");
                c.fetch_add(1, SeqCst);
                d.set();
            })
            .unwrap();
            raise(libc::SIGUSR2);
            done.wait().await;
            assert!(calls.load(SeqCst) >= 1);
            assert!(lp.remove_signal_handler(libc::SIGUSR2));
            assert!(!lp.remove_signal_handler(libc::SIGUSR2));
        })
    });
}

// test_events: test_remove_signal_handler: after removal the callback is not
// called again, and replacing a handler drops the old callback.
#[test]
fn remove_signal_handler_stops_callback() {
    // SIGURG's default action is to ignore it, so raising it with no
    // handler left is harmless.
    let sig = libc::SIGURG;
    watchdog(LONG, move || {
        rt(2).block_on(async move {
            let lp = corio::get_running_loop();
            let old_calls = Arc::new(AtomicUsize::new(0));
            let calls = Arc::new(AtomicUsize::new(0));
            let c = old_calls.clone();
            lp.add_signal_handler(sig, move || {
                c.fetch_add(1, SeqCst);
            })
            .unwrap();
            let (c, seen) = (calls.clone(), Arc::new(corio::sync::Event::new()));
            let s = seen.clone();
            lp.add_signal_handler(sig, move || {
                c.fetch_add(1, SeqCst);
                s.set();
            })
            .unwrap();
            let mut witness = signal(SignalKind::from_raw(sig)).unwrap();
            raise(sig);
            seen.wait().await;
            assert_eq!(witness.recv().await, Some(()));
            assert_eq!(old_calls.load(SeqCst), 0, "the replaced callback ran");
            assert!(lp.remove_signal_handler(sig));
            let before = calls.load(SeqCst);
            raise(sig);
            assert_eq!(witness.recv().await, Some(()));
            // Let the loop run whatever it had queued.
            for _ in 0..10 {
                let done = corio::sync::Promise::new();
                let d = done.clone();
                lp.call_soon(move || {
                    let _ = d.set_result(());
                });
                done.await.unwrap();
            }
            assert_eq!(calls.load(SeqCst), before, "removed callback ran");
            // With no handler and no receiver left, SIGURG's previous
            // disposition (the default) comes back.
            drop(witness);
            while disposition(sig) != libc::SIG_DFL {
                corio::sleep(Duration::from_millis(1)).await;
            }
        })
    });
}

#[test]
fn forbidden_and_invalid_signals_are_refused() {
    watchdog(LONG, || {
        rt(1).block_on(async {
            let lp = corio::get_running_loop();
            for sig in [
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGFPE,
                libc::SIGILL,
                0,
                -1,
                100_000,
            ] {
                let err = signal(SignalKind::from_raw(sig)).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{sig}: {err}");
                let err = lp.add_signal_handler(sig, || ()).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{sig}: {err}");
                assert!(!lp.remove_signal_handler(sig));
            }
        })
    });
}

// ctrl_c() completes on SIGINT.
#[test]
fn ctrl_c_completes_on_sigint() {
    watchdog(LONG, || {
        rt(2).block_on(async {
            // Keeps SIGINT handled for the whole test, so that a raise before
            // ctrl_c subscribes (or after it returns) kills nothing.
            let _guard = signal(SignalKind::interrupt()).unwrap();
            let task = corio::spawn(corio::signal::ctrl_c());
            raise_until_done(libc::SIGINT, task).await.unwrap();
        })
    });
}

static CHAINED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn counting_handler(_: libc::c_int) {
    CHAINED.fetch_add(1, SeqCst);
}

// A handler installed before corio's is still called (chained), and is put
// back when the last receiver goes.
#[test]
fn previous_handler_is_chained_then_restored() {
    let sig = libc::SIGRTMIN() + 3;
    // SAFETY: `counting_handler` is async-signal-safe (one atomic add).
    let prev = unsafe { libc::signal(sig, counting_handler as *const () as usize) };
    assert_ne!(prev, libc::SIG_ERR);
    watchdog(LONG, move || {
        rt(1).block_on(async move {
            let mut s = signal(SignalKind::from_raw(sig)).unwrap();
            assert_ne!(disposition(sig), counting_handler as *const () as usize);
            raise(sig);
            assert_eq!(s.recv().await, Some(()));
            assert_eq!(CHAINED.load(SeqCst), 1, "previous handler not chained");
            drop(s);
            assert_eq!(disposition(sig), counting_handler as *const () as usize);
            raise(sig);
            assert_eq!(CHAINED.load(SeqCst), 2);
        })
    });
}

// SIGPIPE never kills a corio program: building a runtime ignores it, so a
// write with no reader is an EPIPE error.
#[test]
fn sigpipe_is_ignored_once_a_runtime_is_built() {
    // SAFETY: restoring the default disposition of SIGPIPE; no other test of
    // this binary writes to a broken pipe.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let runtime = rt(1);
    assert_eq!(disposition(libc::SIGPIPE), libc::SIG_IGN);
    watchdog(LONG, move || {
        runtime.block_on(async {
            let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = corio::net::TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            drop(server);
            // The first write may be accepted before the reset comes back;
            // keep writing until the error shows.
            let mut err = None;
            for _ in 0..1000 {
                if let Err(e) = client.write_all(&[0u8; 4096]).await {
                    err = Some(e);
                    break;
                }
                corio::sleep(Duration::from_millis(1)).await;
            }
            let err = err.expect("writes to a closed peer never failed");
            assert!(
                matches!(
                    err.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                ),
                "{err}"
            );
            // And a raw pipe, where nothing but the disposition prevents the
            // signal (sockets may use MSG_NOSIGNAL).
            let mut fds = [0; 2];
            // SAFETY: `fds` is a valid array of two ints.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            // SAFETY: closing the read end we own; writing one byte from a
            // valid buffer to the write end we own, then closing it.
            let (n, err) = unsafe {
                libc::close(fds[0]);
                let n = libc::write(fds[1], b"x".as_ptr().cast(), 1);
                let err = std::io::Error::last_os_error();
                libc::close(fds[1]);
                (n, err)
            };
            assert_eq!(n, -1);
            assert_eq!(err.raw_os_error(), Some(libc::EPIPE));
        })
    });
}
