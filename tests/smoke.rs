#[test]
fn smoke() {
    let v = corio::run(async {
        let tasks: Vec<_> = (0..1000)
            .map(|i| corio::create_task(async move { i }))
            .collect();
        let mut s = 0;
        for t in tasks {
            s += t.await.unwrap();
        }
        s
    });
    assert_eq!(v, 499500);
}
