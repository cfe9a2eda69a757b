//! Forwarded mail: an SMTP listener that takes mail for the inboxes' addresses, for teams that
//! forward their support address (or point their MTA) at Switchboard instead of letting it read a
//! mailbox over IMAP. It answers `250` only once the mail is committed, so the sending MTA keeps
//! (and retries) anything that was not stored.
//!
//! It speaks the part of RFC 5321 a relaying MTA uses (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT,
//! PIPELINING, 8BITMIME, SIZE). It has no TLS and no AUTH: bind it to loopback or a private
//! network behind the MTA.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use crate::imap::SinkError;

/// Where forwarded mail goes.
#[async_trait::async_trait]
pub trait InboundSink: Send + Sync {
    /// The inbox that takes mail for `recipient`, or `None` to refuse it.
    async fn route(&self, recipient: &str) -> Option<i64>;
    /// Stores one mail for each inbox; `Ok` means committed.
    async fn deliver(&self, inboxes: &[i64], raw: &[u8]) -> Result<(), SinkError>;
}

#[derive(Clone, Debug)]
pub struct InboundLimits {
    pub hostname: String,
    pub max_message_bytes: usize,
    pub max_recipients: usize,
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

impl Default for InboundLimits {
    fn default() -> Self {
        InboundLimits {
            hostname: "switchboard".into(),
            max_message_bytes: 50 * 1024 * 1024,
            max_recipients: 100,
            max_connections: 64,
            idle_timeout: Duration::from_secs(300),
        }
    }
}

#[tracing::instrument(skip_all, fields(addr = ?listener.local_addr().ok()))]
pub async fn serve(
    listener: TcpListener,
    sink: Arc<dyn InboundSink>,
    limits: InboundLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let limits = Arc::new(limits);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "inbound SMTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            let mut stream = stream;
            let _ = stream
                .write_all(b"421 4.3.2 Too many connections, try again later\r\n")
                .await;
            continue;
        };
        let sink = sink.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            if let Err(e) = session(stream, sink.as_ref(), &limits).await {
                tracing::debug!(%peer, error = %e, "inbound SMTP session ended");
            }
            drop(permit);
        });
    }
}

async fn session(
    stream: TcpStream,
    sink: &dyn InboundSink,
    limits: &InboundLimits,
) -> std::io::Result<()> {
    // Replies are small and each waits for the next command: sent at once, never held back.
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let host = &limits.hostname;
    write
        .write_all(format!("220 {host} Switchboard ESMTP ready\r\n").as_bytes())
        .await?;
    let mut sender: Option<String> = None;
    let mut inboxes: Vec<i64> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = match tokio::time::timeout(limits.idle_timeout, read.read_until(b'\n', &mut line))
            .await
        {
            Ok(n) => n?,
            Err(_) => {
                write.write_all(b"421 4.4.2 Idle too long\r\n").await?;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        if line.len() > 4096 {
            write.write_all(b"500 5.5.6 Line too long\r\n").await?;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => format!(
                "250-{host}\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE {}",
                limits.max_message_bytes
            ),
            "HELO" => format!("250 {host}"),
            "MAIL" => match path_after(command, "FROM:") {
                Some(from) => {
                    sender = Some(from);
                    inboxes.clear();
                    "250 2.1.0 OK".into()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" => match (sender.is_some(), path_after(command, "TO:")) {
                (false, _) => "503 5.5.1 MAIL first".into(),
                (true, None) => "501 5.5.4 Syntax: RCPT TO:<address>".into(),
                (true, Some(_)) if inboxes.len() >= limits.max_recipients => {
                    "452 4.5.3 Too many recipients".into()
                }
                (true, Some(to)) => match sink.route(&to.to_lowercase()).await {
                    Some(inbox) => {
                        if !inboxes.contains(&inbox) {
                            inboxes.push(inbox);
                        }
                        "250 2.1.5 OK".into()
                    }
                    None => "550 5.1.1 No inbox here for that address".into(),
                },
            },
            "DATA" if inboxes.is_empty() => "503 5.5.1 RCPT first".into(),
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let reply = match read_data(&mut read, limits.max_message_bytes).await? {
                    Some(raw) => match sink.deliver(&inboxes, &raw).await {
                        Ok(()) => "250 2.0.0 Stored".to_string(),
                        Err(e) => {
                            tracing::warn!(error = %e, "forwarded mail not stored; the sender keeps it");
                            "451 4.3.0 Cannot store the mail now, try again later".into()
                        }
                    },
                    None => "552 5.3.4 Message too big".into(),
                };
                sender = None;
                inboxes.clear();
                reply
            }
            "RSET" => {
                sender = None;
                inboxes.clear();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "VRFY" => "252 2.5.0 Cannot verify, but will try".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not implemented".into(),
        };
        // One write per reply: its text and CRLF written apart made Nagle hold the CRLF until
        // the client's delayed ACK (some 40 ms, four times a mail).
        let mut reply = reply;
        reply.push_str("\r\n");
        write.write_all(reply.as_bytes()).await?;
    }
}

/// The address in `MAIL FROM:<a@b> SIZE=…` or `RCPT TO:<a@b>`. The null sender `<>` is valid.
fn path_after(command: &str, keyword: &str) -> Option<String> {
    let upper = command.to_ascii_uppercase();
    let at = upper.find(keyword)? + keyword.len();
    let rest = command[at..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => inner.split('>').next()?,
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    if keyword == "TO:" && !path.contains('@') {
        return None;
    }
    Some(path.to_string())
}

/// The mail up to the lone dot, dot-unstuffed; `None` if it was bigger than allowed (it is read
/// to the end anyway, so the session can go on).
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(
    read: &mut R,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut too_big = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let content = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        if raw.len() + content.len() > max {
            too_big = true;
            raw.clear();
        }
        if !too_big {
            raw.extend_from_slice(content);
        }
    }
    Ok((!too_big).then_some(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_commands() {
        assert_eq!(
            path_after("MAIL FROM:<a@b.test> SIZE=100", "FROM:").as_deref(),
            Some("a@b.test")
        );
        assert_eq!(path_after("mail from:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(
            path_after("RCPT TO:<Support@Acme.test>", "TO:").as_deref(),
            Some("Support@Acme.test")
        );
        assert_eq!(path_after("RCPT TO:nobody", "TO:"), None);
    }

    #[tokio::test]
    async fn data_is_dot_unstuffed_and_size_capped() {
        let input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\n";
        let mut reader = tokio::io::BufReader::new(input);
        let raw = read_data(&mut reader, 1000).await.unwrap().unwrap();
        assert_eq!(raw, b"Subject: x\r\n\r\n.leading dot\r\nbody\r\n");
        let mut reader = tokio::io::BufReader::new(input);
        assert_eq!(read_data(&mut reader, 10).await.unwrap(), None);
    }
}
