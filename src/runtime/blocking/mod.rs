//! The blocking pool: threads for the work that must not run on an event
//! loop (`to_thread`, `EventLoop::run_in_executor`).
//!
//! A blocking call is a task like any other (a `Task<T>` handle, cancel,
//! `JoinError` on panic) whose body runs the closure in one poll. Its
//! scheduler is the pool's queue instead of a worker's, so a worker is never
//! the one to run it.
//!
//! * `pool.rs`: the threads, grown on demand up to a cap and retired after a
//!   keep-alive, and shutdown.
//! * `task.rs`: the closure as a task body, and spawning it.

mod pool;
mod task;

pub(crate) use pool::{BlockingPool, PoolConfig};
pub(crate) use task::spawn_blocking;
pub use task::to_thread;
