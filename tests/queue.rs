//! `corio::queue`: ports of the intent of CPython's
//! `test_asyncio/test_queues.py` (3.11, plus the shutdown tests of 3.13's
//! suite, which 3.11 lacks), named at each test; plus what a multi-threaded
//! runtime adds: FIFO handoff checked waiter by waiter, cancellation at every
//! step, producers and consumers on two workers, and plain threads.
//!
//! Most tests poll the queue's futures by hand with counting wakers: that
//! pins down exactly who is woken, in which order, with no timing involved.

mod common;

use common::{rt, watchdog, DropCounter, DropGuard, LONG};
use corio::queue::{
    LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown, TaskDoneError,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
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

impl CountWaker {
    fn wakes(&self) -> usize {
        self.0.load(SeqCst)
    }
}

fn count_waker() -> (Waker, Arc<CountWaker>) {
    let c = Arc::new(CountWaker::default());
    (Waker::from(c.clone()), c)
}

/// A future polled by hand, with its own counting waker.
struct Manual<F> {
    fut: Pin<Box<F>>,
    waker: Waker,
    wakes: Arc<CountWaker>,
}

impl<F: Future> Manual<F> {
    fn new(fut: F) -> Self {
        let (waker, wakes) = count_waker();
        Manual {
            fut: Box::pin(fut),
            waker,
            wakes,
        }
    }

    fn poll(&mut self) -> Poll<F::Output> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    fn wakes(&self) -> usize {
        self.wakes.wakes()
    }
}

/// Drives `fut` on the calling thread with a thread-parking waker: no
/// runtime anywhere.
fn block_on_plain<F: Future>(fut: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Yields until `cond` holds (the watchdog bounds it).
async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        corio::yield_now().await;
    }
}

/// An item that counts its drops; compared by its number.
struct Tracked(u32, #[allow(dead_code)] DropGuard);

impl PartialEq for Tracked {
    fn eq(&self, other: &Tracked) -> bool {
        self.0 == other.0
    }
}

impl std::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracked({})", self.0)
    }
}

fn drain<T>(get: impl Fn() -> Result<T, QueueEmpty>) -> Vec<T> {
    std::iter::from_fn(|| get().ok()).collect()
}

#[test]
fn queues_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Queue<String>>();
    check::<LifoQueue<String>>();
    check::<PriorityQueue<String>>();
    fn check_future<F: Future + Send>(_: &F) {}
    let q = Queue::<String>::new(0);
    check_future(&q.get());
    check_future(&q.put(String::new()));
    check_future(&q.join());
}

/// CPython: `test_empty`, `test_full`.
#[test]
fn empty_and_full() {
    let q = Queue::new(1);
    assert!(q.empty() && !q.full());
    q.put_nowait(1).unwrap();
    assert!(!q.empty() && q.full());
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.maxsize(), 1);
    let unbounded = Queue::new(0);
    for i in 0..1000 {
        unbounded.put_nowait(i).unwrap();
    }
    assert!(!unbounded.full());
    assert_eq!(unbounded.qsize(), 1000);
}

/// CPython: `QueueBasicTests.test_order`.
#[test]
fn test_order_fifo() {
    let q = Queue::new(0);
    for i in [1, 3, 2] {
        q.put_nowait(i).unwrap();
    }
    assert_eq!(drain(|| q.get_nowait()), [1, 3, 2]);
}

/// CPython: `LifoQueueTests.test_order`.
#[test]
fn test_order_lifo() {
    let q = LifoQueue::new(0);
    for i in [1, 3, 2] {
        q.put_nowait(i).unwrap();
    }
    assert_eq!(drain(|| q.get_nowait()), [2, 3, 1]);
}

/// CPython: `PriorityQueueTests.test_order`.
#[test]
fn test_order_priority() {
    let q = PriorityQueue::new(0);
    for i in [1, 3, 2] {
        q.put_nowait(i).unwrap();
    }
    assert_eq!(drain(|| q.get_nowait()), [1, 2, 3]);
}

/// CPython: `test_maxsize`: a producer of three items into a queue of two
/// blocks on the third until a consumer takes one.
#[test]
fn test_maxsize() {
    watchdog(LONG, || {
        rt(2).block_on(async {
            let q = Arc::new(Queue::new(2));
            let producer = corio::create_task({
                let q = q.clone();
                async move {
                    for i in 0..3 {
                        q.put(i).await.unwrap();
                    }
                }
            });
            until(|| q.waiting().1 == 1).await;
            assert!(q.full());
            assert_eq!(q.qsize(), 2);
            assert!(!producer.is_done());
            assert_eq!(q.get().await, Ok(0));
            producer.await.unwrap();
            assert_eq!(drain(|| q.get_nowait()), [1, 2]);
        })
    });
}

/// CPython: `test_blocking_put`, `test_blocking_get`.
#[test]
fn test_blocking_put_and_get() {
    rt(1).block_on(async {
        let q = Queue::new(0);
        q.put(1).await.unwrap();
        assert_eq!(q.get().await, Ok(1));
    });
}

/// CPython: `test_blocking_get_wait`, `test_why_are_getters_waiting`:
/// getters blocked on an empty queue are served in the order they came,
/// each by the put that hands it its item, and only that one is woken.
#[test]
fn blocked_getters_are_served_in_fifo_order() {
    let q = Queue::new(0);
    let mut getters: Vec<_> = (0..3).map(|_| Manual::new(q.get())).collect();
    for g in &mut getters {
        assert_eq!(g.poll(), Poll::Pending);
    }
    assert_eq!(q.waiting(), (3, 0));
    for (i, item) in ["a", "b", "c"].into_iter().enumerate() {
        q.put_nowait(item).unwrap();
        let wakes: Vec<_> = getters.iter().map(Manual::wakes).collect();
        assert_eq!(wakes.iter().sum::<usize>(), i + 1, "one wake per put");
        assert_eq!(wakes[i], 1, "the getter that waited longest is served");
        // The item is the getter's: it counts as in the queue, and a
        // newcomer cannot take it.
        assert_eq!(q.qsize(), 1);
        assert_eq!(q.get_nowait(), Err(QueueEmpty::Empty));
        assert_eq!(getters[i].poll(), Poll::Ready(Ok(item)));
        assert_eq!(q.qsize(), 0);
    }
    assert_eq!(q.waiting(), (0, 0));
}

/// CPython: `test_get_with_putters`, `test_why_are_putters_waiting`,
/// `test_blocking_put_wait`: putters blocked on a full queue get in, in
/// the order they came, one per item taken; only the admitted one is woken.
#[test]
fn blocked_putters_are_admitted_in_fifo_order() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut putters: Vec<_> = (1..=3).map(|i| Manual::new(q.put(i))).collect();
    for p in &mut putters {
        assert_eq!(p.poll(), Poll::Pending);
    }
    assert_eq!(q.waiting(), (0, 3));
    for i in 0..3 {
        assert_eq!(q.get_nowait(), Ok(i));
        // The room went to the first putter in line at once: a newcomer
        // finds the queue full.
        assert!(q.full());
        assert!(matches!(q.put_nowait(99), Err(QueueFull::Full(99))));
        let wakes: Vec<_> = putters.iter().map(Manual::wakes).collect();
        assert_eq!(wakes.iter().sum::<usize>(), i + 1, "one wake per get");
        assert_eq!(wakes[i], 1);
        assert_eq!(putters[i].poll(), Poll::Ready(Ok(())));
    }
    assert_eq!(q.get_nowait(), Ok(3));
    assert_eq!(q.waiting(), (0, 0));
}

/// CPython: `test_put_cancelled`, `test_put_cancel_drop`,
/// `test_cancelled_puts_not_being_held_in_self_putters`: a putter dropped
/// while blocked leaves no entry, never enqueues its item (dropped with
/// the future), and its place in line is not given to anyone else.
#[test]
fn cancelled_blocked_put_never_enqueues() {
    let drops = DropCounter::new();
    let q = Queue::new(1);
    q.put_nowait(Tracked(0, drops.guard())).unwrap();
    let mut cancelled = Manual::new(q.put(Tracked(1, drops.guard())));
    assert_eq!(cancelled.poll(), Poll::Pending);
    assert_eq!(q.waiting(), (0, 1));
    drop(cancelled);
    assert_eq!(q.waiting(), (0, 0));
    assert_eq!(drops.dropped(), 1, "the cancelled put's item was dropped");
    assert!(matches!(q.get_nowait(), Ok(Tracked(0, _))));
    assert!(q.empty(), "the cancelled item never got in");
    assert_eq!(drops.dropped(), 2);
}

/// CPython: `test_put_cancelled_race`: of three blocked putters, the middle
/// one is cancelled: the other two get in, in order, and nothing else.
#[test]
fn test_put_cancelled_race() {
    let q = Queue::new(1);
    q.put_nowait("x").unwrap();
    let mut a = Manual::new(q.put("a"));
    let mut b = Manual::new(q.put("b"));
    let mut c = Manual::new(q.put("c"));
    for p in [&mut a, &mut b, &mut c] {
        assert_eq!(p.poll(), Poll::Pending);
    }
    drop(b);
    assert_eq!(q.get_nowait(), Ok("x"));
    assert_eq!(a.poll(), Poll::Ready(Ok(())));
    assert_eq!(c.wakes(), 0);
    assert_eq!(q.get_nowait(), Ok("a"));
    assert_eq!(c.poll(), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok("c"));
    assert_eq!(q.get_nowait(), Err(QueueEmpty::Empty));
}

/// A putter admitted (room was made, its item moved in) and then dropped
/// before it polls again: the put happened, exactly once.
#[test]
fn put_admitted_then_dropped_is_still_put() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let mut p = Manual::new(q.put(2));
    assert_eq!(p.poll(), Poll::Pending);
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(p.wakes(), 1);
    drop(p);
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(QueueEmpty::Empty));
}

/// CPython: `test_get_cancelled_race`, `test_get_cancel_drop_one_pending_reader`:
/// a getter handed an item and cancelled before it takes it passes the
/// item to the next waiting getter.
#[test]
fn test_get_cancelled_race() {
    let q = Queue::new(0);
    let mut a = Manual::new(q.get());
    let mut b = Manual::new(q.get());
    assert_eq!(a.poll(), Poll::Pending);
    assert_eq!(b.poll(), Poll::Pending);
    q.put_nowait("x").unwrap();
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a);
    assert_eq!(b.wakes(), 1, "the item was passed on");
    assert_eq!(b.poll(), Poll::Ready(Ok("x")));
    assert_eq!(q.waiting(), (0, 0));
    assert!(q.empty());
}

/// CPython: `test_get_cancel_drop_many_pending_readers`: with no getter
/// behind it, the item handed to a cancelled getter goes back to the head
/// of the queue, ahead of items put after it; nothing is lost.
#[test]
fn cancelled_getter_returns_its_item_to_the_head() {
    let q = Queue::new(0);
    let mut a = Manual::new(q.get());
    assert_eq!(a.poll(), Poll::Pending);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert_eq!(q.qsize(), 2);
    drop(a);
    assert_eq!(q.qsize(), 2);
    assert_eq!(drain(|| q.get_nowait()), [1, 2]);
}

/// The same for the other two kinds: the item is re-inserted in order.
#[test]
fn cancelled_getter_returns_its_item_lifo_and_priority() {
    let q = LifoQueue::new(0);
    let mut a = Manual::new(q.get());
    assert_eq!(a.poll(), Poll::Pending);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    drop(a);
    assert_eq!(drain(|| q.get_nowait()), [1, 2], "1 was the next out");

    let q = PriorityQueue::new(0);
    let mut a = Manual::new(q.get());
    assert_eq!(a.poll(), Poll::Pending);
    q.put_nowait(5).unwrap();
    q.put_nowait(7).unwrap();
    q.put_nowait(3).unwrap();
    drop(a);
    assert_eq!(drain(|| q.get_nowait()), [3, 5, 7]);
}

/// A bounded queue: an item handed to a getter keeps its slot until the
/// getter takes it (asyncio's accounting), so returning it on cancel never
/// overfills the queue; taking it admits the next putter.
#[test]
fn handed_item_holds_its_slot() {
    let q = Queue::new(1);
    let mut g = Manual::new(q.get());
    assert_eq!(g.poll(), Poll::Pending);
    q.put_nowait(1).unwrap();
    assert!(q.full());
    let mut p = Manual::new(q.put(2));
    assert_eq!(p.poll(), Poll::Pending);
    assert_eq!(g.poll(), Poll::Ready(Ok(1)));
    assert_eq!(p.wakes(), 1);
    assert_eq!(p.poll(), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok(2));
}

/// CPython: `test_cancelled_getters_not_being_held_in_self_getters`: a
/// getter dropped while waiting leaves no entry and takes no item.
#[test]
fn test_cancelled_getters_not_being_held_in_self_getters() {
    let q = Queue::new(0);
    let mut g = Manual::new(q.get());
    assert_eq!(g.poll(), Poll::Pending);
    assert_eq!(q.waiting(), (1, 0));
    drop(g);
    assert_eq!(q.waiting(), (0, 0));
    q.put_nowait(1).unwrap();
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_nowait(), Ok(1));
}

/// CPython: `test_nonblocking_get`, `test_nonblocking_get_exception`.
#[test]
fn test_nonblocking_get_exception() {
    let q = Queue::<u8>::new(0);
    assert_eq!(q.get_nowait(), Err(QueueEmpty::Empty));
    q.put_nowait(1).unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Err(QueueEmpty::Empty));
}

/// CPython: `test_nonblocking_put`, `test_nonblocking_put_exception`: the
/// item comes back.
#[test]
fn test_nonblocking_put_exception() {
    let q = Queue::new(1);
    q.put_nowait(String::from("a")).unwrap();
    let err = q.put_nowait(String::from("b")).unwrap_err();
    assert!(!err.is_shutdown());
    assert_eq!(err.to_string(), "the queue is full");
    assert_eq!(err.into_inner(), "b");
}

/// CPython: `test_task_done`: `join` returns once every item put was
/// marked done, with consumers on two workers.
#[test]
fn test_task_done() {
    watchdog(LONG, || {
        rt(2).block_on(async {
            let q = Arc::new(Queue::new(0));
            let total = Arc::new(AtomicUsize::new(0));
            for i in 1..=100 {
                q.put_nowait(i).unwrap();
            }
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let (q, total) = (q.clone(), total.clone());
                    corio::create_task(async move {
                        while let Ok(i) = q.get().await {
                            total.fetch_add(i, SeqCst);
                            q.task_done().unwrap();
                        }
                    })
                })
                .collect();
            q.join().await;
            assert_eq!(total.load(SeqCst), 5050);
            q.shutdown(false);
            for w in workers {
                w.await.unwrap();
            }
        })
    });
}

/// CPython: `test_task_done_underflow`.
#[test]
fn test_task_done_underflow() {
    let q = Queue::new(0);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put_nowait(1).unwrap();
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// CPython: `test_join_empty_queue`: `join` on a queue with nothing
/// pending returns at once, twice.
#[test]
fn test_join_empty_queue() {
    let q = Queue::<u8>::new(0);
    assert_eq!(Manual::new(q.join()).poll(), Poll::Ready(()));
    assert_eq!(Manual::new(q.join()).poll(), Poll::Ready(()));
}

/// Several joiners wait and are all woken by the last `task_done`; a
/// joiner dropped while waiting just leaves.
#[test]
fn join_wakes_every_joiner_on_the_last_task_done() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let mut a = Manual::new(q.join());
    let mut b = Manual::new(q.join());
    let mut gone = Manual::new(q.join());
    for j in [&mut a, &mut b, &mut gone] {
        assert_eq!(j.poll(), Poll::Pending);
    }
    drop(gone);
    q.task_done().unwrap();
    assert_eq!((a.wakes(), b.wakes()), (0, 0));
    q.task_done().unwrap();
    assert_eq!((a.wakes(), b.wakes()), (1, 1));
    assert_eq!(a.poll(), Poll::Ready(()));
    assert_eq!(b.poll(), Poll::Ready(()));
}

/// CPython 3.13: `test_shutdown_empty` (not in the 3.11 suite): a blocked
/// getter is woken with the error, `join` returns, and every later put and
/// get fails.
#[test]
fn test_shutdown_empty() {
    let q = Queue::new(0);
    let mut g = Manual::new(q.get());
    assert_eq!(g.poll(), Poll::Pending);
    q.shutdown(false);
    assert!(q.is_shutdown());
    assert_eq!(q.qsize(), 0);
    assert_eq!(Manual::new(q.join()).poll(), Poll::Ready(()));
    assert_eq!(g.wakes(), 1);
    assert_eq!(g.poll(), Poll::Ready(Err(QueueShutDown)));
    assert_eq!(
        Manual::new(q.put("data")).poll(),
        Poll::Ready(Err(QueueShutDown))
    );
    assert!(matches!(
        q.put_nowait("data"),
        Err(QueueFull::ShutDown("data"))
    ));
    assert_eq!(Manual::new(q.get()).poll(), Poll::Ready(Err(QueueShutDown)));
    assert_eq!(q.get_nowait(), Err(QueueEmpty::ShutDown));
}

/// CPython 3.13: `test_shutdown_nonempty` (not in the 3.11 suite): a
/// blocked putter is woken with the error; gets drain what is left, then
/// fail; `join` still waits for the drained item's `task_done`.
#[test]
fn test_shutdown_nonempty() {
    let q = Queue::new(1);
    q.put_nowait("data").unwrap();
    let mut join = Manual::new(q.join());
    let mut put = Manual::new(q.put("data2"));
    assert_eq!(put.poll(), Poll::Pending);
    assert_eq!(join.poll(), Poll::Pending);
    q.shutdown(false);
    assert_eq!(q.qsize(), 1);
    assert_eq!(put.wakes(), 1);
    assert_eq!(put.poll(), Poll::Ready(Err(QueueShutDown)));
    assert_eq!(Manual::new(q.get()).poll(), Poll::Ready(Ok("data")));
    assert_eq!(join.poll(), Poll::Pending);
    assert_eq!(
        Manual::new(q.put("data")).poll(),
        Poll::Ready(Err(QueueShutDown))
    );
    assert_eq!(Manual::new(q.get()).poll(), Poll::Ready(Err(QueueShutDown)));
    assert_eq!(q.get_nowait(), Err(QueueEmpty::ShutDown));
    q.task_done().unwrap();
    assert_eq!(join.wakes(), 1);
    assert_eq!(join.poll(), Poll::Ready(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// CPython 3.13: `test_shutdown_immediate` (not in the 3.11 suite): the
/// items are dropped and marked done, so `join` returns; then every put
/// and get fails.
#[test]
fn test_shutdown_immediate() {
    let drops = DropCounter::new();
    let q = Queue::new(0);
    q.put_nowait(Tracked(1, drops.guard())).unwrap();
    let mut join = Manual::new(q.join());
    assert_eq!(join.poll(), Poll::Pending);
    q.shutdown(true);
    assert_eq!(drops.dropped(), 1);
    assert_eq!(q.qsize(), 0);
    assert_eq!(join.wakes(), 1);
    assert_eq!(join.poll(), Poll::Ready(()));
    assert!(q
        .put_nowait(Tracked(2, drops.guard()))
        .unwrap_err()
        .is_shutdown());
    assert!(matches!(q.get_nowait(), Err(QueueEmpty::ShutDown)));
    assert!(matches!(
        Manual::new(q.get()).poll(),
        Poll::Ready(Err(QueueShutDown))
    ));
    assert_eq!(q.task_done(), Err(TaskDoneError));
    // A later `shutdown(false)` does not reopen anything.
    q.shutdown(false);
    assert!(q.is_shutdown());
}

/// CPython 3.13: `test_shutdown_immediate_with_unfinished` (not in the 3.11
/// suite): only the discarded items are marked done.
#[test]
fn test_shutdown_immediate_with_unfinished() {
    let q = Queue::new(0);
    q.put_nowait("data").unwrap();
    q.put_nowait("data").unwrap();
    let mut join = Manual::new(q.join());
    assert_eq!(join.poll(), Poll::Pending);
    assert_eq!(q.get_nowait(), Ok("data"));
    q.shutdown(true);
    assert_eq!(q.qsize(), 0);
    assert_eq!(join.poll(), Poll::Pending);
    assert_eq!(q.get_nowait(), Err(QueueEmpty::ShutDown));
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(join.poll(), Poll::Ready(()));
}

/// Like 3.13's `test_shutdown_putters_deque` (written from the semantics):
/// every blocked putter is woken, in order, with the error, and its item is
/// dropped, never enqueued.
#[test]
fn test_shutdown_putters_deque() {
    let drops = DropCounter::new();
    let q = Queue::new(1);
    q.put_nowait(Tracked(0, drops.guard())).unwrap();
    let mut putters: Vec<_> = (1..=3)
        .map(|i| Manual::new(q.put(Tracked(i, drops.guard()))))
        .collect();
    for p in &mut putters {
        assert_eq!(p.poll(), Poll::Pending);
    }
    q.shutdown(false);
    assert_eq!(
        drops.dropped(),
        3,
        "the blocked putters' items were dropped"
    );
    assert_eq!(q.waiting(), (0, 0));
    for p in &mut putters {
        assert_eq!(p.wakes(), 1);
        assert!(matches!(p.poll(), Poll::Ready(Err(QueueShutDown))));
    }
    assert_eq!(q.qsize(), 1);
    assert!(matches!(q.get_nowait(), Ok(Tracked(0, _))));
}

/// Every blocked getter is woken with the error by a shutdown.
#[test]
fn shutdown_wakes_every_blocked_getter() {
    let q = Queue::<u8>::new(0);
    let mut getters: Vec<_> = (0..3).map(|_| Manual::new(q.get())).collect();
    for g in &mut getters {
        assert_eq!(g.poll(), Poll::Pending);
    }
    q.shutdown(false);
    for g in &mut getters {
        assert_eq!(g.wakes(), 1);
        assert_eq!(g.poll(), Poll::Ready(Err(QueueShutDown)));
    }
}

/// An item handed to a getter that has not taken it is still in the queue:
/// an immediate shutdown discards it too, and that getter fails.
#[test]
fn immediate_shutdown_discards_a_handed_item() {
    let drops = DropCounter::new();
    let q = Queue::new(0);
    let mut g = Manual::new(q.get());
    assert_eq!(g.poll(), Poll::Pending);
    q.put_nowait(Tracked(1, drops.guard())).unwrap();
    let mut join = Manual::new(q.join());
    assert_eq!(join.poll(), Poll::Pending);
    q.shutdown(true);
    assert_eq!(q.qsize(), 0);
    assert_eq!(join.poll(), Poll::Ready(()));
    assert!(matches!(g.poll(), Poll::Ready(Err(QueueShutDown))));
    assert_eq!(drops.dropped(), 1);
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// A getter handed an item before a plain shutdown and then cancelled: the
/// item goes back into the queue, where a later get drains it.
#[test]
fn cancelled_getter_after_shutdown_returns_its_item() {
    let q = Queue::new(0);
    let mut g = Manual::new(q.get());
    assert_eq!(g.poll(), Poll::Pending);
    q.put_nowait(1).unwrap();
    q.shutdown(false);
    drop(g);
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Err(QueueEmpty::ShutDown));
}

/// The queue works with no runtime: a producer and a consumer on plain
/// threads, blocking on the futures.
#[test]
fn plain_threads_without_a_runtime() {
    watchdog(LONG, || {
        let q = Arc::new(Queue::new(4));
        let producer = thread::spawn({
            let q = q.clone();
            move || {
                for i in 0..1000u32 {
                    block_on_plain(q.put(i)).unwrap();
                }
                q.shutdown(false);
            }
        });
        let mut got = Vec::new();
        while let Ok(i) = block_on_plain(q.get()) {
            got.push(i);
        }
        producer.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    });
}

/// A consumer blocked in `get` on a worker is woken by a put from another
/// worker, and by a put from a plain thread.
#[test]
fn put_from_another_worker_or_thread_wakes_a_getter() {
    watchdog(LONG, || {
        let rt = rt(2);
        let q = Arc::new(Queue::new(0));
        let consumer = rt.handle().spawn({
            let q = q.clone();
            async move { (q.get().await, q.get().await) }
        });
        let q2 = q.clone();
        rt.block_on(async move {
            until(|| q2.waiting().0 == 1).await;
            corio::create_task(async move { q2.put_nowait(1).unwrap() })
                .await
                .unwrap();
        });
        while q.waiting().0 != 1 {
            thread::sleep(Duration::from_millis(1));
        }
        q.put_nowait(2).unwrap();
        let out = rt.block_on(consumer).unwrap();
        assert_eq!(out, (Ok(1), Ok(2)));
    });
}

/// Multi-core stress: 4 producers and 4 consumers on 2 workers move
/// 1 000 000 items through a queue of 64; every item arrives exactly once
/// (a bitmap of what was seen), and each producer's items arrive in the
/// order it put them (FIFO per producer).
#[test]
fn stress_four_producers_four_consumers() {
    const PRODUCERS: u64 = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: u64 = 250_000;
    watchdog(Duration::from_secs(120), || {
        rt(2).block_on(async {
            let q = Arc::new(Queue::new(64));
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = q.clone();
                    corio::create_task(async move {
                        for i in 0..PER_PRODUCER {
                            q.put(p * PER_PRODUCER + i).await.unwrap();
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = q.clone();
                    corio::create_task(async move {
                        let mut seen = Vec::new();
                        let mut last = [None::<u64>; PRODUCERS as usize];
                        while let Ok(item) = q.get().await {
                            let p = (item / PER_PRODUCER) as usize;
                            // One consumer sees each producer's items in
                            // increasing order.
                            assert!(last[p] < Some(item), "out of order");
                            last[p] = Some(item);
                            seen.push(item);
                        }
                        seen
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            q.shutdown(false);
            let mut bitmap = vec![false; (PRODUCERS * PER_PRODUCER) as usize];
            let mut count = 0;
            for c in consumers {
                for item in c.await.unwrap() {
                    assert!(!bitmap[item as usize], "item {item} delivered twice");
                    bitmap[item as usize] = true;
                    count += 1;
                }
            }
            assert_eq!(count, PRODUCERS * PER_PRODUCER, "items lost");
            assert_eq!(q.waiting(), (0, 0));
        })
    });
}

/// Consumers on two workers that time out of `get` (cancelling it at
/// random points) while producers put: nothing is lost or duplicated.
#[test]
fn stress_getters_cancelled_by_timeouts() {
    const N: u64 = 20_000;
    watchdog(Duration::from_secs(120), || {
        rt(2).block_on(async {
            let q = Arc::new(Queue::new(8));
            let producers: Vec<_> = (0..2u64)
                .map(|p| {
                    let q = q.clone();
                    corio::create_task(async move {
                        for i in 0..N {
                            q.put(p * N + i).await.unwrap();
                            if i % 64 == 0 {
                                corio::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..3)
                .map(|_| {
                    let q = q.clone();
                    corio::create_task(async move {
                        let mut seen = Vec::new();
                        loop {
                            match corio::timeout(Duration::from_micros(50), q.get()).await {
                                Ok(Ok(item)) => seen.push(item),
                                Ok(Err(QueueShutDown)) => break seen,
                                Err(_) => {} // timed out: the get was dropped
                            }
                        }
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            q.shutdown(false);
            let mut all: Vec<u64> = Vec::new();
            for c in consumers {
                all.extend(c.await.unwrap());
            }
            all.sort_unstable();
            assert_eq!(all, (0..2 * N).collect::<Vec<_>>());
        })
    });
}
