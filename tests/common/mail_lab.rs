//! A real mail system for the email tests: Postfix and Dovecot started on loopback by
//! tests/support/mail-lab in a throwaway directory, and a customer's mail client that speaks
//! plain SMTP and reads its Maildir.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct MailLab {
    pub dir: tempfile::TempDir,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub smtp_port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mail-lab")
}

impl MailLab {
    pub fn start(forward_port: Option<u16>) -> MailLab {
        let dir = tempfile::Builder::new()
            .prefix("sb-mail-")
            .tempdir()
            .unwrap();
        let mut cmd = Command::new(script());
        cmd.arg("start").arg(dir.path());
        if let Some(port) = forward_port {
            cmd.args(["--forward-port", &port.to_string()]);
        }
        let out = cmd
            .output()
            .expect("tests/support/mail-lab runs (needs postfix and dovecot)");
        assert!(
            out.status.success(),
            "mail lab did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let env: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MailLab {
            imap_port: env["IMAP_PORT"].parse().unwrap(),
            imaps_port: env["IMAPS_PORT"].parse().unwrap(),
            smtp_port: env["SMTP_PORT"].parse().unwrap(),
            dir,
        }
    }

    pub fn run(&self, command: &str, args: &[&str]) {
        let out = Command::new(script())
            .arg(command)
            .arg(self.dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mail-lab {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The settings of an email inbox that reads `address`'s mailbox and sends through Postfix.
    pub fn inbox_settings(&self, address: &str) -> serde_json::Value {
        serde_json::json!({
            "address": address,
            "display_name": "Acme Support",
            "imap": {"host": "127.0.0.1", "port": self.imap_port, "security": "plain",
                     "username": address, "idle_secs": 20, "batch_messages": 50},
            "smtp": {"host": "127.0.0.1", "port": self.smtp_port, "security": "plain"},
        })
    }

    /// Every mail in `address`'s Maildir, oldest first.
    pub fn mailbox(&self, address: &str) -> Vec<String> {
        let (local, domain) = address.split_once('@').unwrap();
        let base = self.dir.path().join("mail").join(domain).join(local);
        let mut files: Vec<(std::time::SystemTime, String, String)> = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(base.join(sub)) {
                for e in entries.flatten() {
                    let modified = e.metadata().unwrap().modified().unwrap();
                    let name = e.file_name().to_string_lossy().to_string();
                    let text =
                        String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).to_string();
                    files.push((modified, name, text));
                }
            }
        }
        files.sort();
        files.into_iter().map(|(_, _, text)| text).collect()
    }

    /// Waits until `address` has at least `count` mails, and returns them.
    pub async fn wait_for_mail(&self, address: &str, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let mails = self.mailbox(address);
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{address} did not get {count} mails; log:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postfix/maillog")).unwrap_or_default()
    }

    /// Hands a mail to Postfix over SMTP, as a customer's mail client does.
    pub async fn send(&self, from: &str, to: &[&str], raw: &str) {
        send_smtp(self.smtp_port, from, to, raw)
            .await
            .expect("Postfix takes the mail");
    }
}

impl Drop for MailLab {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

/// A minimal SMTP client: enough for a test to play a customer's mail client.
pub async fn send_smtp(port: u16, from: &str, to: &[&str], raw: &str) -> Result<(), String> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    async fn answer(
        read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    ) -> Result<String, String> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            read.read_line(&mut line).await.map_err(|e| e.to_string())?;
            if line.is_empty() {
                return Err("connection closed".into());
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return Ok(all);
            }
        }
    }
    let expect = |reply: String, code: &str| {
        if reply.starts_with(code) {
            Ok(())
        } else {
            Err(reply)
        }
    };
    expect(answer(&mut read).await?, "220")?;
    let mut commands = vec![
        "EHLO customer.test".to_string(),
        format!("MAIL FROM:<{from}>"),
    ];
    commands.extend(to.iter().map(|rcpt| format!("RCPT TO:<{rcpt}>")));
    for line in commands {
        write
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        expect(answer(&mut read).await?, "250")?;
    }
    write
        .write_all(b"DATA\r\n")
        .await
        .map_err(|e| e.to_string())?;
    expect(answer(&mut read).await?, "354")?;
    let mut body = String::new();
    for line in raw.replace("\r\n", "\n").split('\n') {
        if line.starts_with('.') {
            body.push('.');
        }
        body.push_str(line);
        body.push_str("\r\n");
    }
    body.push_str(".\r\n");
    write
        .write_all(body.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    expect(answer(&mut read).await?, "250")?;
    write
        .write_all(b"QUIT\r\n")
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A header's value in a raw mail (first occurrence, unfolded).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let head = head.split("\n\n").next().unwrap_or(head);
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with(' ') || line.starts_with('\t') {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value
}
