//! The errors of `StreamReader`'s framed reads: asyncio's
//! `IncompleteReadError` and `LimitOverrunError`, and `readuntil`'s union of
//! them.

use std::error::Error;
use std::fmt;
use std::io;

/// The stream ended before the read could finish: asyncio's
/// `IncompleteReadError`.
///
/// Returned by [`readexactly`](crate::StreamReader::readexactly) and (inside
/// [`ReadUntilError::Incomplete`]) by
/// [`readuntil`](crate::StreamReader::readuntil). The stream ended either
/// with an orderly EOF, or with a connection error (a reset peer), which is
/// then the error's [`source`](Error::source).
///
/// Converting it into an `io::Error` (as `?` does in an `io::Result` fn)
/// gives `UnexpectedEof`, or the connection error's kind.
#[derive(Debug)]
pub struct IncompleteReadError {
    /// The bytes read before the stream ended.
    pub partial: Vec<u8>,
    /// How many bytes the read asked for. For `readuntil`, which asked for
    /// "up to the separator", it is `partial.len() + separator.len()`: the
    /// shortest answer that could have held the partial bytes and the
    /// separator (asyncio gives `None` there).
    pub expected: usize,
    pub(crate) cause: Option<io::Error>,
}

impl IncompleteReadError {
    /// The connection error that ended the stream, if it did not end with
    /// an orderly EOF.
    pub fn cause(&self) -> Option<&io::Error> {
        self.cause.as_ref()
    }
}

impl fmt::Display for IncompleteReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes read on a total of {} expected bytes",
            self.partial.len(),
            self.expected
        )?;
        if let Some(cause) = &self.cause {
            write!(f, " (the stream failed: {cause})")?;
        }
        Ok(())
    }
}

impl Error for IncompleteReadError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause.as_ref().map(|e| e as _)
    }
}

impl From<IncompleteReadError> for io::Error {
    fn from(e: IncompleteReadError) -> io::Error {
        let kind = e
            .cause
            .as_ref()
            .map_or(io::ErrorKind::UnexpectedEof, io::Error::kind);
        io::Error::new(kind, e)
    }
}

/// The separator was not found within the reader's limit: asyncio's
/// `LimitOverrunError`.
///
/// The buffered data stays in the reader (except after `readline`, which
/// drops it, as asyncio's does), so it can still be read, for example with
/// [`read`](crate::StreamReader::read).
///
/// Converting it into an `io::Error` gives `InvalidData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrunError {
    /// How many bytes must be consumed to get past the point where the
    /// limit was overrun: the separator's offset if it was found beyond the
    /// limit, else how far the search got.
    pub consumed: usize,
    pub(crate) found: bool,
}

impl fmt::Display for LimitOverrunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.found {
            write!(
                f,
                "separator is found, but chunk is longer than limit ({} bytes to consume)",
                self.consumed
            )
        } else {
            write!(
                f,
                "separator is not found, and chunk exceeds the limit ({} bytes to consume)",
                self.consumed
            )
        }
    }
}

impl Error for LimitOverrunError {}

impl From<LimitOverrunError> for io::Error {
    fn from(e: LimitOverrunError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Why [`readuntil`](crate::StreamReader::readuntil) or
/// [`readline`](crate::StreamReader::readline) failed.
///
/// Converting it into an `io::Error` gives the kind of the variant's error
/// (`UnexpectedEof`, `InvalidData`, `InvalidInput`).
#[derive(Debug)]
pub enum ReadUntilError {
    /// The stream ended before the separator (never from `readline`, which
    /// returns the partial line instead, as asyncio's does).
    Incomplete(IncompleteReadError),
    /// The separator was not found within the limit.
    LimitOverrun(LimitOverrunError),
    /// The separator was empty (asyncio's `ValueError`); the buffer is left
    /// as it was.
    EmptySeparator,
    /// The stream failed (for example the peer reset the connection) while
    /// `readline` waited; the bytes buffered so far stay in the reader.
    Io(io::Error),
}

impl ReadUntilError {
    /// The bytes read before the stream ended, for
    /// [`Incomplete`](ReadUntilError::Incomplete).
    pub fn partial(&self) -> Option<&[u8]> {
        match self {
            ReadUntilError::Incomplete(e) => Some(&e.partial),
            _ => None,
        }
    }

    /// The `consumed` count of a
    /// [`LimitOverrun`](ReadUntilError::LimitOverrun).
    pub fn consumed(&self) -> Option<usize> {
        match self {
            ReadUntilError::LimitOverrun(e) => Some(e.consumed),
            _ => None,
        }
    }
}

impl fmt::Display for ReadUntilError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadUntilError::Incomplete(e) => e.fmt(f),
            ReadUntilError::LimitOverrun(e) => e.fmt(f),
            ReadUntilError::EmptySeparator => {
                f.write_str("separator should be at least one-byte string")
            }
            ReadUntilError::Io(e) => e.fmt(f),
        }
    }
}

impl Error for ReadUntilError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReadUntilError::Incomplete(e) => Some(e),
            ReadUntilError::LimitOverrun(e) => Some(e),
            ReadUntilError::EmptySeparator => None,
            ReadUntilError::Io(e) => Some(e),
        }
    }
}

impl From<ReadUntilError> for io::Error {
    fn from(e: ReadUntilError) -> io::Error {
        match e {
            ReadUntilError::Incomplete(e) => e.into(),
            ReadUntilError::LimitOverrun(e) => e.into(),
            ReadUntilError::EmptySeparator => io::Error::new(io::ErrorKind::InvalidInput, e),
            ReadUntilError::Io(e) => e,
        }
    }
}
