//! Small helpers for reading and writing token streams without `syn` or
//! `quote`.

use proc_macro::{Group, Spacing, Span, TokenStream, TokenTree};

/// `src` (a fixed piece of Rust written in this crate) as tokens, all with
/// `span`.
pub(crate) fn code(src: &str, span: Span) -> TokenStream {
    let parsed: TokenStream = src
        .parse()
        .unwrap_or_else(|e| panic!("corio-macros: bad template {src:?}: {e}"));
    respan(parsed, span)
}

/// `stream` with every token, nested ones included, given `span`.
fn respan(stream: TokenStream, span: Span) -> TokenStream {
    stream
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// Whether `tree` is the punctuation `ch`.
pub(crate) fn is_punct(tree: &TokenTree, ch: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == ch)
}

/// Whether `tree` is the punctuation `ch` glued to the next one (the `-` of
/// `->`).
pub(crate) fn is_joint_punct(tree: &TokenTree, ch: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == ch && p.spacing() == Spacing::Joint)
}

/// Whether `tree` is the identifier or keyword `word`.
pub(crate) fn is_ident(tree: &TokenTree, word: &str) -> bool {
    matches!(tree, TokenTree::Ident(i) if i.to_string() == word)
}

/// The span of the last token of `stream`, or `fallback` if it is empty.
pub(crate) fn last_span(stream: &TokenStream, fallback: Span) -> Span {
    stream
        .clone()
        .into_iter()
        .last()
        .map_or(fallback, |t| t.span())
}
