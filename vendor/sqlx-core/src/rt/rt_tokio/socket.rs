use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use tokio::net::TcpStream;

use crate::io::ReadBuf;
use crate::net::Socket;

/// ledgerbot's patch: `Socket::poll_read` through tokio's `AsyncRead`,
/// which, after a read that did not fill the buffer (the socket drained),
/// forgets the socket's readiness. `try_read` keeps it, so the next read,
/// tried right after the next request is sent, is a `recv` that can only
/// answer `EAGAIN`: one wasted system call per round trip. tokio's
/// `read_buf` reads straight into `buf`'s spare capacity, as `try_read`
/// does; its future holds nothing between polls, so a new one per poll is
/// the same read.
fn poll_read_tokio(
    socket: &mut (impl tokio::io::AsyncRead + Unpin),
    cx: &mut Context<'_>,
    buf: &mut dyn ReadBuf,
) -> Poll<io::Result<usize>> {
    std::pin::pin!(tokio::io::AsyncReadExt::read_buf(socket, buf)).poll(cx)
}

impl Socket for TcpStream {
    fn try_read(&mut self, mut buf: &mut dyn ReadBuf) -> io::Result<usize> {
        // Requires `&mut impl BufMut`
        self.try_read_buf(&mut buf)
    }

    fn try_write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (*self).try_write(buf)
    }

    fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        (*self).poll_read_ready(cx)
    }

    fn poll_write_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        (*self).poll_write_ready(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self).poll_shutdown(cx)
    }

    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut dyn ReadBuf,
    ) -> Poll<io::Result<usize>> {
        poll_read_tokio(self, cx, buf)
    }
}

#[cfg(unix)]
impl Socket for tokio::net::UnixStream {
    fn try_read(&mut self, mut buf: &mut dyn ReadBuf) -> io::Result<usize> {
        self.try_read_buf(&mut buf)
    }

    fn try_write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (*self).try_write(buf)
    }

    fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        (*self).poll_read_ready(cx)
    }

    fn poll_write_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        (*self).poll_write_ready(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self).poll_shutdown(cx)
    }

    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut dyn ReadBuf,
    ) -> Poll<io::Result<usize>> {
        poll_read_tokio(self, cx, buf)
    }
}
