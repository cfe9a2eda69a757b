//! The guarded client against real sockets: refused calls open no connection, and a redirect is
//! an answer, never followed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use switchboard_egress::{refusal, ClientOptions, EgressPolicy, GuardedClient, Refused};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener on loopback that counts connections and answers each with `response`.
async fn listener(response: String) -> (u16, Arc<AtomicUsize>) {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (port, count)
}

fn ok_response() -> String {
    "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into()
}

fn client(allow: &[&str]) -> GuardedClient {
    GuardedClient::new(EgressPolicy::new(allow).unwrap(), ClientOptions::default()).unwrap()
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_without_connecting() {
    let (port, connections) = listener(ok_response()).await;
    let error = client(&[])
        .post(&format!("http://localhost:{port}/hook"))
        .expect("a name passes the URL check; its addresses are checked once resolved")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(refusal(&error), Some(Refused::ResolvesInternal { .. })),
        "{error:?}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn literal_loopback_in_any_spelling_is_refused_before_sending() {
    let (port, connections) = listener(ok_response()).await;
    let guarded = client(&[]);
    for host in [
        "127.0.0.1",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
    ] {
        let refused = guarded.post(&format!("http://{host}:{port}/")).unwrap_err();
        assert!(
            matches!(refused, Refused::Internal { .. }),
            "{host}: {refused:?}"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_allow_listed_network_is_called() {
    let (port, connections) = listener(ok_response()).await;
    let response = client(&["127.0.0.0/8"])
        .post(&format!("http://localhost:{port}/"))
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redirect_is_returned_not_followed() {
    let (target, target_connections) = listener(ok_response()).await;
    let (port, _) = listener(format!(
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{target}/stolen\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    ))
    .await;
    let response = client(&["127.0.0.0/8"])
        .post(&format!("http://127.0.0.1:{port}/"))
        .unwrap()
        .body("signed body")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(target_connections.load(Ordering::SeqCst), 0);
}
