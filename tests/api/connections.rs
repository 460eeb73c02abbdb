//! Request deadlines and connection limits (issue 8, "slow request bodies"): a request whose
//! head and body together trickle in past one deadline is cut with 408 and its connection
//! closed, a keep-alive request's head included; connections beyond the limit wait in the
//! kernel's backlog instead of costing the server a descriptor each.

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

/// Writes `pieces` one every `gap` (the first at once) while reading; returns what the server
/// answered and how long after the first piece it closed the connection (`None`: still open
/// after `patience`). Writes after the server closed are ignored: that is the awaited outcome.
fn dribble(
    mut stream: TcpStream,
    pieces: &[Vec<u8>],
    gap: Duration,
    patience: Duration,
) -> (String, Option<Duration>) {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("read timeout");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut written = 0;
    while started.elapsed() < patience {
        if written < pieces.len() && started.elapsed() >= gap * written as u32 {
            let _ = stream.write_all(&pieces[written]);
            written += 1;
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => break,
        }
    }
    let closed = (started.elapsed() < patience).then(|| started.elapsed());
    (String::from_utf8_lossy(&answer).into(), closed)
}

/// A seed registration as raw HTTP/1.1, its head cut into `head_pieces` and its body into
/// `body_pieces`, in that order.
fn registration_in_pieces(head_pieces: usize, body_pieces: usize) -> Vec<Vec<u8>> {
    let body = seed_registration().to_string().into_bytes();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        register_path("alpha"),
        body.len()
    )
    .into_bytes();
    let cut = |bytes: &[u8], pieces: usize| -> Vec<Vec<u8>> {
        bytes
            .chunks(bytes.len().div_ceil(pieces))
            .map(<[u8]>::to_vec)
            .collect()
    };
    let mut all = cut(&head, head_pieces);
    all.extend(cut(&body, body_pieces));
    all
}

#[actix_web::test]
async fn head_and_body_share_one_deadline_so_a_request_that_takes_longer_in_all_gets_408() {
    // T = 2 s. The slow request's head takes 1 s and its body another 1.2 s: each part is
    // within T, the whole is not. The brisk one takes 1 s in all.
    let app = spawn_app_with(|settings| settings.request_timeout = 2).await;
    let gap = Duration::from_millis(200);
    let slow_address = app.address.clone();
    let brisk_address = app.address.clone();
    let slow = tokio::task::spawn_blocking(move || {
        dribble(
            connect(&slow_address),
            &registration_in_pieces(6, 6),
            gap,
            Duration::from_secs(15),
        )
    });
    let brisk = tokio::task::spawn_blocking(move || {
        dribble(
            connect(&brisk_address),
            &registration_in_pieces(3, 3),
            gap,
            Duration::from_secs(15),
        )
    });
    let (slow_answer, slow_closed) = slow.await.expect("slow client");
    let (brisk_answer, _) = brisk.await.expect("brisk client");

    assert!(
        slow_answer.starts_with("HTTP/1.1 408"),
        "answer: {slow_answer:?}"
    );
    assert!(slow_answer.contains("invalid_request"), "{slow_answer:?}");
    let closed = slow_closed.expect("the server closed the slow connection");
    assert!(
        closed >= Duration::from_millis(1800) && closed < Duration::from_secs(10),
        "closed {closed:?} after the first byte; the deadline is 2 s from there"
    );
    assert!(
        brisk_answer.starts_with("HTTP/1.1 201"),
        "a request within the deadline is served: {brisk_answer:?}"
    );
    let at_once = app.register_seed_client("alpha").await;
    assert!(at_once.get("client_id").is_some(), "{at_once}");
}

#[actix_web::test]
async fn a_keep_alive_requests_head_that_trickles_in_is_cut_at_the_deadline() {
    // actix times only a connection's first head; the second one must be timed too.
    let app = spawn_app_with(|settings| settings.request_timeout = 2).await;
    let address = app.address.clone();
    let mut pieces = vec![
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /health HTTP/1.1\r\nX-Slow: ".to_vec(),
    ];
    pieces.extend((0..60).map(|_| b"a".to_vec()));
    let (answer, closed) = tokio::task::spawn_blocking(move || {
        dribble(
            connect(&address),
            &pieces,
            Duration::from_millis(200),
            Duration::from_secs(12),
        )
    })
    .await
    .expect("client thread");

    assert_eq!(
        answer.matches("HTTP/1.1 200").count(),
        1,
        "the first request is served, the second never completes: {answer:?}"
    );
    let closed = closed.expect("the server closed the connection mid-head");
    // The second head starts 0.2 s in; its deadline is 2 s later.
    assert!(
        closed >= Duration::from_millis(2000) && closed < Duration::from_secs(8),
        "closed after {closed:?}"
    );
}

#[actix_web::test]
async fn a_keep_alive_requests_deadline_counts_from_its_own_first_byte_not_the_one_before() {
    // The connection's timer is left at the first request's deadline (2 s in) when the
    // second head starts 1 s in; that head is due 3 s in, so it must outlive the old timer.
    let app = spawn_app_with(|settings| settings.request_timeout = 2).await;
    let address = app.address.clone();
    let mut pieces = vec![b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()];
    // Nothing for the next second (empty writes send no byte).
    pieces.extend((0..4).map(|_| Vec::new()));
    pieces.push(b"GET /health HTTP/1.1\r\nX-Slow: ".to_vec());
    pieces.extend((0..60).map(|_| b"a".to_vec()));
    let (answer, closed) = tokio::task::spawn_blocking(move || {
        dribble(
            connect(&address),
            &pieces,
            Duration::from_millis(250),
            Duration::from_secs(12),
        )
    })
    .await
    .expect("client thread");

    assert_eq!(answer.matches("HTTP/1.1 200").count(), 1, "{answer:?}");
    let closed = closed.expect("the server closed the connection mid-head");
    // The second head's first byte goes out 1.25 s in; its deadline is 2 s later.
    assert!(
        closed >= Duration::from_millis(3150) && closed < Duration::from_secs(8),
        "closed after {closed:?}"
    );
}
