//! An idle runtime sleeps: it uses (almost) no CPU.
//!
//! Its own test binary, with a single test, so that no other test's threads
//! add to the process-wide CPU time measured with `getrusage(RUSAGE_SELF)`.
#![cfg(unix)]

mod common;

use common::*;
use std::time::Duration;

/// User + system CPU time of the whole process so far.
fn process_cpu_time() -> Duration {
    // SAFETY: `getrusage` only writes the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time the process uses while `f` runs.
fn cpu_during(f: impl FnOnce()) -> Duration {
    let before = process_cpu_time();
    f();
    process_cpu_time() - before
}

const BUDGET: Duration = Duration::from_millis(100);

fn warm_up(rt: &corio::Runtime) {
    let sum = rt.block_on(async {
        let tasks: Vec<_> = (0..10_000u64)
            .map(|i| {
                corio::create_task(async move {
                    if i % 7 == 0 {
                        corio::yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let local = corio::spawn_local(async {
            corio::yield_now().await;
            1
        });
        let mut sum = local.await.unwrap();
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 1 + 10_000 * 9_999 / 2);
    // Also leave a task pending (waiting on a wakeup that never comes): a
    // pending task is not work.
    let gate = Gate::new();
    drop(rt.spawn({
        let gate = gate.clone();
        async move { gate.wait().await }
    }));
    assert!(wait_until(LONG, || gate.pending_polls() > 0));
    std::mem::forget(gate);
}

#[test]
fn an_idle_two_worker_runtime_uses_almost_no_cpu() {
    let rt = rt(2);
    let h = rt.handle().clone();
    warm_up(&rt);
    assert!(
        wait_all_parked(&h),
        "workers never parked: {:?}",
        h.metrics()
    );
    // Let stragglers finish their last search before measuring.
    std::thread::sleep(Duration::from_millis(50));

    // 1. Nobody inside the runtime: the test thread sleeps.
    let used = cpu_during(|| std::thread::sleep(Duration::from_secs(1)));
    assert!(
        used < BUDGET,
        "an idle 2-worker runtime used {used:?} of CPU in 1 s (budget {BUDGET:?}); metrics: {:?}",
        h.metrics()
    );

    // 2. The test thread waits inside block_on for a wakeup that comes from
    //    a sleeping thread after 1 s: the block_on thread sleeps as well.
    let gate = Gate::new();
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            gate.open();
        })
    };
    let used = cpu_during(|| rt.block_on(gate.wait()));
    opener.join().unwrap();
    assert!(
        used < BUDGET,
        "a runtime idle inside block_on used {used:?} of CPU in 1 s (budget {BUDGET:?})"
    );

    // Still works afterwards.
    assert_eq!(
        rt.block_on(async { corio::spawn(async { 1 }).await.unwrap() }),
        1
    );
}
