//! Small helpers shared by the socket types.

use crate::io::registration::PollEvented;
use crate::io::scheduled_io::Direction;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};
use std::time::Duration;

/// First and last pause of [`accept_with_backoff`] after a resource error.
const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Accepts with `poll_accept`, waiting and retrying (10 ms, doubling up to
/// 1 s) while the process is out of file descriptors or socket memory: the
/// pending connection stays in the kernel's backlog until a descriptor is
/// free, and the loop neither fails nor spins. Other errors are returned.
pub(crate) async fn accept_with_backoff<T>(
    mut poll_accept: impl FnMut(&mut Context<'_>) -> Poll<io::Result<T>>,
) -> io::Result<T> {
    let mut backoff = ACCEPT_BACKOFF_START;
    loop {
        match poll_fn(&mut poll_accept).await {
            Err(e) if is_resource_exhaustion(&e) => {
                crate::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
            }
            res => return res,
        }
    }
}

fn is_resource_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Pending connections a listener queues before the kernel starts dropping
/// SYNs (then clients retry after a second): asyncio's and Go's 1024 rather
/// than mio's 128, which a burst of connections overflows at once. The
/// kernel caps it at `net.core.somaxconn`.
pub(crate) const LISTEN_BACKLOG: libc::c_int = 1024;

/// Sets the listen backlog of a listening socket to `LISTEN_BACKLOG`.
pub(crate) fn set_backlog(listener: &impl std::os::fd::AsRawFd) -> io::Result<()> {
    // SAFETY: `listen` on a valid, already listening socket only updates its
    // backlog.
    if unsafe { libc::listen(listener.as_raw_fd(), LISTEN_BACKLOG) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Moves the descriptor of the (deregistered) mio socket `m` into its std
/// counterpart `S`.
pub(crate) fn into_std_fd<M: std::os::fd::IntoRawFd, S: std::os::fd::FromRawFd>(m: M) -> S {
    let fd = m.into_raw_fd();
    // SAFETY: `fd` was just released by its owner and is a socket of the
    // kind `S` wraps; ownership passes to the new value.
    unsafe { S::from_raw_fd(fd) }
}

/// Waits until `io` is ready in `direction` (or closed, or in error),
/// without clearing the readiness.
pub(crate) async fn ready<E: std::os::fd::AsRawFd>(
    io: &PollEvented<E>,
    direction: Direction,
) -> io::Result<()> {
    poll_fn(|cx| io.poll_ready(cx, direction)).await
}

/// `AsRawFd` and `AsFd` for socket types whose field `io` is a
/// `PollEvented` of a mio socket.
macro_rules! fd_impls {
    ($($ty:ty),*) => {$(
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get().as_fd()
            }
        }
    )*};
}

pub(crate) use fd_impls;
