//! Child processes: asyncio's `create_subprocess_exec`/`_shell` and
//! tokio's `process::Command`.
//!
//! ```
//! use corio::process::create_subprocess_shell;
//! use std::process::Stdio;
//! corio::run(async {
//!     let mut child = create_subprocess_shell("echo out; echo err >&2; exit 3")
//!         .stdout(Stdio::piped())
//!         .stderr(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let (out, err) = child.communicate(None).await.unwrap();
//!     assert_eq!((out.as_slice(), err.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
//!     assert_eq!(child.returncode(), Some(3));
//! });
//! ```
//!
//! A child's exit reaches the event loop through a pidfd (Linux 5.3+)
//! registered with the loop, or, where `pidfd_open` is unavailable, through
//! SIGCHLD delivered by [`crate::signal`]; either way only corio's own
//! children are reaped (`waitpid(pid, WNOHANG)`, never `waitpid(-1)`), and
//! no thread blocks per child. Setting the environment variable
//! `CORIO_CHILD_WATCHER=sigchld` forces the SIGCHLD path (for testing).
//!
//! Children inherit std's defaults: SIGPIPE is reset to its default in the
//! child (corio ignores it in the parent), and the child's descriptors other
//! than 0-2 are closed on exec.

mod child;
mod command;
mod exit;
mod pipe;

pub use child::Child;
pub use command::Command;
use std::ffi::OsStr;

/// asyncio's `create_subprocess_exec(program, *args)`: a [`Command`] that
/// runs `program` with `args` (no shell). Set its stdio, then
/// [`spawn`](Command::spawn).
///
/// ```
/// use corio::process::create_subprocess_exec;
/// corio::run(async {
///     let status = create_subprocess_exec("sh", &["-c", "exit 7"]).status().await.unwrap();
///     assert_eq!(status.code(), Some(7));
/// });
/// ```
pub fn create_subprocess_exec(program: impl AsRef<OsStr>, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}

/// asyncio's `create_subprocess_shell(cmd)`: a [`Command`] running
/// `/bin/sh -c cmd`. The string is interpreted by the shell: quote anything
/// that came from outside (or use [`create_subprocess_exec`]).
pub fn create_subprocess_shell(cmd: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(cmd);
    c
}
