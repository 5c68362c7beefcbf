use std::time::{Duration, Instant};

#[test]
fn sleeps_and_orders() {
    corio::run(async {
        let start = Instant::now();
        corio::sleep(Duration::from_millis(30)).await;
        let e = start.elapsed();
        assert!(e >= Duration::from_millis(30), "{e:?}");
        assert!(e < Duration::from_millis(500), "{e:?}");
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..20u64 {
            let order = order.clone();
            tasks.push(corio::create_task(async move {
                corio::sleep(Duration::from_millis(10 + (i % 5) * 7)).await;
                order.lock().unwrap().push(i);
            }));
        }
        for t in tasks { t.await.unwrap(); }
        let r = corio::timeout(Duration::from_millis(10), corio::sleep(Duration::from_secs(5))).await;
        assert!(r.is_err());
        let mut iv = corio::interval(Duration::from_millis(5));
        let a = iv.tick().await; let b = iv.tick().await; let c = iv.tick().await;
        assert_eq!(b - a, Duration::from_millis(5)); assert_eq!(c - b, Duration::from_millis(5));
        corio::sleep(Duration::MAX); 
        println!("order {:?}", order.lock().unwrap());
    });
}

#[test]
fn many_timers() {
    let rt = corio::Builder::new().worker_threads(2).build().unwrap();
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..100_000).map(|i| corio::create_task(async move { corio::sleep(Duration::from_millis(1 + i % 50)).await; })).collect();
        for t in tasks { t.await.unwrap(); }
    });
    println!("100k timers {:?}", start.elapsed());
}
