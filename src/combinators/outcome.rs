//! `Outcome`: how `wait` tells a failed output from a good one.

use std::sync::Arc;
use std::time::Duration;

/// How [`wait`](crate::wait) tells a failed output: a task whose output
/// `is_failure()` counts, for [`ReturnWhen::FirstException`](crate::ReturnWhen),
/// like a task that panicked or was cancelled (asyncio's "raised an
/// exception").
///
/// Rust cannot ask a generic `T` whether it is an error, so `wait` asks this
/// trait. It is implemented for `Result<T, E>` (a failure when `Err`) and,
/// never failing, for `()`, `bool`, `char`, the integer and float types,
/// `String`, `&'static str`, `Vec<T>`, `Option<T>`, `Box<T>`, `Arc<T>`,
/// `Duration` and tuples of up to four elements. For your own output type,
/// implement it with the default (never a failure) or your own rule:
///
/// ```
/// struct Report { errors: usize }
///
/// impl corio::Outcome for Report {
///     fn is_failure(&self) -> bool {
///         self.errors > 0
///     }
/// }
///
/// struct Plain;
/// impl corio::Outcome for Plain {}
///
/// assert!(corio::Outcome::is_failure(&Report { errors: 2 }));
/// assert!(!corio::Outcome::is_failure(&Plain));
/// assert!(corio::Outcome::is_failure(&Err::<(), _>("no")));
/// ```
pub trait Outcome {
    /// `true` if this output means the task failed. Defaults to `false`.
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// Implements `Outcome` (never a failure) for each type given.
macro_rules! never_fails {
    ($([$($param:tt)*] $ty:ty;)*) => {
        $(impl<$($param)*> Outcome for $ty {})*
    };
}

never_fails! {
    [] ();
    [] bool;
    [] char;
    [] i8; [] i16; [] i32; [] i64; [] i128; [] isize;
    [] u8; [] u16; [] u32; [] u64; [] u128; [] usize;
    [] f32; [] f64;
    [] String;
    [] &'static str;
    [] Duration;
    [T] Vec<T>;
    [T] Option<T>;
    [T: ?Sized] Box<T>;
    [T: ?Sized] Arc<T>;
    [A] (A,);
    [A, B] (A, B);
    [A, B, C] (A, B, C);
    [A, B, C, D] (A, B, C, D);
}
