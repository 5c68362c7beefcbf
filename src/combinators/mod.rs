//! Combinators: run several futures or tasks at once and collect what they
//! give, asyncio's `gather`, `wait`, `as_completed` and `shield`.
//!
//! | corio | asyncio | cancels | leaves running |
//! |---|---|---|---|
//! | [`gather!`](crate::gather!), [`gather_all`] | `gather` | unfinished children, when dropped | `Task` children (detached) |
//! | [`try_gather!`](crate::try_gather!), [`try_gather_all`] | `gather` | the other children, at the first `Err`; unfinished ones when dropped | `Task` children (detached) |
//! | [`wait`] | `wait` | nothing | every pending task |
//! | [`as_completed`] | `as_completed` | unfinished children, when dropped | `Task` children (detached) |
//! | [`shield`] | `shield` | nothing (see [`Shield::cancel`]) | the shielded task |
//!
//! All of them poll their children in the task that awaits them. A child
//! that should run on another core is passed as a [`Task`](crate::Task);
//! since dropping a `Task` only detaches it, a dropped combinator leaves
//! such children running, where asyncio would cancel them: call
//! [`Task::cancel`](crate::Task::cancel) for that.
//!
//! The combinators over any number of futures poll only the children that
//! were woken (each child has its own waker), so they cost O(1) per wake
//! rather than O(N).

mod as_completed;
mod future_set;
mod gather;
mod macros;
mod outcome;
mod shield;
mod try_gather;
mod tuple;
mod wait;
pub(crate) mod wake_set;

pub use as_completed::{as_completed, AsCompleted, Next};
pub use gather::{gather_all, GatherAll};
pub use outcome::Outcome;
pub use shield::{shield, Shield};
pub use try_gather::{try_gather_all, TryGatherAll};
pub use wait::{wait, ReturnWhen, Wait};

/// What the `gather!` and `try_gather!` macros expand to. Not part of
/// corio's API.
#[doc(hidden)]
pub mod __private {
    pub use super::tuple::{gather, try_gather, Gather, Join, MaybeDone, TryGather, TryJoin};
}
