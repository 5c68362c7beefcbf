//! Splitting the annotated function into the parts the expansion needs, and
//! checking it is a plain `async fn` with no arguments and no generics.

use crate::error::Error;
use crate::tokens::{is_ident, is_joint_punct, is_punct};
use crate::Kind;
use proc_macro::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

/// One outer attribute, `#[...]`.
pub(crate) struct Attribute {
    /// `#` and the bracketed group, as written.
    pub(crate) tokens: TokenStream,
    /// The last segment of its path (`test` for `#[core::prelude::v1::test]`).
    last_segment: Option<String>,
    /// How many segments its path has (`doc` has 1).
    path_len: usize,
    /// The spans of `#` and of `[...]`.
    span: (Span, Span),
}

impl Attribute {
    /// Whether this is a `#[doc = ...]` (a `///` comment).
    pub(crate) fn is_doc(&self) -> bool {
        self.last_segment.as_deref() == Some("doc") && self.path_len == 1
    }
}

/// The annotated function, cut into its parts. Tokens are kept as written so
/// that the user's spans and hygiene survive.
pub(crate) struct ItemFn {
    pub(crate) attrs: Vec<Attribute>,
    /// `pub`, `pub(crate)`, ... or nothing.
    pub(crate) vis: TokenStream,
    /// The keywords before `fn`: `async`, and anything unsupported.
    qualifiers: Vec<TokenTree>,
    pub(crate) fn_token: Ident,
    pub(crate) name: Ident,
    /// The spans of `<` and `>`, if there are generic parameters.
    generics: Option<(Span, Span)>,
    params: Group,
    /// Everything between the parameters and the body: `-> T`, a `where`
    /// clause.
    pub(crate) output: TokenStream,
    pub(crate) body: Group,
}

/// Splits `item`. Fails only if it is not a function at all; whether the
/// function is acceptable is [`ItemFn::check`]'s job, so that even a
/// rejected function can leave a stub behind.
pub(crate) fn parse(item: TokenStream, kind: Kind) -> Result<ItemFn, Error> {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut i = 0;
    // Anything but a function is refused as a whole, from the first token
    // after its attributes to its last.
    let last = tokens.last().map_or_else(Span::call_site, TokenTree::span);
    let not_a_fn = |first: usize| {
        let start = tokens.get(first).map_or(last, TokenTree::span);
        Error::spanning(
            start,
            last,
            format!(
                "the `{}` attribute can only be applied to an `async fn`",
                kind.attr()
            ),
        )
    };

    let mut attrs = Vec::new();
    while let (Some(hash), Some(TokenTree::Group(group))) = (tokens.get(i), tokens.get(i + 1)) {
        if !is_punct(hash, '#') || group.delimiter() != Delimiter::Bracket {
            break;
        }
        attrs.push(attribute(hash, group));
        i += 2;
    }

    let item_start = i;
    let mut vis = TokenStream::new();
    if tokens.get(i).is_some_and(|t| is_ident(t, "pub")) {
        vis.extend([tokens[i].clone()]);
        i += 1;
        if let Some(TokenTree::Group(g)) = tokens.get(i) {
            if g.delimiter() == Delimiter::Parenthesis {
                vis.extend([tokens[i].clone()]);
                i += 1;
            }
        }
    }

    let mut qualifiers = Vec::new();
    loop {
        match tokens.get(i) {
            Some(t) if is_ident(t, "fn") => break,
            // `async`, `unsafe`, `const`, `extern "C"`, ...
            Some(t @ (TokenTree::Ident(_) | TokenTree::Literal(_))) => qualifiers.push(t.clone()),
            _ => return Err(not_a_fn(item_start)),
        }
        i += 1;
    }
    let TokenTree::Ident(fn_token) = tokens[i].clone() else {
        unreachable!("the loop above stops at `fn`")
    };
    i += 1;
    let Some(TokenTree::Ident(name)) = tokens.get(i).cloned() else {
        return Err(not_a_fn(item_start));
    };
    i += 1;

    let mut generics = None;
    if tokens.get(i).is_some_and(|t| is_punct(t, '<')) {
        let start = tokens[i].span();
        let mut depth = 0usize;
        loop {
            let Some(t) = tokens.get(i) else {
                return Err(not_a_fn(item_start));
            };
            let arrow = i > 0 && is_joint_punct(&tokens[i - 1], '-');
            if is_punct(t, '<') {
                depth += 1;
            } else if is_punct(t, '>') && !arrow {
                depth -= 1;
            }
            i += 1;
            if depth == 0 {
                generics = Some((start, t.span()));
                break;
            }
        }
    }

    let params = match tokens.get(i) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.clone(),
        _ => return Err(not_a_fn(item_start)),
    };
    i += 1;

    let body = match tokens.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace && tokens.len() > i => {
            g.clone()
        }
        _ => return Err(Error::new(last, "expected a function body")),
    };
    let output = tokens[i..tokens.len() - 1].iter().cloned().collect();

    Ok(ItemFn {
        attrs,
        vis,
        qualifiers,
        fn_token,
        name,
        generics,
        params,
        output,
        body,
    })
}

/// Reads the path of the attribute `#[group]`.
fn attribute(hash: &TokenTree, group: &Group) -> Attribute {
    let mut last_segment = None;
    let mut path_len = 0;
    for t in group.stream() {
        match &t {
            TokenTree::Ident(i) => {
                last_segment = Some(i.to_string());
                path_len += 1;
            }
            TokenTree::Punct(p) if p.as_char() == ':' => {}
            _ => break,
        }
    }
    Attribute {
        tokens: [hash.clone(), TokenTree::Group(group.clone())]
            .into_iter()
            .collect(),
        last_segment,
        path_len,
        span: (hash.span(), group.span()),
    }
}

impl ItemFn {
    /// The first reason, in source order, that this function cannot be
    /// turned into a `kind`.
    pub(crate) fn check(&self, kind: Kind) -> Result<(), Error> {
        if kind == Kind::Test {
            if let Some(test) = self
                .attrs
                .iter()
                .find(|a| a.last_segment.as_deref() == Some("test"))
            {
                return Err(Error::spanning(
                    test.span.0,
                    test.span.1,
                    "a second test attribute: `#[corio::test]` already makes this function a \
                     test; remove this one",
                ));
            }
        }
        if let Some(other) = self.qualifiers.iter().find(|q| !is_ident(q, "async")) {
            return Err(Error::new(
                other.span(),
                format!(
                    "`{}` functions must be a plain `async fn`; `{other}` is not supported",
                    kind.attr()
                ),
            ));
        }
        if self.qualifiers.is_empty() {
            return Err(Error::new(
                self.fn_token.span(),
                "the `async` keyword is missing from the function declaration",
            ));
        }
        if let Some((start, end)) = self.generics {
            return Err(Error::spanning(
                start,
                end,
                format!("`{}` functions cannot have generic parameters", kind.attr()),
            ));
        }
        let mut params = self.params.stream().into_iter();
        if let Some(first) = params.next() {
            let last = params.last().map_or(first.span(), |t| t.span());
            return Err(Error::spanning(
                first.span(),
                last,
                format!("`{}` functions cannot take arguments", kind.attr()),
            ));
        }
        Ok(())
    }
}
