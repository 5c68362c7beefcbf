//! `corio::sync::Semaphore` (`src/sync/semaphore.rs`): a release racing with
//! a waiter's cancellation, and the atomic fast path racing with the locked
//! slow path, without a runtime. A lost wakeup leaves a `block_on` parked
//! forever (loom reports a deadlock); a lost or duplicated permit shows in
//! the final count.
#![cfg(loom)]

use corio::sync::Semaphore;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;
use loom_tests::{block_on, model, poll_once};

/// Two waiters in line on an empty semaphore (registered in order); the
/// front one is dropped on one thread while another thread releases and
/// the second waiter blocks on a third: the permit reaches the second
/// waiter whichever way the release and the drop interleave (handed to the
/// front first and passed on, or straight to the second), and it comes
/// back when the second drops its guard: permits are conserved.
#[test]
fn release_races_with_cancel() {
    model("sync_semaphore::release_races_with_cancel", || {
        let sem = Arc::new(Semaphore::new(0));
        // `acquire` futures that own an `Arc`, to move to other threads.
        let s1 = sem.clone();
        let mut w1 = Box::pin(async move {
            s1.acquire().await.forget();
        });
        let s2 = sem.clone();
        let mut w2 = Box::pin(async move {
            let _p = s2.acquire().await;
        });
        assert!(poll_once(&mut w1).is_pending());
        assert!(poll_once(&mut w2).is_pending());
        assert!(sem.locked());

        let canceller = thread::spawn(move || drop(w1));
        let waiter = thread::spawn(move || block_on(w2));
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        canceller.join().unwrap();
        waiter.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(sem.available(), 1, "permits not conserved");
        assert!(!sem.locked());
    });
}

/// A semaphore of 1 as a lock: two threads and the main thread each take a
/// permit (fast path when free, else joining the line), hold it across a
/// non-atomic read-modify-write of a counter, and give it back. Mutual
/// exclusion holds (no lost update), nobody hangs, and the permit is back
/// at the end with the line empty.
#[test]
fn fast_path_races_with_waiters() {
    model("sync_semaphore::fast_path_races_with_waiters", || {
        let sem = Arc::new(Semaphore::new(1));
        let counter = Arc::new(AtomicUsize::new(0));
        let critical = |sem: &Semaphore, counter: &AtomicUsize| {
            let _permit = block_on(sem.acquire());
            // Split load/store: a second holder would lose an update.
            let v = counter.load(SeqCst);
            counter.store(v + 1, SeqCst);
        };
        let others: Vec<_> = (0..2)
            .map(|_| {
                let (sem, counter) = (sem.clone(), counter.clone());
                thread::spawn(move || critical(&sem, &counter))
            })
            .collect();
        critical(&sem, &counter);
        for t in others {
            t.join().unwrap();
        }
        assert_eq!(counter.load(SeqCst), 3);
        assert_eq!(sem.available(), 1);
        assert!(!sem.locked());
    });
}

/// No barging: a waiter at the front wants 2 permits while they are
/// released one by one on one thread, and a newcomer tries the fast path
/// on another. The newcomer never gets the permit the front waiter is
/// saving up for (though the count is 1 in between), and the front waiter
/// gets both (and keeps them).
#[test]
fn newcomer_does_not_barge() {
    model("sync_semaphore::newcomer_does_not_barge", || {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let mut front = Box::pin(async move {
            let permit = s.acquire_many(2).await;
            let n = permit.num_permits();
            // Kept: the newcomer must find none, before or after.
            permit.forget();
            n
        });
        assert!(poll_once(&mut front).is_pending());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || {
                sem.release();
                sem.release();
            })
        };
        let newcomer = {
            let sem = sem.clone();
            thread::spawn(move || sem.try_acquire().map(|p| p.num_permits()))
        };
        assert_eq!(block_on(front), 2);
        releaser.join().unwrap();
        assert_eq!(newcomer.join().unwrap(), None, "a newcomer barged");
        assert_eq!(sem.available(), 0);
    });
}
