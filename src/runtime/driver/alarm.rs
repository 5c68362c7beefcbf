//! The watch alarm: how a worker that may be stuck asks a peer to look in on
//! its event loop, without waking anyone in the common case.
//!
//! A worker that leaves its sleep holding sockets or timers (or queues a task
//! without waking anyone), while every other worker sleeps, arms a one-shot
//! `timerfd` for `HANDOFF_AFTER` unless it is armed already. The timerfd is
//! registered in the *next* worker's `mio::Poll`. It is never disarmed: when
//! it fires, the peer wakes, looks, and clears the armed flag; if the worker
//! is still busy, possibly stuck in one long task poll, the peer polls its
//! loop for it (`Driver::try_handoff`) and keeps checking every
//! `HANDOFF_AFTER` while that worker is awake. So a busy worker costs at most
//! one timer system call and one peer wake-up per `HANDOFF_AFTER`, however
//! many times it sleeps and wakes in between (arming and disarming on every
//! sleep was two system calls per event on a ping-pong connection).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

pub(crate) struct Alarm {
    fd: OwnedFd,
    /// Set by the owner when it arms, cleared by the watching peer when the
    /// alarm fired. Relaxed: a stale value costs at most one extra arming or
    /// one delayed one; no other memory depends on it.
    armed: AtomicBool,
}

impl Alarm {
    pub(crate) fn new() -> io::Result<Alarm> {
        // SAFETY: plain system call; the result is checked before use.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        Ok(Alarm {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            armed: AtomicBool::new(false),
        })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Fires once, `after` from now, unless already armed (an earlier
    /// arming's deadline stands).
    pub(crate) fn arm(&self, after: Duration) {
        if !self.armed.swap(true, Relaxed) {
            self.set(after);
        }
    }

    /// The watching peer saw the alarm fire: consumes the expiration and lets
    /// the owner arm it again.
    pub(crate) fn fired(&self) {
        drain(self.fd.as_raw_fd());
        self.armed.store(false, Relaxed);
    }

    fn set(&self, after: Duration) {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `spec` is a valid itimerspec; a null old-value pointer is
        // allowed. Failure (impossible for a valid timerfd) only loses a
        // watch, never correctness, so it is ignored.
        unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    }
}

/// Consumes the expiration count of the alarm `fd`, so that its next firing
/// is a new edge.
fn drain(fd: RawFd) {
    let mut buf = [0u8; 8];
    // SAFETY: reads at most 8 bytes into a valid 8-byte buffer; the fd is a
    // non-blocking timerfd kept open by its driver for the runtime's life.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
}
