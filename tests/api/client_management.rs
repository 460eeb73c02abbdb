//! Client management with the registration access token (RFC 7592, SPEC §3 "Management").

use crate::helpers::*;
use awc::http::Method;
use serde_json::{json, Value};

/// A registered client's id, secret and registration access token.
struct Registered {
    client_id: String,
    client_secret: String,
    token: String,
    body: Value,
}

async fn register_seed(app: &Api) -> Registered {
    let body = app.register_seed_client("alpha").await;
    Registered {
        client_id: text(&body, "client_id").to_owned(),
        client_secret: text(&body, "client_secret").to_owned(),
        token: text(&body, "registration_access_token").to_owned(),
        body,
    }
}

/// The seed's `PUT`: JSON sent as curl's `--data` sends it, labelled as a form.
async fn seed_put(app: &Api, client: &Registered, body: &Value, token: &str) -> TestResponse {
    let authorization = format!("Bearer {token}");
    app.request_raw(
        Method::PUT,
        &manage_path("alpha", &client.client_id),
        &[
            ("Authorization", &authorization),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(serde_json::to_vec(body).unwrap()),
    )
    .await
}

async fn read(app: &Api, client_id: &str, token: &str) -> TestResponse {
    app.manage(Method::GET, "alpha", client_id, None, Some(token))
        .await
}

#[actix_web::test]
async fn reading_a_client_returns_its_profile_without_management_credentials() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;

    let response = read(&app, &client.client_id, &client.token).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = &response.body;
    assert!(body.get("registration_access_token").is_none(), "{body}");
    assert!(body.get("registration_client_uri").is_none(), "{body}");
    assert_eq!(body["client_id"], client.client_id.as_str());
    assert_eq!(body["client_secret"], client.client_secret.as_str());
    assert_eq!(body["client_name#ja-jpan-jp"], "クライアント名");
    assert_eq!(
        body["client_id_issued_at"],
        client.body["client_id_issued_at"]
    );
    // Apart from the management credentials, the profile is the one registration returned.
    let mut registered = client.body.clone();
    let registered = registered.as_object_mut().unwrap();
    registered.remove("registration_access_token");
    registered.remove("registration_client_uri");
    assert_eq!(body, &Value::Object(registered.clone()));
}

#[actix_web::test]
async fn reading_does_not_rotate_the_registration_access_token() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;

    for attempt in 1..=3 {
        let response = read(&app, &client.client_id, &client.token).await;
        assert_eq!(response.status, 200, "read {attempt}: {}", response.body);
        assert!(response.body.get("registration_access_token").is_none());
    }
    let update = seed_put(
        &app,
        &client,
        &seed_update(&client.client_id, &client.client_secret),
        &client.token,
    )
    .await;
    assert_eq!(
        update.status, 200,
        "the token still updates: {}",
        update.body
    );
}

#[actix_web::test]
async fn the_seed_update_replaces_the_profile_and_returns_a_new_token() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;

    let response = seed_put(
        &app,
        &client,
        &seed_update(&client.client_id, &client.client_secret),
        &client.token,
    )
    .await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = &response.body;
    let new_token = text(body, "registration_access_token");
    assert_ne!(new_token, client.token);
    assert_eq!(body["client_id"], client.client_id.as_str());
    assert_eq!(body["client_secret"], client.client_secret.as_str());
    assert_eq!(
        body["client_id_issued_at"],
        client.body["client_id_issued_at"]
    );
    assert_eq!(body["scopes"], json!(["openid", "profile"]));
    assert_eq!(body["scope"], "openid profile");
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "implicit"])
    );
    assert_eq!(body["client_name#ja-jpan-jp"], "クライアント名");
    assert_eq!(body["client_uri"], "https://client.example.com/");

    let read_back = read(&app, &client.client_id, new_token).await;
    assert_eq!(read_back.status, 200, "{}", read_back.body);
    assert_eq!(read_back.body["scopes"], json!(["openid", "profile"]));
    assert_eq!(
        read_back.body["grant_types"],
        json!(["authorization_code", "implicit"])
    );
}

#[actix_web::test]
async fn an_update_resets_omitted_fields_to_their_defaults() {
    let app = spawn_app().await;
    let mut request = seed_registration();
    request["default_max_age"] = json!(600);
    request["token_endpoint_auth_method"] = json!("client_secret_post");
    request["contacts"] = json!(["ops@client.example.com"]);
    request["access_token_lifetime"] = json!(120);
    request["scopes"] = json!(["email"]);
    let body = app.register_ok("alpha", &request).await;
    let client_id = text(&body, "client_id");
    let mut update = seed_update(client_id, text(&body, "client_secret"));
    update
        .as_object_mut()
        .unwrap()
        .remove("client_name#ja-jpan-jp");
    update.as_object_mut().unwrap().remove("scope");

    let response = app
        .manage(
            Method::PUT,
            "alpha",
            client_id,
            Some(&update),
            Some(text(&body, "registration_access_token")),
        )
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    let updated = &response.body;
    assert!(updated.get("client_name#ja-jpan-jp").is_none(), "{updated}");
    assert!(updated.get("contacts").is_none(), "{updated}");
    assert_eq!(updated["client_name#en"], "My Client");
    assert_eq!(updated["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(updated["default_max_age_enabled"], false);
    assert_eq!(updated["access_token_lifetime"], 0);
    assert_eq!(
        updated["scopes"],
        json!(["address", "phone", "openid", "profile", "email"]),
        "omitted scopes fall back to the realm's default scopes"
    );
}

#[actix_web::test]
async fn an_update_cannot_change_the_immutable_fields() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;
    let mut update = seed_update(&client.client_id, "a-secret-of-my-choice");
    update["client_id_issued_at"] = json!(1);
    update["client_secret_expires_at"] = json!(99);
    update["registration_access_token"] = json!("a-token-of-my-choice");
    update["registration_client_uri"] = json!("https://attacker.example.com/");

    let response = seed_put(&app, &client, &update, &client.token).await;

    assert_eq!(response.status, 200, "{}", response.body);
    let body = &response.body;
    assert_eq!(body["client_secret"], client.client_secret.as_str());
    assert_eq!(
        body["client_id_issued_at"],
        client.body["client_id_issued_at"]
    );
    assert_eq!(body["client_secret_expires_at"], 0);
    assert_ne!(body["registration_access_token"], "a-token-of-my-choice");
    assert_ne!(
        body["registration_client_uri"],
        "https://attacker.example.com/"
    );
    let chosen = read(&app, &client.client_id, "a-token-of-my-choice").await;
    chosen.assert_error(401, "invalid_token", "the token the client chose");
}

#[actix_web::test]
async fn the_old_token_stops_working_after_an_update() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;
    let update = seed_update(&client.client_id, &client.client_secret);
    let response = seed_put(&app, &client, &update, &client.token).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let new_token = text(&response.body, "registration_access_token");

    let old_read = read(&app, &client.client_id, &client.token).await;
    old_read.assert_error(401, "invalid_token", "GET with the rotated token");
    let old_update = seed_put(&app, &client, &update, &client.token).await;
    old_update.assert_error(401, "invalid_token", "PUT with the rotated token");
    let old_delete = app
        .manage(
            Method::DELETE,
            "alpha",
            &client.client_id,
            None,
            Some(&client.token),
        )
        .await;
    old_delete.assert_error(401, "invalid_token", "DELETE with the rotated token");

    let new_read = read(&app, &client.client_id, new_token).await;
    assert_eq!(new_read.status, 200, "{}", new_read.body);
}

#[actix_web::test]
async fn a_failed_update_changes_nothing_and_keeps_the_token() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;
    let before = read(&app, &client.client_id, &client.token).await.body;

    let mut bad_redirect = seed_update(&client.client_id, &client.client_secret);
    bad_redirect["redirect_uris"] = json!(["http://client.example.com/cb"]);
    let mut bad_scope = seed_update(&client.client_id, &client.client_secret);
    bad_scope["scope"] = json!("openid admin");
    let mut bad_grant = seed_update(&client.client_id, &client.client_secret);
    bad_grant["grant_types"] = json!(["magic"]);
    let mut other_id = seed_update(&client.client_id, &client.client_secret);
    other_id["client_id"] = json!("someone-else");
    let cases = [
        (
            bad_redirect,
            400,
            "invalid_redirect_uri",
            "a bad redirect URI",
        ),
        (
            bad_scope,
            400,
            "invalid_client_metadata",
            "a scope outside the allowlist",
        ),
        (
            bad_grant,
            400,
            "invalid_client_metadata",
            "an unknown grant type",
        ),
        (
            json!([1, 2]),
            400,
            "invalid_client_metadata",
            "a body that is not an object",
        ),
        (
            other_id,
            400,
            "invalid_client_metadata",
            "another client_id in the body",
        ),
    ];
    for (body, status, code, message) in cases {
        let response = seed_put(&app, &client, &body, &client.token).await;
        response.assert_error(status, code, message);

        let after = read(&app, &client.client_id, &client.token).await;
        assert_eq!(after.status, 200, "{message}: the old token still works");
        assert_eq!(after.body, before, "{message}: the profile is unchanged");
    }
}

#[actix_web::test]
async fn an_update_naming_another_client_id_in_the_body_is_invalid_client_metadata() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;
    let other = register_seed(&app).await;

    let cases = [
        (json!("someone-else"), "an unknown client_id"),
        (json!(other.client_id), "the client_id of another client"),
        (json!(42), "a client_id that is not a string"),
    ];
    for (client_id, message) in cases {
        let mut body = seed_update(&client.client_id, &client.client_secret);
        body["client_id"] = client_id;
        let response = seed_put(&app, &client, &body, &client.token).await;
        response.assert_error(400, "invalid_client_metadata", message);
        assert!(
            response.error_description().contains("client_id"),
            "{message}: {}",
            response.error_description()
        );
    }
}

#[actix_web::test]
async fn deleting_a_client_answers_204_and_the_client_is_gone() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;

    let response = app
        .manage(
            Method::DELETE,
            "alpha",
            &client.client_id,
            None,
            Some(&client.token),
        )
        .await;

    assert_eq!(response.status, 204, "{:?}", response.raw);
    assert!(response.raw.is_empty());
    let after = read(&app, &client.client_id, &client.token).await;
    after.assert_error(401, "invalid_token", "GET after DELETE");
    let again = app
        .manage(
            Method::DELETE,
            "alpha",
            &client.client_id,
            None,
            Some(&client.token),
        )
        .await;
    again.assert_error(401, "invalid_token", "DELETE after DELETE");
    let admin = app
        .admin(
            Method::GET,
            &format!("/admin/realms/alpha/clients/{}", client.client_id),
            None,
        )
        .await;
    admin.assert_error(404, "not_found", "the admin no longer sees it");
}

#[actix_web::test]
async fn management_without_a_client_id_is_invalid_request() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;
    let update = seed_update(&client.client_id, &client.client_secret);

    let paths = [
        (register_path("alpha"), "no query"),
        (
            format!("{}?client_id=", register_path("alpha")),
            "an empty client_id",
        ),
        (
            format!("{}?id={}", register_path("alpha"), client.client_id),
            "another parameter",
        ),
    ];
    for (path, what) in &paths {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let message = format!("{method} with {what}");
            let body = (method == Method::PUT).then(|| serde_json::to_vec(&update).unwrap());
            let response = app
                .request(method, path, body.as_deref(), Some(&client.token))
                .await;
            response.assert_error(400, "invalid_request", &message);
            assert!(
                response.error_description().contains("client_id"),
                "{message}: {}",
                response.error_description()
            );
        }
    }
    let still_there = read(&app, &client.client_id, &client.token).await;
    assert_eq!(still_there.status, 200, "{}", still_there.body);
}

#[actix_web::test]
async fn management_failures_are_invalid_token_and_never_404() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;
    let other = register_seed(&app).await;
    let unknown_id = "6f1c2a4e-0000-4000-8000-000000000000";

    let cases: [(&str, Option<&str>, &str); 6] = [
        (
            unknown_id,
            Some(&client.token),
            "an unknown client with a real token",
        ),
        (unknown_id, None, "an unknown client without a token"),
        (&client.client_id, Some("wrong-token"), "a wrong token"),
        (&client.client_id, None, "a missing token"),
        (
            &client.client_id,
            Some(&other.token),
            "the token of another client",
        ),
        (
            &client.client_id,
            Some(&client.client_secret),
            "the client secret instead of the token",
        ),
    ];
    for (client_id, token, what) in cases {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let message = format!("{method}: {what}");
            let body = (method == Method::PUT).then(|| seed_update(client_id, "x"));
            let response = app
                .manage(method, "alpha", client_id, body.as_ref(), token)
                .await;
            response.assert_error(401, "invalid_token", &message);
            let challenge = response.header("www-authenticate").unwrap_or_default();
            // RFC 6750 §3.1: a request without a token gets the bare scheme.
            let expected_error = token.is_some();
            assert!(
                challenge.starts_with("Bearer")
                    && challenge.contains("error=\"invalid_token\"") == expected_error,
                "{message}: {challenge:?}"
            );
        }
    }
    // A non-Bearer scheme is no token at all.
    let basic = app
        .request_raw(
            Method::GET,
            &manage_path("alpha", &client.client_id),
            &[("Authorization", &format!("Basic {}", client.token))],
            None,
        )
        .await;
    basic.assert_error(401, "invalid_token", "a Basic authorization header");

    for (survivor, what) in [(&client, "client"), (&other, "other")] {
        let response = read(&app, &survivor.client_id, &survivor.token).await;
        assert_eq!(response.status, 200, "{what} survives: {}", response.body);
        assert_eq!(response.body["scopes"], survivor.body["scopes"]);
    }
}

#[actix_web::test]
async fn a_token_is_only_valid_in_its_own_realm() {
    let app = spawn_app().await;
    app.put_provider("root", &provider_settings(true)).await;
    let client = register_seed(&app).await;

    for method in [Method::GET, Method::DELETE] {
        let response = app
            .manage(
                method.clone(),
                "root",
                &client.client_id,
                None,
                Some(&client.token),
            )
            .await;
        response.assert_error(401, "invalid_token", &format!("{method} in root"));
    }
}

#[actix_web::test]
async fn concurrent_updates_with_the_same_token_succeed_exactly_once() {
    let app = spawn_app().await;
    let client = register_seed(&app).await;
    const WRITERS: usize = 16;
    // Open one pooled connection per writer first, so the updates leave at nearly the same
    // moment instead of each waiting for its own TCP handshake.
    let warm_up = (0..WRITERS)
        .map(|_| {
            let api = app.api.clone();
            let (client_id, token) = (client.client_id.clone(), client.token.clone());
            async move { read(&api, &client_id, &token).await.status }
        })
        .collect();
    for status in join_local(warm_up).await {
        assert_eq!(status, 200);
    }

    let updates = (0..WRITERS)
        .map(|n| {
            let api = app.api.clone();
            let client_id = client.client_id.clone();
            let token = client.token.clone();
            let mut body = seed_update(&client_id, &client.client_secret);
            body["client_name#en"] = json!(format!("writer {n}"));
            async move {
                let response = api
                    .manage(Method::PUT, "alpha", &client_id, Some(&body), Some(&token))
                    .await;
                (n, response)
            }
        })
        .collect();
    let outcomes = join_local(updates).await;

    let winners: Vec<_> = outcomes.iter().filter(|(_, r)| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "statuses: {:?}",
        outcomes.iter().map(|(_, r)| r.status).collect::<Vec<_>>()
    );
    for (n, response) in &outcomes {
        if response.status != 200 {
            response.assert_error(401, "invalid_token", &format!("writer {n}"));
        }
    }
    let (winner, response) = winners[0];
    let token = text(&response.body, "registration_access_token");
    let current = read(&app, &client.client_id, token).await;
    assert_eq!(current.status, 200, "{}", current.body);
    assert_eq!(current.body["client_name#en"], format!("writer {winner}"));
}

#[actix_web::test]
async fn static_clients_cannot_be_managed_through_register() {
    let app = spawn_app().await;
    let document = json!({
        "client_secret": "forgerock",
        "grant_types": ["client_credentials"],
        "scopes": ["dynamic_client_registration"]
    });
    let created = app
        .put_static_client("alpha", "static-service", &document)
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let before = app
        .admin(
            Method::GET,
            "/admin/realms/alpha/clients/static-service?include_secrets=true",
            None,
        )
        .await;
    assert_eq!(before.status, 200, "{}", before.body);

    let tokens = [
        (Some("forgerock"), "its client secret"),
        (Some("any-token"), "a made-up token"),
        (Some(ADMIN_TOKEN), "the admin token"),
        (None, "no token"),
    ];
    for (token, what) in tokens {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let message = format!("{method} with {what}");
            let body = (method == Method::PUT).then(|| seed_update("static-service", "x"));
            let response = app
                .manage(method, "alpha", "static-service", body.as_ref(), token)
                .await;
            response.assert_error(401, "invalid_token", &message);
        }
    }

    let after = app
        .admin(
            Method::GET,
            "/admin/realms/alpha/clients/static-service?include_secrets=true",
            None,
        )
        .await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body, before.body, "the static client is unchanged");
}

#[actix_web::test]
async fn a_client_registered_without_a_token_cannot_be_managed() {
    let app = spawn_app().await;
    let mut settings = provider_settings(true);
    settings["generate_registration_access_tokens"] = json!(false);
    app.put_provider("alpha", &settings).await;
    let body = app.register_seed_client("alpha").await;
    let client_id = text(&body, "client_id");

    for token in [None, Some(""), Some("guess")] {
        let response = app
            .manage(Method::GET, "alpha", client_id, None, token)
            .await;
        response.assert_error(401, "invalid_token", &format!("token {token:?}"));
    }
}
