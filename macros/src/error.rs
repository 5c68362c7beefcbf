//! Compile errors pointing at the offending tokens.

use crate::tokens;
use proc_macro::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};

/// A message for the user, and the range of their code it is about.
pub(crate) struct Error {
    start: Span,
    end: Span,
    message: String,
}

impl Error {
    /// An error about the single token at `span`.
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Error {
        Error::spanning(span, span, message)
    }

    /// An error about the tokens from `start` to `end`.
    pub(crate) fn spanning(start: Span, end: Span, message: impl Into<String>) -> Error {
        Error {
            start,
            end,
            message: message.into(),
        }
    }

    /// `::core::compile_error!("...");`. Stable `Span::join` does not exist,
    /// so the range is conveyed the way rustc reads it back: the invocation's
    /// span runs from its first token (given `start`) to its last (given
    /// `end`), and rustc underlines that whole range.
    pub(crate) fn into_compile_error(self) -> TokenStream {
        let mut out = tokens::code("::core::compile_error!", self.start);
        let mut message = Literal::string(&self.message);
        message.set_span(self.end);
        let mut args = Group::new(
            Delimiter::Parenthesis,
            TokenStream::from(TokenTree::Literal(message)),
        );
        args.set_span(self.end);
        out.extend([TokenTree::Group(args)]);
        out.extend(tokens::code(";", self.end));
        out
    }
}
