//! `EventLoop::add_signal_handler`: a signal's callback run on one loop.
//!
//! Each handler is a task on the loop's owner thread that waits on its own
//! [`Signal`](super::Signal) and calls the callback after each delivery, so
//! the callback runs on that loop like a `call_soon` callback. The table of
//! handler tasks is process-wide, keyed by (loop, signal): a loop's identity
//! is its owner's address, and an entry whose task is finished (its loop
//! shut down and cancelled it) counts as absent, so a later loop that reuses
//! the address never sees it.

use crate::loom::sync::{Arc, Mutex, OnceLock};
use crate::runtime::scheduler::local::LocalOwner;
use crate::task::{spawn_on_owner, Task};
use std::collections::HashMap;
use std::io;
use std::panic::Location;

type Table = Mutex<HashMap<(usize, i32), Task<()>>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

fn key(owner: &Arc<LocalOwner>, signum: i32) -> (usize, i32) {
    (Arc::as_ptr(owner) as usize, signum)
}

/// Installs `cb` for `signum` on `owner`'s loop, replacing its handler there.
pub(crate) fn add(
    owner: &Arc<LocalOwner>,
    signum: i32,
    cb: impl Fn() + Send + Sync + 'static,
    location: &'static Location<'static>,
) -> io::Result<()> {
    // Subscribed before returning: a signal raised right after the call
    // reaches the callback.
    let mut sig = super::signal(super::SignalKind::from_raw(signum))?;
    let task = spawn_on_owner(
        owner,
        async move {
            while sig.recv().await.is_some() {
                cb();
            }
        },
        location,
    );
    let mut table = table().lock();
    table.retain(|_, t| !t.is_done());
    if let Some(old) = table.insert(key(owner, signum), task) {
        old.cancel();
    }
    Ok(())
}

/// Removes the handler of `signum` on `owner`'s loop; `true` if there was
/// one.
pub(crate) fn remove(owner: &Arc<LocalOwner>, signum: i32) -> bool {
    let old = table().lock().remove(&key(owner, signum));
    match old {
        Some(task) if !task.is_done() => task.cancel(),
        _ => false,
    }
}
