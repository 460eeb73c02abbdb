//! Issue 9: reads and tokens use clients decoded by earlier requests. Every change a write
//! makes must show in the very next request: a new profile or token, a new secret, a deleted
//! client, a new response shape of the realm. Each test first reads (or gets a token) so the
//! client is decoded and cached, then changes it and asks again.

use crate::helpers::*;
use awc::http::{Method, StatusCode};
use serde_json::json;

async fn read(app: &Api, client_id: &str, token: &str) -> TestResponse {
    app.manage(Method::GET, "alpha", client_id, None, Some(token))
        .await
}

#[actix_web::test]
async fn a_read_after_an_update_shows_the_new_profile_and_refuses_the_rotated_token() {
    let app = spawn_app().await;
    let body = app.register_seed_client("alpha").await;
    let (client_id, secret, token) = (
        text(&body, "client_id"),
        text(&body, "client_secret"),
        text(&body, "registration_access_token"),
    );
    let before = read(&app, client_id, token).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(before.body["client_name#en"], "My Client");

    let mut update = seed_update(client_id, secret);
    update["client_name#en"] = json!("Renamed Client");
    let updated = app
        .manage(Method::PUT, "alpha", client_id, Some(&update), Some(token))
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let new_token = text(&updated.body, "registration_access_token");

    let after = read(&app, client_id, new_token).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["client_name#en"], "Renamed Client");
    assert_eq!(after.body["scope"], "openid profile");
    read(&app, client_id, token).await.assert_error(
        401,
        "invalid_token",
        "the token before the update",
    );
}

#[actix_web::test]
async fn a_deleted_client_is_neither_read_nor_issued_tokens_after_earlier_requests() {
    let app = spawn_app().await;
    let mut registration = seed_registration();
    registration["grant_types"] = json!(["client_credentials"]);
    let body = app.register_ok("alpha", &registration).await;
    let (client_id, secret, token) = (
        text(&body, "client_id"),
        text(&body, "client_secret"),
        text(&body, "registration_access_token"),
    );
    let form = [("grant_type", "client_credentials")];
    assert_eq!(read(&app, client_id, token).await.status, 200);
    let issued = app
        .post_form("alpha", "access_token", &form, Some((client_id, secret)))
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);

    let deleted = app
        .manage(Method::DELETE, "alpha", client_id, None, Some(token))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    read(&app, client_id, token).await.assert_error(
        401,
        "invalid_token",
        "reading a deleted client",
    );
    app.post_form("alpha", "access_token", &form, Some((client_id, secret)))
        .await
        .assert_error(401, "invalid_client", "a token for a deleted client");
}

#[actix_web::test]
async fn a_client_whose_secret_changed_gets_tokens_only_with_the_new_secret() {
    let app = spawn_app().await;
    let document = |secret: &str| {
        json!({
            "client_secret": secret, "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic", "scopes": ["openid"],
        })
    };
    let form = [("grant_type", "client_credentials")];
    app.static_client("alpha", "changing", document("first-secret"))
        .await;
    let first = app
        .post_form(
            "alpha",
            "access_token",
            &form,
            Some(("changing", "first-secret")),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);

    app.static_client("alpha", "changing", document("second-secret"))
        .await;

    app.post_form(
        "alpha",
        "access_token",
        &form,
        Some(("changing", "first-secret")),
    )
    .await
    .assert_error(401, "invalid_client", "the replaced secret");
    let second = app
        .post_form(
            "alpha",
            "access_token",
            &form,
            Some(("changing", "second-secret")),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
}

#[actix_web::test]
async fn a_read_after_the_realm_changes_its_response_profile_has_the_new_shape() {
    let app = spawn_app().await;
    let body = app.register_seed_client("alpha").await;
    let (client_id, token) = (
        text(&body, "client_id"),
        text(&body, "registration_access_token"),
    );
    let standard = read(&app, client_id, token).await;
    assert_eq!(standard.status, 200, "{}", standard.body);
    assert!(standard.body.get("request_object_signing_alg").is_none());

    let mut settings = provider_settings(true);
    settings["response_profile"] = json!("am");
    app.put_provider("alpha", &settings).await;

    let am = read(&app, client_id, token).await;
    assert_eq!(am.status, 200, "{}", am.body);
    assert!(
        am.body.get("request_object_signing_alg").is_some(),
        "{}",
        am.body
    );
}
