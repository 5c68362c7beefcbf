//! The doctests of `#[corio::main]` and `#[corio::test]`, built only by
//! `cargo test --doc`. The attributes live in the `corio-macros` crate,
//! whose doctests corio's own test run does not build, and they can only be
//! used through corio anyway: so their docs are run from here.

#[doc = include_str!("../macros/docs/main.md")]
mod main_docs {}

#[doc = include_str!("../macros/docs/test.md")]
mod test_docs {}

/// The compile errors of the attributes, as `compile_fail` doctests. Each
/// case names the error it must produce; a doctest cannot check the text,
/// so the first example is every case corrected, which must compile: that
/// shows each case fails because of the one thing it gets wrong.
///
/// ```
/// #[corio::main]
/// async fn plain() {}
///
/// #[corio::main(worker_threads = 2)]
/// async fn two_workers() -> Result<(), String> {
///     Ok(())
/// }
///
/// #[corio::test(worker_threads = 1)]
/// async fn a_test() {}
///
/// fn main() {
///     plain();
///     two_workers().unwrap();
/// }
/// ```
///
/// "the `async` keyword is missing from the function declaration", on `fn`:
///
/// ```compile_fail
/// #[corio::main]
/// fn main() {}
/// ```
///
/// "`#[corio::main]` functions cannot take arguments", on the arguments:
///
/// ```compile_fail
/// #[corio::main]
/// async fn main(n: usize) {}
/// ```
///
/// "`#[corio::test]` functions cannot take arguments", on the arguments:
///
/// ```compile_fail
/// #[corio::test]
/// async fn a_test(n: usize) {}
/// # fn main() {}
/// ```
///
/// "`#[corio::main]` functions cannot have generic parameters", on `<...>`:
///
/// ```compile_fail
/// #[corio::main]
/// async fn plain<T>() {}
/// # fn main() {}
/// ```
///
/// "unknown argument `flavor` to `#[corio::main]`; the accepted arguments
/// are: `worker_threads` (...)", on `flavor`:
///
/// ```compile_fail
/// #[corio::main(flavor = "current_thread")]
/// async fn main() {}
/// ```
///
/// "unknown argument `start_paused` to `#[corio::test]`; the accepted
/// arguments are: `worker_threads`", on `start_paused`:
///
/// ```compile_fail
/// #[corio::test(worker_threads = 1, start_paused = true)]
/// async fn a_test() {}
/// # fn main() {}
/// ```
///
/// "worker_threads must be at least 1", on `0`:
///
/// ```compile_fail
/// #[corio::main(worker_threads = 0)]
/// async fn main() {}
/// ```
///
/// "worker_threads must be a positive integer literal, like
/// `worker_threads = 4`", on the value (a string, a negative number, a
/// constant's name):
///
/// ```compile_fail
/// #[corio::main(worker_threads = "2")]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[corio::main(worker_threads = -2)]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// const N: usize = 2;
/// #[corio::main(worker_threads = N)]
/// async fn main() {}
/// ```
///
/// "`worker_threads` is given twice", on the second:
///
/// ```compile_fail
/// #[corio::main(worker_threads = 2, worker_threads = 2)]
/// async fn main() {}
/// ```
///
/// "a second test attribute: `#[corio::test]` already makes this function a
/// test; remove this one", on `#[test]`:
///
/// ```compile_fail
/// #[corio::test]
/// #[test]
/// async fn a_test() {}
/// # fn main() {}
/// ```
mod errors {}
