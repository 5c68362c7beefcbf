//! How a child's exit reaches the event loop, and reaping.
//!
//! Every child has one reaper task (spawned with it, detached). On Linux
//! 5.3+ it waits for the child's pidfd (`pidfd_open`) to become readable on
//! the loop, which happens when the child exits. Where `pidfd_open` fails
//! (an old kernel: `ENOSYS`; a seccomp filter: `EPERM`) it listens to
//! SIGCHLD through [`crate::signal`] instead, and tries to reap after each
//! delivery. Either way the reap is `waitpid(pid, WNOHANG)` for this one
//! child: never `waitpid(-1)`, which would steal other code's children.
//!
//! The reaper first tries to reap at once, then waits: a child that exited
//! before the SIGCHLD subscription existed is reaped by that first try, and
//! one that exits later sends SIGCHLD to the subscription. (A pidfd stays
//! readable once the child has exited, so it needs no such care.)
//!
//! The status goes to a [`Promise`]: any number of `wait`s share it, and a
//! cancelled `wait` leaves nothing behind. Reaping, `try_wait` and sending
//! a signal all hold the child's state lock, so a signal is never sent
//! after the pid was reaped (and possibly reused by another process).

use crate::loom::sync::{Arc, Mutex};
use crate::sync::Promise;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// The outcome shared by every `wait`: the status, or why it is unknown
/// (`io::Error` is not `Clone`, so kind and message).
pub(crate) type Outcome = Result<ExitStatus, (io::ErrorKind, String)>;

/// A child's state, shared by its `Child` handle and its reaper task.
pub(crate) struct ChildState {
    pub(crate) pid: libc::pid_t,
    /// `Some` once reaped: from then on the pid is not ours.
    reaped: Mutex<Option<ExitStatus>>,
    pub(crate) exit: Promise<Outcome>,
}

impl ChildState {
    pub(crate) fn new(pid: u32) -> ChildState {
        ChildState {
            pid: pid as libc::pid_t,
            reaped: Mutex::new(None),
            exit: Promise::new(),
        }
    }

    /// The status if the child was reaped.
    pub(crate) fn reaped(&self) -> Option<ExitStatus> {
        *self.reaped.lock()
    }

    /// Reaps the child if it has exited (`waitpid(pid, WNOHANG)`), and
    /// publishes the status to the waiters.
    pub(crate) fn try_reap(&self) -> io::Result<Option<ExitStatus>> {
        let mut reaped = self.reaped.lock();
        if let Some(s) = *reaped {
            return Ok(Some(s));
        }
        let mut raw = 0;
        loop {
            // SAFETY: `raw` is a valid out-pointer; `pid` is our unreaped
            // child (the lock keeps anyone else here from reaping it).
            let r = unsafe { libc::waitpid(self.pid, &mut raw, libc::WNOHANG) };
            if r == 0 {
                return Ok(None);
            }
            if r == self.pid {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                // ECHILD: someone else reaped it (`waitpid(-1)` elsewhere,
                // or SIGCHLD set to SIG_IGN): the status is lost.
                let err = io::Error::new(
                    err.kind(),
                    format!(
                        "cannot reap child {}: {err} (was it reaped by other code?)",
                        self.pid
                    ),
                );
                drop(reaped);
                let _ = self.exit.set_result(Err((err.kind(), err.to_string())));
                return Err(err);
            }
        }
        let status = ExitStatus::from_raw(raw);
        *reaped = Some(status);
        drop(reaped);
        let _ = self.exit.set_result(Ok(status));
        Ok(Some(status))
    }

    /// Sends `sig` unless the child was already reaped (then `Ok`: the pid
    /// may belong to another process by now, and the child is gone anyway).
    pub(crate) fn send_signal(&self, sig: i32) -> io::Result<()> {
        let reaped = self.reaped.lock();
        if reaped.is_some() {
            return Ok(());
        }
        // SAFETY: plain syscall; the lock keeps `pid` unreaped, so it is
        // still our child (a zombie at worst, for which kill does nothing).
        if unsafe { libc::kill(self.pid, sig) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// What the reaper waits on.
enum Watch {
    Pidfd(crate::io::registration::PollEvented<OwnedFd>),
    Sigchld(crate::signal::Signal),
}

/// Forces the SIGCHLD watcher (for tests of that path, and to compare):
/// `CORIO_CHILD_WATCHER=sigchld`.
fn force_sigchld() -> bool {
    std::env::var_os("CORIO_CHILD_WATCHER").is_some_and(|v| v == "sigchld")
}

fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: plain syscall with integer arguments.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel returned a new descriptor that only we own.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = pid;
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

fn watch(pid: libc::pid_t) -> io::Result<Watch> {
    if !force_sigchld() {
        // Any failure (ENOSYS, EPERM from seccomp, ...) falls back.
        if let Ok(fd) = pidfd_open(pid) {
            let io = crate::io::registration::PollEvented::new(fd, mio::Interest::READABLE)?;
            return Ok(Watch::Pidfd(io));
        }
    }
    crate::signal::signal(crate::signal::SignalKind::child()).map(Watch::Sigchld)
}

/// Starts the reaper of `child` on `handle`'s runtime.
pub(crate) fn spawn_reaper(handle: &crate::Handle, child: Arc<ChildState>) -> io::Result<()> {
    let watch = watch(child.pid)?;
    let guard = CancelOnDrop(child.clone());
    let task = handle.spawn(async move {
        let _guard = guard;
        reap(&child, watch).await;
    });
    drop(task); // detached: it reaps even if the `Child` is dropped
    Ok(())
}

async fn reap(child: &ChildState, watch: Watch) {
    use crate::io::scheduled_io::Direction;
    match watch {
        Watch::Pidfd(fd) => {
            let res = std::future::poll_fn(|cx| {
                fd.poll_io(cx, Direction::Read, |_| match child.try_reap() {
                    Ok(Some(_)) => Ok(()),
                    // Readable but not yet reapable cannot happen for a
                    // pidfd; treat it as spurious and wait again.
                    Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                    Err(e) => Err(e),
                })
            })
            .await;
            if let Err(e) = res {
                let _ = child.exit.set_result(Err((e.kind(), e.to_string())));
            }
        }
        Watch::Sigchld(mut sig) => loop {
            match child.try_reap() {
                Ok(None) => {}
                Ok(Some(_)) | Err(_) => return,
            }
            if sig.recv().await.is_none() {
                return; // the guard reports the runtime's end
            }
        },
    }
}

/// Completes the waiters with an error if the reaper is dropped before it
/// reaped (its runtime shut down).
struct CancelOnDrop(Arc<ChildState>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let _ = self.0.exit.set_result(Err((
            io::ErrorKind::Other,
            format!(
                "the corio runtime watching child {} shut down before the child exited",
                self.0.pid
            ),
        )));
    }
}
