//! What `gather!` and `try_gather!` expand to: their futures, held in a
//! cons list `(MaybeDone<A>, (MaybeDone<B>, ()))` so that any number of them
//! (of different types) is polled in place without `unsafe` in the macro's
//! expansion. The macros then flatten the nested output into a flat tuple.
//!
//! A fixed handful of futures is polled in full at each poll (each child
//! shares the parent's waker): with no `N` to grow, that costs less than a
//! wake set.
//!
//! Everything here is public only so that the macros can name it, and is
//! hidden from the docs: not part of corio's API.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One child of a `gather!`: the future, then its output, then nothing once
/// the output was taken or the child dropped.
#[doc(hidden)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Future(F),
    /// Finished; the output waits for the others.
    Done(F::Output),
    /// Output taken, or dropped unfinished.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Future(future)
    }

    /// Polls the future if it is still running; `true` once it finished.
    fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: `Future(f)` is structurally pinned: `f` is polled in place
        // and leaves only by being overwritten (dropped in place) below;
        // `Done` and `Gone` hold nothing pinned.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Future(f) => {
                // SAFETY: as above: `f` never moves.
                match unsafe { Pin::new_unchecked(f) }.poll(cx) {
                    Poll::Ready(out) => {
                        *this = MaybeDone::Done(out);
                        true
                    }
                    Poll::Pending => false,
                }
            }
            MaybeDone::Done(_) => true,
            MaybeDone::Gone => panic!("a corio gather polled after it completed"),
        }
    }

    /// Takes the output of a finished child.
    fn take_output(self: Pin<&mut Self>) -> F::Output {
        // SAFETY: only a `Done` (which holds nothing pinned) is moved out;
        // anything else is left where it is.
        let this = unsafe { self.get_unchecked_mut() };
        match std::mem::replace(this, MaybeDone::Gone) {
            MaybeDone::Done(out) => out,
            _ => unreachable!("a gather took an output before its child finished"),
        }
    }

    /// Is a finished child's output an `Err`?
    fn is_err<T, E>(&self) -> bool
    where
        F: Future<Output = Result<T, E>>,
    {
        matches!(self, MaybeDone::Done(Err(_)))
    }
}

impl<F: Future> fmt::Debug for MaybeDone<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MaybeDone::Future(_) => "MaybeDone::Future",
            MaybeDone::Done(_) => "MaybeDone::Done",
            MaybeDone::Gone => "MaybeDone::Gone",
        })
    }
}

/// A cons list of [`MaybeDone`]s, polled together.
#[doc(hidden)]
pub trait Join {
    /// The nested tuple of outputs, `(A, (B, ()))`.
    type Output;
    /// Polls every unfinished child, in argument order; `true` once all
    /// have finished.
    fn poll_all(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool;
    /// Takes every output (all children finished).
    fn take_all(self: Pin<&mut Self>) -> Self::Output;
}

impl Join for () {
    type Output = ();
    fn poll_all(self: Pin<&mut Self>, _: &mut Context<'_>) -> bool {
        true
    }
    fn take_all(self: Pin<&mut Self>) {}
}

/// Projects a pinned cons cell onto its two pinned fields.
fn split<H, T>(cell: Pin<&mut (H, T)>) -> (Pin<&mut H>, Pin<&mut T>) {
    // SAFETY: both fields are structurally pinned: the tuple is only ever
    // reached through this projection, which moves neither field.
    unsafe {
        let (head, tail) = cell.get_unchecked_mut();
        (Pin::new_unchecked(head), Pin::new_unchecked(tail))
    }
}

impl<F: Future, R: Join> Join for (MaybeDone<F>, R) {
    type Output = (F::Output, R::Output);

    fn poll_all(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let (head, tail) = split(self);
        // Both polled: no short-circuit, every child makes progress.
        let head_done = head.poll_done(cx);
        tail.poll_all(cx) && head_done
    }

    fn take_all(self: Pin<&mut Self>) -> Self::Output {
        let (head, tail) = split(self);
        (head.take_output(), tail.take_all())
    }
}

/// A cons list of [`MaybeDone`]s whose outputs are `Result<_, E>`.
#[doc(hidden)]
pub trait TryJoin<E> {
    /// The nested tuple of `Ok` values.
    type Ok;
    /// Polls every unfinished child in argument order until one gives an
    /// `Err`: `Ready(Err(e))` for the first, `Ready(Ok(()))` once all
    /// finished with `Ok`.
    fn poll_all(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>>;
    /// Takes every `Ok` value (all children finished with `Ok`).
    fn take_all(self: Pin<&mut Self>) -> Self::Ok;
    /// Drops every child still held, in place.
    fn drop_all(self: Pin<&mut Self>);
}

impl<E> TryJoin<E> for () {
    type Ok = ();
    fn poll_all(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }
    fn take_all(self: Pin<&mut Self>) {}
    fn drop_all(self: Pin<&mut Self>) {}
}

impl<T, E, F, R> TryJoin<E> for (MaybeDone<F>, R)
where
    F: Future<Output = Result<T, E>>,
    R: TryJoin<E>,
{
    type Ok = (T, R::Ok);

    fn poll_all(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let (mut head, tail) = split(self);
        let head_done = head.as_mut().poll_done(cx);
        if head_done && head.is_err() {
            match head.take_output() {
                Err(e) => return Poll::Ready(Err(e)),
                Ok(_) => unreachable!(),
            }
        }
        match tail.poll_all(cx) {
            Poll::Ready(Ok(())) if head_done => Poll::Ready(Ok(())),
            Poll::Ready(Ok(())) => Poll::Pending,
            other => other,
        }
    }

    fn take_all(self: Pin<&mut Self>) -> Self::Ok {
        let (head, tail) = split(self);
        match head.take_output() {
            Ok(v) => (v, tail.take_all()),
            Err(_) => unreachable!("try_gather took the outputs after an error"),
        }
    }

    fn drop_all(self: Pin<&mut Self>) {
        let (mut head, tail) = split(self);
        // `Pin::set` drops the old value in place.
        head.set(MaybeDone::Gone);
        tail.drop_all();
    }
}

/// `gather!`'s future: all children, then `flatten` of their nested outputs.
#[doc(hidden)]
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<L, M> {
    list: L,
    flatten: Option<M>,
}

/// Builds `gather!`'s future.
#[doc(hidden)]
pub fn gather<L, M, O>(list: L, flatten: M) -> Gather<L, M>
where
    L: Join,
    M: FnOnce(L::Output) -> O,
{
    Gather {
        list,
        flatten: Some(flatten),
    }
}

impl<L, M, O> Future for Gather<L, M>
where
    L: Join,
    M: FnOnce(L::Output) -> O,
{
    type Output = O;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O> {
        // SAFETY: `list` is structurally pinned (only reached as
        // `Pin<&mut L>`); `flatten` is not (it is moved out by `take`).
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let mut list = unsafe { Pin::new_unchecked(&mut this.list) };
        if this.flatten.is_none() {
            panic!("a corio gather polled after it completed");
        }
        if !list.as_mut().poll_all(cx) {
            return Poll::Pending;
        }
        let outputs = list.take_all();
        let flatten = this.flatten.take().expect("checked above");
        Poll::Ready(flatten(outputs))
    }
}

impl<L, M> fmt::Debug for Gather<L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("done", &self.flatten.is_none())
            .finish()
    }
}

/// `try_gather!`'s future: all children until the first `Err`, then
/// `flatten` of their nested `Ok` values.
#[doc(hidden)]
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<L, M, E> {
    list: L,
    flatten: Option<M>,
    _error: PhantomData<fn() -> E>,
}

/// Builds `try_gather!`'s future.
#[doc(hidden)]
pub fn try_gather<L, M, O, E>(list: L, flatten: M) -> TryGather<L, M, E>
where
    L: TryJoin<E>,
    M: FnOnce(L::Ok) -> O,
{
    TryGather {
        list,
        flatten: Some(flatten),
        _error: PhantomData,
    }
}

impl<L, M, O, E> Future for TryGather<L, M, E>
where
    L: TryJoin<E>,
    M: FnOnce(L::Ok) -> O,
{
    type Output = Result<O, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<O, E>> {
        // SAFETY: as in `Gather::poll`: only `list` is structurally pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let mut list = unsafe { Pin::new_unchecked(&mut this.list) };
        if this.flatten.is_none() {
            panic!("a corio try_gather polled after it completed");
        }
        match list.as_mut().poll_all(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                // Cancel the others before reporting, as asyncio does.
                list.drop_all();
                this.flatten = None;
                Poll::Ready(Err(e))
            }
            Poll::Ready(Ok(())) => {
                let values = list.take_all();
                let flatten = this.flatten.take().expect("checked above");
                Poll::Ready(Ok(flatten(values)))
            }
        }
    }
}

impl<L, M, E> fmt::Debug for TryGather<L, M, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("done", &self.flatten.is_none())
            .finish()
    }
}
