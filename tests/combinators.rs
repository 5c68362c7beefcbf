//! The combinators: `gather!`, `gather_all`, `try_gather!`, `try_gather_all`,
//! `wait`, `as_completed` and `shield`. Ported in intent from CPython's
//! `test_asyncio/test_tasks.py` (each test names the original); where the
//! semantics differ on purpose (a dropped `Task` is detached, not
//! cancelled), the test checks corio's.

mod common;

use common::*;
use corio::{JoinError, ReturnWhen, Task};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Polls `fut` once with the awaiting task's real context.
async fn poll_in_place<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
}

/// `n` oneshot channels chained so that they complete in the order given:
/// receiver `order[0]` first; each child, once complete, fires the next
/// one's sender. Returns the children (by index), which record into `log`.
fn chained(order: &[usize], log: &Arc<Mutex<Vec<usize>>>) -> Vec<impl Future<Output = usize>> {
    let n = order.len();
    let mut senders: Vec<Option<Sender<()>>> = (0..n).map(|_| None).collect();
    let mut receivers: Vec<Option<Receiver<()>>> = (0..n).map(|_| None).collect();
    for i in 0..n {
        let (tx, rx) = oneshot();
        senders[i] = Some(tx);
        receivers[i] = Some(rx);
    }
    // The sender of each step goes to the child completing just before it.
    let mut next_sender: Vec<Option<Sender<()>>> = (0..n).map(|_| None).collect();
    for w in order.windows(2) {
        next_sender[w[0]] = senders[w[1]].take();
    }
    senders[order[0]].take().unwrap().send(());
    (0..n)
        .map(|i| {
            let rx = receivers[i].take().unwrap();
            let next = next_sender[i].take();
            let log = log.clone();
            async move {
                rx.await.unwrap();
                log.lock().unwrap().push(i);
                if let Some(tx) = next {
                    tx.send(());
                }
                i
            }
        })
        .collect()
}

// ---- gather! / gather_all ------------------------------------------------

/// CPython `GatherTestsBase.test_success` (results in argument order) and
/// `test_as_completed_reverse_wait` (children finishing in reverse order).
#[test]
fn gather_macro_keeps_argument_order_whatever_the_completion_order() {
    watchdog(LONG, || {
        corio::run(async {
            let log = Arc::new(Mutex::new(Vec::new()));
            let mut c = chained(&[2, 1, 0], &log).into_iter();
            let (a, b, d) = (c.next().unwrap(), c.next().unwrap(), c.next().unwrap());
            let out =
                corio::gather!(async { a.await.to_string() }, b, async { d.await as f64 }).await;
            assert_eq!(out, ("0".to_string(), 1, 2.0));
            assert_eq!(*log.lock().unwrap(), [2, 1, 0]);
        })
    });
}

/// Sleeps in reverse order (CPython `test_wait`'s `sleep(0.15)`, `sleep(0.1)`):
/// the outputs still come in argument order.
#[test]
fn gather_all_of_tasks_keeps_argument_order_with_sleeps_in_reverse() {
    watchdog(LONG, || {
        corio::run(async {
            let tasks: Vec<Task<u64>> = (0..5u64)
                .map(|i| {
                    corio::create_task(async move {
                        corio::sleep(Duration::from_millis(5 * (5 - i))).await;
                        i
                    })
                })
                .collect();
            let out: Vec<u64> = corio::gather_all(tasks)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(out, [0, 1, 2, 3, 4]);
        })
    });
}

#[test]
fn gather_all_keeps_argument_order_when_children_finish_in_reverse() {
    watchdog(LONG, || {
        corio::run(async {
            let log = Arc::new(Mutex::new(Vec::new()));
            let order: Vec<usize> = (0..50).rev().collect();
            let out = corio::gather_all(chained(&order, &log)).await;
            assert_eq!(out, (0..50).collect::<Vec<_>>());
            assert_eq!(*log.lock().unwrap(), order);
        })
    });
}

/// All children are polled concurrently in the awaiting task: one child
/// waits for a gate that a later one opens.
#[test]
fn gather_polls_children_concurrently() {
    watchdog(LONG, || {
        corio::run(async {
            let gate = Gate::new();
            let (g1, g2) = (gate.clone(), gate.clone());
            let out = corio::gather!(
                async move {
                    g1.wait().await;
                    "waited"
                },
                async move {
                    corio::yield_now().await;
                    g2.open();
                    "opened"
                },
            )
            .await;
            assert_eq!(out, ("waited", "opened"));

            let gate = Gate::new();
            let waiters = (0..3).map(|_| {
                let g = gate.clone();
                Box::pin(async move { g.wait().await }) as Pin<Box<dyn Future<Output = ()>>>
            });
            let g = gate.clone();
            let opener = Box::pin(async move { g.open() }) as Pin<Box<dyn Future<Output = ()>>>;
            let out = corio::gather_all(waiters.chain(std::iter::once(opener))).await;
            assert_eq!(out.len(), 4);
        })
    });
}

#[test]
fn gather_macro_takes_one_and_many_futures() {
    corio::run(async {
        assert_eq!(corio::gather!(async { 1 }).await, (1,));
        let out = corio::gather!(
            async { 0 },
            async { 1 },
            async { 2 },
            async { 3 },
            async { 4 },
            async { 5 },
            async { 6 },
            async { 7 },
            async { 8 },
            async { 9 },
            async { 10 },
            async { 11 },
            async { 12 },
            async { 13 },
        )
        .await;
        // Tuples beyond 12 implement no traits: check a few fields.
        assert_eq!((out.0, out.1, out.7, out.12, out.13), (0, 1, 7, 12, 13));
    });
}

/// CPython `test_cancel_gather_1` / `CoroutineGatherTests.test_cancellation_broadcast`:
/// cancelling the gather reaches every unfinished child. In corio a dropped
/// gather drops its plain children (their destructors run), while its `Task`
/// children are only detached and run on.
#[test]
fn dropping_a_gather_drops_unfinished_children_and_leaves_tasks_running() {
    watchdog(LONG, || {
        let rt = rt(2);
        rt.block_on(async {
            let drops = DropCounter::new();
            let never = Gate::new();
            let task_gate = Gate::new();
            let task_done = Flag::new();
            let (tg, td) = (task_gate.clone(), task_done.clone());
            let task = corio::create_task(async move {
                tg.wait().await;
                td.set();
            });
            let (g1, n1) = (drops.guard(), never.clone());
            let (g2, n2) = (drops.guard(), never.clone());
            let finished = drops.guard();
            let mut gather = Box::pin(corio::gather!(
                async move {
                    let _g = g1;
                    n1.wait().await
                },
                async move {
                    let _g = finished;
                },
                async move {
                    let _g = g2;
                    n2.wait().await
                },
                task,
            ));
            assert!(poll_in_place(&mut gather).await.is_pending());
            // The finished child was dropped as soon as it finished.
            assert_eq!(drops.dropped(), 1);
            drop(gather);
            assert_eq!(drops.dropped(), 3);
            // The detached task still runs to completion.
            task_gate.open();
            while !task_done.get() {
                corio::sleep(Duration::from_millis(1)).await;
            }
        });
    });
}

#[test]
fn dropping_gather_all_drops_unfinished_children() {
    watchdog(LONG, || {
        corio::run(async {
            let drops = DropCounter::new();
            let never = Gate::new();
            let children: Vec<_> = (0..10)
                .map(|i| {
                    let (g, n) = (drops.guard(), never.clone());
                    Box::pin(async move {
                        let _g = g;
                        if i % 2 == 0 {
                            n.wait().await;
                        }
                        i
                    })
                })
                .collect();
            let mut gather = corio::gather_all(children);
            assert!(poll_in_place(&mut gather).await.is_pending());
            // The five odd children finished and were dropped at once.
            assert_eq!(drops.dropped(), 5);
            drop(gather);
            assert_eq!(drops.dropped(), 10);
        })
    });
}

/// CPython `GatherTestsBase.test_return_exceptions` in corio's terms: a
/// child `Task` that panicked gives its `JoinError`, the others their output.
#[test]
fn gather_of_a_panicking_task_gives_its_join_error() {
    watchdog(LONG, || {
        corio::run(async {
            let bad: Task<u32> = corio::create_task(async { panic!("child failed") });
            let good = corio::create_task(async { 5u32 });
            let (bad, good) = corio::gather!(bad, good).await;
            let err: JoinError = bad.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(panic_message(&*err.into_panic()), "child failed");
            assert_eq!(good.unwrap(), 5);

            let tasks: Vec<Task<u32>> = (0..4u32)
                .map(|i| {
                    corio::create_task(async move {
                        if i == 2 {
                            panic!("two");
                        }
                        i
                    })
                })
                .collect();
            let out = corio::gather_all(tasks).await;
            assert!(out[2].as_ref().unwrap_err().is_panic());
            assert_eq!(*out[3].as_ref().unwrap(), 3);
        })
    });
}

// ---- try_gather! / try_gather_all -----------------------------------------

/// CPython `GatherTestsBase.test_one_exception`: the first error is the
/// gather's result, and the other children are cancelled (here: dropped,
/// before the error is returned).
#[test]
fn try_gather_first_err_drops_the_rest_and_is_returned() {
    watchdog(LONG, || {
        corio::run(async {
            let drops = DropCounter::new();
            let never = Gate::new();
            let (g1, n1) = (drops.guard(), never.clone());
            let (g2, n2) = (drops.guard(), never.clone());
            let res: Result<(u32, u32, u32), String> = corio::try_gather!(
                async move {
                    let _g = g1;
                    n1.wait().await;
                    Ok(1)
                },
                async {
                    corio::yield_now().await;
                    Err("second failed".to_string())
                },
                async move {
                    let _g = g2;
                    n2.wait().await;
                    Ok(3)
                },
            )
            .await;
            assert_eq!(res, Err("second failed".to_string()));
            assert_eq!(drops.dropped(), 2);

            let ok: Result<(u32, &str), String> =
                corio::try_gather!(async { Ok(1) }, async { Ok("two") }).await;
            assert_eq!(ok, Ok((1, "two")));
        })
    });
}

#[test]
fn try_gather_all_first_err_drops_the_rest_and_is_returned() {
    watchdog(LONG, || {
        corio::run(async {
            let drops = DropCounter::new();
            let never = Gate::new();
            let fail = Gate::new();
            let children: Vec<_> = (0..10)
                .map(|i| {
                    let (g, n, f) = (drops.guard(), never.clone(), fail.clone());
                    Box::pin(async move {
                        let _g = g;
                        match i {
                            0..=2 => Ok(i),
                            7 => {
                                f.wait().await;
                                Err(format!("child {i}"))
                            }
                            _ => {
                                n.wait().await;
                                Ok(i)
                            }
                        }
                    })
                })
                .collect();
            let mut gather = corio::try_gather_all(children);
            assert!(poll_in_place(&mut gather).await.is_pending());
            assert_eq!(drops.dropped(), 3);
            fail.open();
            assert_eq!(gather.await, Err("child 7".to_string()));
            // Returned only after the six still waiting were dropped.
            assert_eq!(drops.dropped(), 10);

            let all_ok = corio::try_gather_all((0..4).map(|i| async move { Ok::<_, ()>(i) }));
            assert_eq!(all_ok.await, Ok(vec![0, 1, 2, 3]));
        })
    });
}

// ---- wait -----------------------------------------------------------------

fn gated_task<T: Send + 'static>(gate: &Gate, value: T) -> Task<T> {
    let g = gate.clone();
    corio::create_task(async move {
        g.wait().await;
        value
    })
}

/// CPython `test_wait_first_completed`; the pending task was not cancelled
/// and completes later.
#[test]
fn wait_first_completed_returns_the_first_and_leaves_the_rest_running() {
    watchdog(LONG, || {
        corio::run(async {
            let gate = Gate::new();
            let slow = gated_task(&gate, "slow");
            let quick = corio::create_task(async { "quick" });
            let (done, pending) =
                corio::wait(vec![slow, quick], ReturnWhen::FirstCompleted, None).await;
            assert_eq!(done.len(), 1);
            assert_eq!(pending.len(), 1);
            assert!(!pending[0].is_done());
            assert_eq!(done.into_iter().next().unwrap().await.unwrap(), "quick");
            gate.open();
            assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), "slow");
        })
    });
}

/// CPython `test_wait_first_exception` (a task failed before the wait) and
/// `test_wait_first_exception_in_wait` (one fails during it).
#[test]
fn wait_first_exception_returns_at_the_first_err() {
    watchdog(LONG, || {
        corio::run(async {
            let gate = Gate::new();
            let forever: Task<Result<u32, &str>> = gated_task(&gate, Ok(1));
            let ok: Task<Result<u32, &str>> = corio::create_task(async { Ok(2) });
            while !ok.is_done() {
                corio::yield_now().await;
            }
            let fail_gate = Gate::new();
            let fails: Task<Result<u32, &str>> = gated_task(&fail_gate, Err("bad"));
            let fails_id = fails.id();
            let opener = {
                let g = fail_gate.clone();
                corio::create_task(async move {
                    corio::sleep(Duration::from_millis(5)).await;
                    g.open();
                })
            };
            let (done, pending) =
                corio::wait(vec![forever, ok, fails], ReturnWhen::FirstException, None).await;
            // The `Ok` task finished before the wait, so it is done too; the
            // one still gated is pending.
            assert!(done.iter().any(|t| t.id() == fails_id));
            assert_eq!(pending.len(), 1);
            assert!(!pending[0].is_done());
            for t in done {
                let id = t.id();
                let out = t.await.unwrap();
                assert_eq!(out.is_err(), id == fails_id);
            }
            opener.await.unwrap();
            gate.open();
            assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), Ok(1));
        })
    });
}

#[test]
fn wait_first_exception_counts_panics_and_cancellations() {
    watchdog(LONG, || {
        corio::run(async {
            let gate = Gate::new();
            let panics: Task<u32> = corio::create_task(async { panic!("boom") });
            let (done, pending) = corio::wait(
                vec![gated_task(&gate, 1u32), panics],
                ReturnWhen::FirstException,
                None,
            )
            .await;
            assert_eq!((done.len(), pending.len()), (1, 1));
            assert!(done
                .into_iter()
                .next()
                .unwrap()
                .await
                .unwrap_err()
                .is_panic());

            let cancelled = gated_task(&gate, 3u32);
            cancelled.cancel();
            let (done, pending) = corio::wait(
                vec![pending.into_iter().next().unwrap(), cancelled],
                ReturnWhen::FirstException,
                None,
            )
            .await;
            assert_eq!((done.len(), pending.len()), (1, 1));
            assert!(done
                .into_iter()
                .next()
                .unwrap()
                .await
                .unwrap_err()
                .is_cancelled());
            gate.open();
            assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), 1);
        })
    });
}

/// With no failure, `FirstException` waits for all (as `ALL_COMPLETED`).
#[test]
fn wait_first_exception_without_failures_waits_for_all() {
    watchdog(LONG, || {
        corio::run(async {
            let tasks: Vec<Task<Result<u64, ()>>> = (1..4u64)
                .map(|i| {
                    corio::create_task(async move {
                        corio::sleep(Duration::from_millis(i * 3)).await;
                        Ok(i)
                    })
                })
                .collect();
            let (done, pending) = corio::wait(tasks, ReturnWhen::FirstException, None).await;
            assert_eq!((done.len(), pending.len()), (3, 0));
        })
    });
}

/// CPython `test_wait` and `test_wait_with_exception`: `ALL_COMPLETED`
/// waits for every task, failed ones included, and keeps their outputs.
#[test]
fn wait_all_completed_waits_for_every_task() {
    watchdog(LONG, || {
        corio::run(async {
            let gate = Gate::new();
            let a: Task<Result<u32, String>> = corio::create_task(async { Err("a".to_string()) });
            let b = gated_task(&gate, Ok(2));
            let opener = {
                let g = gate.clone();
                corio::create_task(async move {
                    corio::sleep(Duration::from_millis(5)).await;
                    g.open();
                })
            };
            let (done, pending) = corio::wait(vec![a, b], ReturnWhen::AllCompleted, None).await;
            assert!(pending.is_empty());
            let outs: Vec<_> = corio::gather_all(done).await;
            let errors = outs.iter().filter(|o| o.as_ref().unwrap().is_err()).count();
            assert_eq!(errors, 1);
            opener.await.unwrap();
        })
    });
}

/// CPython `test_wait_with_timeout`: on timeout, what is done so far is
/// returned and the rest keeps running.
#[test]
fn wait_with_timeout_returns_what_is_done_and_leaves_the_rest_running() {
    watchdog(LONG, || {
        corio::run(async {
            let gate = Gate::new();
            let quick = corio::create_task(async { 1u32 });
            while !quick.is_done() {
                corio::yield_now().await;
            }
            let slow = gated_task(&gate, 2u32);
            let (done, pending) = corio::wait(
                vec![slow, quick],
                ReturnWhen::AllCompleted,
                Some(Duration::from_millis(20)),
            )
            .await;
            assert_eq!((done.len(), pending.len()), (1, 1));
            assert_eq!(done.into_iter().next().unwrap().await.unwrap(), 1);
            gate.open();
            assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), 2);

            // A zero timeout only looks.
            let gate = Gate::new();
            let (done, pending) = corio::wait(
                vec![gated_task(&gate, 3u32)],
                ReturnWhen::FirstCompleted,
                Some(Duration::ZERO),
            )
            .await;
            assert!(done.is_empty());
            gate.open();
            assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), 3);
        })
    });
}

/// CPython `test_wait_errors` raises on an empty set; corio returns at once.
#[test]
fn wait_on_nothing_returns_at_once() {
    corio::run(async {
        for when in [
            ReturnWhen::FirstCompleted,
            ReturnWhen::FirstException,
            ReturnWhen::AllCompleted,
        ] {
            let (done, pending) = corio::wait(Vec::<Task<()>>::new(), when, None).await;
            assert!(done.is_empty() && pending.is_empty());
        }
    });
}

/// Dropping a `Wait` cancels nothing either.
#[test]
fn dropping_a_wait_cancels_nothing() {
    watchdog(LONG, || {
        corio::run(async {
            let gate = Gate::new();
            let flag = Flag::new();
            let f = flag.clone();
            let g = gate.clone();
            let task = corio::create_task(async move {
                g.wait().await;
                f.set();
            });
            let mut w = corio::wait(vec![task], ReturnWhen::AllCompleted, None);
            assert!(poll_in_place(&mut w).await.is_pending());
            drop(w);
            gate.open();
            // The task runs to completion (a hang here fails the watchdog).
            while !flag.get() {
                corio::sleep(Duration::from_millis(1)).await;
            }
        })
    });
}

// ---- as_completed ---------------------------------------------------------

/// CPython `test_as_completed` / `test_as_completed_reverse_wait`: outputs
/// in completion order.
#[test]
fn as_completed_yields_in_completion_order() {
    watchdog(LONG, || {
        corio::run(async {
            let log = Arc::new(Mutex::new(Vec::new()));
            let order = [3, 0, 4, 1, 2];
            let mut stream = corio::as_completed(chained(&order, &log));
            let mut got = Vec::new();
            while let Some(i) = stream.next().await {
                got.push(i);
            }
            assert_eq!(got, order);
            assert!(stream.next().await.is_none());
        })
    });
}

#[test]
fn as_completed_is_a_stream_and_takes_tasks() {
    use futures_core::Stream;
    watchdog(LONG, || {
        corio::run(async {
            let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
            let tasks: Vec<Task<usize>> = (0..3).map(|i| gated_task(&gates[i], i)).collect();
            let mut stream = corio::as_completed(tasks);
            assert_eq!(stream.size_hint(), (3, Some(3)));
            let mut got = Vec::new();
            for i in [2, 0, 1] {
                gates[i].open();
                let next = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
                got.push(next.unwrap().unwrap());
            }
            assert_eq!(got, [2, 0, 1]);
            let end = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
            assert!(end.is_none());
        })
    });
}

#[test]
fn dropping_as_completed_drops_unfinished_futures() {
    watchdog(LONG, || {
        corio::run(async {
            let drops = DropCounter::new();
            let never = Gate::new();
            let futures: Vec<_> = (0..4)
                .map(|i| {
                    let (g, n) = (drops.guard(), never.clone());
                    Box::pin(async move {
                        let _g = g;
                        if i > 0 {
                            n.wait().await;
                        }
                        i
                    })
                })
                .collect();
            let mut stream = corio::as_completed(futures);
            assert_eq!(stream.next().await, Some(0));
            assert_eq!(drops.dropped(), 1);
            assert_eq!(stream.remaining(), 3);
            drop(stream);
            assert_eq!(drops.dropped(), 4);
        })
    });
}

#[test]
fn empty_inputs_complete_at_once() {
    corio::run(async {
        let none = std::iter::empty::<std::future::Ready<u8>>;
        assert!(corio::gather_all(none()).await.is_empty());
        assert_eq!(
            corio::try_gather_all(std::iter::empty::<std::future::Ready<Result<u8, ()>>>()).await,
            Ok(vec![])
        );
        assert_eq!(corio::as_completed(none()).next().await, None);
    });
}

// ---- shield ---------------------------------------------------------------

/// CPython `test_shield_effect`: cancelling the outer task does not affect
/// the shielded inner one, whose side effect is still observed.
#[test]
fn shield_survives_the_outer_tasks_cancellation() {
    watchdog(LONG, || {
        corio::run(async {
            let proof = Arc::new(AtomicUsize::new(0));
            let gate = Gate::new();
            let (p, g) = (proof.clone(), gate.clone());
            let outer = corio::create_task(async move {
                let p2 = p.clone();
                corio::shield(async move {
                    g.wait().await;
                    p2.fetch_add(1, SeqCst);
                })
                .await
                .unwrap();
                p.fetch_add(100, SeqCst);
            });
            // The inner task is waiting at the gate, the outer on the shield.
            while gate.pending_polls() == 0 {
                corio::sleep(Duration::from_millis(1)).await;
            }
            outer.cancel();
            assert!(outer.await.unwrap_err().is_cancelled());
            gate.open();
            while proof.load(SeqCst) == 0 {
                corio::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(proof.load(SeqCst), 1);
        })
    });
}

/// The outer future dropped by a timeout (`wait_for`, as in CPython
/// `test_waitfor.py`'s uses of `shield`): the inner task still completes.
#[test]
fn shield_survives_a_timeout_of_its_awaiter() {
    watchdog(LONG, || {
        corio::run(async {
            let (tx, rx) = oneshot();
            let gate = Gate::new();
            let g = gate.clone();
            let inner = corio::shield(async move {
                g.wait().await;
                tx.send("saved");
            });
            assert!(corio::wait_for(inner, Duration::from_millis(5))
                .await
                .is_err());
            gate.open();
            assert_eq!(rx.await, Ok("saved"));
        })
    });
}

/// CPython `test_shield_result` and `test_shield_cancel_inner`.
#[test]
fn shield_gives_the_output_and_can_really_cancel() {
    watchdog(LONG, || {
        corio::run(async {
            assert_eq!(corio::shield(async { 9 }).await.unwrap(), 9);
            let panics = corio::shield(async { panic!("inner") }).await;
            assert!(panics.unwrap_err().is_panic());

            let drops = DropCounter::new();
            let g = drops.guard();
            let s = corio::shield(async move {
                let _g = g;
                std::future::pending::<()>().await
            });
            assert!(s.cancel());
            assert!(s.await.unwrap_err().is_cancelled());
            assert_eq!(drops.dropped(), 1);
        })
    });
}

#[test]
fn shield_outside_a_runtime_panics_saying_so() {
    let msg = panic_of(|| corio::shield(async {}));
    assert!(
        msg.contains("shield") && msg.contains("inside a corio runtime"),
        "{msg}"
    );
}

// ---- cost -----------------------------------------------------------------

/// 100 000 children that finish one at a time, each waking the next (in
/// reverse order). Each child is polled once to start and once when woken:
/// a combinator that polled every child at each wake would poll ~N²/2 times.
struct Chain {
    polls: Cell<usize>,
    released: RefCell<Vec<bool>>,
    wakers: RefCell<Vec<Option<Waker>>>,
}

struct Link {
    index: usize,
    chain: Rc<Chain>,
}

impl Future for Link {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let chain = &self.chain;
        chain.polls.set(chain.polls.get() + 1);
        // Fail fast (not by a hang) if the combinator polls too much.
        assert!(chain.polls.get() < 3 * N, "more than {} polls", 3 * N);
        if !chain.released.borrow()[self.index] {
            chain.wakers.borrow_mut()[self.index] = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if self.index > 0 {
            chain.released.borrow_mut()[self.index - 1] = true;
            let next = chain.wakers.borrow_mut()[self.index - 1].take();
            if let Some(w) = next {
                w.wake();
            }
        }
        Poll::Ready(self.index)
    }
}

const N: usize = 100_000;

fn chain() -> (Rc<Chain>, Vec<Link>) {
    let chain = Rc::new(Chain {
        polls: Cell::new(0),
        released: RefCell::new(vec![false; N]),
        wakers: RefCell::new(vec![None; N]),
    });
    chain.released.borrow_mut()[N - 1] = true;
    let links = (0..N)
        .map(|index| Link {
            index,
            chain: chain.clone(),
        })
        .collect();
    (chain, links)
}

#[test]
fn gather_all_polls_only_woken_children() {
    watchdog(LONG * 6, || {
        corio::run(async {
            let (chain, links) = chain();
            let out = corio::gather_all(links).await;
            assert!(out.iter().copied().eq(0..N));
            let polls = chain.polls.get();
            assert!(polls < 3 * N, "{polls} polls for {N} children");
        })
    });
}

#[test]
fn try_gather_all_polls_only_woken_children() {
    watchdog(LONG * 6, || {
        corio::run(async {
            let (chain, links) = chain();
            let children = links
                .into_iter()
                .map(|l| async move { Ok::<_, ()>(l.await) });
            let out = corio::try_gather_all(children).await.unwrap();
            assert!(out.iter().copied().eq(0..N));
            let polls = chain.polls.get();
            assert!(polls < 3 * N, "{polls} polls for {N} children");
        })
    });
}

#[test]
fn as_completed_polls_only_woken_children() {
    watchdog(LONG * 6, || {
        corio::run(async {
            let (chain, links) = chain();
            let mut stream = corio::as_completed(links);
            let mut expect = N;
            while let Some(i) = stream.next().await {
                expect -= 1;
                assert_eq!(i, expect);
            }
            assert_eq!(expect, 0);
            let polls = chain.polls.get();
            assert!(polls < 3 * N, "{polls} polls for {N} children");
        })
    });
}

#[test]
fn public_types_are_send_sync_and_unpin() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    type Fut = Pin<Box<dyn Future<Output = u32> + Send + Sync>>;
    send_sync::<corio::GatherAll<Fut>>();
    send_sync::<corio::AsCompleted<Fut>>();
    send_sync::<corio::Wait<u32>>();
    send_sync::<corio::Shield<u32>>();
    send_sync::<corio::ReturnWhen>();
    unpin::<corio::GatherAll<std::future::Pending<std::rc::Rc<u8>>>>();
    unpin::<corio::TryGatherAll<std::future::Pending<Result<u8, ()>>, u8>>();
    unpin::<corio::AsCompleted<std::future::Pending<u8>>>();
    unpin::<corio::Wait<std::rc::Rc<u8>>>();
    unpin::<corio::Shield<u8>>();
}
