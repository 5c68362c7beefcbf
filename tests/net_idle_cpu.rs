//! An idle runtime uses no CPU, also with sockets registered on its event
//! loops. In a test binary of its own, so that no other test's threads count.

use corio::net::{TcpListener, TcpStream};
use std::time::Duration;

/// User plus system CPU time of the whole process.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

const IDLE: Duration = Duration::from_secs(1);
const MAX_CPU: Duration = Duration::from_millis(100);
/// Worker wake-ups allowed in `IDLE` (a sleeping worker should not wake at
/// all).
const MAX_WAKEUPS: u64 = 10;

/// Runs `f` and returns the CPU time the process used meanwhile and how
/// many times the runtime's workers went back to sleep (one per wake-up).
fn idle_for(rt: &corio::Runtime, f: impl FnOnce()) -> (Duration, u64) {
    let parks = || {
        rt.handle()
            .metrics()
            .workers()
            .iter()
            .map(|w| w.parks)
            .sum::<u64>()
    };
    let (p0, before) = (parks(), cpu_time());
    f();
    (cpu_time() - before, parks() - p0)
}

#[test]
fn idle_runtime_with_sockets_uses_no_cpu() {
    let rt = corio::Builder::new().worker_threads(2).build().unwrap();
    let (listener, streams) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut streams = Vec::new();
        for i in 0..10u8 {
            // Make the sockets inside tasks, so that both workers' event
            // loops get some, and use each once so readiness was delivered.
            let client = corio::create_task(async move { TcpStream::connect(addr).await.unwrap() });
            let (server, _) = listener.accept().await.unwrap();
            let client = client.await.unwrap();
            let server = corio::create_task(async move {
                let mut b = [0u8; 1];
                server.read_exact(&mut b).await.unwrap();
                server.write_all(&b).await.unwrap();
                server
            });
            client.write_all(&[i]).await.unwrap();
            let mut b = [0u8; 1];
            client.read_exact(&mut b).await.unwrap();
            assert_eq!(b[0], i);
            streams.push((client, server.await.unwrap()));
        }
        // The listener waits in an accept that never comes.
        let listener = corio::create_task(async move {
            let _ = listener.accept().await;
        });
        // Let the dust settle.
        corio::sleep(Duration::from_millis(200)).await;
        (listener, streams)
    });

    // Measured twice: with no thread inside the runtime, and while a
    // `block_on` sleeps.
    let (cpu, wakeups) = idle_for(&rt, || std::thread::sleep(IDLE));
    let (cpu_b, wakeups_b) = idle_for(&rt, || rt.block_on(corio::sleep(IDLE)));
    eprintln!("idle: {cpu:?} CPU, {wakeups} worker wake-ups; in block_on: {cpu_b:?} CPU, {wakeups_b} wake-ups");
    assert!(
        cpu < MAX_CPU,
        "an idle runtime used {cpu:?} of CPU in {IDLE:?}"
    );
    assert!(
        cpu_b < MAX_CPU,
        "an idle runtime used {cpu_b:?} of CPU in {IDLE:?} of block_on"
    );
    // The sharper symptom: workers that keep waking each other (a few ms
    // apart) stay under the CPU bound above, but not under this one.
    assert!(
        wakeups <= MAX_WAKEUPS && wakeups_b <= MAX_WAKEUPS,
        "idle workers woke {wakeups} (and {wakeups_b}) times in {IDLE:?}"
    );

    // Everything still works afterwards.
    rt.block_on(async {
        for (i, (client, server)) in streams.iter().enumerate() {
            client.write_all(&[i as u8]).await.unwrap();
            let mut b = [0u8; 1];
            corio::timeout(Duration::from_secs(10), server.read_exact(&mut b))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(b[0], i as u8);
        }
    });
    assert!(!listener.is_done());
    listener.cancel();
    drop(streams);
}
