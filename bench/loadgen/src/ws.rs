//! WebSocket clients on loopback: open a socket from one of several 127.0.0.x source addresses,
//! go through each server's greeting, then hold the socket and count what arrives.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{timeout, Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async_with_config, WebSocketStream};

use crate::stats::{find_stamp, Latency};

pub type Ws = WebSocketStream<TcpStream>;

/// How many loopback source addresses sockets are spread over (127.0.0.2 …).
const SOURCES: usize = 8;

/// How long one socket may take from TCP connect to the end of the greeting.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);

/// The source address of the `i`-th socket.
pub fn source(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % SOURCES) as u8))
}

/// What the server on the other end speaks once the WebSocket is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// Switchboard's console gateway: the server opens with a `ready` frame.
    Console,
    /// Switchboard's visitor socket: the server opens with a `ready` frame.
    Widget,
    /// A plain WebSocket server (Node `ws`, Python `websockets`): no greeting.
    Ws,
    /// Socket.IO v4 over the websocket transport: engine.io open, then a namespace connect.
    Socketio,
}

/// Connects a TCP socket bound to `source` (any free port) to `target`.
pub async fn tcp_from(source: IpAddr, target: SocketAddr) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens one WebSocket at `ws://target{path}` from `source` and completes the greeting.
pub async fn open(
    protocol: Protocol,
    source: IpAddr,
    target: SocketAddr,
    path: &str,
) -> Result<Ws> {
    Ok(open_greeted(protocol, source, target, path).await?.0)
}

/// Like [`open`], and also returns the server's greeting frame (Switchboard's `ready`).
pub async fn open_greeted(
    protocol: Protocol,
    source: IpAddr,
    target: SocketAddr,
    path: &str,
) -> Result<(Ws, String)> {
    timeout(OPEN_TIMEOUT, async {
        let tcp = tcp_from(source, target).await?;
        // Small buffers: the generator holds thousands of sockets per process.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let url = format!("ws://{target}{path}");
        let (mut ws, _) = client_async_with_config(url, tcp, Some(config)).await?;
        let greeting = greet(protocol, &mut ws).await?;
        Ok((ws, greeting))
    })
    .await
    .context("timed out opening the socket")?
}

async fn greet(protocol: Protocol, ws: &mut Ws) -> Result<String> {
    match protocol {
        Protocol::Ws => Ok(String::new()),
        Protocol::Console | Protocol::Widget => {
            let first = next_text(ws).await?;
            if !first.contains("\"ready\"") {
                bail!("expected a ready frame, got {first}");
            }
            Ok(first)
        }
        Protocol::Socketio => {
            let open = next_text(ws).await?;
            if !open.starts_with('0') {
                bail!("expected an engine.io open packet, got {open}");
            }
            ws.send(Message::text("40")).await?;
            // Bounded: the namespace answer comes right after, possibly behind a ping.
            for _ in 0..4 {
                let packet = next_text(ws).await?;
                if packet.starts_with("40") {
                    return Ok(packet);
                }
                if packet == "2" {
                    ws.send(Message::text("3")).await?;
                }
            }
            bail!("no socket.io namespace connect answer")
        }
    }
}

async fn next_text(ws: &mut Ws) -> Result<String> {
    // Bounded: control frames are skipped, at most a handful before the greeting.
    for _ in 0..8 {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(Message::Close(frame))) => bail!("closed by the server: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("closed by the server"),
        }
    }
    bail!("no text frame from the server")
}

/// Counters shared by every socket a process holds.
#[derive(Default)]
pub struct Counters {
    /// Text frames received after the greeting.
    pub frames: AtomicU64,
    /// Bytes of those frames.
    pub bytes: AtomicU64,
    /// Event frames (`"type":"event"`): deliveries.
    pub events: AtomicU64,
    /// `resync` frames: the server dropped this socket's backlog.
    pub resyncs: AtomicU64,
    /// Sockets the server closed before the end.
    pub closed: AtomicU64,
    /// Stamp-to-arrival time of `message.created` frames that carry a stamp.
    pub latency: Mutex<Latency>,
}

impl Counters {
    fn on_text(&self, text: &str) {
        self.frames.fetch_add(1, Relaxed);
        self.bytes.fetch_add(text.len() as u64, Relaxed);
        if text.contains("\"type\":\"event\"") {
            self.events.fetch_add(1, Relaxed);
            if text.contains("message.created") {
                if let Some(stamp) = find_stamp(text) {
                    if let Ok(mut latency) = self.latency.lock() {
                        latency.record_since(stamp);
                    }
                }
            }
        } else if text.contains("\"resync\"") {
            self.resyncs.fetch_add(1, Relaxed);
        }
    }

    /// Starts a new measurement window.
    pub fn reset(&self) {
        for counter in [&self.frames, &self.bytes, &self.events, &self.resyncs] {
            counter.store(0, Relaxed);
        }
        if let Ok(mut latency) = self.latency.lock() {
            latency.reset();
        }
    }

    /// How many stamped frames arrived (cheaper than copying the histogram).
    pub fn latency_count(&self) -> u64 {
        self.latency.lock().map(|l| l.count()).unwrap_or(0)
    }

    pub fn latency(&self) -> Latency {
        self.latency.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Reads `ws` until `deadline` or until the server closes it, counting frames into `counters`.
/// Pings are answered by tungstenite while it reads; socket.io pings ("2") are answered here.
pub async fn hold(protocol: Protocol, mut ws: Ws, counters: &Counters, deadline: Instant) {
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Text(text)))) => {
                if protocol == Protocol::Socketio && text.as_str() == "2" {
                    if ws.send(Message::text("3")).await.is_err() {
                        counters.closed.fetch_add(1, Relaxed);
                        return;
                    }
                    continue;
                }
                counters.on_text(text.as_str());
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => {
                counters.closed.fetch_add(1, Relaxed);
                return;
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}
