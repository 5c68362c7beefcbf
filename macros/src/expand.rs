//! The code the attributes generate.

use crate::args::Args;
use crate::item::ItemFn;
use crate::tokens::code;
use crate::Kind;
use proc_macro::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};

/// The function, rewritten to start a runtime, run its body on it, and shut
/// it down:
///
/// ```text
/// #[attrs] vis fn name() -> T {
///     ::corio::Builder::new().worker_threads(N).build().expect(...)
///         .block_on(async move { ... })
/// }
/// ```
///
/// The runtime is a temporary of the function's tail expression, so it is
/// dropped (pending tasks cancelled, workers joined) when the function
/// returns or unwinds, after `block_on` has produced the value. The
/// expansion binds no names: a `let` pattern would resolve to a user's
/// `static` or `const` of the same name, whatever the hygiene.
pub(crate) fn expand(item: ItemFn, args: &Args, kind: Kind) -> TokenStream {
    // The expansion's own tokens are resolved at the mixed site; the user's
    // tokens (the body, the return type) keep their spans, so the body sees
    // every item in scope where the function was written.
    let site = Span::mixed_site();
    let mut out = TokenStream::new();
    if kind == Kind::Test {
        out.extend(code("#[::core::prelude::v1::test]", site));
    }
    for attr in item.attrs {
        out.extend(attr.tokens);
    }
    out.extend(item.vis);
    out.extend([TokenTree::Ident(item.fn_token)]);
    out.extend([TokenTree::Ident(item.name)]);
    out.extend(code("()", site));
    out.extend(item.output);

    // Located at the body's closing brace: if the body's value does not have
    // the declared return type, the error points at the end of the user's
    // function rather than at the attribute.
    let end = site.located_at(item.body.span_close());
    let mut block = code("::corio::Builder::new()", end);
    let workers = args.worker_threads.or(match kind {
        Kind::Main => None,
        Kind::Test => Some(1),
    });
    if let Some(n) = workers {
        block.extend(code(".worker_threads", end));
        block.extend([parenthesized(Literal::usize_unsuffixed(n), end)]);
    }
    let message = format!("{}: failed to start the corio runtime", kind.attr());
    block.extend(code(".build().expect", end));
    block.extend([parenthesized(Literal::string(&message), end)]);
    block.extend(code(".block_on", end));
    let mut future = code("async move", end);
    future.extend([TokenTree::Group(item.body)]);
    let mut call = Group::new(Delimiter::Parenthesis, future);
    call.set_span(end);
    block.extend([TokenTree::Group(call)]);
    out.extend([TokenTree::Group(Group::new(Delimiter::Brace, block))]);
    out
}

/// `(literal)`, all at `span`.
fn parenthesized(mut literal: Literal, span: Span) -> TokenTree {
    literal.set_span(span);
    let mut group = Group::new(
        Delimiter::Parenthesis,
        TokenStream::from(TokenTree::Literal(literal)),
    );
    group.set_span(span);
    TokenTree::Group(group)
}

/// What is left of a rejected function, next to its compile error: a
/// function of the same name and return type, so that its callers (and
/// rustc's search for `main`) do not add errors of their own.
pub(crate) fn stub(item: ItemFn) -> TokenStream {
    let site = Span::mixed_site();
    let mut out = code("#[allow(dead_code)]", site);
    for attr in item.attrs.into_iter().filter(|a| a.is_doc()) {
        out.extend(attr.tokens);
    }
    out.extend(item.vis);
    out.extend(code("fn", site));
    out.extend([TokenTree::Ident(item.name)]);
    out.extend(code("()", site));
    out.extend(item.output);
    out.extend(code("{ ::core::unimplemented!() }", site));
    out
}
