//! The mailbox sync against a scripted IMAP server that drops the connection in the middle of a
//! FETCH answer (as a restarting Dovecot does): the checkpoint never passes a mail that did not
//! arrive, so the next pass fetches it and nothing is lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_connector_email::imap::{
    Checkpoint, ImapSettings, MailSink, MailboxSync, SinkError,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Default)]
struct Recorder {
    accepted: Mutex<Vec<u32>>,
    checkpoint: Mutex<Option<Checkpoint>>,
}

#[async_trait::async_trait]
impl MailSink for Recorder {
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        Ok(*self.checkpoint.lock().unwrap())
    }
    async fn accept(&self, uid: u32, _raw: &[u8]) -> Result<(), SinkError> {
        self.accepted.lock().unwrap().push(uid);
        Ok(())
    }
    async fn save_checkpoint(&self, checkpoint: Checkpoint) -> Result<(), SinkError> {
        *self.checkpoint.lock().unwrap() = Some(checkpoint);
        Ok(())
    }
}

fn mail(uid: u32) -> String {
    format!("Message-ID: <m{uid}@customer.test>\r\nSubject: {uid}\r\n\r\nMail number {uid}.\r\n")
}

/// An IMAP server with mails 1 to 3. With `drop_after`, its answer to the body FETCH stops after
/// that many mails and the connection closes, as a server killed mid-answer does.
async fn server(drop_after: Option<usize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"* OK ready\r\n").await.unwrap();
        while let Ok(Some(line)) = lines.next_line().await {
            let (tag, command) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            let upper = command.to_ascii_uppercase();
            let wanted = requested(&upper);
            let answer = if upper.starts_with("LOGIN") {
                format!("{tag} OK signed in\r\n")
            } else if upper.starts_with("SELECT") {
                format!(
                    "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 4] ok\r\n{tag} OK [READ-WRITE] done\r\n"
                )
            } else if upper.contains("RFC822.SIZE") {
                let mut out = String::new();
                for uid in 1..=3 {
                    out.push_str(&format!(
                        "* {uid} FETCH (UID {uid} RFC822.SIZE {})\r\n",
                        mail(uid).len()
                    ));
                }
                out + &format!("{tag} OK done\r\n")
            } else if upper.contains("BODY.PEEK") {
                let mut out = String::new();
                for uid in (1..=3u32).filter(|uid| wanted.contains(uid)) {
                    if drop_after.is_some_and(|n| uid as usize > n) {
                        write.write_all(out.as_bytes()).await.unwrap();
                        return; // the connection closes mid-answer
                    }
                    let body = mail(uid);
                    out.push_str(&format!(
                        "* {uid} FETCH (UID {uid} BODY[] {{{}}}\r\n{body})\r\n",
                        body.len()
                    ));
                }
                out + &format!("{tag} OK done\r\n")
            } else if upper.starts_with("LOGOUT") {
                format!("* BYE\r\n{tag} OK bye\r\n")
            } else {
                format!("{tag} OK\r\n")
            };
            write.write_all(answer.as_bytes()).await.unwrap();
        }
    });
    port
}

/// The UIDs a `UID FETCH a:b …` or `UID FETCH a,b …` names (`*` read as 3, the last).
fn requested(command: &str) -> Vec<u32> {
    let Some(set) = command
        .split_whitespace()
        .skip_while(|w| *w != "FETCH")
        .nth(1)
    else {
        return Vec::new();
    };
    let mut uids = Vec::new();
    for part in set.split(',') {
        let bound = |s: &str| if s == "*" { 3 } else { s.parse().unwrap_or(0) };
        match part.split_once(':') {
            Some((a, b)) => uids.extend(bound(a).min(bound(b))..=bound(a).max(bound(b))),
            None => uids.push(bound(part)),
        }
    }
    uids
}

fn settings(port: u16) -> ImapSettings {
    serde_json::from_value(serde_json::json!({
        "host": "127.0.0.1", "port": port, "security": "plain", "username": "u", "password": "p"
    }))
    .unwrap()
}

#[tokio::test]
async fn a_connection_dropped_mid_fetch_leaves_the_checkpoint_before_the_missing_mail() {
    let sink = Arc::new(Recorder::default());
    let port = server(Some(1)).await;
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        MailboxSync::new(settings(port)).sync_once(sink.as_ref()),
    )
    .await
    .expect("the pass ends");
    assert!(
        outcome.is_err(),
        "a cut-off answer is an error, not the end of the batch: {outcome:?}"
    );
    assert_eq!(*sink.accepted.lock().unwrap(), vec![1]);
    let checkpoint = sink
        .checkpoint
        .lock()
        .unwrap()
        .expect("the mail that came is checkpointed");
    assert_eq!(
        checkpoint.last_uid, 1,
        "the checkpoint stops before the mail that never came"
    );

    // The next pass, on a server that answers in full, fetches the rest.
    let port = server(None).await;
    let report = MailboxSync::new(settings(port))
        .sync_once(sink.as_ref())
        .await
        .unwrap();
    assert_eq!(report.last_uid, 3);
    assert_eq!(*sink.accepted.lock().unwrap(), vec![1, 2, 3]);
}
