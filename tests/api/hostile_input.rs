//! Issue 8's attacks on input, replayed against the real server: oversized lists and strings,
//! URIs spelled to be read differently by different parsers, client assertions built to grow
//! the replay cache or to overflow its arithmetic, and key sets built to make every token
//! request expensive. Each test is bounded in count and talks to 127.0.0.1 only.

use crate::helpers::*;
use crate::token_helpers::*;
use actix_web::{web, App, HttpResponse, HttpServer};
use awc::http::{Method, StatusCode};
use jsonwebtoken::{encode, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The `n`th shortest scope token (RFC 6749 §3.3 characters other than `"` and `\`), so
/// that 17,356 distinct tokens fit in 64 KiB as in the issue.
fn short_token(mut n: usize) -> String {
    let alphabet: Vec<char> = (0x21u8..=0x7e)
        .filter(|b| *b != b'"' && *b != b'\\')
        .map(char::from)
        .collect();
    let mut token = String::new();
    loop {
        token.push(alphabet[n % alphabet.len()]);
        n /= alphabet.len();
        if n == 0 {
            return token;
        }
        n -= 1;
    }
}

/// `count` distinct strings made by `make`, as a JSON array.
fn many(count: usize, make: impl Fn(usize) -> String) -> Value {
    Value::Array((0..count).map(|i| Value::String(make(i))).collect())
}

#[actix_web::test]
async fn lists_far_over_their_limits_are_refused_before_any_element_is_read() {
    let app = spawn_app().await;
    let scope: String = (0..17_356).map(short_token).collect::<Vec<_>>().join(" ");
    let cases = [
        ("17,356 scope tokens", json!({ "scope": scope })),
        (
            "10,000 contacts",
            json!({ "contacts": many(10_000, short_token) }),
        ),
        (
            "10,000 redirect_uris",
            json!({ "redirect_uris": many(10_000, short_token) }),
        ),
        (
            "10,000 default_scopes",
            json!({ "default_scopes": many(10_000, short_token) }),
        ),
        (
            "10,000 request_uris",
            json!({ "request_uris": many(10_000, short_token) }),
        ),
        (
            "10,000 post_logout_redirect_uris",
            json!({ "post_logout_redirect_uris": many(10_000, short_token) }),
        ),
        (
            "5,000 grant_types",
            json!({ "grant_types": many(5_000, |_| "password".into()) }),
        ),
        (
            "8,000 response_types",
            json!({ "response_types": many(8_000, |_| "code".into()) }),
        ),
    ];
    for (what, body) in cases {
        let body = serde_json::to_vec(&body).unwrap();
        assert!(body.len() <= 64 * 1024, "{what}: the body fits the cap");
        let response = app
            .request(Method::POST, &register_path("alpha"), Some(&body), None)
            .await;
        response.assert_error(400, "invalid_client_metadata", what);
        assert!(
            response
                .error_description()
                .contains("must not have more than")
                || response.error_description().contains("must not exceed"),
            "{what}: {}",
            response.error_description()
        );
    }
}

#[actix_web::test]
async fn lists_at_their_limits_are_accepted_and_deduplicated() {
    let app = spawn_app().await;
    let mut contacts: Vec<String> = (0..15).map(|i| format!("c{i}@example.com")).collect();
    contacts.push("c0@example.com".into());
    let redirect_uris = many(64, |i| format!("https://c.example/{i}"));

    let response = app
        .register(
            "alpha",
            &json!({
                "contacts": contacts,
                "redirect_uris": redirect_uris,
                "scope": "openid openid profile",
            }),
        )
        .await;

    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.body["contacts"].as_array().unwrap().len(), 15);
    assert_eq!(response.body["redirect_uris"], redirect_uris);
    assert_eq!(response.body["scope"], "openid profile");
}

#[actix_web::test]
async fn overlong_strings_and_control_characters_are_refused() {
    let app = spawn_app().await;
    let cases = [
        (
            "60,000-character client_name",
            json!({ "client_name": "n".repeat(60_000) }),
        ),
        ("NUL in client_name", json!({ "client_name": "a\u{0}b" })),
        (
            "CRLF in client_name#en",
            json!({ "client_name#en": "a\r\nSet-Cookie: x=y" }),
        ),
        (
            "NUL in a contact",
            json!({ "contacts": ["a\u{0}@example.com"] }),
        ),
        ("NUL in software_id", json!({ "software_id": "id\u{0}" })),
        (
            "2,000-character software_version",
            json!({ "software_version": "v".repeat(2_000) }),
        ),
        (
            "a 200-byte scope token",
            json!({ "scope": format!("openid {}", "s".repeat(200)) }),
        ),
        (
            "65 language-tagged names",
            Value::Object(
                (0..65)
                    .map(|i| (format!("client_name#x{i}"), json!("name")))
                    .collect(),
            ),
        ),
    ];
    for (what, body) in cases {
        let response = app.register("alpha", &body).await;
        response.assert_error(400, "invalid_client_metadata", what);
        assert!(
            response.error_description().len() < 400,
            "{what}: the description does not echo the value: {}",
            response.error_description().len()
        );
    }
    let longest = "n".repeat(1024);
    let response = app
        .register("alpha", &json!({ "client_name": longest }))
        .await;
    assert_eq!(response.status, 201, "1,024 bytes is the limit");
    assert_eq!(response.body["client_name"], longest);
}

#[actix_web::test]
async fn redirect_uris_that_parsers_read_differently_are_refused() {
    let app = spawn_app().await;
    for (uri, why) in [
        ("https://b.example.com/cb\r\nSet-Cookie: x=y", "CRLF"),
        ("https://b.example.com/c\u{0}b", "NUL"),
        ("https://evil.com\\@good.com/cb", "backslash before @"),
        ("https:///b.example.com", "empty authority"),
        ("https:b.example.com", "no authority"),
        ("http://0x7f.0.0.1/cb", "hexadecimal IPv4"),
        ("http://127.1/cb", "shortened IPv4"),
        ("https://b.example.com/a/../cb", "dot segments"),
        ("https://b.example.com/c b", "space"),
    ] {
        let response = app
            .register("alpha", &json!({ "redirect_uris": [uri] }))
            .await;
        response.assert_error(400, "invalid_redirect_uri", why);
    }
}

#[actix_web::test]
async fn every_uri_field_refuses_ambiguous_spellings() {
    let app = spawn_app().await;
    let bad = "https://evil.com\\@good.com/x";
    let cases = [
        (
            "jwks_uri",
            json!({ "jwks_uri": bad }),
            "invalid_client_metadata",
        ),
        (
            "sector_identifier_uri",
            json!({ "sector_identifier_uri": bad }),
            "invalid_client_metadata",
        ),
        (
            "initiate_login_uri",
            json!({ "initiate_login_uri": bad }),
            "invalid_client_metadata",
        ),
        (
            "backchannel_logout_uri",
            json!({ "backchannel_logout_uri": bad }),
            "invalid_client_metadata",
        ),
        (
            "tos_uri",
            json!({ "tos_uri": bad }),
            "invalid_client_metadata",
        ),
        (
            "policy_uri#en",
            json!({ "policy_uri#en": "http://0x7f.0.0.1/p" }),
            "invalid_client_metadata",
        ),
        (
            "request_uris",
            json!({ "request_uris": ["https:///r.example.com"] }),
            "invalid_client_metadata",
        ),
        (
            "post_logout_redirect_uris",
            json!({ "post_logout_redirect_uris": ["https://c.example.com/\r\n"] }),
            "invalid_post_logout_redirect_uris",
        ),
    ];
    for (what, body, code) in cases {
        let response = app.register("alpha", &body).await;
        response.assert_error(400, code, what);
    }
}

#[actix_web::test]
async fn canonical_uris_are_stored_and_returned_exactly_as_sent() {
    let app = spawn_app().await;
    let web = app
        .register_ok(
            "alpha",
            &json!({
                "redirect_uris": ["https://Client.Example.com/cb?x=1", "http://127.0.0.1:8080/cb"],
                "tos_uri": "https://client.example.com",
            }),
        )
        .await;
    assert_eq!(
        web["redirect_uris"],
        json!([
            "https://Client.Example.com/cb?x=1",
            "http://127.0.0.1:8080/cb"
        ])
    );
    assert_eq!(web["tos_uri"], "https://client.example.com");

    let native = app
        .register_ok(
            "alpha",
            &json!({ "application_type": "native", "redirect_uris": ["com.example.app:/cb"] }),
        )
        .await;
    assert_eq!(native["redirect_uris"], json!(["com.example.app:/cb"]));
}

/// An ES256 assertion signed by `key` with exactly these claims (and `kid` if asked).
fn signed(key: &ClientKey, with_kid: bool, claims: &Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    if with_kid {
        header.kid = Some(key.kid.clone());
    }
    encode(&header, claims, &key.encoding).unwrap()
}

/// Registers a static `private_key_jwt` client in alpha with this JWK set.
async fn jwt_client(app: &TestApp, client_id: &str, jwks: Value) {
    app.static_client(
        "alpha",
        client_id,
        json!({
            "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
            "client_secret": "unused", "jwks": jwks,
        }),
    )
    .await;
}

fn claims(app_address: &str, client_id: &str, iat: u64, exp: u64, jti: &str) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": format!("{app_address}{}", base("alpha")),
        "iat": iat, "exp": exp, "jti": jti,
    })
}

#[actix_web::test]
async fn assertions_with_far_or_overflowing_exp_or_huge_jti_are_refused() {
    let app = spawn_app().await;
    let key = client_key();
    jwt_client(&app, "jwt", json!({ "keys": [key.public_jwk] })).await;
    let now = dynreg::time::now_unix();
    let cases = [
        (
            "exp near 2^64 (exp + 60 used to overflow)",
            claims(&app.address, "jwt", now, u64::MAX - 10, "j1"),
        ),
        (
            "exp in 2100",
            claims(&app.address, "jwt", now, 4_102_444_800, "j2"),
        ),
        (
            "exp 11 minutes ahead",
            claims(&app.address, "jwt", now, now + 720, "j3"),
        ),
        (
            "11 KB jti",
            claims(&app.address, "jwt", now, now + 60, &"j".repeat(11_000)),
        ),
        (
            "iat in the future",
            claims(&app.address, "jwt", now + 600, now + 600, "j4"),
        ),
    ];
    for (what, claims) in cases {
        let jwt = signed(&key, true, &claims);
        for attempt in ["first use", "replay"] {
            let response = app.token_with_assertion(&jwt).await;
            assert_eq!(
                response.status,
                StatusCode::UNAUTHORIZED,
                "{what}, {attempt}: {}",
                response.body
            );
            assert_eq!(response.error_code(), "invalid_client", "{what}");
        }
    }
    let ten_minutes = signed(
        &key,
        true,
        &claims(&app.address, "jwt", now, now + 600, "ok"),
    );
    let first = app.token_with_assertion(&ten_minutes).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let replay = app.token_with_assertion(&ten_minutes).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
}

/// A `client_credentials` token request in alpha with this assertion; status and body text.
async fn post_assertion(api: Api, jwt: String) -> (StatusCode, String) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt.as_str()),
        ])
        .finish();
    let mut response = api
        .client
        .post(format!("{}{}/access_token", api.address, base("alpha")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body(body)
        .await
        .unwrap();
    let raw = response.body().await.unwrap();
    (
        response.status(),
        String::from_utf8_lossy(&raw).into_owned(),
    )
}

#[actix_web::test]
async fn a_restart_does_not_let_a_used_assertion_be_replayed() {
    let data_dir = tempfile::tempdir().unwrap();
    let key = client_key();
    let (first, stop) = start_over(data_dir.path()).await;
    first
        .admin(
            Method::PUT,
            "/admin/realms/alpha/clients/jwt",
            Some(&json!({
                "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                "client_secret": "unused", "jwks": { "keys": [key.public_jwk] },
            })),
        )
        .await;
    let now = dynreg::time::now_unix();
    let used = signed(
        &key,
        true,
        &claims(STABLE_PUBLIC_URL, "jwt", now, now + 300, "once"),
    );
    let post = |api: &Api, jwt: String| post_assertion(api.clone(), jwt);
    let (status, body) = post(&first, used.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stop.stop(true).await;
    // A second passes so that "issued before the restart" is visible in whole seconds.
    actix_rt::time::sleep(std::time::Duration::from_millis(1100)).await;

    // The first server's realm actors may outlive it in this process and keep sled's lock,
    // so the second opens a copy of the data it left: the same durable state, a fresh
    // process's memory.
    let restarted_dir = tempfile::tempdir().unwrap();
    copy_dir(data_dir.path(), restarted_dir.path());
    let (second, stop) = start_over(restarted_dir.path()).await;
    let (status, body) = post(&second, used).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("issued before the server started"), "{body}");
    let fresh_now = dynreg::time::now_unix();
    let fresh = signed(
        &key,
        true,
        &claims(STABLE_PUBLIC_URL, "jwt", fresh_now, fresh_now + 60, "fresh"),
    );
    let (status, body) = post(&second, fresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stop.stop(true).await;
}

#[actix_web::test]
async fn client_key_sets_are_capped_and_keys_without_kid_are_tried_in_bounded_time() {
    let app = spawn_app_with(|s| s.allow_insecure_fetch = true).await;
    let signer = client_key();
    let other = client_key();
    let without_kid = |jwk: &Value| {
        let mut jwk = jwk.clone();
        jwk.as_object_mut().unwrap().remove("kid");
        jwk
    };

    let keys_330: Vec<Value> = (0..330).map(|_| without_kid(&other.public_jwk)).collect();
    let response = app
        .register(
            "alpha",
            &json!({ "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": keys_330 } }),
        )
        .await;
    response.assert_error(400, "invalid_client_metadata", "330 keys");
    assert!(
        response.error_description().contains("16"),
        "{}",
        response.error_description()
    );

    let mut keys_16: Vec<Value> = (0..15).map(|_| without_kid(&other.public_jwk)).collect();
    keys_16.push(without_kid(&signer.public_jwk));
    jwt_client(&app, "sixteen", json!({ "keys": keys_16 })).await;
    let now = dynreg::time::now_unix();
    let jwt = signed(
        &signer,
        false,
        &claims(&app.address, "sixteen", now, now + 60, "k"),
    );
    let response = app.token_with_assertion(&jwt).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);

    let keys_17: Vec<Value> = (0..17).map(|_| signer.public_jwk.clone()).collect();
    let jwks_uri = serve_jwks(json!({ "keys": keys_17 }));
    app.static_client(
        "alpha",
        "fetched",
        json!({
            "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
            "client_secret": "unused", "jwks_uri": jwks_uri,
        }),
    )
    .await;
    let jwt = signed(
        &signer,
        true,
        &claims(&app.address, "fetched", now, now + 60, "f"),
    );
    let response = app.token_with_assertion(&jwt).await;
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.body
    );
    assert!(
        response.error_description().contains("more than 16 keys"),
        "{}",
        response.error_description()
    );
}

/// Serves `jwks` slowly at `http://127.0.0.1:<port>/jwks`, counting the fetches.
fn serve_counted_jwks(jwks: Value, fetches: Arc<AtomicUsize>) -> String {
    let server = HttpServer::new(move || {
        let jwks = jwks.clone();
        let fetches = Arc::clone(&fetches);
        App::new().route(
            "/jwks",
            web::get().to(move || {
                let jwks = jwks.clone();
                fetches.fetch_add(1, Ordering::SeqCst);
                async move {
                    // Slow enough that every request below arrives while this fetch runs.
                    actix_rt::time::sleep(std::time::Duration::from_millis(500)).await;
                    HttpResponse::Ok().json(jwks)
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = server.addrs()[0];
    actix_rt::spawn(server.run());
    format!("http://{address}/jwks")
}

#[actix_web::test]
async fn concurrent_token_requests_share_one_jwks_uri_fetch() {
    let app = spawn_app_with(|s| s.allow_insecure_fetch = true).await;
    let key = client_key();
    let fetches = Arc::new(AtomicUsize::new(0));
    let jwks_uri = serve_counted_jwks(json!({ "keys": [key.public_jwk] }), Arc::clone(&fetches));
    app.static_client(
        "alpha",
        "shared",
        json!({
            "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
            "client_secret": "unused", "jwks_uri": jwks_uri,
        }),
    )
    .await;
    let now = dynreg::time::now_unix();
    let requests = (0..16)
        .map(|i| {
            let jwt = signed(
                &key,
                true,
                &claims(&app.address, "shared", now, now + 60, &format!("s{i}")),
            );
            post_assertion(app.api.clone(), jwt)
        })
        .collect();

    let answers = join_local(requests).await;

    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "one fetch for 16 requests"
    );
}
