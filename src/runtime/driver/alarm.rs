//! The watch alarm: how a worker that may be stuck asks a peer to look in on
//! its event loop, without waking anyone in the common case.
//!
//! A worker that leaves its sleep holding sockets or timers, while every
//! other worker sleeps with no deadline, arms a one-shot `timerfd` for
//! `HANDOFF_AFTER`. The timerfd is registered in the *next* worker's
//! `mio::Poll`. If the worker goes back to sleep before it fires (the usual
//! case: a short burst of work), it disarms it: two cheap system calls and no
//! context switch. If the worker is still busy when it fires, possibly stuck
//! in one long task poll, the peer wakes, polls the busy worker's loop for it
//! (`Driver::try_handoff`), and keeps checking every `HANDOFF_AFTER` while
//! that worker is awake.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

pub(crate) struct Alarm {
    fd: OwnedFd,
    /// Only touched by the owning worker; avoids a system call to disarm an
    /// alarm that is not armed. Relaxed: no other memory depends on it.
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

    /// Cancels a pending firing, if armed.
    pub(crate) fn disarm(&self) {
        if self.armed.swap(false, Relaxed) {
            self.set(Duration::ZERO);
        }
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

/// Consumes the expiration count of the alarm `fd` (a peer's), so that its
/// next firing is a new edge.
pub(crate) fn drain(fd: RawFd) {
    let mut buf = [0u8; 8];
    // SAFETY: reads at most 8 bytes into a valid 8-byte buffer; the fd is a
    // non-blocking timerfd kept open by its driver for the runtime's life.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
}
