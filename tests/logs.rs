//! Issue 12 item 7: every response carries a request id (the caller's if well-formed), the
//! access line logs it, and `--log-format json` writes one JSON object per line.

mod common;

use common::{http_client, Home, Server};
use serde_json::Value;

async fn get_with_request_id(server: &Server, id: Option<&str>) -> String {
    let mut request = http_client().get(format!("{}/health", server.url));
    if let Some(id) = id {
        request = request.insert_header(("X-Request-Id", id));
    }
    let response = request.send().await.expect("health answers");
    assert_eq!(response.status(), 200);
    response
        .headers()
        .get("x-request-id")
        .expect("x-request-id on the response")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// The server's log as JSON records; panics on any line that is not one.
fn json_records(server: &Server) -> Vec<Value> {
    server
        .log()
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line:?}"))
        })
        .collect()
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated_and_json_logs_carry_them() {
    let home = Home::new();
    let server = Server::start_with_args(&home, 0, &["--log-format", "json"]).await;

    let echoed = get_with_request_id(&server, Some("trace-42.a:b_c")).await;
    assert_eq!(echoed, "trace-42.a:b_c");
    for malformed in [
        Some("has space"),
        Some(&*"x".repeat(65)),
        Some("quote\"d"),
        None,
    ] {
        let generated = get_with_request_id(&server, malformed).await;
        assert_eq!(generated.len(), 32, "{malformed:?} → {generated}");
        assert!(
            generated.bytes().all(|b| b.is_ascii_hexdigit()),
            "{generated}"
        );
        assert_ne!(Some(generated.as_str()), malformed);
    }

    // The access line is written after the response; give it a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let access = loop {
        let records = json_records(&server);
        let found = records.into_iter().find(|record| {
            record["target"] == "dynreg::access"
                && record["msg"]
                    .as_str()
                    .is_some_and(|msg| msg.contains("request_id=trace-42.a:b_c"))
        });
        if let Some(record) = found {
            break record;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no access line with the request id:\n{}",
            server.log()
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(access["level"], "INFO");
    assert!(
        access["ts"].as_str().is_some_and(|ts| ts.ends_with('Z')),
        "{access}"
    );
    assert!(
        access["msg"]
            .as_str()
            .unwrap()
            .starts_with("GET /health 200 "),
        "{access}"
    );
}
