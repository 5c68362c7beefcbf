//! The process-wide part: the OS handler, the self-pipe, installing and
//! restoring dispositions.
//!
//! One `sigaction` handler serves every signal corio listens to. It saves
//! `errno`, records the signal in the registry's pending flag, writes one
//! byte to the non-blocking self-pipe (a full pipe already wakes the reader,
//! so a failed write loses nothing), calls the previous handler if that was
//! a function (chaining), and restores `errno`. It takes no lock and
//! allocates nothing. No signal is blocked process-wide.
//!
//! When the last receiver of a signal goes away the disposition found at
//! install time is put back (as asyncio's `remove_signal_handler` does), so
//! that, for example, Ctrl-C kills a program again once it stops listening.

use super::registry::{Registry, Slot};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::sync::{Arc, OnceLock};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Signal numbers are below this (Linux has 64 signals, others fewer).
pub(crate) const NSIG: usize = 65;

/// Signals that cannot be caught, or whose handler could not return safely.
pub(crate) const FORBIDDEN: [libc::c_int; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
];

pub(crate) struct Globals {
    pub(crate) registry: Registry,
    /// The self-pipe's write end, written by the OS handler.
    write: OwnedFd,
    /// The read end; each receiver polls its own duplicate of it.
    read: OwnedFd,
    /// The dispositions found when each signal's handler was installed.
    saved: crate::loom::sync::Mutex<Vec<Option<libc::sigaction>>>,
}

static GLOBALS: OnceLock<Globals> = OnceLock::new();

// The previous handler of each signal, for chaining: read by the OS handler,
// which may take no lock. `PREV_INFO` says it takes `siginfo` (SA_SIGINFO).
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicUsize = AtomicUsize::new(0);
static PREV: [AtomicUsize; NSIG] = [ZERO; NSIG];
static PREV_INFO: [AtomicUsize; NSIG] = [ZERO; NSIG];

fn globals() -> io::Result<&'static Globals> {
    if let Some(g) = GLOBALS.get() {
        return Ok(g);
    }
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and ours alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let g = Globals {
        registry: Registry::new(NSIG),
        write,
        read,
        saved: crate::loom::sync::Mutex::new(vec![None; NSIG]),
    };
    // A racing initialiser may win; its pipe is then used and ours closed.
    let _ = GLOBALS.set(g);
    Ok(GLOBALS.get().expect("just set"))
}

/// Checks that corio may listen to `sig`.
pub(crate) fn check(sig: libc::c_int) -> io::Result<usize> {
    if FORBIDDEN.contains(&sig) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {sig} cannot be handled (SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE and SIGILL are refused)"),
        ));
    }
    if sig <= 0 || sig as usize >= NSIG || sig > max_signal() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{sig} is not a signal number"),
        ));
    }
    Ok(sig as usize)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn max_signal() -> libc::c_int {
    libc::SIGRTMAX()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn max_signal() -> libc::c_int {
    31
}

/// A subscription to one signal (its registry slot); dropping it
/// unsubscribes.
pub(crate) struct Subscription {
    pub(crate) sig: usize,
    pub(crate) slot: Arc<Slot>,
}

/// Starts listening to `sig`, installing corio's handler if it is the first
/// receiver. Also returns a duplicate of the self-pipe's read end, to be
/// registered with whichever loop polls it: each receiver has its own, so
/// no receiver depends on a runtime that another one runs in.
pub(crate) fn subscribe(sig: libc::c_int) -> io::Result<(Subscription, OwnedFd)> {
    let sig = check(sig)?;
    let g = globals()?;
    let pipe = g.read.try_clone()?;
    let slot = g.registry.subscribe(sig, || install(g, sig))?;
    Ok((Subscription { sig, slot }, pipe))
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(g) = GLOBALS.get() {
            g.registry
                .unsubscribe(self.sig, &self.slot, || restore(g, self.sig));
        }
    }
}

/// Drains the self-pipe through `fd` (a duplicate of its read end):
/// `WouldBlock` if it was already empty.
pub(crate) fn drain(fd: RawFd) -> io::Result<()> {
    let mut got = false;
    let mut buf = [0u8; 128];
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            got = true;
            continue;
        }
        let err = io::Error::last_os_error();
        match err.kind() {
            _ if n == 0 => return Ok(()), // the write end never closes
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock if got => return Ok(()),
            _ => return Err(err),
        }
    }
}

/// Runs after a drain: notifies every receiver of what arrived.
pub(crate) fn dispatch() {
    if let Some(g) = GLOBALS.get() {
        g.registry.dispatch();
    }
}

/// Installs corio's handler for `sig`, saving the old disposition (called
/// under the registry lock, by the first receiver).
fn install(g: &Globals, sig: usize) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is a valid value (empty mask, no flags).
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = handler as *const () as usize;
    new.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `new.sa_mask` is a valid sigset to empty.
    unsafe { libc::sigemptyset(&mut new.sa_mask) };
    // The old disposition is read (a null `act` changes nothing) and kept
    // for chaining before ours goes in, so that our handler never sees a
    // stale previous handler.
    // SAFETY: `old` is a valid out-pointer.
    if unsafe { libc::sigaction(sig as libc::c_int, std::ptr::null(), &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Relaxed: the sigaction call below publishes these to the handler,
    // which cannot run for `sig` (as ours) before it.
    PREV[sig].store(old.sa_sigaction, Relaxed);
    PREV_INFO[sig].store(usize::from(old.sa_flags & libc::SA_SIGINFO != 0), Relaxed);
    // SAFETY: `new` is fully initialised; `handler` has the SA_SIGINFO
    // signature and is async-signal-safe.
    if unsafe { libc::sigaction(sig as libc::c_int, &new, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    g.saved.lock()[sig] = Some(old);
    Ok(())
}

/// Puts back the disposition saved by `install` (called under the registry
/// lock, by the last receiver).
fn restore(g: &Globals, sig: usize) {
    if let Some(old) = g.saved.lock()[sig].take() {
        // SAFETY: `old` was filled in by the kernel in `install`.
        unsafe { libc::sigaction(sig as libc::c_int, &old, std::ptr::null_mut()) };
        // Relaxed: our handler is no longer installed for `sig`.
        PREV[sig].store(libc::SIG_DFL, Relaxed);
    }
}

/// The OS handler. Async-signal-safe: atomics, `write(2)`, `errno`.
extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let errno = errno_location();
    // SAFETY: errno_location points to this thread's errno.
    let saved = unsafe { *errno };
    if let Some(g) = GLOBALS.get() {
        g.registry.record(sig as usize);
        let byte = 1u8;
        // SAFETY: `byte` is valid for a one-byte read; a full pipe (EAGAIN)
        // is fine, it is already readable and the flag is set.
        unsafe { libc::write(g.write.as_raw_fd(), (&byte as *const u8).cast(), 1) };
    }
    if let Some(prev) = PREV.get(sig as usize) {
        // Relaxed: see `install`.
        let f = prev.load(Relaxed);
        if f != libc::SIG_DFL && f != libc::SIG_IGN && f != handler as *const () as usize {
            if PREV_INFO[sig as usize].load(Relaxed) != 0 {
                // SAFETY: the previous disposition was an SA_SIGINFO handler
                // with this signature, installed by whoever chained before us.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(f) };
                f(sig, info, ctx);
            } else {
                // SAFETY: the previous disposition was a plain handler.
                let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(f) };
                f(sig);
            }
        }
    }
    // SAFETY: as above.
    unsafe { *errno = saved };
}

#[cfg(target_os = "linux")]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: always safe to call; returns this thread's errno.
    unsafe { libc::__errno_location() }
}

#[cfg(any(target_os = "android", target_os = "openbsd", target_os = "netbsd"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: always safe to call; returns this thread's errno.
    unsafe { libc::__errno() }
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: always safe to call; returns this thread's errno.
    unsafe { libc::__error() }
}

/// Sets SIGPIPE to "ignore" if it has its default disposition ("terminate"),
/// so that writing to a closed socket or pipe is an `EPIPE` error, not the
/// death of the process. Called when a runtime is built.
pub(crate) fn ignore_sigpipe() {
    // SAFETY: zeroed is a valid sigaction; `old` is a valid out-pointer and a
    // null `act` only reads.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) } == 0
        && old.sa_sigaction == libc::SIG_DFL
    {
        // SAFETY: SIG_IGN needs no handler; only a disposition that is
        // still the default is replaced.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    }
}
