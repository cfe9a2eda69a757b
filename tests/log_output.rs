//! The server's log written to a file (systemd, docker, `2> log`) is plain text: no ANSI colour
//! escapes, which would otherwise end up as `^[[32m` garbage in every line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_log_written_to_a_file_has_no_colour_escapes() {
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // Port 0: the server says where it listens, so no other test can take its port in between.
    let mut server = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data.path().join("data"))
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .env("SWITCHBOARD_OWNER_EMAIL", "owner@example.com")
        .env("SWITCHBOARD_OWNER_PASSWORD", "correct horse battery staple")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("the server starts");
    let stdout = BufReader::new(server.stdout.take().unwrap());
    let addr = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("listening on http://")
                .map(str::to_string)
        })
        .expect("the server says where it listens");
    // Ready means serving, with its signal handling in place.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready(&addr) {
        assert!(
            Instant::now() < deadline,
            "the server was not ready in 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A graceful stop logs "shutting down" at info, so the file holds at least that line.
    let stopped = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let written = std::fs::read(&log_path).unwrap();
    let text = String::from_utf8_lossy(&written);
    assert!(text.contains("shutting down"), "the log: {text}");
    assert!(
        !written.contains(&0x1b),
        "escape bytes in a log written to a file: {text:?}"
    );
}

/// Whether `GET /readyz` at `addr` answers 200.
fn ready(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let mut answer = String::new();
    let asked = stream
        .write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .and_then(|()| stream.read_to_string(&mut answer));
    asked.is_ok() && answer.split_whitespace().nth(1) == Some("200")
}
