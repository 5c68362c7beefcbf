//! `corio::sync::Promise`: asyncio's `Future` (ports of the intent of
//! CPython's `test_asyncio/test_futures.py` where it applies, named at each
//! test), plus what a multi-threaded runtime adds: waiters on different
//! workers, completion from threads outside the runtime, dropped waits.

mod common;

use common::{panic_of, poll_once, rt, wait_until, watchdog, LONG};
use corio::sync::{Cancelled, Promise};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

/// Counts wakeups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn count_waker() -> (Waker, Arc<CountWaker>) {
    let c = Arc::new(CountWaker::default());
    (Waker::from(c.clone()), c)
}

fn poll_with<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

/// Drives `fut` on the calling thread with a thread-parking waker: no
/// runtime anywhere.
fn block_on_plain<F: IntoFuture>(fut: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut.into_future());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// CPython: `test_initial_state`, `test_result`, `test_yield_from_twice`:
/// pending at first; once set, done (not cancelled), every read gives the
/// value, and further completion is refused.
#[test]
fn set_then_wait() {
    watchdog(LONG, || {
        let rt = rt(2);
        let p = Promise::new();
        assert!(!p.is_done());
        assert!(!p.is_cancelled());
        assert_eq!(p.try_result(), None);
        assert_eq!(p.set_result(42), Ok(()));
        assert!(p.is_done());
        assert!(!p.is_cancelled());
        assert_eq!(p.try_result(), Some(Ok(42)));
        rt.block_on(async {
            assert_eq!(p.wait().await, Ok(42));
            // Awaiting twice gives the same result again.
            assert_eq!(p.wait().await, Ok(42));
        });
        assert!(!p.cancel(), "cancel of a done promise");
        assert!(!p.is_cancelled());
        assert_eq!(p.try_result(), Some(Ok(42)));
        assert_eq!(p.registered_waiters(), 0);
    });
}

/// A waiter that is already waiting when the result comes in is woken
/// exactly once, and polling it again with the same waker before that does
/// not register it twice.
#[test]
fn pending_waiter_is_woken_once() {
    let p = Promise::new();
    let (waker, count) = count_waker();
    let mut w = p.wait();
    for _ in 0..3 {
        assert_eq!(poll_with(&mut w, &waker), Poll::Pending);
    }
    assert_eq!(p.registered_waiters(), 1);
    p.set_result(5).unwrap();
    assert_eq!(count.0.load(SeqCst), 1);
    assert_eq!(p.registered_waiters(), 0);
    assert_eq!(poll_with(&mut w, &waker), Poll::Ready(Ok(5)));
    drop(w);
    assert_eq!(count.0.load(SeqCst), 1, "woken again after completing");
}

/// A waiter polled by a different task (a new waker) is woken through the
/// new waker, not the stale one.
#[test]
fn waiter_moved_to_a_new_waker_is_woken_there() {
    let p = Promise::<i32>::new();
    let (old, old_count) = count_waker();
    let (new, new_count) = count_waker();
    let mut w = p.wait();
    assert_eq!(poll_with(&mut w, &old), Poll::Pending);
    assert_eq!(poll_with(&mut w, &new), Poll::Pending);
    assert_eq!(p.registered_waiters(), 1);
    assert!(p.cancel());
    assert_eq!(old_count.0.load(SeqCst), 0);
    assert_eq!(new_count.0.load(SeqCst), 1);
    assert_eq!(poll_with(&mut w, &new), Poll::Ready(Err(Cancelled)));
}

/// Ten waiters, each on its own task (spread over both workers), all get
/// the value once it is set from outside the runtime. The promise is shared
/// by cloning the handle into each task.
#[test]
fn many_waiters_on_different_tasks_all_get_the_value() {
    watchdog(LONG, || {
        let rt = rt(2);
        let p = Promise::<String>::new();
        let waiters: Vec<_> = (0..10)
            .map(|_| {
                let p = p.clone();
                rt.handle().spawn(async move { p.wait().await })
            })
            .collect();
        assert!(
            wait_until(LONG, || p.registered_waiters() == 10),
            "waiters never registered"
        );
        p.set_result("v".to_owned()).unwrap();
        rt.block_on(async {
            for w in waiters {
                assert_eq!(w.await.unwrap().as_deref(), Ok("v"));
            }
        });
        assert_eq!(p.registered_waiters(), 0);
    });
}

/// Clones of one handle are one promise: set from a task through one
/// clone, seen by tasks holding other clones, and by the original handle.
#[test]
fn promise_shared_via_clone_across_tasks() {
    watchdog(LONG, || {
        corio::run(async {
            let p = Promise::new();
            let a = {
                let p = p.clone();
                corio::create_task(async move { p.wait().await.map(|v| v * 2) })
            };
            let b = {
                let p = p.clone();
                corio::create_task(async move { p.wait().await.map(|v| v + 1) })
            };
            let setter = {
                let p = p.clone();
                corio::create_task(async move {
                    corio::yield_now().await;
                    p.set_result(10)
                })
            };
            assert_eq!(setter.await.unwrap(), Ok(()));
            assert_eq!(a.await.unwrap(), Ok(20));
            assert_eq!(b.await.unwrap(), Ok(11));
            assert!(p.is_done());
            assert_eq!(p.set_result(0), Err(0));
        });
    });
}

/// CPython: `test_result` (set twice: InvalidStateError): the second
/// value is handed back, the first stays.
#[test]
fn set_result_refused_after_set() {
    let p = Promise::new();
    p.set_result(vec![1]).unwrap();
    assert_eq!(p.set_result(vec![2]), Err(vec![2]));
    assert_eq!(p.try_result(), Some(Ok(vec![1])));
}

/// CPython: `test_cancel`, `test_set_result_unless_cancelled`: cancel
/// returns true once; afterwards the promise is done and cancelled,
/// `set_result` is refused with the value handed back, and a second cancel
/// returns false.
#[test]
fn set_result_refused_after_cancel() {
    let p = Promise::new();
    assert!(p.cancel());
    assert!(p.is_done());
    assert!(p.is_cancelled());
    assert_eq!(p.set_result("late"), Err("late"));
    assert!(p.is_cancelled());
    assert!(!p.cancel());
    assert_eq!(p.try_result(), Some(Err(Cancelled)));
}

/// CPython: `test_cancel`: waiters (on tasks, a by-value await included)
/// get `Err(Cancelled)`; a cancelled promise can be awaited by value more
/// than once, since there is no value to move out.
#[test]
fn cancel_wakes_waiters_with_cancelled() {
    watchdog(LONG, || {
        let rt = rt(2);
        let p = Promise::<u32>::new();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let p = p.clone();
                rt.handle().spawn(async move { p.wait().await })
            })
            .collect();
        let by_value = rt.handle().spawn(p.clone().into_future());
        assert!(wait_until(LONG, || p.registered_waiters() == 4));
        assert!(p.cancel());
        rt.block_on(async {
            for w in waiters {
                assert_eq!(w.await.unwrap(), Err(Cancelled));
            }
            assert_eq!(by_value.await.unwrap(), Err(Cancelled));
            assert_eq!(p.clone().await, Err(Cancelled));
            assert_eq!(p.wait().await, Err(Cancelled));
        });
    });
}

/// CPython: `test_callbacks_invoked_on_set_result`: callbacks run once
/// each, in registration order, with the promise (whose result they can
/// read), on the thread that sets it, inside `set_result`; one added after
/// completion runs at once.
#[test]
fn callbacks_run_once_in_order_with_the_promise() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let p = Promise::new();
    for tag in 0..3 {
        let log = log.clone();
        p.add_done_callback(move |p: &Promise<&str>| {
            log.lock()
                .unwrap()
                .push((tag, p.try_result(), thread::current().id()));
        });
    }
    assert!(log.lock().unwrap().is_empty(), "ran before completion");
    let setter = {
        let p = p.clone();
        thread::spawn(move || {
            p.set_result("foo").unwrap();
            thread::current().id()
        })
    };
    let setter_id = setter.join().unwrap();
    let want: Vec<_> = (0..3).map(|t| (t, Some(Ok("foo")), setter_id)).collect();
    assert_eq!(*log.lock().unwrap(), want);

    // Added after completion: runs at once, here.
    let l = log.clone();
    p.add_done_callback(move |p| {
        l.lock()
            .unwrap()
            .push((3, p.try_result(), thread::current().id()))
    });
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log[3], (3, Some(Ok("foo")), thread::current().id()));
}

/// CPython: `test_callbacks_invoked_on_set_exception` (our error outcome
/// is cancellation): callbacks see a cancelled promise; none runs twice
/// when completion is attempted again.
#[test]
fn callbacks_run_on_cancel() {
    let calls = Arc::new(AtomicUsize::new(0));
    let p = Promise::<i32>::new();
    for _ in 0..2 {
        let calls = calls.clone();
        p.add_done_callback(move |p| {
            assert!(p.is_cancelled());
            assert_eq!(p.try_result(), Some(Err(Cancelled)));
            calls.fetch_add(1, SeqCst);
        });
    }
    assert!(p.cancel());
    assert!(!p.cancel());
    assert_eq!(p.set_result(1), Err(1));
    assert_eq!(calls.load(SeqCst), 2);
}

/// CPython: `test_schedule_callbacks_list_mutation_2` (callbacks added
/// while callbacks are being scheduled): a callback registered by a
/// running callback runs after the ones already registered, not nested
/// inside the one adding it.
#[test]
fn callback_added_by_a_callback_runs_after_the_others() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let p = Promise::new();
    {
        let log = log.clone();
        p.add_done_callback(move |p: &Promise<()>| {
            log.lock().unwrap().push("first");
            let inner = log.clone();
            p.add_done_callback(move |_| inner.lock().unwrap().push("added by first"));
            log.lock().unwrap().push("first returns");
        });
    }
    {
        let log = log.clone();
        p.add_done_callback(move |_| log.lock().unwrap().push("second"));
    }
    p.set_result(()).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        ["first", "first returns", "second", "added by first"]
    );
}

/// A panicking callback does not keep the others from running; the panic
/// then comes out of the completing call, with the result already set.
#[test]
fn panicking_callback_does_not_stop_the_others() {
    let ran = Arc::new(AtomicUsize::new(0));
    let p = Promise::new();
    p.add_done_callback(|_: &Promise<i32>| panic!("callback boom"));
    for _ in 0..2 {
        let ran = ran.clone();
        p.add_done_callback(move |_| {
            ran.fetch_add(1, SeqCst);
        });
    }
    let msg = panic_of(|| p.set_result(1));
    assert_eq!(msg, "callback boom");
    assert_eq!(ran.load(SeqCst), 2);
    assert_eq!(p.try_result(), Some(Ok(1)));
    // Later callbacks still run at once.
    let r = ran.clone();
    p.add_done_callback(move |_| {
        r.fetch_add(1, SeqCst);
    });
    assert_eq!(ran.load(SeqCst), 3);
}

/// A waiting future dropped before completion takes its entry out of the
/// promise's waiter list (so cancelled waits do not pile up), for both
/// kinds of waiting future; the survivors are still woken.
#[test]
fn dropped_waiter_leaves_no_entry() {
    let p = Promise::new();
    let (waker, count) = count_waker();
    for round in 0..50 {
        let mut a = p.wait();
        let mut b = p.clone().into_future();
        assert_eq!(poll_with(&mut a, &waker), Poll::Pending);
        assert_eq!(poll_with(&mut b, &waker), Poll::Pending);
        assert_eq!(p.registered_waiters(), 2, "round {round}");
        drop(a);
        assert_eq!(p.registered_waiters(), 1);
        drop(b);
        assert_eq!(p.registered_waiters(), 0);
    }
    // A never-polled waiter registers nothing.
    drop(p.wait());
    assert_eq!(p.registered_waiters(), 0);

    let mut survivor = p.wait();
    let mut quitter = p.wait();
    assert!(poll_with(&mut survivor, &waker).is_pending());
    assert!(poll_with(&mut quitter, &waker).is_pending());
    drop(quitter);
    p.set_result(8).unwrap();
    assert_eq!(count.0.load(SeqCst), 1, "only the survivor is woken");
    assert_eq!(poll_with(&mut survivor, &waker), Poll::Ready(Ok(8)));
}

/// A waiter cancelled by `corio::timeout` leaves; the promise, set later,
/// still reaches the waiter that stayed.
#[test]
fn waiter_cancelled_by_timeout_then_set_reaches_others() {
    watchdog(LONG, || {
        let rt = rt(2);
        let p = Promise::new();
        let stayer = {
            let p = p.clone();
            rt.handle().spawn(async move { p.wait().await })
        };
        assert!(wait_until(LONG, || p.registered_waiters() == 1));
        rt.block_on(async {
            let timed_out = corio::timeout(Duration::from_millis(10), p.wait()).await;
            assert!(timed_out.is_err());
            assert_eq!(
                p.registered_waiters(),
                1,
                "the timed-out wait left its entry"
            );
            assert!(!p.is_done());
            p.set_result(3).unwrap();
            assert_eq!(stayer.await.unwrap(), Ok(3));
        });
    });
}

/// A plain std thread (no runtime) sets the promise that a task inside
/// `corio::run` waits on: the waiter is woken across threads.
#[test]
fn cross_thread_set_from_std_thread_wakes_waiter_in_run() {
    watchdog(LONG, || {
        let p = Promise::new();
        let setter = {
            let p = p.clone();
            thread::spawn(move || {
                assert!(wait_until(LONG, || p.registered_waiters() == 2));
                p.set_result(77u64).unwrap();
            })
        };
        let got = corio::run(async {
            let other = {
                let p = p.clone();
                corio::create_task(async move { p.wait().await })
            };
            let mine = p.wait().await;
            (mine, other.await.unwrap())
        });
        setter.join().unwrap();
        assert_eq!(got, (Ok(77), Ok(77)));
    });
}

/// No runtime at all: a thread-parking executor waits, another plain
/// thread sets.
#[test]
fn works_outside_a_runtime() {
    watchdog(LONG, || {
        let p = Promise::new();
        let setter = {
            let p = p.clone();
            thread::spawn(move || {
                assert!(wait_until(LONG, || p.registered_waiters() == 1));
                p.set_result('x').unwrap();
            })
        };
        assert_eq!(block_on_plain(p.clone()), Ok('x'));
        setter.join().unwrap();
    });
}

/// `IntoFuture` is one-shot: awaiting by value moves the result out
/// (no `Clone` needed); any later read of it panics with a message that
/// names the misuse.
#[test]
fn into_future_is_one_shot() {
    #[derive(Debug, PartialEq)]
    struct NotClone(u32);

    let p = Promise::new();
    let keep = p.clone();
    let mut first = p.clone().into_future();
    assert!(poll_once(&mut first).is_pending());
    assert!(p.set_result(NotClone(4)).is_ok());
    assert_eq!(poll_once(&mut first), Poll::Ready(Ok(NotClone(4))));
    // Still done, and setting is still refused.
    assert!(keep.is_done());
    assert_eq!(keep.set_result(NotClone(5)), Err(NotClone(5)));

    let mut second = p.into_future();
    let msg = panic_of(|| poll_once(&mut second));
    assert!(msg.contains("moved out"), "unclear panic: {msg}");
    assert!(msg.contains("IntoFuture"), "unclear panic: {msg}");

    // With a `Clone` result, `wait` and `try_result` also refuse loudly.
    let q = Promise::new();
    q.set_result(1).unwrap();
    assert_eq!(block_on_plain(q.clone()), Ok(1));
    let msg = panic_of(|| q.try_result());
    assert!(msg.contains("Promise::wait"), "unclear panic: {msg}");
    let msg = panic_of(|| block_on_plain(q.wait()));
    assert!(msg.contains("moved out"), "unclear panic: {msg}");
}

/// A by-value await dropped before completion takes nothing: the result
/// set afterwards is there for the next consumer.
#[test]
fn dropped_by_value_await_takes_nothing() {
    let p = Promise::new();
    let mut f = p.clone().into_future();
    assert!(poll_once(&mut f).is_pending());
    drop(f);
    p.set_result(String::from("kept")).unwrap();
    assert_eq!(block_on_plain(p.clone()).as_deref(), Ok("kept"));
}

#[test]
fn promise_is_send_sync_and_debug() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Promise<std::cell::Cell<u8>>>();
    send_sync::<corio::sync::Wait<'static, String>>();
    send_sync::<corio::sync::PromiseFuture<Vec<u8>>>();
    fn error<E: std::error::Error + Clone + PartialEq + Send + Sync + 'static>() {}
    error::<Cancelled>();

    let p = Promise::<i32>::default();
    assert_eq!(format!("{p:?}"), "Promise { state: \"pending\" }");
    p.set_result(1).unwrap();
    assert_eq!(format!("{p:?}"), "Promise { state: \"finished\" }");
    let c = Promise::<i32>::new();
    c.cancel();
    assert_eq!(format!("{c:?}"), "Promise { state: \"cancelled\" }");
    assert_eq!(Cancelled.to_string(), "the promise was cancelled");
}

/// A waker that panics when woken does not strand the done callbacks: they
/// still run, later ones still run at once, and the panic comes out of the
/// completing call.
#[test]
fn panicking_waker_does_not_strand_callbacks() {
    struct Boom;
    impl Wake for Boom {
        fn wake(self: Arc<Self>) {
            panic!("waker boom");
        }
    }
    let p = Promise::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    p.add_done_callback(move |_: &Promise<u8>| {
        r.fetch_add(1, SeqCst);
    });
    let mut w = p.wait();
    assert!(poll_with(&mut w, &Waker::from(Arc::new(Boom))).is_pending());
    assert_eq!(panic_of(|| p.set_result(2)), "waker boom");
    assert_eq!(ran.load(SeqCst), 1);
    let r = ran.clone();
    p.add_done_callback(move |_| {
        r.fetch_add(1, SeqCst);
    });
    assert_eq!(ran.load(SeqCst), 2, "a later callback was queued, not run");
    assert_eq!(poll_once(&mut w), Poll::Ready(Ok(2)));
}
