//! The token endpoint (RFC 6749 §4.4), introspection (RFC 7662), discovery and JWKS.

use crate::helpers::*;
use crate::token_helpers::*;
use awc::http::{Method, StatusCode};
use serde_json::json;

#[actix_web::test]
async fn seed_service_client_gets_a_bearer_token_with_the_requested_scope() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "alpha",
            "access_token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "dynamic_client_registration"),
            ],
            Some(("registration-service", "forgerock")),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["token_type"], "Bearer");
    assert_eq!(response.body["scope"], "dynamic_client_registration");
    assert_eq!(response.body["expires_in"], 3600);
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn token_requests_are_refused_with_rfc_6749_errors() {
    let app = spawn_app().await;
    app.static_client(
        "alpha",
        "post-client",
        json!({
            "client_secret": "post-secret", "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post", "scopes": ["openid"],
        }),
    )
    .await;
    app.static_client(
        "alpha",
        "code-client",
        json!({
            "client_secret": "code-secret", "grant_types": ["authorization_code"],
        }),
    )
    .await;
    app.static_client(
        "alpha",
        "public-client",
        json!({
            "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"],
        }),
    )
    .await;
    let cc = ("grant_type", "client_credentials");
    // (why, form, Basic credentials, expected status, expected error)
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Option<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "wrong secret",
            vec![cc],
            Some(("registration-service", "wrong")),
            401,
            "invalid_client",
        ),
        (
            "unknown client",
            vec![cc],
            Some(("nobody", "forgerock")),
            401,
            "invalid_client",
        ),
        (
            "no authentication",
            vec![cc, ("client_id", "registration-service")],
            None,
            401,
            "invalid_client",
        ),
        (
            "post client using basic",
            vec![cc],
            Some(("post-client", "post-secret")),
            401,
            "invalid_client",
        ),
        (
            "basic client using post",
            vec![
                cc,
                ("client_id", "registration-service"),
                ("client_secret", "forgerock"),
            ],
            None,
            401,
            "invalid_client",
        ),
        (
            "public client",
            vec![cc, ("client_id", "public-client")],
            None,
            401,
            "invalid_client",
        ),
        (
            "client without the grant",
            vec![cc],
            Some(("code-client", "code-secret")),
            400,
            "unauthorized_client",
        ),
        (
            "scope not registered",
            vec![cc, ("scope", "openid")],
            Some(("registration-service", "forgerock")),
            400,
            "invalid_scope",
        ),
        (
            "other grant type",
            vec![("grant_type", "password")],
            Some(("registration-service", "forgerock")),
            400,
            "unsupported_grant_type",
        ),
        (
            "no grant type",
            vec![],
            Some(("registration-service", "forgerock")),
            400,
            "invalid_request",
        ),
        (
            "two methods",
            vec![
                cc,
                ("client_id", "registration-service"),
                ("client_secret", "forgerock"),
            ],
            Some(("registration-service", "forgerock")),
            400,
            "invalid_request",
        ),
    ];
    for (why, form, basic, status, code) in cases {
        let response = app.post_form("alpha", "access_token", &form, basic).await;
        assert_eq!(response.status.as_u16(), status, "{why}: {}", response.body);
        assert_eq!(response.error_code(), code, "{why}");
        if status == 401 {
            assert_eq!(response.header("www-authenticate"), Some("Basic"), "{why}");
        }
    }
    let post = app
        .post_form(
            "alpha",
            "access_token",
            &[
                cc,
                ("client_id", "post-client"),
                ("client_secret", "post-secret"),
            ],
            None,
        )
        .await;
    assert_eq!(
        post.status,
        StatusCode::OK,
        "client_secret_post works: {}",
        post.body
    );
    assert_eq!(post.body["scope"], "openid");
}

#[actix_web::test]
async fn introspection_reports_live_tokens_and_nothing_about_others() {
    let app = spawn_app().await;
    let token = app.service_token(None).await;
    let creds = Some(("registration-service", "forgerock"));

    let live = app
        .post_form("alpha", "introspect", &[("token", &token)], creds)
        .await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body["active"], true);
    assert_eq!(live.body["client_id"], "registration-service");
    assert_eq!(live.body["scope"], "dynamic_client_registration");
    assert_eq!(live.body["token_type"], "Bearer");
    assert_eq!(
        live.body["iss"],
        format!("{}{}", app.address, base("alpha"))
    );
    for key in ["exp", "iat"] {
        assert!(live.body[key].is_u64(), "{key}");
    }

    let forged = format!("{token}x");
    let dead = app
        .post_form("alpha", "introspect", &[("token", &forged)], creds)
        .await;
    assert_eq!(dead.body, json!({"active": false}));

    let unauthenticated = app
        .post_form("alpha", "introspect", &[("token", &token)], None)
        .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthenticated.error_code(), "invalid_client");
}

#[actix_web::test]
async fn tokens_expire_after_the_realms_lifetime() {
    let app = spawn_app().await;
    let mut settings = app
        .admin(Method::GET, "/admin/realms/alpha/oauth2-provider", None)
        .await
        .body;
    settings["access_token_lifetime_seconds"] = json!(1);
    let put = app
        .admin(
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider",
            Some(&settings),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let token = app.service_token(None).await;
    std::thread::sleep(std::time::Duration::from_millis(2100));

    let response = app
        .post_json(
            &format!("{}/register", base("alpha")),
            &json!({}),
            Some(&token),
        )
        .await;

    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.error_code(), "invalid_token");
}

#[actix_web::test]
async fn discovery_names_the_realm_endpoints_on_the_public_url() {
    let app = spawn_app().await;
    let response = app
        .request(
            Method::GET,
            &format!("{}/.well-known/openid-configuration", base("alpha")),
            None,
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let issuer = format!("{}{}", app.address, base("alpha"));
    let doc = &response.body;
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["registration_endpoint"], format!("{issuer}/register"));
    assert_eq!(doc["token_endpoint"], format!("{issuer}/access_token"));
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{issuer}/introspect")
    );
    assert_eq!(doc["jwks_uri"], format!("{issuer}/connect/jwk_uri"));
    assert_eq!(doc["grant_types_supported"], json!(["client_credentials"]));
    assert!(doc["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("dynamic_client_registration")));
    assert!(doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("private_key_jwt")));

    let root = app
        .request(
            Method::GET,
            "/am/oauth2/.well-known/openid-configuration",
            None,
            None,
        )
        .await;
    assert_eq!(
        root.body["issuer"],
        format!("{}{}", app.address, base("root"))
    );
}

#[actix_web::test]
async fn jwks_publishes_public_signing_and_encryption_keys_only() {
    let app = spawn_app().await;
    let response = app
        .request(
            Method::GET,
            &format!("{}/connect/jwk_uri", base("alpha")),
            None,
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let keys = response.body["keys"].as_array().unwrap();
    assert!(keys
        .iter()
        .any(|k| k["use"] == "sig" && k["alg"] == "ES256" && k["kid"].is_string()));
    assert!(keys
        .iter()
        .any(|k| k["use"] == "enc" && k.get("alg").is_none() && k["kty"] == "RSA"));
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published"
            );
        }
    }
}

#[actix_web::test]
async fn key_rotation_keeps_the_previous_key_published_and_its_tokens_valid() {
    let app = spawn_app().await;
    let before = app.service_token(None).await;
    let jwks_path = format!("{}/connect/jwk_uri", base("alpha"));
    let old = app.request(Method::GET, &jwks_path, None, None).await.body;

    let rotated = app
        .admin(Method::POST, "/admin/realms/alpha/keys/rotate", None)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);

    let new = app.request(Method::GET, &jwks_path, None, None).await.body;
    let signing = |jwks: &serde_json::Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["use"] == "sig")
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(signing(&new).len(), 2);
    assert!(signing(&new).contains(&signing(&old)[0]));
    let after = app.service_token(None).await;
    let creds = Some(("registration-service", "forgerock"));
    for token in [&before, &after] {
        let answer = app
            .post_form("alpha", "introspect", &[("token", token)], creds)
            .await;
        assert_eq!(answer.body["active"], true);
    }
}

#[actix_web::test]
async fn private_key_jwt_clients_authenticate_with_registered_jwks_and_replays_are_refused() {
    let app = spawn_app().await;
    let key = client_key();
    app.static_client(
        "alpha",
        "jwt-client",
        json!({
            "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
            "client_secret": "unused", "jwks": {"keys": [key.public_jwk]}, "scopes": ["openid"],
        }),
    )
    .await;
    let audience = format!("{}{}/access_token", app.address, base("alpha"));
    let jwt = assertion(&key, "jwt-client", &audience, "jti-1");
    let ok = app.token_with_assertion(&jwt).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    let replay = app.token_with_assertion(&jwt).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "replayed jti");
    assert_eq!(replay.error_code(), "invalid_client");

    let other_key = client_key();
    let forged = app
        .token_with_assertion(&assertion(&other_key, "jwt-client", &audience, "jti-2"))
        .await;
    assert_eq!(
        forged.status,
        StatusCode::UNAUTHORIZED,
        "signed by an unregistered key"
    );

    let wrong_audience = app
        .token_with_assertion(&assertion(
            &key,
            "jwt-client",
            "https://elsewhere.example",
            "jti-3",
        ))
        .await;
    assert_eq!(wrong_audience.status, StatusCode::UNAUTHORIZED, "wrong aud");
}

#[actix_web::test]
async fn private_key_jwt_keys_are_fetched_from_a_loopback_jwks_uri_when_insecure_fetch_is_allowed()
{
    let app = spawn_app_with(|s| s.allow_insecure_fetch = true).await;
    let key = client_key();
    let jwks_uri = serve_jwks(json!({"keys": [key.public_jwk]}));
    app.static_client(
        "alpha",
        "uri-client",
        json!({
            "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
            "client_secret": "unused", "jwks_uri": jwks_uri,
        }),
    )
    .await;
    let audience = format!("{}{}", app.address, base("alpha"));
    let jwt = assertion(&key, "uri-client", &audience, "jti-uri");
    let response = app.token_with_assertion(&jwt).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[actix_web::test]
async fn jwks_uri_fetches_refuse_private_loopback_and_plain_http_targets() {
    let app = spawn_app().await;
    let key = client_key();
    let loopback_http = serve_jwks(json!({"keys": [key.public_jwk]}));
    let targets = [
        (loopback_http.as_str(), "only https"),
        ("https://127.0.0.1:9/jwks", "loopback literal"),
        ("https://localhost:9/jwks", "loopback name"),
        (
            "https://169.254.169.254/latest/meta-data",
            "link-local metadata",
        ),
        ("https://10.0.0.1/jwks", "private"),
        ("https://[::1]:9/jwks", "IPv6 loopback"),
    ];
    for (index, (uri, why)) in targets.iter().enumerate() {
        let client_id = format!("ssrf-{index}");
        app.static_client("alpha", &client_id, json!({
            "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
            "client_secret": "unused", "jwks_uri": uri,
        })).await;
        let audience = format!("{}{}", app.address, base("alpha"));
        let jwt = assertion(&key, &client_id, &audience, &format!("jti-{index}"));
        let response = app.token_with_assertion(&jwt).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{why}: {}",
            response.body
        );
        assert_eq!(response.error_code(), "invalid_client", "{why}");
        assert!(
            response.body["error_description"]
                .as_str()
                .unwrap()
                .contains("jwks_uri"),
            "{why}: {}",
            response.body
        );
    }
}
