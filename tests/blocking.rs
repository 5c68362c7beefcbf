//! The blocking pool: `to_thread` and `EventLoop::run_in_executor`. Ported
//! intent from CPython's `test_asyncio/test_threads.py` (each test names its
//! original where there is one); the pool's growth, retirement and shutdown
//! follow `concurrent.futures.ThreadPoolExecutor` / tokio's blocking pool.

mod common;

use common::*;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn pool_rt(name: &str, max: usize) -> corio::Runtime {
    corio::Builder::new()
        .worker_threads(1)
        .thread_name(name)
        .max_blocking_threads(max)
        .build()
        .unwrap()
}

/// Threads of this process whose name is `name` (as `/proc` shows it:
/// truncated to 15 bytes).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// The scheduler states (`R`, `S`, ...) of this process's threads named
/// `name`.
fn thread_states(name: &str) -> Vec<char> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
            if comm.trim_end() != name {
                return None;
            }
            // `pid (comm) S ...`: the state follows the last ')'.
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            stat[stat.rfind(')')? + 1..].trim_start().chars().next()
        })
        .collect()
}

/// Starts `f` with `to_thread` from inside `rt`; returns its task unawaited.
#[allow(clippy::async_yields_async)] // The `Task` is the result, awaited later.
fn start<R: Send + 'static>(
    rt: &corio::Runtime,
    f: impl FnOnce() -> R + Send + 'static,
) -> corio::Task<R> {
    rt.block_on(async move { corio::to_thread(f) })
}

/// A call that blocks its pool thread until released, and reports when it
/// has started.
struct Blocker {
    started: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

fn blocker() -> (Blocker, impl FnOnce() + Send + 'static) {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let f = move || {
        started_tx.send(()).unwrap();
        // A dropped sender releases too (a failing test must not leave the
        // thread blocked).
        let _ = release_rx.recv();
    };
    (Blocker { started, release }, f)
}

impl Blocker {
    fn wait_started(&self) {
        self.started
            .recv_timeout(LONG)
            .expect("the blocking call did not start");
    }
    fn release(&self) {
        let _ = self.release.send(());
    }
}

// test_threads.py::test_to_thread
#[test]
fn to_thread_returns_the_value() {
    watchdog(LONG, || {
        let rt = rt(1);
        let v = rt.block_on(async { corio::to_thread(|| [40, 2].iter().sum::<i32>()).await });
        assert_eq!(v.unwrap(), 42);
    });
}

// test_threads.py::test_to_thread_exception
#[test]
fn to_thread_panic_becomes_a_join_error() {
    watchdog(LONG, || {
        let rt = rt(1);
        let err = rt
            .block_on(async { corio::to_thread(|| -> u8 { panic!("test") }).await })
            .unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert!(!err.is_cancelled());
        assert_eq!(panic_message(&*err.into_panic()), "test");
        // The pool survives a panicking call.
        let v = rt.block_on(async { corio::to_thread(|| 7).await });
        assert_eq!(v.unwrap(), 7);
    });
}

// test_threads.py::test_to_thread_once / test_to_thread_concurrent: each
// call runs exactly once, beyond the cap too.
#[test]
fn many_calls_each_run_once() {
    watchdog(LONG, || {
        let rt = pool_rt("once", 2);
        let count = Arc::new(AtomicUsize::new(0));
        let outs = rt.block_on(async {
            let tasks: Vec<_> = (0..20)
                .map(|i| {
                    let count = count.clone();
                    corio::to_thread(move || {
                        count.fetch_add(1, SeqCst);
                        i
                    })
                })
                .collect();
            let mut outs = Vec::new();
            for t in tasks {
                outs.push(t.await.unwrap());
            }
            outs
        });
        assert_eq!(outs, (0..20).collect::<Vec<_>>());
        assert_eq!(count.load(SeqCst), 20);
    });
}

#[test]
fn calls_run_on_pool_threads_not_workers() {
    watchdog(LONG, || {
        let rt = pool_rt("offw", 4);
        let (worker, pool, executor) = rt.block_on(async {
            let worker = corio::create_task(async { thread_name() }).await.unwrap();
            let pool = corio::to_thread(thread_name).await.unwrap();
            let executor = corio::get_running_loop()
                .run_in_executor(thread_name)
                .await
                .unwrap();
            (worker, pool, executor)
        });
        assert_eq!(worker, "offw-0");
        assert_eq!(pool, "offw-blocking");
        assert_eq!(executor, "offw-blocking");
    });
}

// Inside a call the runtime is known (Handle::current, create_task) but no
// event loop is running, as in asyncio's executor threads.
#[test]
fn handle_current_and_create_task_work_inside_a_call() {
    watchdog(LONG, || {
        let rt = rt(1);
        let (same_runtime, no_loop, spawned) = rt.block_on(async {
            let outer = corio::Handle::current();
            corio::to_thread(move || {
                let inner = corio::Handle::current();
                // Both handles reach the same runtime: a task spawned through
                // one is listed by the other.
                let gate = Gate::new();
                let g = gate.clone();
                let probe = inner.spawn(async move { g.wait().await });
                let listed = outer.all_tasks().iter().any(|t| t.id() == probe.id());
                gate.open();
                let spawned = corio::create_task(async { 5 });
                (listed, corio::try_get_running_loop().is_none(), spawned)
            })
            .await
            .unwrap()
        });
        assert!(same_runtime);
        assert!(no_loop);
        assert_eq!(rt.block_on(spawned).unwrap(), 5);
    });
}

// A call cancelled while queued never runs (concurrent.futures'
// `Future.cancel` on a pending work item).
#[test]
fn cancel_before_start_never_runs() {
    watchdog(LONG, || {
        let rt = pool_rt("cbs", 1);
        let ran = Flag::new();
        rt.block_on(async {
            let (b, f) = blocker();
            let first = corio::to_thread(f);
            b.wait_started();
            let r = ran.clone();
            let second = corio::to_thread(move || r.set());
            assert!(second.cancel(), "a queued call is not done");
            assert!(!second.is_done(), "still queued behind the first");
            b.release();
            first.await.unwrap();
            let err = second.await.unwrap_err();
            assert!(err.is_cancelled(), "{err}");
            // The pool goes on.
            assert_eq!(corio::to_thread(|| 3).await.unwrap(), 3);
        });
        assert!(!ran.get(), "a call cancelled before it started ran");
    });
}

// Once running, a call cannot be interrupted: cancel is accepted, the call
// finishes, and its task completes with the call's result (to_thread's
// docs).
#[test]
fn cancel_while_running_lets_the_call_finish() {
    watchdog(LONG, || {
        let rt = pool_rt("cwr", 1);
        let res = rt.block_on(async {
            let (started_tx, started) = mpsc::channel();
            let (release, release_rx) = mpsc::channel::<()>();
            let task = corio::to_thread(move || {
                started_tx.send(()).unwrap();
                let _ = release_rx.recv();
                "finished"
            });
            started.recv_timeout(LONG).unwrap();
            assert!(task.cancel());
            release.send(()).unwrap();
            task.await
        });
        assert_eq!(res.unwrap(), "finished");
    });
}

// At the cap, queued calls start in the order they were submitted.
#[test]
fn queued_calls_run_in_fifo_order() {
    watchdog(LONG, || {
        let rt = pool_rt("fifo", 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(async {
            let (b, f) = blocker();
            let first = corio::to_thread(f);
            b.wait_started();
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    let order = order.clone();
                    corio::to_thread(move || order.lock().unwrap().push(i))
                })
                .collect();
            b.release();
            first.await.unwrap();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    });
}

/// Waits until `n` parties arrived, or `LONG` passed (then `false`): a
/// barrier that cannot hang the test.
fn meet(state: &(Mutex<usize>, Condvar), n: usize) -> bool {
    let (count, cv) = state;
    let mut c = count.lock().unwrap();
    *c += 1;
    cv.notify_all();
    let (c, timeout) = cv.wait_timeout_while(c, LONG, |c| *c < n).unwrap();
    drop(c);
    !timeout.timed_out()
}

// The pool grows to the cap: four calls that each wait for all four to be
// running at once all complete.
#[test]
fn pool_grows_to_the_cap() {
    watchdog(LONG * 2, || {
        let rt = pool_rt("grow", 4);
        let state = Arc::new((Mutex::new(0), Condvar::new()));
        let met = rt.block_on(async {
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let state = state.clone();
                    corio::to_thread(move || (meet(&state, 4), thread::current().id()))
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        });
        assert!(met.iter().all(|(m, _)| *m), "4 calls never ran at once");
        let ids: std::collections::HashSet<_> = met.iter().map(|(_, id)| *id).collect();
        assert_eq!(ids.len(), 4);
    });
}

// ... and no further: with a cap of 2, a third call waits for a thread.
#[test]
fn pool_never_exceeds_the_cap() {
    watchdog(LONG, || {
        let rt = pool_rt("cap2", 2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let running = running.clone();
                    let peak = peak.clone();
                    corio::to_thread(move || {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        peak.fetch_max(now, SeqCst);
                        thread::sleep(Duration::from_millis(5));
                        running.fetch_sub(1, SeqCst);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert!(peak.load(SeqCst) <= 2, "peak {}", peak.load(SeqCst));
        assert!(threads_named("cap2-blocking") <= 2);
    });
}

// An idle thread is reused rather than a new one started.
#[test]
fn idle_thread_is_reused() {
    watchdog(LONG, || {
        let rt = pool_rt("reuse", 8);
        let ids = rt.block_on(async {
            let mut ids = Vec::new();
            for _ in 0..5 {
                ids.push(corio::to_thread(|| thread::current().id()).await.unwrap());
                // Submitting while the thread is still on its way back to
                // idle may rightly start another one: wait until it sleeps
                // (the pool thread's only sleep, between calls, is its
                // idle wait).
                assert!(wait_until(LONG, || thread_states("reuse-blocking") == ['S']));
            }
            ids
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
        assert_eq!(threads_named("reuse-blocking"), 1);
    });
}

// An idle thread retires after the keep-alive; the next call starts a new
// one.
#[test]
fn idle_thread_retires_after_keep_alive() {
    watchdog(LONG * 3, || {
        let rt = corio::Builder::new()
            .worker_threads(1)
            .thread_name("bp")
            .thread_keep_alive(Duration::from_millis(50))
            .build()
            .unwrap();
        let name = "bp-blocking";
        assert_eq!(threads_named(name), 0);
        let first = rt
            .block_on(async { corio::to_thread(|| thread::current().id()).await })
            .unwrap();
        assert!(
            wait_until(LONG, || threads_named(name) == 0),
            "the idle pool thread never retired"
        );
        let second = rt
            .block_on(async { corio::to_thread(|| thread::current().id()).await })
            .unwrap();
        assert_ne!(first, second, "a retired thread ran a call");
        assert!(wait_until(LONG, || threads_named(name) == 0));
    });
}

// Dropping the runtime waits for a running call to return.
#[test]
fn runtime_drop_waits_for_a_running_call() {
    watchdog(LONG, || {
        let rt = pool_rt("dropw", 1);
        let done = Flag::new();
        let d = done.clone();
        let (started_tx, started) = mpsc::channel();
        let mut task = rt.spawn(async move {
            corio::to_thread(move || {
                started_tx.send(()).unwrap();
                thread::sleep(Duration::from_millis(100));
                d.set();
                "ok"
            })
            .await
        });
        started.recv_timeout(LONG).unwrap();
        drop(rt);
        assert!(done.get(), "drop returned before the running call did");
        // The thread leaves right after it says so (it is not joined).
        assert!(wait_until(LONG, || threads_named("dropw-blocking") == 0));
        // The outer task was cancelled by shutdown (it was awaiting).
        match poll_once(&mut task) {
            std::task::Poll::Ready(r) => assert!(r.unwrap_err().is_cancelled()),
            std::task::Poll::Pending => panic!("a task outlived its runtime"),
        }
    });
}

// A call's own Task completes with its result when shutdown waited for it.
#[test]
fn call_waited_for_by_shutdown_keeps_its_result() {
    watchdog(LONG, || {
        let rt = pool_rt("keep", 1);
        let (b, f) = blocker();
        let mut task = start(&rt, move || {
            f();
            11
        });
        b.wait_started();
        let releaser = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            b.release();
        });
        drop(rt);
        releaser.join().unwrap();
        match poll_once(&mut task) {
            std::task::Poll::Ready(r) => assert_eq!(r.unwrap(), 11),
            std::task::Poll::Pending => panic!("a call outlived its runtime's shutdown"),
        }
    });
}

// Shutdown cancels the queued calls at once (without waiting for the
// running one), and they never run.
#[test]
fn shutdown_cancels_queued_calls() {
    watchdog(LONG, || {
        let rt = pool_rt("shq", 1);
        let ran = Arc::new(AtomicUsize::new(0));
        let (b, f) = blocker();
        let (first, queued) = rt.block_on(async {
            let first = corio::to_thread(f);
            let queued: Vec<_> = (0..3)
                .map(|_| {
                    let ran = ran.clone();
                    corio::to_thread(move || {
                        ran.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            (first, queued)
        });
        b.wait_started();
        let dropper = thread::spawn(move || drop(rt));
        assert!(
            wait_until(LONG, || queued.iter().all(|t| t.is_done())),
            "queued calls were not cancelled while the running one blocked shutdown"
        );
        assert!(!first.is_done(), "the running call is still blocked");
        b.release();
        dropper.join().unwrap();
        for mut t in queued {
            match poll_once(&mut t) {
                std::task::Poll::Ready(r) => assert!(r.unwrap_err().is_cancelled()),
                std::task::Poll::Pending => panic!("done task pending"),
            }
        }
        assert_eq!(ran.load(SeqCst), 0, "a queued call ran after shutdown");
        assert!(first.is_done());
    });
}

// A call submitted after shutdown (through a kept `EventLoop`) is cancelled
// at once and never runs.
#[test]
fn call_after_shutdown_is_cancelled() {
    watchdog(LONG, || {
        let rt = rt(1);
        let lp = rt.block_on(async { corio::get_running_loop() });
        drop(rt);
        let ran = Flag::new();
        let r = ran.clone();
        let mut task = lp.run_in_executor(move || r.set());
        match poll_once(&mut task) {
            std::task::Poll::Ready(r) => assert!(r.unwrap_err().is_cancelled()),
            std::task::Poll::Pending => panic!("a call submitted after shutdown is pending"),
        }
        assert!(!ran.get());
    });
}

// `shutdown_timeout` does not wait past its timeout for a call that blocks.
#[test]
fn shutdown_timeout_does_not_wait_for_a_blocked_call() {
    watchdog(LONG, || {
        let rt = pool_rt("sht", 1);
        let (b, f) = blocker();
        let done = Flag::new();
        let d = done.clone();
        let task = start(&rt, move || {
            f();
            d.set();
        });
        b.wait_started();
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(50));
        // Only a bound against hanging: the call stays blocked until released.
        assert!(start.elapsed() < LONG);
        assert!(!done.get(), "the blocked call cannot have finished");
        b.release();
        assert!(
            wait_until(LONG, || done.get() && task.is_done()),
            "the released call never finished"
        );
        assert!(wait_until(LONG, || threads_named("sht-blocking") == 0));
    });
}

#[test]
fn run_in_executor_is_to_thread() {
    watchdog(LONG, || {
        let rt = pool_rt("rie", 1);
        rt.block_on(async {
            let lp = corio::get_running_loop();
            assert_eq!(lp.run_in_executor(|| 6 * 7).await.unwrap(), 42);
            let err = lp
                .run_in_executor(|| -> () { panic!("executor boom") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            // The loop handle works from another thread too.
            let lp2 = lp.clone();
            let t = thread::spawn(move || lp2.run_in_executor(thread_name))
                .join()
                .unwrap();
            assert_eq!(t.await.unwrap(), "rie-blocking");
        });
    });
}

#[test]
fn to_thread_outside_a_runtime_panics() {
    let msg = panic_of(|| corio::to_thread(|| ()));
    assert!(
        msg.contains("to_thread must be called from inside a corio runtime"),
        "{msg}"
    );
}

#[test]
fn max_blocking_threads_zero_panics() {
    let msg = panic_of(|| corio::Builder::new().max_blocking_threads(0));
    assert!(msg.contains("max_blocking_threads"), "{msg}");
}

// A detached call (its Task dropped) still runs.
#[test]
fn detached_call_still_runs() {
    watchdog(LONG, || {
        let rt = rt(1);
        let (tx, rx) = mpsc::channel();
        rt.block_on(async move {
            drop(corio::to_thread(move || tx.send(1).unwrap()));
        });
        assert_eq!(rx.recv_timeout(LONG).unwrap(), 1);
    });
}

// The last owner of a runtime may be one of its own blocking calls: the
// drop cannot wait for the thread it runs on, and must not hang.
#[test]
fn runtime_dropped_inside_its_own_call_does_not_hang() {
    watchdog(LONG, || {
        let rt = pool_rt("selfdrop", 2);
        let handle = rt.handle().clone();
        let (tx, rx) = mpsc::channel();
        let (go_tx, go) = mpsc::channel::<()>();
        let task = handle.spawn(async move {
            corio::to_thread(move || {
                go.recv().unwrap();
                drop(rt);
                tx.send("dropped").unwrap();
            })
            .await
        });
        drop(task);
        go_tx.send(()).unwrap();
        assert_eq!(rx.recv_timeout(LONG).unwrap(), "dropped");
        assert!(wait_until(LONG, || threads_named("selfdrop-blocking") == 0));
    });
}
