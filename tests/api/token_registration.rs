//! Registration with an access token (the seed's second way to register).

use crate::helpers::*;
use awc::http::{Method, StatusCode};
use serde_json::json;

async fn close_open_registration(app: &TestApp) {
    let mut settings = app
        .admin(Method::GET, "/admin/realms/alpha/oauth2-provider", None)
        .await
        .body;
    settings["allow_open_dynamic_registration"] = json!(false);
    let put = app
        .admin(
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider",
            Some(&settings),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
}

#[actix_web::test]
async fn seed_token_registration_works_with_open_registration_off() {
    let app = spawn_app().await;
    close_open_registration(&app).await;
    let token = app.service_token(Some("dynamic_client_registration")).await;

    let response = app
        .post_json(
            &format!("{}/register", base("alpha")),
            &seed_registration(),
            Some(&token),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["client_uri"], "https://client.example.com/");
    assert!(response.body["registration_access_token"].is_string());
    assert_ne!(
        response.body["registration_access_token"].as_str(),
        Some(token.as_str())
    );

    let without_token = app.register("alpha", &seed_registration()).await;
    assert_eq!(without_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(without_token.error_code(), "access_denied");
}

#[actix_web::test]
async fn a_token_without_the_registration_scope_cannot_register_info_uris() {
    let app = spawn_app().await;
    app.static_client(
        "alpha",
        "plain-service",
        json!({
            "client_secret": "plain", "grant_types": ["client_credentials"], "scopes": ["openid"],
        }),
    )
    .await;
    let response = app
        .post_form(
            "alpha",
            "access_token",
            &[("grant_type", "client_credentials")],
            Some(("plain-service", "plain")),
        )
        .await;
    let token = response.body["access_token"].as_str().unwrap().to_owned();
    let path = format!("{}/register", base("alpha"));

    for field in ["client_uri", "logo_uri", "policy_uri"] {
        let refused = app
            .post_json(
                &path,
                &json!({ field: "https://client.example.com/x" }),
                Some(&token),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(refused.error_code(), "invalid_client_metadata");
        assert!(refused.body["error_description"]
            .as_str()
            .unwrap()
            .contains(field));
    }
    let plain = app
        .post_json(
            &path,
            &json!({"redirect_uris": ["https://client.example.com/cb"]}),
            Some(&token),
        )
        .await;
    assert_eq!(
        plain.status,
        StatusCode::CREATED,
        "any live token registers: {}",
        plain.body
    );
}

#[actix_web::test]
async fn tokens_of_another_realm_forged_or_garbage_tokens_get_401_invalid_token() {
    let app = spawn_app().await;
    let alpha_token = app.service_token(None).await;
    let beta = json!({"oauth2_provider": {"allow_open_dynamic_registration": false}});
    let created = app
        .admin(Method::PUT, "/admin/realms/beta", Some(&beta))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let mut forged = alpha_token.clone();
    forged.pop();
    forged.push(if alpha_token.ends_with('A') { 'B' } else { 'A' });
    let cases = [
        ("beta", alpha_token.as_str(), "token of another realm"),
        ("alpha", forged.as_str(), "forged signature"),
        ("alpha", "not-a-jwt", "garbage"),
    ];
    for (realm, token, why) in cases {
        let response = app
            .post_json(
                &format!("{}/register", base(realm)),
                &json!({}),
                Some(token),
            )
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(response.error_code(), "invalid_token", "{why}");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\""),
            "{why}"
        );
    }
}
