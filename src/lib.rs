//! corio: a multi-threaded, work-stealing async runtime with an asyncio-style
//! API.
//!
//! One worker thread per core, each with its own run queue; idle workers
//! steal from busy ones, and tasks spawned from outside go through a shared
//! injector queue. Idle workers sleep: a runtime with nothing to do uses no
//! CPU.
//!
//! ```
//! corio::run(async {
//!     let task = corio::create_task(async { 1 + 1 });
//!     assert_eq!(task.await.unwrap(), 2);
//! });
//! ```
//!
//! See `ARCHITECTURE.md` for how it works inside.

#![warn(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]

pub mod combinators;
pub mod context;
pub(crate) mod io;
mod loom;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_hooks;
#[cfg(doctest)]
mod macro_doctests;
/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctests {}
#[cfg(not(loom))]
pub mod net;
#[cfg(not(loom))]
pub mod process;
pub mod protocol;
pub mod queue;
pub mod runtime;
pub mod signal;
pub mod streams;
pub mod sync;
pub mod task;
pub mod time;

pub use combinators::{
    as_completed, gather_all, shield, try_gather_all, wait, AsCompleted, GatherAll, Outcome,
    ReturnWhen, Shield, TryGatherAll, Wait,
};
pub use context::ContextVar;
#[doc(inline)]
pub use corio_macros::{main, test};
pub use runtime::{
    get_running_loop, run, to_thread, try_get_running_loop, Builder, EventLoop, Handle, Runtime,
};
#[cfg(not(loom))]
pub use streams::{open_connection, open_unix_connection, start_server, start_unix_server};
pub use streams::{
    IncompleteReadError, LimitOverrunError, ReadUntilError, Server, StreamReader, StreamWriter,
};
pub use task::{
    all_tasks, create_task, current_task, spawn, spawn_local, yield_now, ChildError, ChildFailure,
    JoinError, Task, TaskGroup, TaskGroupError, TaskGroupHandle, TaskInfo,
};
pub use time::{interval, sleep, sleep_until, timeout, timeout_at, wait_for, TimeoutError};
