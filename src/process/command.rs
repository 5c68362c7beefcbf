//! `Command`: std's process builder, spawning a [`Child`] watched by the
//! event loop.

use super::child::Child;
use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

/// A process to start: [`std::process::Command`]'s builder, with async
/// [`output`](Self::output) and [`status`](Self::status) and a
/// [`spawn`](Self::spawn) that gives a [`Child`] whose pipes are corio
/// streams.
///
/// Standard streams are inherited unless set (as in std); `output()`
/// captures stdout and stderr by default.
///
/// ```
/// use corio::process::Command;
/// corio::run(async {
///     let out = Command::new("echo").arg("hi").output().await.unwrap();
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"hi\n");
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command to run `program` (searched in `PATH` when it has no `/`).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` sets).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: `Stdio::piped()` makes [`Child::stdin`] a
    /// [`StreamWriter`](crate::StreamWriter).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's stdout: `Stdio::piped()` makes [`Child::stdout`] a
    /// [`StreamReader`](crate::StreamReader).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// The child's stderr: `Stdio::piped()` makes [`Child::stderr`] a
    /// [`StreamReader`](crate::StreamReader).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping the [`Child`] (before it was reaped) sends it
    /// SIGKILL. Default `false`, as in asyncio and tokio: a dropped child
    /// keeps running, and corio still reaps it when it exits.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The std builder underneath, for settings this type does not mirror
    /// (`std::os::unix::process::CommandExt`: `uid`, `process_group`, ...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child. Its exit is watched by the runtime's event loop
    /// (a pidfd, or SIGCHLD where pidfds are unavailable), and it is reaped
    /// when it exits even if the `Child` was dropped.
    ///
    /// # Errors
    /// The OS error of starting the program (`NotFound` for a missing
    /// program, `PermissionDenied` for one that is not executable), or
    /// `Other` outside a corio runtime (checked before anything starts).
    pub fn spawn(&mut self) -> io::Result<Child> {
        let Some(handle) = crate::Handle::try_current() else {
            return Err(io::Error::other(
                "Command::spawn must be called inside a corio runtime (the child's exit is watched by its event loop)",
            ));
        };
        Child::spawn(&mut self.std, &handle, self.kill_on_drop)
    }

    /// Runs the command to completion and collects its output: stdout and
    /// stderr are captured (unless set otherwise) and stdin is empty
    /// (`Stdio::null()`) unless set, as in std.
    ///
    /// # Errors
    /// As for [`spawn`](Self::spawn), or a failure reading the pipes.
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !self.stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let mut child = self.spawn()?;
        let (stdout, stderr) = child.communicate(None).await?;
        let status = child.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Runs the command to completion and returns its exit status. Streams
    /// are inherited unless set; pipes that were set are closed at once (so
    /// the child reads EOF and its output is discarded).
    ///
    /// # Errors
    /// As for [`spawn`](Self::spawn).
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        child.stdin = None;
        child.stdout = None;
        child.stderr = None;
        child.wait().await
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}
