//! The attribute's own arguments: `#[corio::main(worker_threads = 4)]`.

use crate::error::Error;
use crate::tokens::{is_punct, last_span};
use crate::Kind;
use proc_macro::{Delimiter, Span, TokenStream, TokenTree};

/// The arguments every attribute accepts, for the "unknown argument" error.
const ACCEPTED: &str = "`worker_threads`";

/// What the arguments asked for.
pub(crate) struct Args {
    /// `worker_threads = N`, if given.
    pub(crate) worker_threads: Option<usize>,
}

/// Reads `name = value, ...`.
pub(crate) fn parse(attr: TokenStream, kind: Kind) -> Result<Args, Error> {
    let mut args = Args {
        worker_threads: None,
    };
    let mut tokens = attr.into_iter().peekable();
    while let Some(first) = tokens.next() {
        let TokenTree::Ident(name) = &first else {
            return Err(Error::new(
                first.span(),
                format!(
                    "expected an argument like `worker_threads = 4` in `{}`",
                    kind.attr()
                ),
            ));
        };
        let name_str = name.to_string();
        if name_str != "worker_threads" {
            let hint = if name_str == "flavor" {
                " (corio has a single, multi-thread runtime: there is no flavor to choose)"
            } else {
                ""
            };
            return Err(Error::new(
                name.span(),
                format!(
                    "unknown argument `{name_str}` to `{}`; the accepted arguments are: \
                     {ACCEPTED}{hint}",
                    kind.attr()
                ),
            ));
        }
        let eq = tokens.next();
        if !eq.as_ref().is_some_and(|t| is_punct(t, '=')) {
            let span = eq.as_ref().map_or(name.span(), TokenTree::span);
            return Err(Error::new(
                span,
                "expected `=` and a number after `worker_threads`, like `worker_threads = 4`",
            ));
        }
        let eq_span = eq.map_or(name.span(), |t| t.span());
        // The value runs to the next comma; a well-formed one is one literal.
        let mut value = TokenStream::new();
        while let Some(t) = tokens.next_if(|t| !is_punct(t, ',')) {
            value.extend([t]);
        }
        let n = positive_integer(value, eq_span)?;
        if args.worker_threads.replace(n).is_some() {
            return Err(Error::new(name.span(), "`worker_threads` is given twice"));
        }
        // The comma, if any (a trailing one is fine).
        tokens.next();
    }
    Ok(args)
}

/// The value of `worker_threads`: an integer literal of at least 1, in any
/// base, with or without an integer suffix.
fn positive_integer(value: TokenStream, eq_span: Span) -> Result<usize, Error> {
    let mut trees: Vec<TokenTree> = value.clone().into_iter().collect();
    // A literal passed through a `macro_rules!` fragment arrives wrapped in
    // an invisible group.
    while let [TokenTree::Group(g)] = trees.as_slice() {
        if g.delimiter() != Delimiter::None {
            break;
        }
        trees = g.stream().into_iter().collect();
    }
    let not_integer = || {
        let start = value
            .clone()
            .into_iter()
            .next()
            .map_or(eq_span, |t| t.span());
        Error::spanning(
            start,
            last_span(&value, eq_span),
            "worker_threads must be a positive integer literal, like `worker_threads = 4`",
        )
    };
    let [TokenTree::Literal(lit)] = trees.as_slice() else {
        return Err(not_integer());
    };
    let text = lit.to_string();
    let (radix, rest) = match text.get(..2) {
        Some("0x") => (16, &text[2..]),
        Some("0o") => (8, &text[2..]),
        Some("0b") => (2, &text[2..]),
        _ => (10, text.as_str()),
    };
    let digits_end = rest
        .find(|c: char| !(c.is_digit(radix) || c == '_'))
        .unwrap_or(rest.len());
    let (digits, suffix) = rest.split_at(digits_end);
    let integer_suffix = matches!(
        suffix,
        "" | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
    );
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !integer_suffix {
        return Err(not_integer());
    }
    match usize::from_str_radix(&digits, radix) {
        Ok(0) => Err(Error::new(lit.span(), "worker_threads must be at least 1")),
        Ok(n) => Ok(n),
        Err(_) => Err(Error::new(
            lit.span(),
            "worker_threads is too large for a `usize`",
        )),
    }
}
