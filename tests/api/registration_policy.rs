//! Registration policy (issue 11): initial access tokens, quotas and rate limits, reaping,
//! registration-token rotation modes, the RFC 7592 §2.2 secret rule, the strict token mode,
//! CORS and what discovery says about it all.

use crate::helpers::*;
use awc::http::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;

/// A plain registration body.
fn client() -> Value {
    json!({"redirect_uris": ["https://app.example/cb"]})
}

/// Creates realm `name` with these provider settings (merged over a closed realm's).
async fn create_realm(app: &TestApp, name: &str, provider: Value) {
    let response = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/{name}"),
            Some(&json!({ "oauth2_provider": provider })),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
}

/// Creates an initial access token in `realm`; returns the 201 body (with `token`).
async fn create_initial_access(app: &TestApp, realm: &str, request: Value) -> Value {
    let response = app
        .admin(
            Method::POST,
            &format!("/admin/realms/{realm}/initial-access-tokens"),
            Some(&request),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

async fn register_with(app: &TestApp, realm: &str, body: &Value, bearer: &str) -> TestResponse {
    app.post_json(&register_path(realm), body, Some(bearer))
        .await
}

async fn reap(app: &TestApp, realm: &str, query: &str) -> TestResponse {
    app.admin(
        Method::POST,
        &format!("/admin/realms/{realm}/reap?{query}"),
        None,
    )
    .await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---- 1. initial access tokens ----

#[actix_web::test]
async fn an_initial_access_token_of_ten_uses_admits_exactly_ten_of_fifty_concurrent_registrations()
{
    let app = spawn_app().await;
    create_realm(
        &app,
        "iat",
        json!({"allow_open_dynamic_registration": false}),
    )
    .await;
    let created = create_initial_access(&app, "iat", json!({"uses": 10, "expires_in": 600})).await;
    let token = text(&created, "token").to_owned();
    assert_eq!(created["uses_left"], 10);

    let requests = (0..50)
        .map(|_| {
            let api = app.api.clone();
            let token = token.clone();
            async move {
                api.post_json(&register_path("iat"), &client(), Some(&token))
                    .await
            }
        })
        .collect();
    let responses = join_local(requests).await;

    let created: Vec<&TestResponse> = responses
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(created.len(), 10, "exactly the token's uses succeed");
    for refused in responses.iter().filter(|r| r.status != StatusCode::CREATED) {
        refused.assert_error(401, "invalid_token", "a used-up initial access token");
    }
    let ids: HashSet<&str> = created.iter().map(|r| text(&r.body, "client_id")).collect();
    assert_eq!(ids.len(), 10);
    for registered in &created {
        assert!(registered.body["registration_access_token"].is_string());
    }

    let listed = app
        .admin(Method::GET, "/admin/realms/iat/initial-access-tokens", None)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let tokens = listed.body["initial_access_tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["uses_left"], 0);
    assert_eq!(tokens[0]["uses"], 10);
    assert!(tokens[0].get("token").is_none() && tokens[0].get("hash").is_none());
    assert!(!String::from_utf8_lossy(&listed.raw).contains(&token));
    // The realm's own clients count them all.
    let clients = app
        .admin(Method::GET, "/admin/realms/iat/clients", None)
        .await;
    assert_eq!(clients.body["clients"].as_array().unwrap().len(), 10);
}

#[actix_web::test]
async fn an_initial_access_token_policy_narrows_registrations_and_revocation_ends_the_token() {
    let app = spawn_app().await;
    create_realm(
        &app,
        "iat",
        json!({"allow_open_dynamic_registration": false}),
    )
    .await;
    let created = create_initial_access(
        &app,
        "iat",
        json!({
            "uses": 5,
            "description": "the tool's installer",
            "policy": {
                "scopes": ["openid"],
                "grant_types": ["authorization_code"],
                "redirect_uri_hosts": ["app.example"],
                "software_id": "tool-1"
            }
        }),
    )
    .await;
    let token = text(&created, "token").to_owned();
    let id = text(&created, "id").to_owned();

    let cases = [
        (
            json!({"redirect_uris": ["https://evil.example/cb"], "software_id": "tool-1"}),
            "invalid_redirect_uri",
            "a redirect host outside the policy",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "software_id": "tool-1",
                   "scope": "openid email"}),
            "invalid_client_metadata",
            "a scope outside the policy",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "software_id": "tool-1",
                   "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
            "a grant type outside the policy",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"]}),
            "invalid_client_metadata",
            "no software_id",
        ),
    ];
    for (body, code, why) in cases {
        register_with(&app, "iat", &body, &token)
            .await
            .assert_error(400, code, why);
    }
    let good = json!({"redirect_uris": ["https://app.example/cb"], "software_id": "tool-1"});
    let registered = register_with(&app, "iat", &good, &token).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    assert_eq!(
        registered.body["scope"], "openid",
        "default scopes are cut to the policy's"
    );

    let listed = app
        .admin(Method::GET, "/admin/realms/iat/initial-access-tokens", None)
        .await;
    let listed = &listed.body["initial_access_tokens"][0];
    assert_eq!(listed["uses_left"], 4, "refused registrations use nothing");
    assert_eq!(listed["policy"]["software_id"], "tool-1");
    assert_eq!(listed["description"], "the tool's installer");

    let revoked = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/iat/initial-access-tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    register_with(&app, "iat", &good, &token)
        .await
        .assert_error(401, "invalid_token", "a revoked initial access token");
    app.admin(
        Method::DELETE,
        &format!("/admin/realms/iat/initial-access-tokens/{id}"),
        None,
    )
    .await
    .assert_error(404, "not_found", "revoking twice");
}

#[actix_web::test]
async fn initial_access_tokens_expire_and_bad_requests_for_them_are_refused() {
    let app = spawn_app().await;
    create_realm(&app, "iat", json!({})).await;
    let created = create_initial_access(&app, "iat", json!({"expires_in": 1, "uses": 3})).await;
    let token = text(&created, "token").to_owned();
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    register_with(&app, "iat", &client(), &token)
        .await
        .assert_error(401, "invalid_token", "an expired initial access token");

    for bad in [
        json!({"uses": 0}),
        json!({"expires_in": 0}),
        json!({"uses": "ten"}),
        json!({"surprise": true}),
        json!({"policy": {"scopes": "openid"}}),
    ] {
        app.admin(
            Method::POST,
            "/admin/realms/iat/initial-access-tokens",
            Some(&bad),
        )
        .await
        .assert_error(400, "invalid_request", &bad.to_string());
    }
    let anonymous = app
        .post_json("/admin/realms/iat/initial-access-tokens", &json!({}), None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

// ---- 2. quotas and rate limits ----

#[actix_web::test]
async fn the_dynamic_client_quota_refuses_registrations_beyond_it_and_frees_on_delete() {
    let app = spawn_app().await;
    create_realm(
        &app,
        "quota",
        json!({
            "allow_open_dynamic_registration": true,
            "registration_policy": {"max_dynamic_clients": 2}
        }),
    )
    .await;
    // Static clients do not count.
    app.put_static_client(
        "quota",
        "service",
        &json!({"client_secret": "s", "grant_types": ["client_credentials"]}),
    )
    .await;
    let first = app.register_ok("quota", &client()).await;
    app.register_ok("quota", &client()).await;
    let refused = app.register("quota", &client()).await;
    refused.assert_error(403, "access_denied", "third client over a quota of two");
    assert!(refused.error_description().contains("limit"));

    let deleted = app
        .manage(
            Method::DELETE,
            "quota",
            text(&first, "client_id"),
            None,
            Some(text(&first, "registration_access_token")),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.register_ok("quota", &client()).await;
    app.register("quota", &client())
        .await
        .assert_error(403, "access_denied", "quota full again");

    // The realm document carries the setting.
    let exported = app.admin(Method::GET, "/admin/realms/quota", None).await;
    assert_eq!(
        exported.body["oauth2_provider"]["registration_policy"]["max_dynamic_clients"],
        2
    );
}

#[actix_web::test]
async fn registrations_beyond_the_per_address_rate_get_429_with_retry_after() {
    let app = spawn_app().await;
    create_realm(
        &app,
        "rated",
        json!({
            "allow_open_dynamic_registration": true,
            "registration_policy": {"rate_limit_per_ip": {"burst": 2, "refill_seconds": 60}}
        }),
    )
    .await;
    app.register_ok("rated", &client()).await;
    app.register_ok("rated", &client()).await;
    let limited = app.register("rated", &client()).await;
    limited.assert_error(429, "too_many_requests", "third registration in a minute");
    let retry_after: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Other realms keep their own (unlimited) policy.
    app.register_ok("alpha", &seed_registration()).await;
}

#[actix_web::test]
async fn each_software_id_has_its_own_registration_rate() {
    let app = spawn_app().await;
    create_realm(
        &app,
        "rated",
        json!({
            "allow_open_dynamic_registration": true,
            "registration_policy": {
                "rate_limit_per_software_id": {"burst": 1, "refill_seconds": 3600}
            }
        }),
    )
    .await;
    let with_software =
        |id: &str| json!({"redirect_uris": ["https://app.example/cb"], "software_id": id});
    app.register_ok("rated", &with_software("tool-a")).await;
    let limited = app.register("rated", &with_software("tool-a")).await;
    limited.assert_error(429, "too_many_requests", "second tool-a registration");
    assert!(limited.header("retry-after").is_some());
    app.register_ok("rated", &with_software("tool-b")).await;
    // Clients without a software_id are not limited by it.
    app.register_ok("rated", &client()).await;
    app.register_ok("rated", &client()).await;
}

async fn register_from(app: &TestApp, realm: &str, forwarded_for: &str) -> StatusCode {
    let body = serde_json::to_vec(&client()).unwrap();
    app.request_raw(
        Method::POST,
        &register_path(realm),
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", forwarded_for),
        ],
        Some(body),
    )
    .await
    .status
}

const ONE_PER_HOUR: &str = r#"{"burst": 1, "refill_seconds": 3600}"#;

#[actix_web::test]
async fn x_forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let limited = json!({
        "allow_open_dynamic_registration": true,
        "registration_policy": {
            "rate_limit_per_ip": serde_json::from_str::<Value>(ONE_PER_HOUR).unwrap()
        }
    });
    let behind_proxy = spawn_app_with(|settings| {
        settings.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    create_realm(&behind_proxy, "rated", limited.clone()).await;
    assert_eq!(
        register_from(&behind_proxy, "rated", "203.0.113.1").await,
        201
    );
    assert_eq!(
        register_from(&behind_proxy, "rated", "203.0.113.2").await,
        201
    );
    assert_eq!(
        register_from(&behind_proxy, "rated", "198.51.100.9, 203.0.113.1").await,
        429,
        "the right-most untrusted hop counts; the forged left one does not"
    );

    let direct = spawn_app().await;
    create_realm(&direct, "rated", limited).await;
    assert_eq!(register_from(&direct, "rated", "203.0.113.1").await, 201);
    assert_eq!(
        register_from(&direct, "rated", "203.0.113.2").await,
        429,
        "without a trusted proxy the header is ignored"
    );
}

// ---- 3. reaping ----

#[actix_web::test]
async fn a_reaping_run_removes_only_dynamic_clients_unused_for_the_realms_idle_time() {
    let app = spawn_app().await;
    create_realm(
        &app,
        "reap",
        json!({
            "allow_open_dynamic_registration": true,
            "registration_policy": {"reaping": {"enabled": true, "unused_for_seconds": 2}}
        }),
    )
    .await;
    app.put_static_client(
        "reap",
        "static-service",
        &json!({"client_secret": "s", "grant_types": ["client_credentials"]}),
    )
    .await;
    let idle = app.register_ok("reap", &client()).await;
    let token_user = app
        .register_ok(
            "reap",
            &json!({"grant_types": ["client_credentials"], "scope": "openid"}),
        )
        .await;
    let manager = app.register_ok("reap", &client()).await;
    actix_rt::time::sleep(std::time::Duration::from_millis(3100)).await;

    // Used after the idle time started: a token issued, a registration token used.
    let issued = app
        .post_form(
            "reap",
            "access_token",
            &[("grant_type", "client_credentials")],
            Some((
                text(&token_user, "client_id"),
                text(&token_user, "client_secret"),
            )),
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let read = app
        .manage(
            Method::GET,
            "reap",
            text(&manager, "client_id"),
            None,
            Some(text(&manager, "registration_access_token")),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    // Runs as of this moment, so a slow machine cannot age the clients just used.
    let used_at = now();

    let dry = reap(&app, "reap", &format!("dry_run=true&as_of={used_at}")).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(dry.body["count"], 1);
    assert_eq!(dry.body["client_ids"], json!([text(&idle, "client_id")]));
    // A dry run far in the future lists every dynamic client, never the static one.
    let later = reap(
        &app,
        "reap",
        &format!("dry_run=true&as_of={}", now() + 1000),
    )
    .await;
    assert_eq!(later.body["count"], 3, "{}", later.body);
    assert!(!later.body["client_ids"]
        .as_array()
        .unwrap()
        .contains(&json!("static-service")));
    // Dry runs remove nothing.
    let still = app
        .admin(
            Method::GET,
            &format!("/admin/realms/reap/clients/{}", text(&idle, "client_id")),
            None,
        )
        .await;
    assert_eq!(still.status, StatusCode::OK);

    let run = reap(&app, "reap", &format!("as_of={used_at}")).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(run.body["dry_run"], false);
    assert_eq!(run.body["client_ids"], json!([text(&idle, "client_id")]));
    let gone = app
        .manage(
            Method::GET,
            "reap",
            text(&idle, "client_id"),
            None,
            Some(text(&idle, "registration_access_token")),
        )
        .await;
    gone.assert_error(401, "invalid_token", "a reaped client");
    let listed = app
        .admin(Method::GET, "/admin/realms/reap/clients", None)
        .await;
    let mut remaining: Vec<&str> = listed.body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    remaining.sort();
    let mut expected = vec![
        text(&token_user, "client_id"),
        text(&manager, "client_id"),
        "static-service",
    ];
    expected.sort();
    assert_eq!(remaining, expected);
}

#[actix_web::test]
async fn reaping_runs_only_where_enabled_but_a_dry_run_previews_anywhere() {
    let app = spawn_app().await;
    let registered = app.register_ok("alpha", &seed_registration()).await;
    reap(&app, "alpha", "")
        .await
        .assert_error(400, "invalid_request", "reaping is off by default");
    let preview = reap(
        &app,
        "alpha",
        &format!("dry_run=true&as_of={}", now() + 100 * 86_400),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.body["unused_for_seconds"], 90 * 86_400);
    let ids = preview.body["client_ids"].as_array().unwrap();
    assert!(ids.contains(&registered["client_id"]));
    assert!(!ids.contains(&json!("registration-service")), "static");
    reap(&app, "alpha", "dry_run=maybe")
        .await
        .assert_error(400, "invalid_request", "bad dry_run");
    reap(&app, "alpha", "dry_run=true&as_of=yesterday")
        .await
        .assert_error(400, "invalid_request", "bad as_of");
}

// ---- 4. registration-token rotation ----

async fn set_policy(app: &TestApp, realm: &str, policy: Value) {
    let mut settings = app
        .admin(
            Method::GET,
            &format!("/admin/realms/{realm}/oauth2-provider"),
            None,
        )
        .await
        .body;
    settings["registration_policy"] = policy;
    app.put_provider(realm, &settings).await;
}

async fn read_status(app: &TestApp, client_id: &str, token: &str) -> StatusCode {
    app.manage(Method::GET, "alpha", client_id, None, Some(token))
        .await
        .status
}

#[actix_web::test]
async fn under_rotation_with_grace_a_lost_update_response_does_not_lock_the_client_out() {
    let app = spawn_app().await;
    set_policy(
        &app,
        "alpha",
        json!({"registration_token_rotation": "rotate_with_grace"}),
    )
    .await;
    let registered = app.register_seed_client("alpha").await;
    let id = text(&registered, "client_id");
    let secret = text(&registered, "client_secret");
    let t0 = text(&registered, "registration_access_token");

    // The update succeeds but its response (with t1) never reaches the client.
    let lost = app
        .manage(
            Method::PUT,
            "alpha",
            id,
            Some(&seed_update(id, secret)),
            Some(t0),
        )
        .await;
    assert_eq!(lost.status, StatusCode::OK);
    let t1 = text(&lost.body, "registration_access_token");
    assert_ne!(t1, t0);

    // The client still holds t0: it keeps working, for reads and for the retried update.
    assert_eq!(read_status(&app, id, t0).await, StatusCode::OK);
    let retried = app
        .manage(
            Method::PUT,
            "alpha",
            id,
            Some(&seed_update(id, secret)),
            Some(t0),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    let t2 = text(&retried.body, "registration_access_token");
    assert_eq!(read_status(&app, id, t1).await, StatusCode::UNAUTHORIZED);

    // Once the new token is used, the old one stops.
    assert_eq!(read_status(&app, id, t0).await, StatusCode::OK);
    assert_eq!(read_status(&app, id, t2).await, StatusCode::OK);
    assert_eq!(read_status(&app, id, t0).await, StatusCode::UNAUTHORIZED);
    assert_eq!(read_status(&app, id, t2).await, StatusCode::OK);
}

#[actix_web::test]
async fn by_default_the_old_token_stops_at_once_and_never_keeps_the_token() {
    let app = spawn_app().await;
    let registered = app.register_seed_client("alpha").await;
    let id = text(&registered, "client_id");
    let secret = text(&registered, "client_secret");
    let t0 = text(&registered, "registration_access_token");
    let updated = app
        .manage(
            Method::PUT,
            "alpha",
            id,
            Some(&seed_update(id, secret)),
            Some(t0),
        )
        .await;
    let t1 = text(&updated.body, "registration_access_token");
    assert_eq!(read_status(&app, id, t0).await, StatusCode::UNAUTHORIZED);

    set_policy(
        &app,
        "alpha",
        json!({"registration_token_rotation": "never"}),
    )
    .await;
    let kept = app
        .manage(
            Method::PUT,
            "alpha",
            id,
            Some(&seed_update(id, secret)),
            Some(t1),
        )
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert!(
        kept.body.get("registration_access_token").is_none(),
        "RFC 7592 §2.2: no new token, the client keeps its own"
    );
    assert_eq!(read_status(&app, id, t1).await, StatusCode::OK);
}

// ---- 5. RFC 7592 §2.2: the client secret cannot be changed ----

#[actix_web::test]
async fn an_update_with_a_different_client_secret_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let registered = app.register_seed_client("alpha").await;
    let id = text(&registered, "client_id");
    let token = text(&registered, "registration_access_token");
    let mut update = seed_update(id, "not-the-secret");
    update["client_name#en"] = json!("Renamed");

    let refused = app
        .manage(Method::PUT, "alpha", id, Some(&update), Some(token))
        .await;
    refused.assert_error(400, "invalid_client_metadata", "a different client_secret");
    assert!(refused.error_description().contains("client_secret"));

    let read = app
        .manage(Method::GET, "alpha", id, None, Some(token))
        .await;
    assert_eq!(read.status, StatusCode::OK, "the token was not rotated");
    assert_eq!(read.body["client_name#en"], "My Client");
    assert_eq!(read.body["client_secret"], registered["client_secret"]);

    update["client_secret"] = registered["client_secret"].clone();
    let accepted = app
        .manage(Method::PUT, "alpha", id, Some(&update), Some(token))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["client_name#en"], "Renamed");
}

// ---- 6. strict token mode ----

#[actix_web::test]
async fn strict_token_mode_needs_the_registration_scope_for_every_registration() {
    let app = spawn_app().await;
    app.static_client(
        "alpha",
        "plain-service",
        json!({"client_secret": "plain", "grant_types": ["client_credentials"], "scopes": ["openid"]}),
    )
    .await;
    let plain = app
        .post_form(
            "alpha",
            "access_token",
            &[("grant_type", "client_credentials")],
            Some(("plain-service", "plain")),
        )
        .await;
    let plain = text(&plain.body, "access_token").to_owned();
    let scoped = app.service_token(Some("dynamic_client_registration")).await;
    let by_default = register_with(&app, "alpha", &client(), &plain).await;
    assert_eq!(
        by_default.status,
        StatusCode::CREATED,
        "by default any live token registers"
    );

    set_policy(&app, "alpha", json!({"require_registration_scope": true})).await;
    let refused = register_with(&app, "alpha", &client(), &plain).await;
    refused.assert_error(403, "insufficient_scope", "a token without the scope");
    assert_eq!(
        refused.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\", scope=\"dynamic_client_registration\"")
    );
    let accepted = register_with(&app, "alpha", &client(), &scoped).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    // Open registration (no token) is not affected.
    app.register_ok("alpha", &client()).await;
}

// ---- 7. CORS ----

async fn with_origin(app: &TestApp, method: Method, path: &str, origin: &str) -> TestResponse {
    app.request_raw(
        method,
        path,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ],
        None,
    )
    .await
}

#[actix_web::test]
async fn cors_allows_nothing_by_default_and_answers_the_realms_origins() {
    let app = spawn_app().await;
    let page = "https://app.example";
    let register = register_path("alpha");
    let discovery = format!("{}/.well-known/openid-configuration", base("alpha"));
    let jwks = format!("{}/connect/jwk_uri", base("alpha"));

    let preflight = with_origin(&app, Method::OPTIONS, &register, page).await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert!(preflight.header("access-control-allow-origin").is_none());
    assert!(preflight.header("allow").unwrap().contains("POST"));
    let registered = app
        .request_raw(
            Method::POST,
            &register,
            &[("Origin", page), ("Content-Type", "application/json")],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED);
    assert!(registered.header("access-control-allow-origin").is_none());

    set_policy(&app, "alpha", json!({"cors_allowed_origins": [page]})).await;
    let preflight = with_origin(&app, Method::OPTIONS, &register, page).await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(page));
    assert!(preflight
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(preflight
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Authorization"));
    for path in [&discovery, &jwks] {
        let response = with_origin(&app, Method::GET, path, page).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(page),
            "{path}"
        );
        let preflight = with_origin(&app, Method::OPTIONS, path, page).await;
        assert_eq!(
            preflight.header("access-control-allow-origin"),
            Some(page),
            "{path}"
        );
    }
    // Errors carry the grant too, so the page can read why.
    let refused = app
        .request_raw(
            Method::GET,
            &manage_path("alpha", "nobody"),
            &[("Origin", page), ("Authorization", "Bearer nothing")],
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.header("access-control-allow-origin"), Some(page));
    assert!(refused
        .header("access-control-expose-headers")
        .unwrap()
        .contains("WWW-Authenticate"));

    let other = with_origin(&app, Method::OPTIONS, &register, "https://evil.example").await;
    assert!(other.header("access-control-allow-origin").is_none());
    let other = with_origin(&app, Method::GET, &discovery, "https://evil.example").await;
    assert!(other.header("access-control-allow-origin").is_none());
    // The token endpoint is not for browsers.
    let token = with_origin(
        &app,
        Method::OPTIONS,
        &format!("{}/access_token", base("alpha")),
        page,
    )
    .await;
    token.assert_error(405, "invalid_request", "OPTIONS on access_token");

    let bad = json!({"cors_allowed_origins": ["https://app.example/path"]});
    let mut settings = app
        .admin(Method::GET, "/admin/realms/alpha/oauth2-provider", None)
        .await
        .body;
    settings["registration_policy"] = bad;
    app.admin(
        Method::PUT,
        "/admin/realms/alpha/oauth2-provider",
        Some(&settings),
    )
    .await
    .assert_error(400, "invalid_request", "an origin with a path");
}

// ---- 8. discovery ----

#[actix_web::test]
async fn discovery_describes_the_realms_registration_policy() {
    let app = spawn_app().await;
    let path = format!("{}/.well-known/openid-configuration", base("alpha"));
    let defaults = app.request(Method::GET, &path, None, None).await.body;
    assert_eq!(
        defaults["registration_policy"],
        json!({
            "open_registration": true,
            "initial_access_tokens_supported": true,
            "require_registration_scope": false,
            "registration_token_rotation": "rotate",
            "max_dynamic_clients": null,
            "rate_limit_per_ip": null,
            "rate_limit_per_software_id": null,
            "reaping": {"enabled": false, "unused_for_seconds": 7_776_000},
            "cors_allowed_origins": []
        })
    );
    set_policy(
        &app,
        "alpha",
        json!({
            "max_dynamic_clients": 100,
            "registration_token_rotation": "rotate_with_grace",
            "require_registration_scope": true,
            "rate_limit_per_ip": {"burst": 5, "refill_seconds": 60}
        }),
    )
    .await;
    let policy = &app.request(Method::GET, &path, None, None).await.body["registration_policy"];
    assert_eq!(policy["max_dynamic_clients"], 100);
    assert_eq!(policy["registration_token_rotation"], "rotate_with_grace");
    assert_eq!(policy["require_registration_scope"], true);
    assert_eq!(
        policy["rate_limit_per_ip"],
        json!({"burst": 5, "refill_seconds": 60})
    );
}
