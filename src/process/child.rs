//! `Child`: a running process, its pipes as streams, and its exit.

use super::exit::{self, ChildState};
use super::pipe::{PipeReader, PipeWriter};
use crate::loom::sync::Arc;
use crate::streams::{StreamReader, StreamWriter, DEFAULT_LIMIT};
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// A child process started by [`Command::spawn`](super::Command::spawn):
/// asyncio's `Process`.
///
/// Its exit is watched by the event loop and the status is kept, so
/// [`wait`](Self::wait) may be awaited by any number of tasks, and again
/// after it returned. Dropping a `Child` does not kill the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop)); it is still reaped when
/// it exits.
///
/// ```
/// use corio::process::create_subprocess_exec;
/// use std::process::Stdio;
/// corio::run(async {
///     let mut child = create_subprocess_exec("cat", &[])
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let (out, _) = child.communicate(Some(b"ping")).await.unwrap();
///     assert_eq!(out, b"ping");
///     assert_eq!(child.returncode(), Some(0));
/// });
/// ```
pub struct Child {
    /// The child's stdin, if it was `Stdio::piped()`: closing it (or
    /// dropping it) makes the child read EOF.
    pub stdin: Option<StreamWriter>,
    /// The child's stdout, if it was `Stdio::piped()`.
    pub stdout: Option<StreamReader>,
    /// The child's stderr, if it was `Stdio::piped()`.
    pub stderr: Option<StreamReader>,
    state: Arc<ChildState>,
    kill_on_drop: bool,
}

impl Child {
    pub(crate) fn spawn(
        cmd: &mut std::process::Command,
        handle: &crate::Handle,
        kill_on_drop: bool,
    ) -> io::Result<Child> {
        let mut std_child = cmd.spawn()?;
        let state = Arc::new(ChildState::new(std_child.id()));
        let stdin = std_child.stdin.take();
        let stdout = std_child.stdout.take();
        let stderr = std_child.stderr.take();
        // From here on the std handle is only dropped: corio reaps.
        drop(std_child);
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            state: state.clone(),
            kill_on_drop,
        };
        if let Err(e) = exit::spawn_reaper(handle, state) {
            // Unwatched, the child would be a zombie forever: stop it and
            // reap it here (it dies at once on SIGKILL).
            let _ = child.state.send_signal(libc::SIGKILL);
            // SAFETY: plain syscall on our own unreaped child; blocking is
            // brief (SIGKILL was just sent).
            unsafe { libc::waitpid(child.state.pid, std::ptr::null_mut(), 0) };
            return Err(e);
        }
        let limit = DEFAULT_LIMIT;
        child.stdin = stdin
            .map(|p| PipeWriter::new(p).map(StreamWriter::from_sink))
            .transpose()?;
        child.stdout = stdout
            .map(|p| PipeReader::new(p).map(|r| StreamReader::from_source(r, limit)))
            .transpose()?;
        child.stderr = stderr
            .map(|p| PipeReader::new(p).map(|r| StreamReader::from_source(r, limit)))
            .transpose()?;
        Ok(child)
    }

    /// The process id, or `None` once the child was reaped (the number may
    /// belong to another process by then), as in tokio.
    pub fn id(&self) -> Option<u32> {
        match self.state.reaped() {
            Some(_) => None,
            None => Some(self.state.pid as u32),
        }
    }

    /// asyncio's `returncode`: `None` while the child runs (or before its
    /// exit was observed); its exit code once it exited; the NEGATIVE
    /// number of the signal that killed it (`-9` after [`kill`](Self::kill),
    /// `-15` after [`terminate`](Self::terminate)).
    pub fn returncode(&self) -> Option<i32> {
        self.state.reaped().map(|s| returncode(&s))
    }

    /// Waits for the child to exit and returns its status. Any number of
    /// tasks may wait at once; all get the same status. Cancel-safe:
    /// dropping the future changes nothing. Does not close stdin: a child
    /// that waits for EOF on its stdin needs it closed first (or use
    /// [`communicate`](Self::communicate)).
    ///
    /// # Errors
    /// If the runtime watching the child shut down before it exited, or
    /// other code reaped it (`waitpid(-1)`, SIGCHLD set to `SIG_IGN`).
    pub async fn wait(&self) -> io::Result<ExitStatus> {
        match self.state.exit.wait().await {
            Ok(Ok(status)) => Ok(status),
            Ok(Err((kind, msg))) => Err(io::Error::new(kind, msg)),
            // The reaper always completes the promise, never cancels it.
            Err(_) => Err(io::Error::other("the child's watcher was cancelled")),
        }
    }

    /// The status if the child has exited (reaping it), else `None`; never
    /// waits.
    ///
    /// # Errors
    /// If the child cannot be reaped (other code reaped it).
    pub fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        self.state.try_reap()
    }

    /// Writes `input` (if any) to stdin and closes it, while reading
    /// stdout and stderr to their ends concurrently (so a child that fills
    /// one pipe while the parent writes, or writes megabytes to both, does
    /// not deadlock), then waits for the child to exit. Returns what was
    /// read; a stream that was not piped gives an empty `Vec`.
    ///
    /// Stdin is closed even when `input` is `None` (as in Python's
    /// `subprocess.communicate`), and a child that exits without reading
    /// all of its input is not an error (`BrokenPipe` is ignored, as in
    /// asyncio). Takes the three pipes out of the `Child`; cancelling the
    /// call drops them (the child sees its pipes closed) but not the child.
    ///
    /// # Errors
    /// A failure reading or writing a pipe, or of [`wait`](Self::wait).
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let stdin = self.stdin.take();
        let mut stdout = self.stdout.take();
        let mut stderr = self.stderr.take();
        let feed = async move {
            let Some(w) = stdin else { return Ok(()) };
            // In pieces of the write buffer's size, with `drain` between:
            // the writer then queues at most about two pieces instead of a
            // copy of the whole input.
            let mut fed = Ok(());
            for piece in input.unwrap_or_default().chunks(64 * 1024) {
                w.write(piece);
                fed = w.drain().await;
                if fed.is_err() {
                    break;
                }
            }
            w.close();
            match fed.and(w.wait_closed().await) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    Ok(())
                }
                res => res,
            }
        };
        let out = read_all(stdout.as_mut());
        let err = read_all(stderr.as_mut());
        let (fed, out, err) = crate::gather!(feed, out, err).await;
        fed?;
        let (out, err) = (out?, err?);
        self.wait().await?;
        Ok((out, err))
    }

    /// Sends SIGKILL (asyncio's `kill`); [`returncode`](Self::returncode)
    /// becomes `-9`. Does not wait.
    ///
    /// # Errors
    /// As for [`send_signal`](Self::send_signal).
    pub fn kill(&self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// Sends SIGTERM (asyncio's `terminate`).
    ///
    /// # Errors
    /// As for [`send_signal`](Self::send_signal).
    pub fn terminate(&self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends signal `sig` to the child. A child that was already reaped is
    /// not signalled and this returns `Ok(())` (as Python's
    /// `Popen.send_signal` skips a process known to be dead): its pid may
    /// already name another process. A child that exited but is not yet
    /// reaped is a zombie, which ignores signals.
    ///
    /// # Errors
    /// `InvalidInput` for a number that is not a signal (the OS's `EINVAL`).
    pub fn send_signal(&self, sig: i32) -> io::Result<()> {
        self.state.send_signal(sig)
    }
}

async fn read_all(reader: Option<&mut StreamReader>) -> io::Result<Vec<u8>> {
    match reader {
        Some(r) => r.read_to_end().await,
        None => Ok(Vec::new()),
    }
}

/// asyncio's returncode of a status: the code, or minus the signal.
pub(crate) fn returncode(status: &ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => -sig,
        // Stopped/continued statuses are never reaped (no WUNTRACED).
        (None, None) => i32::MIN,
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.kill_on_drop {
            // Ignored: the child may already be gone.
            let _ = self.state.send_signal(libc::SIGKILL);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.state.pid)
            .field("returncode", &self.returncode())
            .finish_non_exhaustive()
    }
}
