//! `StreamReader`: a buffered, pull-based reader with asyncio's framing
//! methods.
//!
//! The reader owns one byte buffer; the bytes not yet returned are
//! `buf[start..end]`. It reads from its source only when an operation needs
//! more bytes than are buffered, straight into the buffer's free tail, and
//! never more than the operation needs or the limit allows (whichever is
//! larger). So the reader never holds much more than `limit` bytes the
//! program did not ask for: while the program does not read, the socket is
//! not read either and the kernel's flow control pushes back on the peer.
//! That is asyncio's "pause reading when the buffer is full", without a
//! pause/resume protocol.

use super::errors::{IncompleteReadError, LimitOverrunError, ReadUntilError};
use super::source::ReadSource;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

/// The buffer limit of a reader made without one: 64 KiB, as asyncio's.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The read half of a stream connection: asyncio's `StreamReader`.
///
/// Made by [`open_connection`](crate::open_connection) and friends, or
/// standalone with [`new`](StreamReader::new) and fed with
/// [`feed_data`](StreamReader::feed_data) / [`feed_eof`](StreamReader::feed_eof)
/// (as asyncio allows; handy for parsers and tests).
///
/// The *limit* (64 KiB unless set) bounds how far `readline` and
/// `readuntil` look for their separator, and how much the reader reads
/// ahead of what the program asked for.
///
/// # Cancellation
///
/// Every method is cancel-safe: the reader only takes bytes out of its
/// buffer when the method returns, so dropping a pending `readuntil`,
/// `readexactly`, `readline`, `read` or `read_to_end` leaves every byte it
/// had read so far in the buffer, for the next call.
///
/// # Errors
///
/// If the connection fails (for example the peer resets it), the bytes
/// buffered before the failure can still be read; a call that needs more
/// reports the error, and so does every later one.
///
/// ```
/// corio::run(async {
///     let mut reader = corio::StreamReader::new();
///     reader.feed_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody");
///     reader.feed_eof();
///     assert_eq!(reader.readline().await.unwrap(), b"GET / HTTP/1.1\r\n");
///     assert_eq!(reader.readuntil(b"\r\n\r\n").await.unwrap(), b"Host: x\r\n\r\n");
///     assert_eq!(reader.readexactly(2).await.unwrap(), b"bo");
///     let err = reader.readexactly(5).await.unwrap_err();
///     assert_eq!((err.partial.as_slice(), err.expected), (&b"dy"[..], 5));
///     assert!(reader.at_eof());
/// });
/// ```
pub struct StreamReader {
    /// Initialized storage (grown, never shrunk; zero-filled only when it
    /// grows, so steady-state reads neither allocate nor fill).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    limit: usize,
    eof: bool,
    /// The failure that ended the stream, reported by every call that needs
    /// more bytes than are buffered.
    error: Option<io::Error>,
    source: Option<Box<dyn ReadSource>>,
}

impl StreamReader {
    /// A standalone reader with the default limit (64 KiB), fed with
    /// [`feed_data`](StreamReader::feed_data) and
    /// [`feed_eof`](StreamReader::feed_eof).
    pub fn new() -> StreamReader {
        StreamReader::with_limit(DEFAULT_LIMIT)
    }

    /// A standalone reader with the given limit.
    ///
    /// # Panics
    /// If `limit` is 0 (asyncio's `ValueError`).
    pub fn with_limit(limit: usize) -> StreamReader {
        assert!(limit > 0, "StreamReader limit must be greater than 0");
        StreamReader {
            buf: Vec::new(),
            start: 0,
            end: 0,
            limit,
            eof: false,
            error: None,
            source: None,
        }
    }

    /// A reader over `source` with the given limit.
    pub(crate) fn from_source(source: impl ReadSource, limit: usize) -> StreamReader {
        let mut reader = StreamReader::with_limit(limit);
        reader.source = Some(Box::new(source));
        reader
    }

    /// The buffer limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the buffer limit (asyncio's `limit=` argument of
    /// `open_connection`/`start_server`); bytes already buffered stay.
    ///
    /// # Panics
    /// If `limit` is 0.
    pub fn set_limit(&mut self, limit: usize) {
        assert!(limit > 0, "StreamReader limit must be greater than 0");
        self.limit = limit;
    }

    /// Appends `data` to the buffer, as if the stream had delivered it.
    ///
    /// # Panics
    /// After [`feed_eof`](StreamReader::feed_eof) (asyncio asserts the same).
    pub fn feed_data(&mut self, data: &[u8]) {
        assert!(!self.eof, "feed_data after feed_eof");
        if data.is_empty() {
            return;
        }
        self.reserve(data.len());
        self.buf[self.end..self.end + data.len()].copy_from_slice(data);
        self.end += data.len();
    }

    /// Marks the end of the stream: once the buffer is read, reads return
    /// what is left and then report EOF.
    pub fn feed_eof(&mut self) {
        self.eof = true;
    }

    /// `true` once the stream has ended and every buffered byte was read.
    pub fn at_eof(&self) -> bool {
        self.eof && self.len() == 0
    }

    /// Reads up to `n` bytes: what is buffered, or else whatever the next
    /// read from the stream delivers (at most `max(n, limit)` bytes read
    /// ahead). Empty at EOF, or when `n` is 0.
    ///
    /// Cancel-safe: nothing is lost if the future is dropped.
    pub async fn read(&mut self, n: usize) -> io::Result<Vec<u8>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        while self.len() == 0 && !self.eof {
            self.fill(n).await?;
        }
        let take = n.min(self.len());
        Ok(self.take(take))
    }

    /// Reads until EOF and returns everything (asyncio's `read(-1)`).
    ///
    /// Cancel-safe: what was read stays buffered if the future is dropped,
    /// and also if the stream fails (the error is returned).
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        while !self.eof {
            let want = self.len() + self.limit;
            self.fill(want).await?;
        }
        // The stream is over, so the storage itself becomes the result
        // instead of being copied out (it may be large).
        let mut out = std::mem::take(&mut self.buf);
        out.truncate(self.end);
        out.drain(..self.start);
        (self.start, self.end) = (0, 0);
        Ok(out)
    }

    /// Reads exactly `n` bytes.
    ///
    /// # Errors
    /// If the stream ends first: an [`IncompleteReadError`] with the bytes
    /// read (`partial`, taken out of the buffer) and `n` (`expected`). If it
    /// failed instead (a reset peer), the same error with the failure as
    /// its [`cause`](IncompleteReadError::cause), and the buffered bytes are
    /// copied into `partial` but also left in the buffer.
    ///
    /// Cancel-safe: bytes read before the future is dropped stay buffered.
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, IncompleteReadError> {
        loop {
            if self.len() >= n {
                return Ok(self.take(n));
            }
            if self.eof {
                let len = self.len();
                return Err(IncompleteReadError {
                    partial: self.take(len),
                    expected: n,
                    cause: None,
                });
            }
            if let Err(cause) = self.fill(n).await {
                return Err(IncompleteReadError {
                    partial: self.data().to_vec(),
                    expected: n,
                    cause: Some(cause),
                });
            }
        }
    }

    /// Reads up to and including `separator` (asyncio's `readuntil`).
    ///
    /// # Errors
    /// * [`ReadUntilError::EmptySeparator`] if `separator` is empty; the
    ///   buffer is untouched.
    /// * [`ReadUntilError::LimitOverrun`] if the separator does not end
    ///   within `limit` bytes (it is either not found in the first
    ///   `limit + separator.len()` bytes, or found at an offset beyond the
    ///   limit); the data stays in the buffer, readable.
    /// * [`ReadUntilError::Incomplete`] if the stream ends first, with the
    ///   bytes read (taken out of the buffer) as `partial`.
    /// * [`ReadUntilError::Io`] if the stream fails first; the data stays
    ///   in the buffer.
    ///
    /// Cancel-safe: bytes read before the future is dropped stay buffered.
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadUntilError> {
        let seplen = separator.len();
        if seplen == 0 {
            return Err(ReadUntilError::EmptySeparator);
        }
        // Where the search resumes: the separator cannot start before it,
        // since the bytes there were already searched.
        let mut offset = 0;
        let isep = loop {
            let buflen = self.len();
            if buflen - offset >= seplen {
                if let Some(i) = find(&self.data()[offset..], separator) {
                    break offset + i;
                }
                offset = buflen + 1 - seplen;
                if offset > self.limit {
                    return Err(ReadUntilError::LimitOverrun(LimitOverrunError {
                        consumed: offset,
                        found: false,
                    }));
                }
            }
            if self.eof {
                let partial = self.take(buflen);
                let expected = partial.len() + seplen;
                return Err(ReadUntilError::Incomplete(IncompleteReadError {
                    partial,
                    expected,
                    cause: None,
                }));
            }
            self.fill(self.limit + seplen)
                .await
                .map_err(ReadUntilError::Io)?;
        };
        if isep > self.limit {
            return Err(ReadUntilError::LimitOverrun(LimitOverrunError {
                consumed: isep,
                found: true,
            }));
        }
        Ok(self.take(isep + seplen))
    }

    /// Reads one line, up to and including `\n` (asyncio's `readline`).
    ///
    /// At EOF it returns the partial last line (empty once everything was
    /// read), not an error.
    ///
    /// # Errors
    /// * [`ReadUntilError::LimitOverrun`] if the line is longer than the
    ///   limit. As asyncio's, `readline` then drops the long line from the
    ///   buffer: through its `\n` if the `\n` was found, else the whole
    ///   buffer (the rest of the line is read as the next line).
    /// * [`ReadUntilError::Io`] if the stream fails first; the data stays
    ///   in the buffer.
    ///
    /// Cancel-safe: bytes read before the future is dropped stay buffered.
    pub async fn readline(&mut self) -> Result<Vec<u8>, ReadUntilError> {
        match self.readuntil(b"\n").await {
            Ok(line) => Ok(line),
            Err(ReadUntilError::Incomplete(e)) => Ok(e.partial),
            Err(ReadUntilError::LimitOverrun(e)) => {
                if self.data()[e.consumed..].starts_with(b"\n") {
                    self.start += e.consumed + 1;
                } else {
                    self.start = self.end;
                }
                Err(ReadUntilError::LimitOverrun(e))
            }
            Err(e) => Err(e),
        }
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Takes the first `n` buffered bytes out.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.start..self.start + n].to_vec();
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        out
    }

    /// Makes room for `extra` more bytes after `end`: first by moving the
    /// buffered bytes to the front, then by growing the storage.
    fn reserve(&mut self, extra: usize) {
        if self.buf.len() - self.end >= extra {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < extra {
            self.buf.resize(self.end + extra, 0);
        }
    }

    /// Reads once from the source, aiming at `want` buffered bytes (and
    /// reading ahead up to the limit): `Ok` when bytes arrived or the
    /// stream ended (`eof` is then set), `Err` if it failed.
    async fn fill(&mut self, want: usize) -> io::Result<()> {
        poll_fn(|cx| self.poll_fill(cx, want)).await
    }

    fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<()>> {
        if let Some(e) = &self.error {
            return Poll::Ready(Err(io::Error::new(e.kind(), e.to_string())));
        }
        if self.source.is_none() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "this StreamReader has no stream: feed_data() more bytes or feed_eof() first",
            )));
        }
        // Up to what the call needs or the limit allows ahead; but one read
        // never reserves more than max(limit, 64 KiB), so a huge
        // `readexactly(n)` grows the buffer with the bytes that arrive, not
        // with `n` up front.
        let room = want
            .max(self.limit)
            .saturating_sub(self.len())
            .clamp(1, self.limit.max(DEFAULT_LIMIT));
        self.reserve(room);
        let end = self.end;
        let source = self.source.as_mut().expect("checked above");
        loop {
            match source.poll_read(cx, &mut self.buf[end..end + room]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    self.eof = true;
                    self.source = None;
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(n)) => {
                    self.end += n;
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(e)) => {
                    let report = io::Error::new(e.kind(), e.to_string());
                    self.error = Some(e);
                    self.source = None;
                    return Poll::Ready(Err(report));
                }
            }
        }
    }
}

impl Default for StreamReader {
    fn default() -> StreamReader {
        StreamReader::new()
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.len())
            .field("limit", &self.limit)
            .field("eof", &self.eof)
            .field("error", &self.error)
            .finish()
    }
}

/// The offset of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return haystack.iter().position(|&b| b == needle[0]);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
