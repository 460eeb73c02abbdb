//! Open registration (RFC 7591) as the seed shows it.

use crate::helpers::*;
use serde_json::json;

#[actix_web::test]
async fn seed_open_registration_returns_201_with_the_full_am_profile() {
    let app = spawn_app().await;

    let response = app.register("alpha", &seed_registration()).await;

    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = &response.body;
    let client_id = body["client_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(client_id).is_ok());
    assert_eq!(body["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(body["client_secret_expires_at"], 0);
    assert_eq!(body["client_name#ja-jpan-jp"], "クライアント名");
    assert_eq!(body["scope"], "address phone openid profile email");
    assert_eq!(
        body["registration_client_uri"],
        format!(
            "{}{}/register?client_id={client_id}",
            app.address,
            base("alpha")
        )
    );
    assert!(body["registration_access_token"].is_string());
    for key in [
        "authorization_signed_response_alg",
        "request_object_encryption_alg",
        "introspection_encrypted_response_alg",
        "client_uri",
        "default_max_age",
        "application_type",
        "introspection_encrypted_response_enc",
        "introspection_signed_response_alg",
        "client_name#en",
        "userinfo_encrypted_response_enc",
        "client_type",
        "userinfo_encrypted_response_alg",
        "token_endpoint_auth_method",
        "userinfo_signed_response_alg",
        "public_key_selector",
        "scope",
        "require_pushed_authorization_requests",
        "authorization_code_lifetime",
        "user_info_response_format_selector",
        "tls_client_certificate_bound_access_tokens",
        "backchannel_logout_session_required",
        "id_token_signed_response_alg",
        "default_max_age_enabled",
        "token_intro_response_format_selector",
        "subject_type",
        "grant_types",
        "jwt_token_lifetime",
        "id_token_encryption_enabled",
        "redirect_uris",
        "jwks_cache_miss_cache_time",
        "jwks_cache_timeout",
        "id_token_encrypted_response_alg",
        "id_token_encrypted_response_enc",
        "access_token_lifetime",
        "refresh_token_lifetime",
        "scopes",
        "request_object_signing_alg",
        "response_types",
        "client_id_issued_at",
    ] {
        assert!(body.get(key).is_some(), "missing {key}");
    }
}

#[actix_web::test]
async fn sent_client_id_and_secret_are_ignored() {
    let app = spawn_app().await;
    let body = app
        .register_ok(
            "alpha",
            &json!({"client_id": "mine", "client_secret": "mine"}),
        )
        .await;
    assert_ne!(body["client_id"], "mine");
    assert_ne!(body["client_secret"], "mine");
}
