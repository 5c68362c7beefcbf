//! The loop's callbacks: `call_soon`, `call_later`, `call_at`, readers and
//! writers (CPython: test_events.py, test_base_events.py).

use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn log() -> Arc<Mutex<Vec<u32>>> {
    Arc::new(Mutex::new(Vec::new()))
}

/// test_base_events.py: test_call_soon — callbacks run in FIFO order.
#[test]
fn call_soon_runs_in_fifo_order_on_the_loop_thread() {
    corio::run(async {
        let lp = corio::get_running_loop();
        let order = log();
        let me = std::thread::current().id();
        let on_loop = Arc::new(AtomicUsize::new(0));
        for i in 0..100 {
            let (order, on_loop) = (order.clone(), on_loop.clone());
            lp.call_soon(move || {
                if std::thread::current().id() == me {
                    on_loop.fetch_add(1, SeqCst);
                }
                order.lock().unwrap().push(i)
            });
        }
        corio::sleep(Duration::from_millis(20)).await;
        assert_eq!(*order.lock().unwrap(), (0..100).collect::<Vec<_>>());
        assert_eq!(
            on_loop.load(SeqCst),
            100,
            "callbacks ran off the loop's thread"
        );
    });
}

/// test_base_events.py: test_call_soon_threadsafe — from another thread, FIFO.
#[test]
fn call_soon_threadsafe_from_another_thread() {
    corio::run(async {
        let lp = corio::get_running_loop();
        let order = log();
        let o = order.clone();
        std::thread::spawn(move || {
            for i in 0..50 {
                let o = o.clone();
                lp.call_soon_threadsafe(move || o.lock().unwrap().push(i));
            }
        })
        .join()
        .unwrap();
        corio::sleep(Duration::from_millis(20)).await;
        assert_eq!(*order.lock().unwrap(), (0..50).collect::<Vec<_>>());
    });
}

/// test_base_events.py: test_call_later / handle cancel.
#[test]
fn call_later_orders_by_deadline_then_fifo_and_cancel_works() {
    corio::run(async {
        let lp = corio::get_running_loop();
        let order = log();
        let now = lp.time();
        let at = now + Duration::from_millis(30);
        let mut handles = Vec::new();
        for i in 0..5 {
            let o = order.clone();
            handles.push(lp.call_at(at, move || o.lock().unwrap().push(i)));
        }
        let o = order.clone();
        lp.call_later(Duration::from_millis(10), move || {
            o.lock().unwrap().push(100)
        });
        let o = order.clone();
        let cancelled = lp.call_later(Duration::from_millis(20), move || {
            o.lock().unwrap().push(200)
        });
        assert!(cancelled.cancel());
        assert_eq!(handles[0].when(), at);
        corio::sleep(Duration::from_millis(80)).await;
        assert_eq!(*order.lock().unwrap(), vec![100, 0, 1, 2, 3, 4]);
        assert!(cancelled.is_cancelled());
        assert!(Instant::now() >= at);
    });
}

#[test]
fn call_later_never_fires_early() {
    corio::run(async {
        let lp = corio::get_running_loop();
        let fired = Arc::new(Mutex::new(None));
        let f = fired.clone();
        let set = Instant::now();
        lp.call_later(Duration::from_millis(25), move || {
            *f.lock().unwrap() = Some(Instant::now())
        });
        corio::sleep(Duration::from_millis(60)).await;
        let at = fired.lock().unwrap().expect("fired");
        assert!(at - set >= Duration::from_millis(25));
    });
}

#[test]
fn add_reader_and_writer_callbacks() {
    corio::run(async {
        let lp = corio::get_running_loop();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let reader = a.try_clone().unwrap();
        lp.add_reader(a.as_raw_fd(), move || {
            let mut buf = [0u8; 3];
            use std::io::Read;
            if let Ok(n) = (&reader).read(&mut buf) {
                g.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
        .unwrap();
        b.write_all(b"hello world").unwrap();
        corio::sleep(Duration::from_millis(30)).await;
        // Level-triggered: 3-byte reads keep being called until drained.
        assert_eq!(&got.lock().unwrap()[..], b"hello world");
        assert!(lp.remove_reader(a.as_raw_fd()));
        assert!(!lp.remove_reader(a.as_raw_fd()));
        b.write_all(b"more").unwrap();
        corio::sleep(Duration::from_millis(20)).await;
        assert_eq!(&got.lock().unwrap()[..], b"hello world");

        let writes = Arc::new(AtomicUsize::new(0));
        let w = writes.clone();
        lp.add_writer(b.as_raw_fd(), move || {
            w.fetch_add(1, SeqCst);
        })
        .unwrap();
        corio::sleep(Duration::from_millis(20)).await;
        assert!(lp.remove_writer(b.as_raw_fd()));
        assert!(writes.load(SeqCst) >= 1);
    });
}

#[test]
#[should_panic(expected = "get_running_loop must be called from inside a corio runtime")]
fn get_running_loop_outside_panics() {
    let _ = corio::get_running_loop();
}

#[test]
fn try_get_running_loop_outside_is_none() {
    assert!(corio::try_get_running_loop().is_none());
    corio::run(async { assert!(corio::try_get_running_loop().is_some()) });
}
