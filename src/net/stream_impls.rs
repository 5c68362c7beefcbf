//! What the stream sockets (`TcpStream`, `UnixStream`) share: non-blocking
//! reads and writes on a registered source, and the `futures_io` impls.

use crate::io::registration::PollEvented;
use crate::io::scheduled_io::Direction;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};

/// A connected, non-blocking mio stream socket. Reads and writes take `&self`
/// (the kernel serializes them), so one task may read while another writes.
pub(crate) trait StreamSource: std::os::fd::AsRawFd {
    fn read_nb(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn write_nb(&self, buf: &[u8]) -> io::Result<usize>;
    fn write_vectored_nb(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

macro_rules! stream_source {
    ($ty:ty) => {
        impl StreamSource for $ty {
            fn read_nb(&self, buf: &mut [u8]) -> io::Result<usize> {
                (&*self).read(buf)
            }

            fn write_nb(&self, buf: &[u8]) -> io::Result<usize> {
                (&*self).write(buf)
            }

            fn write_vectored_nb(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                (&*self).write_vectored(bufs)
            }

            fn shutdown(&self, how: Shutdown) -> io::Result<()> {
                <$ty>::shutdown(self, how)
            }
        }
    };
}

stream_source!(mio::net::TcpStream);
stream_source!(mio::net::UnixStream);

pub(crate) fn poll_read<S: StreamSource>(
    io: &PollEvented<S>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    io.poll_read_stream(cx, buf, |s, buf| s.read_nb(buf))
}

pub(crate) fn poll_write<S: StreamSource>(
    io: &PollEvented<S>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    io.poll_io(cx, Direction::Write, |s| s.write_nb(buf))
}

pub(crate) fn poll_write_vectored<S: StreamSource>(
    io: &PollEvented<S>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    // One buffer (the common case for stream writers) goes through `send`:
    // cheaper in the kernel than `writev`'s iovec path, and with
    // MSG_NOSIGNAL for sockets.
    match bufs {
        [buf] => io.poll_io(cx, Direction::Write, |s| s.write_nb(buf)),
        _ => io.poll_io(cx, Direction::Write, |s| s.write_vectored_nb(bufs)),
    }
}

pub(crate) async fn read<S: StreamSource>(
    io: &PollEvented<S>,
    buf: &mut [u8],
) -> io::Result<usize> {
    poll_fn(|cx| poll_read(io, cx, buf)).await
}

pub(crate) async fn read_exact<S: StreamSource>(
    io: &PollEvented<S>,
    mut buf: &mut [u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        match read(io, buf).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

pub(crate) async fn write<S: StreamSource>(io: &PollEvented<S>, buf: &[u8]) -> io::Result<usize> {
    poll_fn(|cx| poll_write(io, cx, buf)).await
}

pub(crate) async fn write_all<S: StreamSource>(
    io: &PollEvented<S>,
    mut buf: &[u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        match write(io, buf).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

pub(crate) async fn write_vectored<S: StreamSource>(
    io: &PollEvented<S>,
    bufs: &[IoSlice<'_>],
) -> io::Result<usize> {
    poll_fn(|cx| poll_write_vectored(io, cx, bufs)).await
}

/// `futures_io::AsyncRead` and `AsyncWrite` for a stream type `$ty` (or a
/// reference to one) whose field `io` is a `PollEvented<S>` with
/// `S: StreamSource`.
macro_rules! async_io_impls {
    ($ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_impls::poll_read(&self.io, cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_impls::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream_impls::poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the kernel: nothing is buffered here.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::stream_impls::StreamSource::shutdown(
                    self.io.get(),
                    std::net::Shutdown::Write,
                ))
            }
        }
    };
}

pub(crate) use async_io_impls;
