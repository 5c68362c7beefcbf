//! The usage shapes of `../shared/API.md` for tasks, combinators, settable
//! futures, context variables and debugging, written as a user would: this
//! file failing to compile means the contract was broken. Each test also
//! checks the behaviour the line of the contract promises.

use corio::sync::{Cancelled, Promise};
use corio::{ContextVar, ReturnWhen, TaskGroup};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn combinators_as_the_contract_writes_them() {
    corio::run(async {
        let (a, b) = corio::gather!(async { 1 }, async { "b" }).await;
        assert_eq!((a, b), (1, "b"));
        let v: Vec<i32> = corio::gather_all((0..3).map(|i| async move { i })).await;
        assert_eq!(v, [0, 1, 2]);
        let r: Result<(i32, i32), String> =
            corio::try_gather!(async { Ok(1) }, async { Err("e".to_string()) }).await;
        assert_eq!(r, Err("e".to_string()));
        let r: Result<Vec<i32>, String> =
            corio::try_gather_all((0..3).map(|i| async move { Ok(i) })).await;
        assert_eq!(r, Ok(vec![0, 1, 2]));

        // `wait` over Task<Result<T, E>> with FirstException, and any Task<T>.
        let tasks = vec![
            corio::create_task(async { Err::<i32, String>("x".into()) }),
            corio::create_task(async {
                corio::sleep(Duration::from_secs(60)).await;
                Ok(1)
            }),
        ];
        let (done, pending) = corio::wait(tasks, ReturnWhen::FirstException, None).await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        let plain = vec![corio::create_task(async { 5u8 })];
        let (done, _) = corio::wait(
            plain,
            ReturnWhen::AllCompleted,
            Some(Duration::from_secs(10)),
        )
        .await;
        assert_eq!(done.len(), 1);
        for t in pending {
            t.cancel();
        }

        let mut s = corio::as_completed(vec![
            corio::create_task(async {
                corio::sleep(Duration::from_millis(30)).await;
                2
            }),
            corio::create_task(async { 1 }),
        ]);
        assert_eq!(s.next().await.unwrap().unwrap(), 1);
        assert_eq!(s.next().await.unwrap().unwrap(), 2);
        assert!(s.next().await.is_none());

        let r: Result<(), corio::TimeoutError> = corio::wait_for(
            corio::sleep(Duration::from_secs(60)),
            Duration::from_millis(5),
        )
        .await;
        assert!(r.is_err());
        let sh: corio::Shield<i32> = corio::shield(async { 3 });
        assert_eq!(sh.await.unwrap(), 3);

        let tg = TaskGroup::new();
        let t: corio::Task<i32> = tg.create_task(async { Ok::<_, String>(4) });
        let joined: Result<(), corio::TaskGroupError> = tg.join().await;
        joined.unwrap();
        assert_eq!(t.await.unwrap(), 4);
    });
}

#[test]
fn promise_as_the_contract_writes_it() {
    corio::run(async {
        let p = Promise::new();
        let q = p.clone();
        let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = seen.clone();
        p.add_done_callback(move |p: &Promise<i32>| {
            assert!(p.is_done());
            s.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let waiter = corio::create_task(async move { q.wait().await });
        assert_eq!(p.set_result(7), Ok(()));
        assert_eq!(p.set_result(8), Err(8));
        assert_eq!(waiter.await.unwrap(), Ok(7));
        assert!(seen.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(p.await, Ok(7));

        let c = Promise::<String>::new();
        assert!(c.cancel());
        assert!(c.is_cancelled() && c.is_done());
        let r: Result<String, Cancelled> = c.into_future_for_test().await;
        assert_eq!(r, Err(Cancelled));
    });
}

/// `Promise: IntoFuture`, spelled without `.await` sugar.
trait IntoFutureForTest: std::future::IntoFuture + Sized {
    fn into_future_for_test(self) -> Self::IntoFuture {
        std::future::IntoFuture::into_future(self)
    }
}
impl<T> IntoFutureForTest for Promise<T> {}

#[test]
fn context_var_as_the_contract_writes_it() {
    corio::run(async {
        let var: Arc<ContextVar<String>> = Arc::new(ContextVar::new("user"));
        let token = var.set("parent".to_string());
        let v = var.clone();
        let child = corio::create_task(async move {
            let seen: Option<String> = v.get();
            v.set("child".to_string());
            seen
        });
        assert_eq!(child.await.unwrap().as_deref(), Some("parent"));
        assert_eq!(var.get().as_deref(), Some("parent"));
        let v = var.clone();
        assert_eq!(
            corio::to_thread(move || v.get()).await.unwrap().as_deref(),
            Some("parent")
        );
        var.reset(token);
        assert_eq!(var.get(), None);
        let lp = corio::get_running_loop();
        let t: corio::Task<u32> = lp.run_in_executor(|| 9);
        assert_eq!(t.await.unwrap(), 9);
    });
}

#[test]
fn debug_builder_as_the_contract_writes_it() {
    let rt = corio::Builder::new()
        .worker_threads(1)
        .thread_name("dbg")
        .debug(false)
        .slow_callback_duration(Duration::from_millis(100))
        .max_blocking_threads(4)
        .thread_keep_alive(Duration::from_secs(1))
        .build()
        .unwrap();
    assert_eq!(
        rt.block_on(async { corio::to_thread(|| 1).await.unwrap() }),
        1
    );
    let m = rt.handle().metrics();
    assert_eq!(m.num_workers(), 1);
}

#[test]
fn sync_primitives_as_the_contract_writes_them() {
    use corio::sync::{Barrier, BoundedSemaphore, Condition, Event, Lock, Mutex, Semaphore};
    corio::run(async {
        let lock = Lock::new();
        let g = lock.acquire().await;
        assert!(lock.locked() && lock.try_acquire().is_none());
        drop(g);
        assert!(lock.try_acquire().is_some());

        let m = Arc::new(Mutex::new(0u32));
        let cond = Arc::new(Condition::new());
        let (m2, c2) = (m.clone(), cond.clone());
        let waiter = corio::create_task(async move {
            let g = m2.lock().await;
            let g = c2.wait_for(g, |v| *v >= 3).await;
            *g
        });
        for _ in 0..3 {
            *m.lock().await += 1;
            cond.notify_all();
            corio::yield_now().await;
        }
        cond.notify(1);
        assert_eq!(waiter.await.unwrap(), 3);

        let sem = Semaphore::new(1);
        let p = sem.acquire().await;
        assert!(sem.locked() && sem.try_acquire().is_none());
        drop(p);
        sem.release();
        assert_eq!(sem.available(), 2);
        let b = BoundedSemaphore::new(1);
        assert!(b.release().is_err());

        let ev = Event::new();
        ev.set();
        assert!(ev.is_set());
        ev.wait().await;
        ev.clear();

        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let t = corio::create_task(async move { b2.wait().await });
        let mine: Result<usize, corio::sync::BrokenBarrierError> = barrier.wait().await;
        let mut idx = [mine.unwrap(), t.await.unwrap().unwrap()];
        idx.sort();
        assert_eq!(idx, [0, 1]);
        assert_eq!(
            (barrier.parties(), barrier.n_waiting(), barrier.is_broken()),
            (2, 0, false)
        );
    });
}

#[test]
fn queues_as_the_contract_writes_them() {
    use corio::queue::{LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown};
    corio::run(async {
        let q = Arc::new(Queue::new(1));
        q.put(1).await.unwrap();
        assert!(q.full() && q.qsize() == 1 && q.maxsize() == 1);
        let full: Result<(), QueueFull<i32>> = q.put_nowait(2);
        assert!(full.is_err());
        assert_eq!(q.get().await, Ok(1));
        let empty: Result<i32, QueueEmpty> = q.get_nowait();
        assert!(empty.is_err() && q.empty());
        q.put_nowait(3).unwrap();
        assert_eq!(q.get_nowait().ok(), Some(3));
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert!(q.task_done().is_err());
        q.join().await;
        q.shutdown(false);
        let shut: Result<(), QueueShutDown> = q.put(4).await;
        assert!(shut.is_err());
        assert!(q.get().await.is_err());

        let lifo = LifoQueue::new(0);
        let prio = PriorityQueue::new(0);
        for i in [2, 1, 3] {
            lifo.put(i).await.unwrap();
            prio.put(i).await.unwrap();
        }
        assert_eq!(lifo.get().await, Ok(3));
        assert_eq!(prio.get().await, Ok(1));
    });
}
