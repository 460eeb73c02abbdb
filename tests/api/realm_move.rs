//! Issue 10: complete realm export and import, the write fence, 421 for a realm moved away,
//! and tombstones, over HTTP against real servers.

use crate::helpers::*;
use awc::http::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A server whose realms directory is empty: it holds only `root` until something is imported.
async fn spawn_empty_node() -> (TestApp, tempfile::TempDir) {
    let realms = tempfile::tempdir().expect("temp dir");
    let path = realms.path().to_path_buf();
    let app = spawn_app_with(|settings| settings.realms_dir = path).await;
    (app, realms)
}

async fn export(app: &TestApp, realm: &str) -> Value {
    let response = app
        .admin(
            Method::GET,
            &format!("/admin/realms/{realm}/export?include_secrets=true"),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.body
}

async fn import(app: &TestApp, realm: &str, document: &Value) -> TestResponse {
    app.admin(
        Method::POST,
        &format!("/admin/realms/{realm}/import"),
        Some(document),
    )
    .await
}

fn client_credentials_registration() -> Value {
    json!({
        "redirect_uris": ["https://client.example.com/callback"],
        "grant_types": ["authorization_code", "client_credentials"],
        "scope": "openid profile"
    })
}

#[actix_web::test]
async fn complete_export_imported_on_another_node_is_identical_and_serves_every_client() {
    let source = spawn_app().await;
    let dynamic: Vec<Value> = register_clients(&source, 3).await;
    let rotated = source
        .admin(Method::POST, "/admin/realms/alpha/keys/rotate", None)
        .await;
    assert_eq!(rotated.status, 200);
    let exported = export(&source, "alpha").await;
    assert_eq!(exported["format"], "dynreg-realm-export/1");
    // Three dynamic clients plus alpha's static ones.
    assert!(
        exported["clients"].as_u64().unwrap() >= 4,
        "{}",
        exported["clients"]
    );

    let (target, _realms) = spawn_empty_node().await;
    let imported = import(&target, "alpha", &exported).await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    assert_eq!(imported.body["digest"], exported["digest"]);
    assert_eq!(imported.body["clients"], exported["clients"]);
    let again = export(&target, "alpha").await;
    assert_eq!(again, exported, "export → import → export must be lossless");
    // The static-client index is derived from the records: not exported, rebuilt on import.
    let entries = exported["entries"].as_array().expect("entries");
    assert!(
        !entries
            .iter()
            .any(|entry| entry[0].as_str().is_some_and(|k| k.starts_with("static/"))),
        "{entries:?}"
    );
    let static_clients = |app: &TestApp| {
        let app = app.api.clone();
        async move {
            let realm = app.admin(Method::GET, "/admin/realms/alpha", None).await;
            assert_eq!(realm.status, 200, "{}", realm.body);
            realm.body["clients"].clone()
        }
    };
    let listed = static_clients(&target).await;
    assert!(!listed.as_array().expect("clients").is_empty(), "{listed}");
    assert_eq!(listed, static_clients(&source).await);

    // The target serves the realm as the source did: same keys, clients, secrets, tokens.
    let jwks = |app: &TestApp| {
        let app = app.api.clone();
        async move {
            app.request(
                Method::GET,
                &format!("{}/connect/jwk_uri", base("alpha")),
                None,
                None,
            )
            .await
            .body
        }
    };
    assert_eq!(jwks(&source).await, jwks(&target).await);
    for client in &dynamic {
        let id = text(client, "client_id");
        let token = text(client, "registration_access_token");
        let read = target
            .manage(Method::GET, "alpha", id, None, Some(token))
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body["client_secret"], client["client_secret"]);
        let issued = target
            .post_form(
                "alpha",
                "access_token",
                &[("grant_type", "client_credentials")],
                Some((id, text(client, "client_secret"))),
            )
            .await;
        assert_eq!(issued.status, 200, "{}", issued.body);
    }
    let service = target
        .post_form(
            "alpha",
            "access_token",
            &[("grant_type", "client_credentials")],
            Some(("registration-service", "forgerock")),
        )
        .await;
    assert_eq!(service.status, 200, "static client: {}", service.body);
}

async fn register_clients(app: &TestApp, count: usize) -> Vec<Value> {
    let mut registered = Vec::new();
    for _ in 0..count {
        registered.push(
            app.register_ok("alpha", &client_credentials_registration())
                .await,
        );
    }
    registered
}

#[actix_web::test]
async fn complete_export_must_be_asked_for_with_secrets() {
    let app = spawn_app().await;
    let response = app
        .admin(Method::GET, "/admin/realms/alpha/export", None)
        .await;
    response.assert_error(400, "invalid_request", "export without include_secrets");
    let anonymous = app
        .request(
            Method::GET,
            "/admin/realms/alpha/export?include_secrets=true",
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

#[actix_web::test]
async fn import_refuses_an_existing_realm_a_tampered_export_and_a_name_mismatch() {
    let app = spawn_app().await;
    let exported = export(&app, "alpha").await;
    import(&app, "alpha", &exported)
        .await
        .assert_error(409, "invalid_request", "realm exists");

    let (target, _realms) = spawn_empty_node().await;
    let mut tampered = exported.clone();
    tampered["entries"][0][1] = json!({"tampered": true});
    import(&target, "alpha", &tampered).await.assert_error(
        400,
        "invalid_request",
        "digest mismatch",
    );
    import(&target, "beta", &exported).await.assert_error(
        400,
        "invalid_request",
        "realm name mismatch",
    );
    let listing = target.admin(Method::GET, "/admin/realms", None).await;
    assert_eq!(
        listing.body["realms"],
        json!(["root"]),
        "a refused import leaves nothing"
    );
}

#[actix_web::test]
async fn a_fenced_realm_answers_writes_with_503_and_retry_after_and_keeps_serving_reads() {
    let app = spawn_app().await;
    let client = app
        .register_ok("alpha", &client_credentials_registration())
        .await;
    let id = text(&client, "client_id");
    let token = text(&client, "registration_access_token");
    let fenced = app
        .admin(Method::POST, "/admin/realms/alpha/fence", None)
        .await;
    assert_eq!(fenced.status, 204);

    let refused = app
        .register("alpha", &client_credentials_registration())
        .await;
    refused.assert_error(503, "temporarily_unavailable", "registration while fenced");
    assert_eq!(refused.header("retry-after"), Some("1"));
    let settings = app
        .admin(
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider",
            Some(&provider_settings(true)),
        )
        .await;
    assert_eq!(settings.status, 503, "admin writes are fenced too");

    let read = app
        .manage(Method::GET, "alpha", id, None, Some(token))
        .await;
    assert_eq!(read.status, 200, "reads go on: {}", read.body);
    let issued = app
        .post_form(
            "alpha",
            "access_token",
            &[("grant_type", "client_credentials")],
            Some((id, text(&client, "client_secret"))),
        )
        .await;
    assert_eq!(issued.status, 200, "tokens go on: {}", issued.body);
    assert_eq!(
        export(&app, "alpha").await["format"],
        "dynreg-realm-export/1"
    );

    let unfenced = app
        .admin(Method::DELETE, "/admin/realms/alpha/fence", None)
        .await;
    assert_eq!(unfenced.status, 204);
    app.register_ok("alpha", &client_credentials_registration())
        .await;
}

#[actix_web::test]
async fn a_realm_moved_away_answers_421_leaves_a_tombstone_and_is_deleted_after_grace() {
    let app = spawn_app().await;
    let client = app
        .register_ok("alpha", &client_credentials_registration())
        .await;
    let moved = app
        .admin(
            Method::POST,
            "/admin/realms/alpha/moved?grace_seconds=1",
            None,
        )
        .await;
    assert_eq!(moved.status, 204, "{}", moved.body);

    let read = app
        .manage(
            Method::GET,
            "alpha",
            text(&client, "client_id"),
            None,
            Some(text(&client, "registration_access_token")),
        )
        .await;
    read.assert_error(421, "misdirected_request", "read of a moved realm");
    app.register("alpha", &client_credentials_registration())
        .await
        .assert_error(421, "misdirected_request", "registration in a moved realm");
    let tombstones = app.admin(Method::GET, "/admin/tombstones", None).await;
    assert_eq!(
        tombstones.body["tombstones"],
        json!([{"realm": "alpha", "reason": "moved"}])
    );

    let started = Instant::now();
    loop {
        let listing = app.admin(Method::GET, "/admin/realms", None).await;
        if !listing.body["realms"]
            .as_array()
            .unwrap()
            .contains(&json!("alpha"))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not deleted after grace"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    app.register("alpha", &client_credentials_registration())
        .await
        .assert_error(404, "not_found", "after the grace period the realm is gone");
}

#[actix_web::test]
async fn deleting_a_realm_leaves_a_tombstone_that_only_the_operator_removes() {
    let app = spawn_app().await;
    let deleted = app.admin(Method::DELETE, "/admin/realms/alpha", None).await;
    assert_eq!(deleted.status, 204);
    let tombstones = app.admin(Method::GET, "/admin/tombstones", None).await;
    assert_eq!(
        tombstones.body["tombstones"],
        json!([{"realm": "alpha", "reason": "deleted"}])
    );
    let removed = app
        .admin(Method::DELETE, "/admin/tombstones/alpha", None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    app.admin(Method::DELETE, "/admin/tombstones/alpha", None)
        .await
        .assert_error(404, "not_found", "no tombstone left");
    // Creating a realm through the admin API clears its tombstone.
    app.admin(Method::DELETE, "/admin/realms/alpha", None).await;
    let created = app
        .admin(Method::PUT, "/admin/realms/alpha", Some(&json!({})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let tombstones = app.admin(Method::GET, "/admin/tombstones", None).await;
    assert_eq!(tombstones.body["tombstones"], json!([]));
}
