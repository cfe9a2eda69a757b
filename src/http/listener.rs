//! The HTTP listener, with a ceiling on open connections below the process's file-descriptor
//! limit. Past the ceiling a new connection is accepted and closed at once (the client backs off
//! and comes back), so descriptors stay free for the database, the mail connectors and the log.
//! Without it a reconnect storm that reaches the limit makes SQLite fail to open its files, and
//! every failed accept stops the server from accepting anything for a second (axum's default),
//! which turns a burst of reconnects into tens of seconds of refusals.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::{Context, Poll};
use std::time::Duration;

use rlimit::Resource;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Descriptors kept free for everything that is not a client connection, when the ceiling is
/// derived from the process limit.
const RESERVED_DESCRIPTORS: usize = 512;

/// How long to wait before accepting again when the process is out of descriptors anyway.
const OUT_OF_DESCRIPTORS_PAUSE: Duration = Duration::from_millis(25);

pub struct GuardedListener {
    inner: TcpListener,
    /// One permit per connection under the ceiling.
    slots: Arc<Semaphore>,
}

/// A client connection; its slot under the ceiling is given back when it closes.
pub struct GuardedStream {
    inner: TcpStream,
    _slot: Slot,
}

/// A permit of the listener's semaphore, counted in the connections gauge while held.
struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    fn new(permit: OwnedSemaphorePermit) -> Slot {
        metrics::gauge!("switchboard_http_connections").increment(1.0);
        Slot { _permit: permit }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
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

/// The soft limit on open files.
fn open_files_limit() -> Option<usize> {
    let (soft, _hard) = Resource::NOFILE.get().ok()?;
    usize::try_from(soft).ok()
}

/// Raises the soft open-files limit to the hard one, once per process: the soft default (often
/// 1,024) is what a reconnect storm hits first, while the hard limit is what the operator
/// granted the service (systemd's `LimitNOFILE`). Logs both, so the derived ceiling can be read
/// off the log.
pub fn raise_open_files_limit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| match Resource::NOFILE.get() {
        Ok((soft, hard)) => match rlimit::increase_nofile_limit(hard) {
            Ok(raised) => {
                tracing::info!(soft, hard, raised_to = raised, "open files limit");
            }
            Err(e) => {
                tracing::warn!(soft, hard, error = %e, "cannot raise the open files limit");
            }
        },
        Err(e) => tracing::warn!(error = %e, "cannot read the open files limit"),
    });
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
            // "No ceiling" is the most a semaphore can hold, which no process reaches.
            slots: Arc::new(Semaphore::new(ceiling.min(Semaphore::MAX_PERMITS))),
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
                    // Not `acquire`: waiting for a slot would leave the client hanging in the
                    // backlog; closing at once tells it to back off.
                    let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                        metrics::counter!("switchboard_http_connections_refused_total")
                            .increment(1);
                        drop(stream);
                        continue;
                    };
                    return (
                        GuardedStream {
                            inner: stream,
                            _slot: Slot::new(permit),
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
    fn the_soft_limit_is_raised_to_the_hard_one() {
        raise_open_files_limit();
        let (soft, hard) = Resource::NOFILE.get().unwrap();
        assert_eq!(soft, hard);
        assert_eq!(open_files_limit(), usize::try_from(soft).ok());
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
