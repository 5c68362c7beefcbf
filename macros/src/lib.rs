//! The `#[corio::main]` and `#[corio::test]` attributes.
//!
//! Use them through corio (`#[corio::main]`, `#[corio::test]`): the code
//! they generate names `::corio`, so the crate that uses them must depend on
//! corio under that name.
//!
//! The only input they accept is a plain `async fn` with no arguments and no
//! generic parameters; anything else is a compile error pointing at the
//! offending tokens.

use proc_macro::TokenStream;

mod args;
mod error;
mod expand;
mod item;
mod tokens;

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as users write it, for error messages.
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[corio::main]",
            Kind::Test => "#[corio::test]",
        }
    }
}

#[doc = include_str!("../docs/main.md")]
// The docs show what `main` expands to, as a `fn main` of their own.
#[allow(clippy::needless_doctest_main)]
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    attribute(attr, item, Kind::Main)
}

#[doc = include_str!("../docs/test.md")]
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    attribute(attr, item, Kind::Test)
}

fn attribute(attr: TokenStream, item: TokenStream, kind: Kind) -> TokenStream {
    let item = match item::parse(item, kind) {
        Ok(item) => item,
        Err(e) => return e.into_compile_error(),
    };
    // In source order: the attribute's arguments come before the function.
    let checked = args::parse(attr, kind).and_then(|args| item.check(kind).map(|()| args));
    match checked {
        Ok(args) => expand::expand(item, &args, kind),
        Err(e) => {
            let mut out = e.into_compile_error();
            out.extend(expand::stub(item));
            out
        }
    }
}
