//! Limits and the server's edges: body size, methods, unknown paths and realms, operations
//! endpoints. No response here may be actix's plain-text default.

use crate::helpers::*;
use actix_web::web::Bytes;
use awc::body::{BodySize, MessageBody};
use awc::http::Method;
use serde_json::json;
use std::pin::Pin;
use std::task::{Context, Poll};

const LIMIT: usize = 64 * 1024;

/// A body sent with `Transfer-Encoding: chunked`, so no `Content-Length` announces its size.
struct Chunked {
    chunks: Vec<Bytes>,
}

impl MessageBody for Chunked {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.chunks.pop().map(Ok))
    }
}

/// A JSON object of exactly `size` bytes.
fn json_object_of(size: usize) -> Vec<u8> {
    let frame = br#"{"client_name": ""}"#.len();
    let name = "x".repeat(size - frame);
    let body = format!(r#"{{"client_name": "{name}"}}"#).into_bytes();
    assert_eq!(body.len(), size);
    body
}

/// Where a body can be sent: (method, path, Authorization header value, what).
fn body_endpoints(client: &serde_json::Value) -> Vec<(Method, String, Option<String>, String)> {
    let token = format!("Bearer {}", text(client, "registration_access_token"));
    let admin = format!("Bearer {ADMIN_TOKEN}");
    vec![
        (
            Method::POST,
            register_path("alpha"),
            None,
            "register".into(),
        ),
        (
            Method::PUT,
            manage_path("alpha", text(client, "client_id")),
            Some(token),
            "update".into(),
        ),
        (
            Method::PUT,
            "/admin/realms/big".into(),
            Some(admin.clone()),
            "admin realm".into(),
        ),
        (
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider".into(),
            Some(admin.clone()),
            "admin provider settings".into(),
        ),
        (
            Method::PUT,
            "/admin/realms/alpha/clients/big".into(),
            Some(admin),
            "admin static client".into(),
        ),
    ]
}

/// After refused oversized bodies: the client's token still works, no realm was created.
async fn assert_nothing_changed(app: &TestApp, client: &serde_json::Value) {
    let read = app
        .manage(
            Method::GET,
            "alpha",
            text(client, "client_id"),
            None,
            Some(text(client, "registration_access_token")),
        )
        .await;
    assert_eq!(
        read.status, 200,
        "the client's token still works: {}",
        read.body
    );
    let realms = app.admin(Method::GET, "/admin/realms", None).await;
    assert_eq!(realms.body, json!({"realms": ["alpha", "root"]}));
    let big = app
        .admin(Method::GET, "/admin/realms/alpha/clients/big", None)
        .await;
    assert_eq!(big.status, 404, "{}", big.body);
}

#[actix_web::test]
async fn a_body_over_64_kib_is_refused_with_413_json() {
    let app = spawn_app().await;
    let client = app.register_seed_client("alpha").await;
    let too_big = json_object_of(LIMIT + 1);

    for (method, path, authorization, what) in body_endpoints(&client) {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(value) = &authorization {
            headers.push(("Authorization", value.as_str()));
        }
        let response = app
            .request_raw(method, &path, &headers, Some(too_big.clone()))
            .await;
        assert_eq!(response.status, 413, "{what}: {}", response.body);
        assert_json(&response, &what);
        response.error_code();
    }
    assert_nothing_changed(&app, &client).await;
}

#[actix_web::test]
async fn a_chunked_body_over_64_kib_is_refused_with_413_json() {
    let app = spawn_app().await;
    let client = app.register_seed_client("alpha").await;
    let too_big = json_object_of(LIMIT + 1);

    for (method, path, authorization, what) in body_endpoints(&client) {
        let mut request = app
            .client
            .request(method, format!("{}{path}", app.address))
            .insert_header(("Content-Type", "application/json"));
        if let Some(value) = &authorization {
            request = request.insert_header(("Authorization", value.as_str()));
        }
        let chunks = too_big.chunks(4096).rev().map(Bytes::copy_from_slice);
        let mut response = request
            .send_body(Chunked {
                chunks: chunks.collect(),
            })
            .await
            .expect("the server answers");
        let raw = response.body().await.expect("body");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(
            response.status(),
            413,
            "{what}: {}",
            String::from_utf8_lossy(&raw)
        );
        assert!(content_type.starts_with("application/json"), "{what}");
    }
    assert_nothing_changed(&app, &client).await;
}

#[actix_web::test]
async fn a_chunked_body_within_the_limit_is_read_whole() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&seed_registration()).unwrap();

    let chunks = body.chunks(7).rev().map(Bytes::copy_from_slice).collect();
    let mut response = app
        .client
        .post(format!("{}{}", app.address, register_path("alpha")))
        .insert_header(("Content-Type", "application/json"))
        .send_body(Chunked { chunks })
        .await
        .expect("the server answers");

    let raw = response.body().await.expect("body");
    assert_eq!(response.status(), 201, "{}", String::from_utf8_lossy(&raw));
    let registered: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(registered["client_name#ja-jpan-jp"], "クライアント名");
}

#[actix_web::test]
async fn a_body_of_exactly_64_kib_is_accepted() {
    let app = spawn_app().await;

    let response = app
        .request(
            Method::POST,
            &register_path("alpha"),
            Some(&json_object_of(LIMIT)),
            None,
        )
        .await;

    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(
        response.body["client_name"].as_str().map(str::len),
        Some(LIMIT - br#"{"client_name": ""}"#.len())
    );
}

#[actix_web::test]
async fn other_methods_on_known_paths_are_405_json() {
    let app = spawn_app().await;
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let cases = [
        (Method::PATCH, register_path("alpha"), None),
        (Method::OPTIONS, register_path("alpha"), None),
        (Method::PATCH, "/am/oauth2/register".to_owned(), None),
        (
            Method::PATCH,
            "/am/oauth2/realms/root/register".to_owned(),
            None,
        ),
        (Method::POST, "/health".to_owned(), None),
        (Method::DELETE, "/metrics".to_owned(), None),
        (Method::POST, "/admin/realms".to_owned(), Some(&admin)),
        (
            Method::PATCH,
            "/admin/realms/alpha".to_owned(),
            Some(&admin),
        ),
        (
            Method::DELETE,
            "/admin/realms/alpha/oauth2-provider".to_owned(),
            Some(&admin),
        ),
        (
            Method::POST,
            "/admin/realms/alpha/clients".to_owned(),
            Some(&admin),
        ),
        (
            Method::POST,
            "/admin/realms/alpha/clients/x".to_owned(),
            Some(&admin),
        ),
    ];
    for (method, path, authorization) in cases {
        let message = format!("{method} {path}");
        let headers: Vec<(&str, &str)> = authorization
            .map(|value| vec![("Authorization", value.as_str())])
            .unwrap_or_default();
        let response = app.request_raw(method, &path, &headers, None).await;
        assert_eq!(response.status, 405, "{message}: {:?}", response.raw);
        assert_json(&response, &message);
        response.error_code();
    }
    assert_eq!(
        app.admin(Method::GET, "/admin/realms", None).await.body,
        json!({"realms": ["alpha", "root"]}),
        "no method that was refused changed anything"
    );
}

#[actix_web::test]
async fn unknown_paths_are_404_not_found_json() {
    let app = spawn_app().await;
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let cases = [
        (Method::GET, "/", None),
        (Method::GET, "/nope", None),
        (Method::POST, "/am", None),
        (Method::POST, "/am/oauth2/registerx", None),
        (
            Method::POST,
            "/am/oauth2/realms/root/realms/alpha/unknown",
            None,
        ),
        (Method::GET, "/am/oauth2/realms/root/realms", None),
        (Method::POST, "/am/oauth2/realms/other/register", None),
        (Method::GET, "/admin/nothing-here", Some(&admin)),
        (
            Method::GET,
            "/admin/realms/alpha/nothing-here",
            Some(&admin),
        ),
    ];
    for (method, path, authorization) in cases {
        let message = format!("{method} {path}");
        let headers: Vec<(&str, &str)> = authorization
            .map(|value| vec![("Authorization", value.as_str())])
            .unwrap_or_default();
        let response = app.request_raw(method, path, &headers, None).await;
        response.assert_error(404, "not_found", &message);
    }
}

#[actix_web::test]
async fn an_unknown_realm_is_404_not_found_before_anything_else() {
    let app = spawn_app().await;
    let path = register_path("nowhere");
    let manage = manage_path("nowhere", "some-client");

    let cases = [
        (
            Method::POST,
            path.as_str(),
            Some(&b"{}"[..]),
            None,
            "register",
        ),
        (
            Method::POST,
            path.as_str(),
            Some(&b"[]"[..]),
            None,
            "register with a bad body",
        ),
        (
            Method::POST,
            path.as_str(),
            None,
            Some("token"),
            "register with a token",
        ),
        (Method::GET, manage.as_str(), None, Some("token"), "read"),
        (
            Method::GET,
            path.as_str(),
            None,
            None,
            "read without client_id or token",
        ),
        (
            Method::PUT,
            manage.as_str(),
            Some(&b"{}"[..]),
            Some("token"),
            "update",
        ),
        (
            Method::DELETE,
            manage.as_str(),
            None,
            None,
            "delete without a token",
        ),
    ];
    for (method, path, body, token, message) in cases {
        let response = app.request(method, path, body, token).await;
        response.assert_error(404, "not_found", message);
        assert!(
            response.error_description().contains("nowhere"),
            "{message}: {}",
            response.error_description()
        );
    }
}

#[actix_web::test]
async fn health_answers_200() {
    let app = spawn_app().await;

    let response = app.request(Method::GET, "/health", None, None).await;

    assert_eq!(response.status, 200, "{:?}", response.raw);
}

#[actix_web::test]
async fn a_malformed_realm_name_in_a_realm_url_is_invalid_request() {
    let app = spawn_app().await;
    for path in [
        "/am/oauth2/realms/root/realms/UPPER/register",
        "/am/oauth2/realms/root/realms/a%20b/register",
    ] {
        let response = app.post_json(path, &serde_json::json!({}), None).await;
        response.assert_error(400, "invalid_request", "realm name");
    }
}
