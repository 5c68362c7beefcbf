use corio::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[test]
fn echo_many() {
    let rt = corio::Builder::new().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        corio::create_task(async move {
            loop {
                let (s, _) = listener.accept().await.unwrap();
                corio::create_task(async move {
                    let mut buf = [0u8; 1024];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 { break; }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..1000).map(|i| corio::create_task(async move {
            let s = TcpStream::connect(addr).await.unwrap();
            for j in 0..10u32 {
                let msg = format!("{i}-{j}");
                s.write_all(msg.as_bytes()).await.unwrap();
                let mut buf = vec![0u8; msg.len()];
                s.read_exact(&mut buf).await.unwrap();
                assert_eq!(buf, msg.as_bytes());
            }
        })).collect();
        for c in clients { c.await.unwrap(); }
        println!("1000 conns x 10 echoes in {:?}", start.elapsed());
        let e = TcpStream::connect("127.0.0.1:1").await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
        let l2 = TcpListener::bind(addr).await;
        assert_eq!(l2.unwrap_err().kind(), std::io::ErrorKind::AddrInUse);
    });
}

#[test]
fn readiness_while_home_worker_busy() {
    let rt = corio::Builder::new().worker_threads(2).build().unwrap();
    rt.block_on(async {
        // Create the listener on a worker, then make that worker busy.
        let (tx, rx) = std::sync::mpsc::channel();
        let home = corio::create_task(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let t = corio::create_task(async move {
                let (s, _) = listener.accept().await.unwrap();
                let mut b = [0u8; 1]; s.read_exact(&mut b).await.unwrap();
                Instant::now()
            });
            // Now hog this worker for 2 s.
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(2) { std::hint::spin_loop(); }
            t
        });
        let addr = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let sent = Instant::now();
        let s = std::net::TcpStream::connect(addr).unwrap();
        use std::io::Write; (&s).write_all(b"x").unwrap();
        let t = home.await.unwrap();
        let got = t.await.unwrap();
        println!("delivered after {:?}", got - sent);
        assert!(got - sent < Duration::from_millis(1000));
    });
}
