//! Access tokens as RFC 9068 JWTs: the required claims, `aud` from the realm's default
//! audience or an RFC 8707 `resource`, and what `B/register` accepts as a bearer token.

use crate::helpers::*;
use awc::http::{Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

const SERVICE: Option<(&str, &str)> = Some(("registration-service", "forgerock"));
const API: &str = "https://api.example.com/";

/// The unverified claims of a compact JWT (the signature is checked by the server tests).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a compact JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn issuer(app: &TestApp, realm: &str) -> String {
    format!("{}{}", app.address, base(realm))
}

/// A `client_credentials` token request of alpha's registration service with `resource`s.
async fn token_for(app: &TestApp, resources: &[&str]) -> crate::helpers::TestResponse {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("scope", "dynamic_client_registration"),
    ];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    app.post_form("alpha", "access_token", &form, SERVICE).await
}

async fn allow_resources(app: &TestApp, default_audience: Option<&str>, allowed: &[&str]) {
    let mut settings = provider_settings(true);
    settings["default_access_token_audience"] = json!(default_audience);
    settings["allowed_resources"] = json!(allowed);
    app.put_provider("alpha", &settings).await;
}

async fn introspected_aud(app: &TestApp, token: &str) -> Value {
    let answer = app
        .post_form("alpha", "introspect", &[("token", token)], SERVICE)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["active"], true, "{}", answer.body);
    answer.body["aud"].clone()
}

#[actix_web::test]
async fn access_tokens_carry_every_claim_rfc_9068_requires_with_the_issuer_as_audience() {
    let app = spawn_app().await;

    let token = app.service_token(None).await;

    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "at+jwt");
    let claims = claims(&token);
    for required in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        assert!(claims.get(required).is_some(), "{required} in {claims}");
    }
    assert_eq!(claims["iss"], issuer(&app, "alpha"));
    assert_eq!(claims["aud"], issuer(&app, "alpha"));
    assert_eq!(claims["client_id"], "registration-service");
    assert_eq!(introspected_aud(&app, &token).await, issuer(&app, "alpha"));
}

#[actix_web::test]
async fn the_realm_default_audience_replaces_the_issuer_and_still_opens_registration() {
    let app = spawn_app().await;
    allow_resources(&app, Some(API), &[]).await;

    let token = app.service_token(Some("dynamic_client_registration")).await;

    assert_eq!(claims(&token)["aud"], API);
    assert_eq!(introspected_aud(&app, &token).await, API);
    let registered = app
        .post_json(&register_path("alpha"), &seed_registration(), Some(&token))
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
}

#[actix_web::test]
async fn an_allowed_resource_becomes_the_audience_and_such_a_token_cannot_register() {
    let app = spawn_app().await;
    let other = "https://other.example.com/";
    allow_resources(&app, None, &[API, other]).await;

    let one = token_for(&app, &[API]).await;
    let two = token_for(&app, &[API, other, API]).await;

    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let token = one.body["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["aud"], API);
    assert_eq!(introspected_aud(&app, token).await, API);
    assert_eq!(two.status, StatusCode::OK, "{}", two.body);
    let both = two.body["access_token"].as_str().unwrap();
    assert_eq!(claims(both)["aud"], json!([API, other]));
    // RFC 9068 §4: a token for another resource is not a credential for the registration
    // endpoint, whatever its scope.
    let refused = app
        .post_json(&register_path("alpha"), &seed_registration(), Some(token))
        .await;
    refused.assert_error(401, "invalid_token", "a token for another resource");
    let own = token_for(&app, &[&issuer(&app, "alpha")]).await;
    let own = own.body["access_token"].as_str().unwrap();
    let registered = app
        .post_json(&register_path("alpha"), &seed_registration(), Some(own))
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
}

#[actix_web::test]
async fn a_static_client_may_name_the_resources_the_admin_allowed_it_and_a_dynamic_one_may_not() {
    let app = spawn_app().await;
    app.static_client(
        "alpha",
        "api-caller",
        json!({
            "client_secret": "s3cret", "grant_types": ["client_credentials"],
            "scopes": ["openid"], "allowed_resources": [API],
        }),
    )
    .await;
    let dynamic = app
        .register_ok(
            "alpha",
            &json!({"grant_types": ["client_credentials"], "allowed_resources": [API]}),
        )
        .await;
    let request = [("grant_type", "client_credentials"), ("resource", API)];

    let granted = app
        .post_form(
            "alpha",
            "access_token",
            &request,
            Some(("api-caller", "s3cret")),
        )
        .await;
    let refused = app
        .post_form(
            "alpha",
            "access_token",
            &request,
            Some((text(&dynamic, "client_id"), text(&dynamic, "client_secret"))),
        )
        .await;

    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(
        claims(granted.body["access_token"].as_str().unwrap())["aud"],
        API
    );
    refused.assert_error(
        400,
        "invalid_target",
        "a self-registered client names a resource",
    );
    assert!(dynamic.get("allowed_resources").is_none(), "{dynamic}");
    let shown = app
        .admin(Method::GET, "/admin/realms/alpha/clients/api-caller", None)
        .await;
    assert_eq!(
        shown.body["allowed_resources"],
        json!([API]),
        "{}",
        shown.body
    );
    let bad = app
        .admin(
            Method::PUT,
            "/admin/realms/alpha/clients/api-caller",
            Some(&json!({"client_secret": "s3cret", "allowed_resources": ["relative"]})),
        )
        .await;
    bad.assert_error(400, "invalid_request", "a static client's bad resource");
}

#[actix_web::test]
async fn resources_the_realm_does_not_allow_are_invalid_target() {
    let app = spawn_app().await;
    allow_resources(&app, None, &[API]).await;
    let eleven: Vec<&str> = vec![API; 11];

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["https://elsewhere.example.com/"], "not allowed"),
        (
            vec![API, "https://elsewhere.example.com/"],
            "one of two not allowed",
        ),
        (vec!["api"], "not an absolute URI"),
        (vec!["https://api.example.com/#part"], "a fragment"),
        (eleven, "more than ten"),
    ];
    for (resources, message) in cases {
        let response = token_for(&app, &resources).await;
        response.assert_error(400, "invalid_target", message);
    }
}

#[actix_web::test]
async fn provider_settings_with_bad_resources_are_refused() {
    let app = spawn_app().await;
    let too_many: Vec<String> = (0..101)
        .map(|i| format!("https://r{i}.example.com/"))
        .collect();
    let cases = [
        (
            "default_access_token_audience",
            json!("not a uri"),
            "relative audience",
        ),
        (
            "allowed_resources",
            json!(["https://a.example.com/#x"]),
            "fragment",
        ),
        ("allowed_resources", json!(too_many), "more than 100"),
        ("response_profile", json!("forgerock"), "unknown profile"),
    ];
    for (field, value, message) in cases {
        let mut settings = provider_settings(true);
        settings[field] = value;
        let response = app
            .admin(
                Method::PUT,
                "/admin/realms/alpha/oauth2-provider",
                Some(&settings),
            )
            .await;
        response.assert_error(400, "invalid_request", message);
    }
    let unchanged = app
        .admin(Method::GET, "/admin/realms/alpha/oauth2-provider", None)
        .await;
    assert_eq!(unchanged.body, provider_settings(true));
}

#[actix_web::test]
async fn resources_in_odd_spellings_are_invalid_target_and_others_match_in_canonical_form() {
    let app = spawn_app().await;
    let configured = "https://api.example.com";
    allow_resources(&app, None, &[configured]).await;

    for (resource, why) in [
        ("https://api.example.com/\r\nSet-Cookie: x=y", "CRLF"),
        ("https://api.example.com/\0", "NUL"),
        ("https://evil.example\\@api.example.com/", "backslash"),
        ("https:///api.example.com", "empty authority"),
        ("https:api.example.com", "no authority"),
        ("https://api.example.com:443/", "explicit default port"),
        ("http://0x7f.0.0.1/", "hex IPv4"),
    ] {
        token_for(&app, &[resource])
            .await
            .assert_error(400, "invalid_target", why);
    }
    for asked in ["https://api.example.com/", "HTTPS://API.EXAMPLE.COM"] {
        let granted = token_for(&app, &[asked]).await;
        assert_eq!(granted.status, StatusCode::OK, "{asked}: {}", granted.body);
        let token = granted.body["access_token"].as_str().unwrap();
        assert_eq!(claims(token)["aud"], configured, "{asked}");
    }
}

#[actix_web::test]
async fn resources_in_odd_spellings_are_refused_in_realm_and_static_client_settings() {
    let app = spawn_app().await;
    for (field, value, why) in [
        (
            "allowed_resources",
            json!(["https://api.example.com/\r\n"]),
            "CRLF",
        ),
        (
            "allowed_resources",
            json!(["https:api.example.com"]),
            "no authority",
        ),
        ("allowed_resources", json!(["http://127.1/"]), "short IPv4"),
        (
            "default_access_token_audience",
            json!("https:///x"),
            "empty authority",
        ),
    ] {
        let mut settings = provider_settings(true);
        settings[field] = value;
        app.admin(
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider",
            Some(&settings),
        )
        .await
        .assert_error(400, "invalid_request", why);
    }
    for resource in [
        "https://evil.example\\@api.example.com/",
        "https://a.example.com/ x",
    ] {
        app.admin(
            Method::PUT,
            "/admin/realms/alpha/clients/api-caller",
            Some(&json!({"client_secret": "s3cret", "allowed_resources": [resource]})),
        )
        .await
        .assert_error(400, "invalid_request", resource);
    }
}
