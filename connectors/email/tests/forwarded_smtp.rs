//! The forwarded-mail listener answers every SMTP command at once on loopback. Each answer goes
//! out in one segment with TCP_NODELAY: a reply written in two pieces (the text, then its CRLF)
//! makes Nagle hold the second until the client's delayed ACK, some 40 ms, four times a mail.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_connector_email::imap::SinkError;
use switchboard_connector_email::inbound::{serve, InboundLimits, InboundSink};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Counter(AtomicUsize);

#[async_trait::async_trait]
impl InboundSink for Counter {
    async fn route(&self, _recipient: &str) -> Option<i64> {
        Some(1)
    }
    async fn deliver(&self, _inboxes: &[i64], _raw: &[u8]) -> Result<(), SinkError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Reads one whole reply (its last line has a space after the code) and returns its code.
async fn reply(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    loop {
        let mut line = String::new();
        read.read_line(&mut line).await.unwrap();
        assert!(!line.is_empty(), "the listener hung up");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line[..3].to_string();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_of_a_mail_is_answered_within_five_milliseconds() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = Arc::new(Counter::default());
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(
        listener,
        sink.clone(),
        InboundLimits::default(),
        shutdown,
    ));

    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    assert_eq!(reply(&mut read).await, "220");
    let mut took: Vec<Duration> = Vec::new();
    let mut ask = async |command: &str, code: &str, took: &mut Vec<Duration>| {
        let started = Instant::now();
        write.write_all(command.as_bytes()).await.unwrap();
        assert_eq!(reply(&mut read).await, code, "{command:?}");
        took.push(started.elapsed());
    };
    ask("EHLO client.test\r\n", "250", &mut took).await;
    const MAILS: usize = 20;
    for n in 0..MAILS {
        ask("MAIL FROM:<bob@customer.test>\r\n", "250", &mut took).await;
        ask("RCPT TO:<help@acme.test>\r\n", "250", &mut took).await;
        ask("DATA\r\n", "354", &mut took).await;
        let mail =
            format!("Subject: {n}\r\nMessage-ID: <{n}@customer.test>\r\n\r\nHello {n}\r\n.\r\n");
        ask(&mail, "250", &mut took).await;
    }
    ask("QUIT\r\n", "221", &mut took).await;
    assert_eq!(sink.0.load(Ordering::SeqCst), MAILS);
    // Every command under 5 ms; a scheduling hiccup on a busy test machine may take one or two
    // past it, a reply held back by Nagle takes nearly every one past 40 ms.
    let slow: Vec<&Duration> = took
        .iter()
        .filter(|d| **d >= Duration::from_millis(5))
        .collect();
    assert!(
        slow.len() * 40 <= took.len(),
        "{} of {} commands took 5 ms or more (first: {:?}): replies wait for the client's \
         delayed ACK",
        slow.len(),
        took.len(),
        &slow[..slow.len().min(5)]
    );
}
