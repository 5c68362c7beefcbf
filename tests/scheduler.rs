//! Scheduling behaviour: yielding, FIFO order of outside work, LIFO-slot
//! fairness, wakeups from foreign threads reaching sleeping workers, deep and
//! wide spawn trees, and the metrics that show it.

mod common;

use common::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Occupies the only worker of a 1-worker runtime until the returned sender
/// is dropped; returns once the blocker is running.
fn block_worker(rt: &corio::Runtime) -> mpsc::Sender<()> {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    drop(rt.spawn(async move {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(LONG);
    }));
    started_rx
        .recv_timeout(LONG)
        .expect("blocker never started");
    release_tx
}

fn alternates(log: &[(usize, usize)]) -> bool {
    log.windows(2).all(|w| w[0].0 != w[1].0)
}

#[test]
fn yield_now_lets_other_tasks_run_interleaved() {
    watchdog(LONG, || {
        let rt = rt(1);
        let log: Arc<Mutex<Vec<(usize, usize)>>> = Default::default();
        rt.block_on({
            let log = log.clone();
            async move {
                corio::create_task(async move {
                    let tasks: Vec<_> = (0..2)
                        .map(|who| {
                            let log = log.clone();
                            corio::create_task(async move {
                                for i in 0..5 {
                                    log.lock().unwrap().push((who, i));
                                    corio::yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
                .await
                .unwrap()
            }
        });
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 10);
        assert!(
            alternates(&log),
            "yield_now did not let the other task run: {log:?}"
        );
    });
}

#[test]
fn without_yield_now_tasks_run_to_completion_one_after_the_other() {
    // The control for the test above: same setup, no yield, no interleaving.
    let rt = rt(1);
    let log: Arc<Mutex<Vec<(usize, usize)>>> = Default::default();
    rt.block_on({
        let log = log.clone();
        async move {
            corio::create_task(async move {
                let tasks: Vec<_> = (0..2)
                    .map(|who| {
                        let log = log.clone();
                        corio::create_task(async move {
                            for i in 0..5 {
                                log.lock().unwrap().push((who, i));
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
            .await
            .unwrap()
        }
    });
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 10);
    assert_eq!(log.windows(2).filter(|w| w[0].0 != w[1].0).count(), 1);
}

/// `block_on`'s own future and a local task on the same thread, both
/// yielding: each `yield_now` must give the other a turn (asyncio: the main
/// coroutine is a task like any other).
#[test]
fn yield_now_alternates_block_on_future_and_local_task() {
    let rt = rt(1);
    let log: Arc<Mutex<Vec<(usize, usize)>>> = Default::default();
    rt.block_on({
        let log = log.clone();
        async move {
            let l = log.clone();
            let local = corio::spawn_local(async move {
                for i in 0..3 {
                    l.lock().unwrap().push((1, i));
                    corio::yield_now().await;
                }
            });
            for i in 0..3 {
                log.lock().unwrap().push((0, i));
                corio::yield_now().await;
            }
            local.await.unwrap();
        }
    });
    let log = log.lock().unwrap();
    assert!(
        alternates(&log[..6]),
        "a yielding local task ran again before the (woken) block_on future: {log:?}"
    );
}

#[test]
fn tasks_spawned_from_outside_run_in_fifo_order_on_one_worker() {
    watchdog(LONG, || {
        let rt = rt(1);
        for _round in 0..3 {
            let release = block_worker(&rt);
            let order = Arc::new(Mutex::new(Vec::new()));
            let tasks: Vec<_> = (0..200)
                .map(|i| {
                    let order = order.clone();
                    rt.spawn(async move { order.lock().unwrap().push(i) })
                })
                .collect();
            drop(release);
            rt.block_on(async {
                for t in tasks {
                    t.await.unwrap();
                }
            });
            let order = order.lock().unwrap();
            let expected: Vec<_> = (0..200).collect();
            assert_eq!(*order, expected, "outside tasks did not run in FIFO order");
        }
    });
}

#[test]
fn tasks_spawned_from_a_task_start_in_creation_order_on_one_worker() {
    watchdog(LONG, || {
        let rt = rt(1);
        let order = rt.block_on(async {
            corio::create_task(async {
                let order = Arc::new(Mutex::new(Vec::new()));
                let tasks: Vec<_> = (0..100)
                    .map(|i| {
                        let order = order.clone();
                        corio::create_task(async move { order.lock().unwrap().push(i) })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                Arc::try_unwrap(order).unwrap().into_inner().unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(order, (0..100).collect::<Vec<_>>(), "not in creation order");
    });
}

#[test]
fn tasks_woken_in_one_poll_run_in_wake_order_on_one_worker() {
    watchdog(LONG, || {
        let rt = rt(1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let gates: Vec<Gate> = (0..10).map(|_| Gate::new()).collect();
        let waiters: Vec<_> = gates
            .iter()
            .enumerate()
            .map(|(i, gate)| {
                let (gate, order) = (gate.clone(), order.clone());
                rt.spawn(async move {
                    gate.wait().await;
                    order.lock().unwrap().push(i);
                })
            })
            .collect();
        assert!(wait_until(LONG, || gates
            .iter()
            .all(|g| g.pending_polls() > 0)));
        // Wake them all from one poll of one task, in a scrambled order.
        let wake_order = vec![3, 7, 0, 9, 1, 8, 2, 6, 4, 5];
        rt.block_on({
            let (gates, wake_order) = (gates.clone(), wake_order.clone());
            async move {
                corio::create_task(async move {
                    for i in wake_order {
                        gates[i].open();
                    }
                })
                .await
                .unwrap();
                for w in waiters {
                    w.await.unwrap();
                }
            }
        });
        assert_eq!(
            *order.lock().unwrap(),
            wake_order,
            "woken tasks ran out of wake order"
        );
    });
}

/// Two tasks that wake each other forever (through the LIFO slot), until
/// told to stop or a bound is hit.
struct PingPong {
    me: usize,
    wakers: Arc<Mutex<[Option<Waker>; 2]>>,
    bounces: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    limit: usize,
    /// Spawns the third task once the ping-pong is going.
    spawn_third: Option<Box<dyn FnOnce() + Send>>,
}

impl Future for PingPong {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let n = self.bounces.fetch_add(1, SeqCst);
        let other = {
            let mut w = self.wakers.lock().unwrap();
            w[self.me] = Some(cx.waker().clone());
            w[1 - self.me].take()
        };
        if self.stop.load(SeqCst) || n >= self.limit {
            if let Some(w) = other {
                w.wake();
            }
            return Poll::Ready(());
        }
        if n >= 20 {
            if let Some(f) = self.spawn_third.take() {
                f();
            }
        }
        if let Some(w) = other {
            w.wake();
        }
        Poll::Pending
    }
}

#[test]
fn ping_pong_through_the_lifo_slot_cannot_starve_a_third_task() {
    watchdog(LONG, || {
        const LIMIT: usize = 200_000;
        let rt = rt(1);
        let wakers: Arc<Mutex<[Option<Waker>; 2]>> = Default::default();
        let bounces = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let third_saw = Arc::new(Mutex::new(None));
        let spawn_third: Box<dyn FnOnce() + Send> = {
            let (bounces, stop, third_saw) = (bounces.clone(), stop.clone(), third_saw.clone());
            Box::new(move || {
                // Spawned from inside the ping-pong, on the same worker.
                drop(corio::create_task(async move {
                    *third_saw.lock().unwrap() = Some(bounces.load(SeqCst));
                    stop.store(true, SeqCst);
                }));
            })
        };
        rt.block_on({
            let (wakers, bounces, stop) = (wakers.clone(), bounces.clone(), stop.clone());
            async move {
                corio::create_task(async move {
                    let a = corio::create_task(PingPong {
                        me: 0,
                        wakers: wakers.clone(),
                        bounces: bounces.clone(),
                        stop: stop.clone(),
                        limit: LIMIT,
                        spawn_third: Some(spawn_third),
                    });
                    let b = corio::create_task(PingPong {
                        me: 1,
                        wakers,
                        bounces,
                        stop,
                        limit: LIMIT,
                        spawn_third: None,
                    });
                    a.await.unwrap();
                    b.await.unwrap();
                })
                .await
                .unwrap()
            }
        });
        let saw = third_saw.lock().unwrap().expect("the third task never ran");
        assert!(
            saw < LIMIT / 2,
            "the third task only ran after {saw} ping-pong bounces: starved by the LIFO slot"
        );
    });
}

#[test]
fn outside_work_is_not_starved_by_a_busy_worker_with_local_work() {
    // A task that keeps re-spawning local work must not keep a task from the
    // injector waiting forever.
    watchdog(LONG, || {
        let rt = rt(1);
        let stop = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let busy = {
            let (stop, spins) = (stop.clone(), spins.clone());
            rt.spawn(async move {
                while !stop.load(SeqCst) && spins.load(SeqCst) < 1_000_000 {
                    let s = spins.clone();
                    corio::create_task(async move {
                        s.fetch_add(1, SeqCst);
                    })
                    .await
                    .unwrap();
                }
            })
        };
        assert!(wait_until(LONG, || spins.load(SeqCst) > 100));
        let outside = {
            let (stop, spins) = (stop.clone(), spins.clone());
            rt.spawn(async move {
                stop.store(true, SeqCst);
                spins.load(SeqCst)
            })
        };
        let saw = rt.block_on(outside).unwrap();
        assert!(
            saw < 1_000_000,
            "outside task starved until the busy loop ended"
        );
        rt.block_on(busy).unwrap();
    });
}

#[test]
fn a_foreign_thread_wakeup_reaches_a_parked_worker() {
    watchdog(LONG, || {
        let rt = rt(2);
        let handle = rt.handle().clone();
        let gate = Gate::new();
        let (tx, rx) = mpsc::channel();
        drop(rt.spawn({
            let gate = gate.clone();
            async move {
                gate.wait().await;
                tx.send(thread_name()).unwrap();
            }
        }));
        assert!(wait_until(LONG, || gate.pending_polls() > 0));
        // Let the whole runtime go to sleep.
        assert!(
            wait_all_parked(&handle),
            "workers never parked: {:?}",
            handle.metrics()
        );
        let parks_before = total_parks(&handle);
        thread::sleep(Duration::from_millis(100));
        let m = handle.metrics();
        assert_eq!(m.unparked_workers, 0, "{m:?}");
        // An idle runtime does not keep waking up: its park count is stable.
        assert_eq!(
            total_parks(&handle),
            parks_before,
            "parked workers woke without work"
        );
        let opener = {
            let gate = gate.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                gate.open();
            })
        };
        let name = rx
            .recv_timeout(LONG)
            .expect("a wakeup from a foreign thread never reached the parked runtime");
        assert!(name.starts_with("corio-worker-"), "{name}");
        opener.join().unwrap();
    });
}

#[test]
fn a_foreign_thread_wakeup_reaches_a_parked_block_on_thread() {
    watchdog(LONG, || {
        let rt = rt(2);
        let gate = Gate::new();
        let opener = {
            let gate = gate.clone();
            thread::spawn(move || {
                assert!(wait_until(LONG, || gate.pending_polls() > 0));
                thread::sleep(Duration::from_millis(100));
                gate.open();
            })
        };
        let start = Instant::now();
        rt.block_on(gate.wait());
        assert!(start.elapsed() >= Duration::from_millis(90));
        opener.join().unwrap();
    });
}

#[test]
fn repeated_sleep_wake_cycles_never_lose_a_wakeup() {
    watchdog(LONG * 2, || {
        let rt = rt(2);
        let handle = rt.handle().clone();
        for round in 0..200 {
            let gate = Gate::new();
            let task = rt.spawn({
                let gate = gate.clone();
                async move {
                    gate.wait().await;
                    round
                }
            });
            assert!(wait_until(LONG, || gate.pending_polls() > 0));
            if round % 20 == 0 {
                // Sometimes let everything sleep first.
                assert!(wait_all_parked(&handle));
            }
            let g = gate.clone();
            let opener = thread::spawn(move || g.open());
            assert_eq!(rt.block_on(task).unwrap(), round);
            opener.join().unwrap();
        }
    });
}

#[test]
fn hundred_tasks_each_spawning_subtasks_complete() {
    watchdog(LONG, || {
        let rt = rt(2);
        let total = rt.block_on(async {
            let parents: Vec<_> = (0..100u64)
                .map(|p| {
                    corio::create_task(async move {
                        let children: Vec<_> = (0..100u64)
                            .map(|c| {
                                corio::create_task(async move {
                                    if c % 10 == 0 {
                                        corio::yield_now().await;
                                    }
                                    p * 100 + c
                                })
                            })
                            .collect();
                        let mut sum = 0;
                        for c in children {
                            sum += c.await.unwrap();
                        }
                        sum
                    })
                })
                .collect();
            let mut total = 0;
            for p in parents {
                total += p.await.unwrap();
            }
            total
        });
        assert_eq!(total, (0..10_000u64).sum::<u64>());
    });
}

fn chain(depth: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return 0;
        }
        corio::create_task(chain(depth - 1)).await.unwrap() + 1
    })
}

#[test]
fn chained_spawns_ten_thousand_deep_awaiting_each_other_complete() {
    watchdog(LONG, || {
        let rt = rt(2);
        let depth = rt.block_on(async { corio::create_task(chain(10_000)).await.unwrap() });
        assert_eq!(depth, 10_000);
    });
}

fn detached_chain(left: u32, done: mpsc::Sender<u32>, count: Arc<AtomicUsize>) {
    drop(corio::create_task(async move {
        count.fetch_add(1, SeqCst);
        if left == 0 {
            done.send(count.load(SeqCst) as u32).unwrap();
        } else {
            detached_chain(left - 1, done, count);
        }
    }));
}

#[test]
fn chained_detached_spawns_ten_thousand_deep_complete() {
    watchdog(LONG, || {
        let rt = rt(2);
        let (tx, rx) = mpsc::channel();
        let count = Arc::new(AtomicUsize::new(0));
        rt.block_on(async move { detached_chain(9_999, tx, count) });
        assert_eq!(rx.recv_timeout(LONG).expect("the chain stopped"), 10_000);
    });
}

#[test]
fn metrics_count_polls() {
    let rt = rt(2);
    let h = rt.handle().clone();
    let before = total_polls(&h);
    rt.block_on(async {
        let tasks: Vec<_> = (0..500)
            .map(|_| {
                corio::create_task(async {
                    corio::yield_now().await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let after = total_polls(&h);
    // Each task is polled at least twice (before and after its yield).
    assert!(
        after - before >= 1000,
        "polls went from {before} to {after}"
    );
    let m = h.metrics();
    assert_eq!(m.num_workers(), 2);
    assert_eq!(m.workers().len(), 2);
    assert!(format!("{m:?}").contains("polls"));
}

#[test]
fn metrics_show_steals_under_load() {
    watchdog(LONG * 2, || {
        let rt = rt(2);
        let h = rt.handle().clone();
        let mut steals = 0;
        for _attempt in 0..20 {
            rt.block_on(async {
                // All spawned from one task, so they start on one worker's queue.
                corio::create_task(async {
                    let tasks: Vec<_> = (0..200)
                        .map(|_| corio::create_task(async { spin_for(Duration::from_micros(100)) }))
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
                .await
                .unwrap()
            });
            steals = total_steals(&h);
            if steals > 0 {
                break;
            }
        }
        assert!(
            steals > 0,
            "no steal recorded under load: {:?}",
            h.metrics()
        );
    });
}

#[test]
fn metrics_parks_increase_when_idle() {
    watchdog(LONG, || {
        let rt = rt(2);
        let h = rt.handle().clone();
        assert!(wait_all_parked(&h));
        let before = total_parks(&h);
        let before_per_worker: Vec<u64> = h.metrics().workers().iter().map(|w| w.parks).collect();
        // Wake both workers with parallel work, then let them sleep again.
        let met = rendezvous(&h, 2);
        assert!(met.iter().all(|m| m.met));
        assert!(wait_all_parked(&h));
        assert!(
            wait_until(LONG, || total_parks(&h) >= before + 2),
            "parks went from {before} to {}",
            total_parks(&h)
        );
        let after: Vec<u64> = h.metrics().workers().iter().map(|w| w.parks).collect();
        for (b, a) in before_per_worker.iter().zip(&after) {
            assert!(a > b, "a worker that ran and went idle did not count a park: {before_per_worker:?} -> {after:?}");
        }
    });
}

#[test]
fn metrics_injector_and_local_queue_depth_are_readable() {
    watchdog(LONG, || {
        let rt = rt(1);
        let h = rt.handle().clone();
        let release = block_worker(&rt);
        assert_eq!(h.metrics().injector_depth, 0);
        let tasks: Vec<_> = (0..10).map(|i| rt.spawn(async move { i })).collect();
        let m = h.metrics();
        assert_eq!(m.injector_depth, 10, "{m:?}");
        assert!(m.live_tasks >= 11, "{m:?}");
        drop(release);
        let sum = rt.block_on(async {
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 45);
        let m = h.metrics();
        assert_eq!(m.injector_depth, 0, "{m:?}");
        assert!(
            wait_until(LONG, || h.metrics().live_tasks == 0),
            "{:?}",
            h.metrics()
        );

        // Local queue depth: a task on the only worker spawns 6 tasks (all
        // go to the back of its run queue) and reports the depth before
        // yielding.
        let depth = rt.block_on(async {
            corio::create_task(async {
                let tasks: Vec<_> = (0..6).map(|_| corio::create_task(async {})).collect();
                let depth = corio::Handle::current().metrics().workers()[0].local_queue_depth;
                for t in tasks {
                    t.await.unwrap();
                }
                depth
            })
            .await
            .unwrap()
        });
        assert!((5..=6).contains(&depth), "local queue depth {depth}");
    });
}

#[test]
fn work_spreads_to_both_workers() {
    watchdog(LONG, || {
        let rt = rt_named(2, "spr");
        let mut names = std::collections::HashSet::new();
        for _ in 0..20 {
            let batch = rt.block_on(async {
                let tasks: Vec<_> = (0..100)
                    .map(|_| {
                        corio::create_task(async {
                            spin_for(Duration::from_micros(200));
                            thread_name()
                        })
                    })
                    .collect();
                let mut names = Vec::new();
                for t in tasks {
                    names.push(t.await.unwrap());
                }
                names
            });
            names.extend(batch);
            if names.len() == 2 {
                break;
            }
        }
        assert_eq!(names.len(), 2, "only {names:?} ran tasks");
    });
}

/// A task that spawns one helper and then computes without awaiting: the
/// helper must run in parallel on the other (sleeping) worker, although one
/// queued task wakes nobody at once (the watch alarm hands it over).
#[test]
fn one_spawned_helper_runs_in_parallel_with_a_busy_parent() {
    let rt = corio::Builder::new().worker_threads(2).build().unwrap();
    for _ in 0..5 {
        // Let both workers go to sleep first.
        std::thread::sleep(Duration::from_millis(20));
        let met = rt.block_on(async {
            corio::create_task(async {
                let started = Arc::new(AtomicBool::new(false));
                let s = started.clone();
                let helper = corio::create_task(async move { s.store(true, SeqCst) });
                // Busy, never awaiting, until the helper has run elsewhere.
                let deadline = Instant::now() + Duration::from_secs(5);
                while !started.load(SeqCst) && Instant::now() < deadline {
                    std::hint::spin_loop();
                }
                let met = started.load(SeqCst);
                helper.await.unwrap();
                met
            })
            .await
            .unwrap()
        });
        assert!(
            met,
            "the spawned helper waited for its busy parent's poll to end"
        );
    }
}
