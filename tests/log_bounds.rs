//! Issue 8, "log amplification": request-derived values reach the log at most ~200
//! characters long with control characters escaped, so a request writes at most ~1 KB of log
//! and cannot forge a log line. Runs the real binary at `RUST_LOG=info`.

mod common;

use awc::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{http_client, send, Home, Server};
use serde_json::json;

const REQUESTS: usize = 20;

/// A signed-looking statement whose unverified `iss` is `iss` (never verified: no publisher
/// has that issuer).
fn statement_with_issuer(iss: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"iss": iss}).to_string());
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

#[actix_web::test]
async fn a_huge_unverified_issuer_writes_a_bounded_log_line_and_forges_none() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let client = http_client();
    let issuer = format!(
        "https://{}.example.com\n[forged] INFO everything is fine",
        "a".repeat(40_000)
    );
    let body = json!({
        "redirect_uris": ["https://client.example.com/callback"],
        "software_statement": statement_with_issuer(&issuer),
    });
    let long_path = format!(
        "{}/am/oauth2/realms/root/realms/alpha/{}",
        server.url,
        "p".repeat(4_000)
    );
    let before = server.log().len();
    for _ in 0..REQUESTS {
        let url = format!("{}/am/oauth2/realms/root/realms/alpha/register", server.url);
        let (status, answer) = send(&client, Method::POST, &url, Some(&body), None)
            .await
            .expect("the server answers");
        assert_eq!(status, 400, "{answer}");
        let (status, _) = send(&client, Method::GET, &long_path, None, None)
            .await
            .expect("the server answers");
        assert_eq!(status, 404);
    }
    let log = server.log();
    let written = log.len() - before;
    assert!(
        written < 2 * REQUESTS * 1024,
        "{written} bytes of log for {} requests",
        2 * REQUESTS
    );
    assert!(log.contains("software statement refused"), "{log}");
    assert!(
        log.lines().all(|line| line.len() < 1024),
        "a log line longer than 1 KB"
    );
    assert!(
        !log.lines().any(|line| line.starts_with("[forged]")),
        "a request forged a log line"
    );
}
