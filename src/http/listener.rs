//! The HTTP listener, with a ceiling on open connections below the process's file-descriptor
//! limit. Past the ceiling a new connection is accepted and closed at once (the client backs off
//! and comes back), so descriptors stay free for the database, the mail connectors and the log.
//! Without it a reconnect storm that reaches the limit makes SQLite fail to open its files, and
//! every failed accept stops the server from accepting anything for a second (axum's default),
//! which turns a burst of reconnects into tens of seconds of refusals.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Descriptors kept free for everything that is not a client connection, when the ceiling is
/// derived from the process limit.
const RESERVED_DESCRIPTORS: usize = 512;

/// How long to wait before accepting again when the process is out of descriptors anyway.
const OUT_OF_DESCRIPTORS_PAUSE: Duration = Duration::from_millis(25);

pub struct GuardedListener {
    inner: TcpListener,
    open: Arc<AtomicUsize>,
    ceiling: usize,
}

/// A client connection; its slot under the ceiling is given back when it closes.
pub struct GuardedStream {
    inner: TcpStream,
    _slot: Slot,
}

struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("switchboard_http_connections").decrement(1.0);
    }
}

/// The ceiling for `configured` (0: the process's open-files limit less a reserve; no ceiling
/// when the limit cannot be read).
pub fn ceiling(configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    match open_files_limit() {
        Some(limit) => limit.saturating_sub(RESERVED_DESCRIPTORS).max(64),
        None => usize::MAX,
    }
}

/// The soft limit on open files, from /proc/self/limits (Linux).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&limits)
}

fn parse_open_files(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl GuardedStream {
    /// Small request/response frames and WebSocket pushes must not wait for Nagle.
    pub fn set_nodelay(&self) {
        let _ = self.inner.set_nodelay(true);
    }
}

impl GuardedListener {
    pub fn new(inner: TcpListener, ceiling: usize) -> GuardedListener {
        GuardedListener {
            inner,
            open: Arc::new(AtomicUsize::new(0)),
            ceiling,
        }
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.open.load(Ordering::Relaxed) >= self.ceiling {
                        metrics::counter!("switchboard_http_connections_refused_total")
                            .increment(1);
                        drop(stream);
                        continue;
                    }
                    self.open.fetch_add(1, Ordering::Relaxed);
                    metrics::gauge!("switchboard_http_connections").increment(1.0);
                    let slot = Slot(self.open.clone());
                    return (
                        GuardedStream {
                            inner: stream,
                            _slot: slot,
                        },
                        addr,
                    );
                }
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(OUT_OF_DESCRIPTORS_PAUSE).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;
    use tokio::io::AsyncReadExt;

    #[test]
    fn the_open_files_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            20000                20000                files     \n";
        assert_eq!(parse_open_files(limits), Some(20_000));
        assert_eq!(parse_open_files("nothing"), None);
    }

    #[test]
    fn a_configured_ceiling_wins_and_a_derived_one_keeps_a_reserve() {
        assert_eq!(ceiling(100), 100);
        if let Some(limit) = open_files_limit() {
            assert_eq!(
                ceiling(0),
                limit.saturating_sub(RESERVED_DESCRIPTORS).max(64)
            );
        }
    }

    #[tokio::test]
    async fn past_the_ceiling_a_connection_is_closed_at_once_and_a_freed_slot_is_reused() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = GuardedListener::new(tcp, 1);

        let _first_client = TcpStream::connect(addr).await.unwrap();
        let (first, _) = listener.accept().await;

        // The second is over the ceiling: closed by the server (the client reads end of file).
        let mut second_client = TcpStream::connect(addr).await.unwrap();
        let accepting = tokio::spawn(async move { listener.accept().await });
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), second_client.read(&mut byte))
            .await
            .expect("the server closes the connection over the ceiling");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(
            !accepting.is_finished(),
            "nothing accepted while at the ceiling"
        );
        drop(first);
        let _third_client = TcpStream::connect(addr).await.unwrap();
        let (_third, _) = tokio::time::timeout(Duration::from_secs(5), accepting)
            .await
            .expect("a freed slot takes the next connection")
            .unwrap();
    }
}
