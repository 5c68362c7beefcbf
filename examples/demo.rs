//! A tour of corio in about five seconds.
//!
//! ```text
//! cargo run --release --example demo                 # one worker per core
//! cargo run --release --example demo -- --workers 4  # or a chosen number
//! ```
//!
//! Each numbered section exercises one part of the runtime and prints what it
//! measured:
//!
//! 1. spawning and joining a million tiny tasks, from a worker and from
//!    outside the runtime;
//! 2. a CPU-bound job split into chunks, spread over the workers by stealing;
//! 3. two tasks waking each other through a hand-made mailbox (wakeup cost);
//! 4. a panicking task reported as a `JoinError`, and a cancelled task whose
//!    destructors run;
//! 5. `spawn_local` tasks sharing an `Rc`;
//! 6. the CPU time the whole process uses while the runtime idles for 1 s;
//! 7. the per-worker counters of `Handle::metrics`.
//!
//! Only corio and `std` are used. Timings are wall-clock times of a single
//! run, so they move with whatever else the machine is doing.

use corio::runtime::RuntimeMetrics;
use corio::{Runtime, Task};
use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Section 1: how many tasks to spawn and join, each way.
const TINY_TASKS: u64 = 1_000_000;
/// Section 2: count the primes below this, ...
const PRIME_LIMIT: u64 = 8_000_000;
/// ... in this many chunks (many more than workers, so that stealing can
/// balance chunks of unequal cost).
const PRIME_CHUNKS: u64 = 64;
/// Section 3: messages each way between the two ping-pong tasks.
const ROUND_TRIPS: u64 = 1_000_000;
/// Worker threads are named `WORKER_NAME-<index>`.
const WORKER_NAME: &str = "corio-worker";

fn main() {
    let workers = parse_args();
    let mut builder = corio::Builder::new().thread_name(WORKER_NAME);
    if let Some(n) = workers {
        builder = builder.worker_threads(n);
    }
    let rt = builder.build().expect("cannot start the runtime's threads");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = rt.handle().metrics().num_workers();
    println!(
        "corio demo: {n} worker thread{} on {cores} core{}\n",
        if n == 1 { "" } else { "s" },
        if cores == 1 { "" } else { "s" }
    );

    let start = Instant::now();
    spawn_and_join(&rt);
    parallel_primes(&rt);
    ping_pong(&rt);
    panic_and_cancel(&rt);
    local_tasks(&rt);
    idle(&rt);
    final_metrics(&rt.handle().metrics());

    // Dropping the runtime cancels whatever is left and joins the workers.
    drop(rt);
    println!(
        "\nruntime shut down; whole demo took {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// `--workers N` is the only flag.
fn parse_args() -> Option<usize> {
    let mut args = std::env::args().skip(1);
    let mut workers = None;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(|n| n.parse::<usize>())) {
            ("--workers", Some(Ok(n))) if n > 0 => workers = Some(n),
            _ => {
                eprintln!("usage: demo [--workers N]   (N >= 1; default: one per core)");
                std::process::exit(2);
            }
        }
    }
    workers
}

// ---------------------------------------------------------------------------
// 1. Spawning
// ---------------------------------------------------------------------------

/// Spawns `TINY_TASKS` tasks that each return their index, awaits them all in
/// order and checks the sum; returns the time taken.
async fn spawn_tiny_tasks() -> Duration {
    let start = Instant::now();
    let tasks: Vec<Task<u64>> = (0..TINY_TASKS)
        .map(|i| corio::create_task(async move { i }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.expect("a tiny task failed");
    }
    assert_eq!(sum, TINY_TASKS * (TINY_TASKS - 1) / 2);
    start.elapsed()
}

fn spawn_and_join(rt: &Runtime) {
    println!(
        "[1] spawn + join {} tiny tasks",
        thousands(TINY_TASKS as usize)
    );
    // From a task running on a worker: each new task goes to the back of that
    // worker's own run queue, and the other workers steal batches of them.
    let on_worker = rt.block_on(async {
        corio::create_task(spawn_tiny_tasks())
            .await
            .expect("the spawning task failed")
    });
    println!(
        "    from a task on a worker:       {:>6.0} ms  ({} tasks/s)",
        millis(on_worker),
        per_second(TINY_TASKS, on_worker)
    );
    // From the thread inside `block_on`, which is not a worker: every task
    // goes through the shared injector queue.
    let from_outside = rt.block_on(spawn_tiny_tasks());
    println!(
        "    from block_on's thread:        {:>6.0} ms  ({} tasks/s, via the injector)",
        millis(from_outside),
        per_second(TINY_TASKS, from_outside)
    );
}

// ---------------------------------------------------------------------------
// 2. CPU-bound work across the workers
// ---------------------------------------------------------------------------

/// Counts the primes in `lo..hi` by trial division: deliberately slow.
fn count_primes(lo: u64, hi: u64) -> u64 {
    let is_prime = |n: u64| {
        if n < 2 {
            return false;
        }
        if n % 2 == 0 {
            return n == 2;
        }
        let mut d = 3;
        while d * d <= n {
            if n % d == 0 {
                return false;
            }
            d += 2;
        }
        true
    };
    (lo..hi).filter(|&n| is_prime(n)).count() as u64
}

/// The index of the worker running the calling code, from its thread name.
fn current_worker() -> Option<usize> {
    let thread = std::thread::current();
    let suffix = thread
        .name()?
        .strip_prefix(WORKER_NAME)?
        .strip_prefix('-')?;
    suffix.parse().ok()
}

fn parallel_primes(rt: &Runtime) {
    println!(
        "\n[2] CPU-bound: count the primes below {} in {} chunks",
        thousands(PRIME_LIMIT as usize),
        PRIME_CHUNKS
    );
    let start = Instant::now();
    let expected = count_primes(0, PRIME_LIMIT);
    let sequential = start.elapsed();

    let before = rt.handle().metrics();
    let start = Instant::now();
    let results = rt.block_on(async {
        // Spawned from one task, the chunks all land in one worker's queue;
        // the others only get them by stealing.
        corio::create_task(async {
            let step = PRIME_LIMIT / PRIME_CHUNKS;
            let chunks: Vec<Task<(u64, Option<usize>)>> = (0..PRIME_CHUNKS)
                .map(|i| {
                    let hi = if i + 1 == PRIME_CHUNKS {
                        PRIME_LIMIT
                    } else {
                        (i + 1) * step
                    };
                    corio::create_task(
                        async move { (count_primes(i * step, hi), current_worker()) },
                    )
                })
                .collect();
            let mut results = Vec::new();
            for chunk in chunks {
                results.push(chunk.await.expect("a chunk failed"));
            }
            results
        })
        .await
        .expect("the splitting task failed")
    });
    let parallel = start.elapsed();
    let after = rt.handle().metrics();

    let total: u64 = results.iter().map(|(count, _)| count).sum();
    assert_eq!(total, expected, "parallel and sequential counts differ");
    println!(
        "    {} primes; one plain thread: {:.2} s, corio: {:.2} s (speed-up {:.2}x)",
        thousands(total as usize),
        sequential.as_secs_f64(),
        parallel.as_secs_f64(),
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
    for (i, (b, a)) in before.workers().iter().zip(after.workers()).enumerate() {
        let chunks = results.iter().filter(|(_, w)| *w == Some(i)).count();
        println!(
            "    worker {i}: ran {chunks:>2} chunks; polls +{}, steals +{} (a steal takes a batch)",
            a.polls - b.polls,
            a.steals - b.steals
        );
    }
}

// ---------------------------------------------------------------------------
// 3. Ping-pong: the cost of a wakeup
// ---------------------------------------------------------------------------

/// A one-value mailbox: the smallest channel through which two tasks can wake
/// each other. `send` stores the value and wakes the waiting receiver;
/// `recv` takes the value or registers the receiver's waker.
#[derive(Default)]
struct Mailbox {
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    value: Option<u64>,
    waker: Option<Waker>,
}

impl Mailbox {
    fn send(&self, value: u64) {
        let waker = {
            let mut slot = self.slot.lock().unwrap();
            assert!(slot.value.is_none(), "mailbox already full");
            slot.value = Some(value);
            slot.waker.take()
        };
        // Wake outside the lock: the woken task may run at once elsewhere.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn recv(&self) -> impl Future<Output = u64> + '_ {
        poll_fn(move |cx| {
            let mut slot = self.slot.lock().unwrap();
            if let Some(value) = slot.value.take() {
                return Poll::Ready(value);
            }
            slot.waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

fn ping_pong(rt: &Runtime) {
    println!(
        "\n[3] ping-pong: two tasks exchange {} messages each way",
        thousands(ROUND_TRIPS as usize)
    );
    let to_pong = Arc::new(Mailbox::default());
    let to_ping = Arc::new(Mailbox::default());
    let before = rt.handle().metrics();
    let elapsed = rt.block_on(async {
        let pong = {
            let (inbox, outbox) = (to_pong.clone(), to_ping.clone());
            corio::create_task(async move {
                for _ in 0..ROUND_TRIPS {
                    let n = inbox.recv().await;
                    outbox.send(n + 1);
                }
            })
        };
        let ping = corio::create_task(async move {
            let start = Instant::now();
            let mut n = 0;
            for _ in 0..ROUND_TRIPS {
                to_pong.send(n);
                n = to_ping.recv().await;
            }
            assert_eq!(n, ROUND_TRIPS);
            start.elapsed()
        });
        pong.await.expect("pong failed");
        ping.await.expect("ping failed")
    });
    let polls = total_polls(&rt.handle().metrics()) - total_polls(&before);
    // Each round trip is two wakeups (ping wakes pong, pong wakes ping), and
    // each wakeup is one more poll of the woken task.
    println!(
        "    {:.0} ms: {} round trips/s, {} wakeups/s ({} polls in all)",
        millis(elapsed),
        per_second(ROUND_TRIPS, elapsed),
        per_second(2 * ROUND_TRIPS, elapsed),
        thousands(polls as usize)
    );
}

// ---------------------------------------------------------------------------
// 4. Panics and cancellation
// ---------------------------------------------------------------------------

/// Sets its flag when dropped: shows that a cancelled task's future (and
/// everything it owns) is really dropped.
struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn panic_and_cancel(rt: &Runtime) {
    println!("\n[4] panic isolation and cancellation");
    rt.block_on(async {
        // A panic inside a task is caught by the worker and handed to
        // whoever awaits the task. Silence the default hook meanwhile, so the
        // demo's output shows the `JoinError` rather than a backtrace note.
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let failed = corio::create_task(async {
            panic!("deliberate failure");
        });
        let err = failed.await.expect_err("the task should have panicked");
        std::panic::set_hook(default_hook);
        let next = corio::create_task(async { 6 * 7 }).await.unwrap();
        println!("    awaiting a panicking task gives: {err}");
        println!(
            "    (is_panic: {}); the runtime carries on: the next task returned {next}",
            err.is_panic()
        );

        // A named task that waits forever, owning a guard.
        let started = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        let mut sleeper = {
            let (started, guard) = (started.clone(), DropGuard(dropped.clone()));
            corio::task::Builder::new()
                .name("sleeper")
                .spawn(async move {
                    let _guard = guard;
                    started.store(true, Ordering::SeqCst);
                    std::future::pending::<()>().await
                })
        };
        while !started.load(Ordering::SeqCst) {
            corio::yield_now().await;
        }
        let info = corio::all_tasks()
            .into_iter()
            .find(|t| t.id() == sleeper.id())
            .expect("the sleeper is listed by all_tasks");
        println!(
            "    all_tasks() lists task {} {:?}: {:?}, spawned at {}",
            info.id(),
            info.name().unwrap_or("?"),
            info.state(),
            info.location()
        );
        // Cancelling drops the future at its next scheduling point; awaiting
        // the handle then reports the cancellation.
        let was_pending = sleeper.cancel();
        let err = (&mut sleeper).await.expect_err("cancelled");
        println!(
            "    cancel() -> {was_pending}; await -> \"{err}\"; is_cancelled: {}; guard dropped: {}",
            sleeper.is_cancelled(),
            dropped.load(Ordering::SeqCst)
        );
    });
}

// ---------------------------------------------------------------------------
// 5. Local tasks
// ---------------------------------------------------------------------------

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

fn local_tasks(rt: &Runtime) {
    println!("\n[5] spawn_local: !Send tasks that never leave their thread");
    rt.block_on(async {
        // Three tasks share an `Rc<RefCell<..>>` (neither is `Send`) and
        // take turns on this thread, the one inside `block_on`.
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<Task<String>> = (0..3)
            .map(|id| {
                let log = log.clone();
                corio::spawn_local(async move {
                    for step in 0..3 {
                        log.borrow_mut().push(format!("{id}.{step}"));
                        corio::yield_now().await;
                    }
                    thread_name()
                })
            })
            .collect();
        let mut threads = Vec::new();
        for task in tasks {
            threads.push(task.await.expect("a local task failed"));
        }
        threads.dedup();
        println!(
            "    3 tasks sharing an Rc ran on thread {threads:?}, taking turns: {}",
            log.borrow().join(" ")
        );
        println!(
            "    Rc strong count afterwards: {} (every clone dropped on its own thread)",
            Rc::strong_count(&log)
        );

        // On a worker, `spawn_local` pins the task to that worker: it is
        // never stolen, however busy the worker is.
        let (outer, inner) = corio::create_task(async {
            let outer = thread_name();
            let local = corio::spawn_local(async {
                let counter = Rc::new(RefCell::new(0));
                for _ in 0..100 {
                    *counter.borrow_mut() += 1;
                    corio::yield_now().await;
                }
                let count = *counter.borrow();
                (thread_name(), count)
            });
            (outer, local.await.expect("the pinned task failed"))
        })
        .await
        .expect("the spawning task failed");
        println!(
            "    a task on {outer} spawned a local task; it yielded 100 times and stayed on {}",
            inner.0
        );
    });
}

// ---------------------------------------------------------------------------
// 6. Idle
// ---------------------------------------------------------------------------

/// CPU time (user + system) used so far by the live threads of this process.
///
/// Sums each thread's `/proc/self/task/<tid>/schedstat` (nanoseconds on the
/// CPU); falls back to `/proc/self/stat` (clock ticks, assumed 100 per
/// second). `None` where neither exists (not Linux).
fn process_cpu_time() -> Option<Duration> {
    let from_schedstat = || -> Option<Duration> {
        let mut total = 0u64;
        for entry in std::fs::read_dir("/proc/self/task").ok()? {
            let path = entry.ok()?.path().join("schedstat");
            let text = std::fs::read_to_string(path).ok()?;
            total += text.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(Duration::from_nanos(total))
    };
    let from_stat = || -> Option<Duration> {
        let text = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name; utime and stime are
        // fields 14 and 15 of the whole line, i.e. 12 and 13 after it.
        let rest = &text[text.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ticks * 10))
    };
    from_schedstat().or_else(from_stat)
}

fn idle(rt: &Runtime) {
    println!("\n[6] idle: nothing to run for 1 s");
    // Give the workers a moment to find no work and park.
    std::thread::sleep(Duration::from_millis(100));
    let before = rt.handle().metrics();
    let cpu_before = process_cpu_time();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let wall = start.elapsed();
    let cpu_after = process_cpu_time();
    let after = rt.handle().metrics();

    let parks = |m: &RuntimeMetrics| m.workers().iter().map(|w| w.parks).sum::<u64>();
    match (cpu_before, cpu_after) {
        (Some(b), Some(a)) => println!(
            "    process CPU time over {:.2} s of wall time: {:.3} ms",
            wall.as_secs_f64(),
            millis(a.saturating_sub(b))
        ),
        _ => println!("    process CPU time: not available on this OS"),
    }
    println!(
        "    workers awake: {} of {}; new parks meanwhile: {}",
        after.unparked_workers,
        after.num_workers(),
        parks(&after) - parks(&before)
    );
}

// ---------------------------------------------------------------------------
// 7. Metrics
// ---------------------------------------------------------------------------

fn final_metrics(m: &RuntimeMetrics) {
    println!("\n[7] worker counters (Handle::metrics)");
    println!(
        "    {:>6} {:>12} {:>8} {:>8} {:>6}",
        "worker", "polls", "steals", "parks", "queue"
    );
    for (i, w) in m.workers().iter().enumerate() {
        println!(
            "    {:>6} {:>12} {:>8} {:>8} {:>6}",
            i,
            thousands(w.polls as usize),
            thousands(w.steals as usize),
            thousands(w.parks as usize),
            w.local_queue_depth
        );
    }
    println!(
        "    injector depth {}, live tasks {}, workers awake {}, searching {}",
        m.injector_depth, m.live_tasks, m.unparked_workers, m.searching_workers
    );
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

fn total_polls(m: &RuntimeMetrics) -> u64 {
    m.workers().iter().map(|w| w.polls).sum()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `count` per `elapsed`, in a short human form: "2.41 M".
fn per_second(count: u64, elapsed: Duration) -> String {
    let rate = count as f64 / elapsed.as_secs_f64().max(1e-9);
    if rate >= 1e6 {
        format!("{:.2} M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} k", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}

/// 1234567 -> "1,234,567".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
