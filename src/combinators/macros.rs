//! `gather!` and `try_gather!`, and the helper macros they expand through.

/// Runs every future concurrently in the current task and gives their
/// outputs as a tuple, in argument order whatever the order they finish in:
/// asyncio's `gather(a, b, ...)`.
///
/// The futures may have different types, are evaluated (created) when the
/// macro is, and are all polled by whoever awaits the result, in this
/// task: pass [`Task`](crate::Task)s (from [`create_task`](crate::create_task))
/// to run them on other cores. A `Task` child gives `Result<T, JoinError>`,
/// so a child that panicked shows up as its [`JoinError`](crate::JoinError).
///
/// **Cancels:** dropping the gather before it completes drops every child
/// that has not finished (running their destructors). **Leaves running:**
/// `Task` children, which a drop only detaches; call
/// [`Task::cancel`](crate::Task::cancel) on them for asyncio's behaviour
/// (which cancels the children when the gather is cancelled).
///
/// Every child is polled at each poll of the gather, which suits a handful
/// of futures; for many, use [`gather_all`](crate::gather_all), which polls
/// only those that were woken.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let slow = async {
///         corio::sleep(Duration::from_millis(20)).await;
///         "slow"
///     };
///     let quick = async { 7 };
///     // Outputs in argument order, although `quick` finished first.
///     assert_eq!(corio::gather!(slow, quick).await, ("slow", 7));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::combinators::__private::gather(
            $crate::__corio_cons!($($future,)+),
            $crate::__corio_flatten!([] [] $($future,)+),
        )
    };
}

/// Runs every future concurrently in the current task, all returning
/// `Result<_, E>` with the same `E`, and gives `Ok` of the tuple of their
/// values in argument order, or the first `Err`: asyncio's `gather(a, b, ...)`
/// when a child raises.
///
/// **Cancels:** on the first `Err`, every other unfinished child is dropped
/// before the error is returned; dropping the `try_gather` drops every
/// unfinished child. **Leaves running:** `Task` children, which a drop only
/// detaches (call [`Task::cancel`](crate::Task::cancel) for asyncio's
/// behaviour). "First" is the first seen by the poll that notices it: the
/// children are polled in argument order.
///
/// A `Task` child outputs `Result<T, JoinError>`; to use it here, map the
/// `JoinError` into your error type (or let `E` be `JoinError`).
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let fails = async { Err::<u32, &str>("boom") };
///     let never = async {
///         corio::sleep(Duration::from_secs(3600)).await;
///         Ok(1)
///     };
///     // `never` is dropped (cancelled) when `fails` fails.
///     assert_eq!(corio::try_gather!(fails, never).await, Err("boom"));
///
///     let a = async { Ok::<_, &str>(1) };
///     let b = async { Ok("two") };
///     assert_eq!(corio::try_gather!(a, b).await, Ok((1, "two")));
/// });
/// ```
#[macro_export]
macro_rules! try_gather {
    ($($future:expr),+ $(,)?) => {
        $crate::combinators::__private::try_gather(
            $crate::__corio_cons!($($future,)+),
            $crate::__corio_flatten!([] [] $($future,)+),
        )
    };
}

/// `a, b, c,` to `(MaybeDone(a), (MaybeDone(b), (MaybeDone(c), ())))`.
#[doc(hidden)]
#[macro_export]
macro_rules! __corio_cons {
    () => { () };
    ($head:expr, $($rest:expr,)*) => {
        (
            $crate::combinators::__private::MaybeDone::new($head),
            $crate::__corio_cons!($($rest,)*)
        )
    };
}

/// A closure flattening the nested output of N children,
/// `|out| (out.0, out.1.0, out.1.1.0, ...)`. The expressions only count the
/// children; they are not expanded.
#[doc(hidden)]
#[macro_export]
macro_rules! __corio_flatten {
    ([$($done:tt)*] [$($prefix:tt)*] $head:expr, $($rest:expr,)*) => {
        $crate::__corio_flatten!([$($done)* ($($prefix)* .0)] [$($prefix)* .1] $($rest,)*)
    };
    ([$(($($path:tt)*))*] [$($_prefix:tt)*]) => {
        |out| ($(out $($path)*,)*)
    };
}
