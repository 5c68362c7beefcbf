#![cfg(loom)]
#[test]
fn spawn_and_join() {
    loom::model(|| {
        let rt = corio::Builder::new().worker_threads(1).build().unwrap();
        let v = rt.block_on(async { corio::create_task(async { 7 }).await.unwrap() });
        assert_eq!(v, 7);
    });
}
