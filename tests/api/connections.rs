//! Request deadlines and connection limits (issue 8, "slow request bodies"): a body that
//! trickles in is cut with 408 and its connection closed; connections beyond the limit wait
//! in the kernel's backlog instead of costing the server a descriptor each.

use crate::helpers::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A request head announcing a body it will not send in time.
fn slow_head(path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 60000\r\n\r\n{{"
    )
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address.trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    stream
}

/// Reads until the server closes, for at most `patience`, sending one more byte of body every
/// 200 ms when `trickle`; returns what it answered and when it closed the connection.
fn read_until_closed(
    mut stream: TcpStream,
    patience: Duration,
    trickle: bool,
) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < patience {
        match stream.read(&mut buffer) {
            Ok(0) => {
                return (
                    String::from_utf8_lossy(&answer).into(),
                    Some(started.elapsed()),
                )
            }
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                return (
                    String::from_utf8_lossy(&answer).into(),
                    Some(started.elapsed()),
                )
            }
        }
        if trickle {
            // The server may close while we write: that is the outcome we wait for.
            let _ = stream.write_all(b" ");
        }
    }
    (String::from_utf8_lossy(&answer).into(), None)
}

#[actix_web::test]
async fn a_body_that_trickles_in_gets_408_and_its_connection_is_closed_at_the_deadline() {
    let app = spawn_app_with(|settings| settings.request_timeout = 1).await;
    let address = app.address.clone();
    let (answer, closed) = tokio::task::spawn_blocking(move || {
        let mut stream = connect(&address);
        stream
            .write_all(slow_head(&register_path("alpha")).as_bytes())
            .expect("head");
        read_until_closed(stream, Duration::from_secs(20), true)
    })
    .await
    .expect("client thread");

    assert!(answer.starts_with("HTTP/1.1 408"), "answer: {answer:?}");
    assert!(answer.contains("invalid_request"), "answer: {answer:?}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    let closed = closed.expect("the server closed the connection");
    assert!(
        closed >= Duration::from_millis(900) && closed < Duration::from_secs(10),
        "closed after {closed:?}, the deadline is 1 s"
    );
    // The server is still fine for everybody else.
    app.register_seed_client("alpha").await;
}

#[actix_web::test]
async fn connections_beyond_the_limit_wait_until_a_slot_frees_and_are_then_served() {
    // Two workers with one connection each; silent connections are cut by the 1 s head timeout.
    let app = spawn_app_with(|settings| {
        settings.request_timeout = 1;
        settings.max_connections = 2;
    })
    .await;
    let address = app.address.clone();
    let (status, waited) = tokio::task::spawn_blocking(move || {
        let _held: Vec<TcpStream> = (0..2).map(|_| connect(&address)).collect();
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        let mut probe = connect(&address);
        probe
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("probe");
        let (answer, _) = read_until_closed(probe, Duration::from_secs(20), false);
        (
            answer.lines().next().unwrap_or_default().to_owned(),
            started.elapsed(),
        )
    })
    .await
    .expect("client thread");

    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        waited >= Duration::from_millis(500),
        "served after {waited:?}: the held connections should have taken every slot"
    );
}
