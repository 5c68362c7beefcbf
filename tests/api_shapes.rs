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
