//! Raw readiness callbacks: `EventLoop::add_reader` and friends.
//!
//! asyncio calls a reader callback whenever the descriptor is readable
//! (level-triggered), while corio's registrations are edge-triggered. The
//! watcher task bridges the two: after each callback it asks the kernel
//! (`poll(2)` with a zero timeout) whether the descriptor is still ready; if
//! so it yields and calls again, otherwise it clears the readiness and waits
//! for the next edge.

use super::scheduled_io::{Direction, ScheduledIo, SHUTDOWN};
use crate::loom::sync::Arc;
use crate::runtime::driver::Driver;
use crate::runtime::scheduler::local::LocalOwner;
use crate::task::{spawn_on_owner, Task};
use mio::unix::SourceFd;
use mio::Interest;
use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::os::fd::RawFd;
use std::panic::Location;

/// The descriptors a driver watches for callbacks.
#[derive(Default)]
pub(crate) struct FdWatches {
    map: HashMap<RawFd, Watch>,
}

struct Watch {
    token: usize,
    io: Arc<ScheduledIo>,
    reader: Option<Task<()>>,
    writer: Option<Task<()>>,
}

impl Watch {
    fn interest(&self) -> Option<Interest> {
        match (self.reader.is_some(), self.writer.is_some()) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }

    fn slot(&mut self, direction: Direction) -> &mut Option<Task<()>> {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// Starts calling `callback` on `owner`'s thread whenever `fd` is ready in
/// `direction`, replacing a callback already set for it.
pub(crate) fn add(
    driver: &Driver,
    owner: &Arc<LocalOwner>,
    fd: RawFd,
    direction: Direction,
    mut callback: impl FnMut() + Send + 'static,
    location: &'static Location<'static>,
) -> io::Result<()> {
    let mut watches = driver.fd_watches.lock();
    let watch = match watches.map.get_mut(&fd) {
        Some(w) => w,
        None => {
            let interest = match direction {
                Direction::Read => Interest::READABLE,
                Direction::Write => Interest::WRITABLE,
            };
            let (token, io) = driver.sources.register(&mut SourceFd(&fd), interest)?;
            watches.map.entry(fd).or_insert(Watch {
                token,
                io,
                reader: None,
                writer: None,
            })
        }
    };
    let io = watch.io.clone();
    let task = spawn_on_owner(
        owner,
        async move {
            loop {
                let event = poll_fn(|cx| io.poll_ready(cx, direction)).await;
                if event.ready & SHUTDOWN != 0 {
                    // The loop is gone: stop watching.
                    return;
                }
                callback();
                if still_ready(fd, direction) {
                    crate::task::yield_now().await;
                } else {
                    io.clear_readiness(event);
                }
            }
        },
        location,
    );
    if let Some(old) = watch.slot(direction).replace(task) {
        old.cancel();
    }
    let interest = watch.interest().expect("a callback was just set");
    driver
        .sources
        .reregister(watch.token, &mut SourceFd(&fd), interest)
}

/// Stops the callback for `fd` in `direction`; `true` if there was one.
pub(crate) fn remove(driver: &Driver, fd: RawFd, direction: Direction) -> bool {
    let mut watches = driver.fd_watches.lock();
    let Some(watch) = watches.map.get_mut(&fd) else {
        return false;
    };
    let Some(old) = watch.slot(direction).take() else {
        return false;
    };
    old.cancel();
    match watch.interest() {
        Some(interest) => {
            let _ = driver
                .sources
                .reregister(watch.token, &mut SourceFd(&fd), interest);
        }
        None => {
            let watch = watches.map.remove(&fd).expect("present");
            // The descriptor may already be closed; then it left epoll by
            // itself and the error means nothing.
            let _ = driver.sources.deregister(watch.token, &mut SourceFd(&fd));
        }
    }
    true
}

/// Whether `fd` is ready in `direction` right now, by `poll(2)`.
fn still_ready(fd: RawFd, direction: Direction) -> bool {
    let events = match direction {
        Direction::Read => libc::POLLIN,
        Direction::Write => libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is a valid array of one pollfd for the call's duration.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (events | libc::POLLHUP | libc::POLLERR) != 0
}
