//! `ContextVar` and its `Token`.

use super::Value;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A context variable: asyncio's `contextvars.ContextVar`.
///
/// Each task sees its own value. A task starts with a copy of its creator's
/// context, so a value set before `create_task` is seen by the child, while
/// a value the child sets is seen only by the child (and the tasks *it*
/// creates). [`to_thread`](crate::to_thread) calls see their caller's
/// values too. Outside any task (a plain thread) the thread has a context
/// of its own; `block_on`'s (and `run`'s) future starts with a copy of its
/// caller's, as `asyncio.run`'s coroutine does, so what it sets is gone
/// once `block_on` returns. A cancelled task's future is dropped in the
/// task's context (like a cancelled coroutine's `finally:`).
///
/// Unlike Python, `reset` does not check that the token comes from the
/// same context (only that it comes from the same variable): a token
/// carried to another task restores, in that task, the value the variable
/// had before the `set`.
///
/// Share a `ContextVar` between tasks with `Arc` or a `static`
/// (`ContextVar::new` is not `const`, so use `std::sync::LazyLock`).
/// Reading takes no lock; setting copies the task's (usually tiny) map.
///
/// ```
/// use corio::ContextVar;
/// use std::sync::Arc;
///
/// corio::run(async {
///     let request_id = Arc::new(ContextVar::<u32>::new("request_id"));
///     request_id.set(7);
///     let var = request_id.clone();
///     let child = corio::create_task(async move {
///         let seen = var.get(); // the parent's value, copied at creation
///         var.set(8); // changes the child's context only
///         seen
///     });
///     assert_eq!(child.await.unwrap(), Some(7));
///     assert_eq!(request_id.get(), Some(7));
/// });
/// ```
pub struct ContextVar<T> {
    id: u64,
    name: Box<str>,
    default: Option<T>,
}

/// What [`ContextVar::set`] replaced, for [`ContextVar::reset`]: Python's
/// `contextvars.Token`.
///
/// Dropping it is fine (it is not `#[must_use]`): as in Python, most `set`s
/// are never undone, and a token only matters to code that wants to restore
/// the previous value.
pub struct Token<T> {
    var: u64,
    old: Option<Value>,
    _value: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + Sync + 'static> ContextVar<T> {
    /// A new variable, unset in every context. `name` is for debugging.
    pub fn new(name: impl Into<String>) -> ContextVar<T> {
        ContextVar {
            id: crate::loom::ids::next(),
            name: name.into().into_boxed_str(),
            default: None,
        }
    }

    /// A new variable whose [`get`](Self::get) returns `default` wherever
    /// it is unset (Python's `ContextVar(name, default=...)`).
    ///
    /// ```
    /// let level = corio::ContextVar::with_default("level", 1u8);
    /// assert_eq!(level.get(), Some(1));
    /// ```
    pub fn with_default(name: impl Into<String>, default: T) -> ContextVar<T> {
        ContextVar {
            default: Some(default),
            ..ContextVar::new(name)
        }
    }

    /// The variable's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value in the current context, or the default (if any) when it is
    /// unset.
    pub fn get(&self) -> Option<T> {
        match super::lookup(self.id) {
            Some(value) => value.downcast_ref::<T>().cloned(),
            None => self.default.clone(),
        }
    }

    /// Sets the value in the current context; the returned [`Token`]
    /// restores the previous one.
    ///
    /// ```
    /// let var = corio::ContextVar::new("user");
    /// let token = var.set("alice".to_string());
    /// assert_eq!(var.get().as_deref(), Some("alice"));
    /// var.reset(token);
    /// assert_eq!(var.get(), None);
    /// ```
    pub fn set(&self, value: T) -> Token<T> {
        let old = super::store(self.id, Some(Arc::new(value)));
        Token {
            var: self.id,
            old,
            _value: PhantomData,
        }
    }

    /// Restores the value the variable had before the [`set`](Self::set)
    /// that returned `token` (unset, if it was).
    ///
    /// # Panics
    /// If `token` was made by another variable.
    #[track_caller]
    pub fn reset(&self, token: Token<T>) {
        assert!(
            token.var == self.id,
            "ContextVar::reset: the token was created by a different ContextVar than {:?}",
            self.name
        );
        let replaced = super::store(self.id, token.old);
        drop(replaced);
    }
}

impl<T> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextVar")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Token<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("had_value", &self.old.is_some())
            .finish_non_exhaustive()
    }
}
