//! The admin REST API (SPEC §4).

use crate::helpers::*;
use awc::http::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A realm document with open registration on or off and no clients.
fn realm_document(name: &str, open: bool) -> Value {
    json!({
        "name": name,
        "oauth2_provider": provider_settings(open),
        "software_publishers": [],
        "clients": []
    })
}

/// The seed's registration service, as a static client document.
fn registration_service() -> Value {
    json!({
        "client_id": "static-service",
        "client_secret": "forgerock",
        "client_name": "static-service",
        "grant_types": ["client_credentials"],
        "scopes": ["dynamic_client_registration"]
    })
}

async fn realm_names(app: &Api) -> Vec<String> {
    let response = app.admin(Method::GET, "/admin/realms", None).await;
    assert_eq!(response.status, 200, "{}", response.body);
    serde_json::from_value(response.body["realms"].clone()).expect("a list of names")
}

async fn provider(app: &Api, realm: &str) -> Value {
    let response = app
        .admin(
            Method::GET,
            &format!("/admin/realms/{realm}/oauth2-provider"),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.body
}

#[actix_web::test]
async fn every_admin_route_refuses_requests_without_the_admin_token() {
    let app = spawn_app().await;
    let routes = [
        (Method::GET, "/admin/realms"),
        (Method::PUT, "/admin/realms/ghost"),
        (Method::GET, "/admin/realms/alpha"),
        (Method::DELETE, "/admin/realms/alpha"),
        (Method::GET, "/admin/realms/alpha/oauth2-provider"),
        (Method::PUT, "/admin/realms/alpha/oauth2-provider"),
        (Method::GET, "/admin/realms/alpha/clients"),
        (Method::GET, "/admin/realms/alpha/clients/intruder"),
        (Method::PUT, "/admin/realms/alpha/clients/intruder"),
        (Method::DELETE, "/admin/realms/alpha/clients/intruder"),
        (Method::GET, "/admin/no-such-route"),
    ];
    let wrong_bearer = "Bearer wrong-token".to_owned();
    let longer_bearer = format!("Bearer {ADMIN_TOKEN}x");
    let basic = format!("Basic {ADMIN_TOKEN}");
    let credentials = [
        (None, "no Authorization header"),
        (Some(wrong_bearer.as_str()), "a wrong bearer token"),
        (
            Some(longer_bearer.as_str()),
            "the admin token with a suffix",
        ),
        (
            Some(basic.as_str()),
            "the admin token under the Basic scheme",
        ),
    ];
    let body = serde_json::to_vec(&json!({
        "name": "ghost",
        "allow_open_dynamic_registration": false,
        "client_secret": "s3cret"
    }))
    .unwrap();
    for (method, path) in &routes {
        for (authorization, what) in &credentials {
            let message = format!("{method} {path} with {what}");
            let mut headers = vec![("Content-Type", "application/json")];
            if let Some(value) = authorization {
                headers.push(("Authorization", value));
            }
            let sends_body = *method == Method::PUT;
            let response = app
                .request_raw(
                    method.clone(),
                    path,
                    &headers,
                    sends_body.then(|| body.clone()),
                )
                .await;
            assert_eq!(response.status, 401, "{message}: {}", response.body);
            assert_json(&response, &message);
            response.error_code();
        }
    }

    // Nothing was changed by the refused requests.
    assert_eq!(realm_names(&app).await, ["alpha", "root"]);
    assert_eq!(provider(&app, "alpha").await, provider_settings(true));
    let intruder = app
        .admin(Method::GET, "/admin/realms/alpha/clients/intruder", None)
        .await;
    intruder.assert_error(404, "not_found", "no static client was created");
}

#[actix_web::test]
async fn admin_responses_are_json_and_never_cached() {
    let app = spawn_app().await;

    for path in [
        "/admin/realms",
        "/admin/realms/alpha",
        "/admin/realms/alpha/oauth2-provider",
        "/admin/realms/alpha/clients",
    ] {
        let response = app.admin(Method::GET, path, None).await;
        assert_eq!(response.status, 200, "{path}: {}", response.body);
        assert_json(&response, path);
        assert_eq!(response.header("cache-control"), Some("no-store"), "{path}");
    }
}

#[actix_web::test]
async fn listing_realms_names_every_realm() {
    let app = spawn_app().await;

    let response = app.admin(Method::GET, "/admin/realms", None).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body, json!({"realms": ["alpha", "root"]}));
}

#[actix_web::test]
async fn putting_a_new_realm_creates_it_and_registration_works_there() {
    let app = spawn_app().await;

    let response = app
        .admin(
            Method::PUT,
            "/admin/realms/beta-2",
            Some(&realm_document("beta-2", true)),
        )
        .await;

    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.body["name"], "beta-2");
    assert_eq!(realm_names(&app).await, ["alpha", "beta-2", "root"]);
    let client = app.register_seed_client("beta-2").await;
    assert_eq!(
        client["registration_client_uri"],
        format!(
            "{}/am/oauth2/realms/root/realms/beta-2/register?client_id={}",
            app.address,
            text(&client, "client_id")
        )
    );
    // Nothing crosses realms.
    let in_alpha = app
        .manage(
            Method::GET,
            "alpha",
            text(&client, "client_id"),
            None,
            Some(text(&client, "registration_access_token")),
        )
        .await;
    in_alpha.assert_error(401, "invalid_token", "a beta-2 client read in alpha");
}

#[actix_web::test]
async fn a_realm_document_naming_another_realm_is_invalid_request() {
    let app = spawn_app().await;

    let response = app
        .admin(
            Method::PUT,
            "/admin/realms/beta",
            Some(&realm_document("gamma", true)),
        )
        .await;

    response.assert_error(400, "invalid_request", "name differs from the path");
    assert_eq!(realm_names(&app).await, ["alpha", "root"]);
}

#[actix_web::test]
async fn replacing_a_realm_keeps_its_dynamic_clients_and_replaces_the_rest() {
    let app = spawn_app().await;
    let dynamic = app.register_seed_client("alpha").await;
    let old_static = app
        .put_static_client("alpha", "old-service", &json!({"client_secret": "old"}))
        .await;
    assert_eq!(old_static.status, 201, "{}", old_static.body);
    let mut document = realm_document("alpha", true);
    document["oauth2_provider"]["default_scopes"] = json!(["openid"]);
    document["clients"] = json!([registration_service()]);

    let response = app
        .admin(Method::PUT, "/admin/realms/alpha", Some(&document))
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    let read = app
        .manage(
            Method::GET,
            "alpha",
            text(&dynamic, "client_id"),
            None,
            Some(text(&dynamic, "registration_access_token")),
        )
        .await;
    assert_eq!(
        read.status, 200,
        "the dynamic client survives: {}",
        read.body
    );
    assert_eq!(read.body["client_secret"], dynamic["client_secret"]);
    assert_eq!(
        provider(&app, "alpha").await["default_scopes"],
        json!(["openid"])
    );
    let fresh = app.register_ok("alpha", &json!({})).await;
    assert_eq!(fresh["scopes"], json!(["openid"]), "new settings apply");
    let old = app
        .admin(Method::GET, "/admin/realms/alpha/clients/old-service", None)
        .await;
    old.assert_error(404, "not_found", "the old static client is replaced");
    let new = app
        .admin(
            Method::GET,
            "/admin/realms/alpha/clients/static-service",
            None,
        )
        .await;
    assert_eq!(new.status, 200, "{}", new.body);
}

/// Alpha without the seed's static `registration-service`, so a test owns its static clients.
async fn alpha_without_static_clients(app: &Api) {
    let document = json!({"oauth2_provider": provider_settings(true)});
    let replaced = app
        .admin(Method::PUT, "/admin/realms/alpha", Some(&document))
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
}

#[actix_web::test]
async fn exporting_a_realm_hides_static_client_secrets_unless_asked() {
    let app = spawn_app().await;
    alpha_without_static_clients(&app).await;
    let created = app
        .put_static_client("alpha", "static-service", &registration_service())
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    app.register_seed_client("alpha").await;

    let cases = [
        ("", false, "no query"),
        ("?include_secrets=false", false, "include_secrets=false"),
        ("?include_secrets=1", false, "include_secrets=1 is not true"),
        ("?include_secrets=true", true, "include_secrets=true"),
    ];
    for (query, shown, message) in cases {
        let response = app
            .admin(Method::GET, &format!("/admin/realms/alpha{query}"), None)
            .await;
        assert_eq!(response.status, 200, "{message}: {}", response.body);
        let document = &response.body;
        assert_eq!(document["name"], "alpha", "{message}");
        assert_eq!(
            document["oauth2_provider"],
            provider_settings(true),
            "{message}"
        );
        let clients = document["clients"].as_array().expect("clients");
        assert_eq!(
            clients.len(),
            1,
            "{message}: static clients only: {document}"
        );
        assert_eq!(clients[0]["client_id"], "static-service");
        if shown {
            assert_eq!(clients[0]["client_secret"], "forgerock", "{message}");
        } else {
            assert!(clients[0].get("client_secret").is_none(), "{message}");
            assert!(
                !response.raw.windows(9).any(|w| w == b"forgerock"),
                "{message}"
            );
        }
    }
}

#[actix_web::test]
async fn an_exported_realm_can_be_imported_as_a_new_realm() {
    let app = spawn_app().await;
    alpha_without_static_clients(&app).await;
    app.put_static_client("alpha", "static-service", &registration_service())
        .await;
    let export = app
        .admin(
            Method::GET,
            "/admin/realms/alpha?include_secrets=true",
            None,
        )
        .await;
    assert_eq!(export.status, 200, "{}", export.body);
    let mut document = export.body;
    document["name"] = json!("copy");

    let response = app
        .admin(Method::PUT, "/admin/realms/copy", Some(&document))
        .await;

    assert_eq!(response.status, 201, "{}", response.body);
    let copied = app
        .admin(Method::GET, "/admin/realms/copy?include_secrets=true", None)
        .await;
    let original = &document["clients"][0];
    let copy = &copied.body["clients"][0];
    assert_eq!(copied.body["clients"].as_array().map(Vec::len), Some(1));
    for key in [
        "client_id",
        "client_secret",
        "client_name",
        "grant_types",
        "scopes",
        "token_endpoint_auth_method",
    ] {
        assert_eq!(copy[key], original[key], "{key}");
    }
    assert_eq!(copied.body["oauth2_provider"], document["oauth2_provider"]);
}

#[actix_web::test]
async fn deleting_a_realm_removes_it_and_its_registration_endpoint() {
    let app = spawn_app().await;
    let client = app.register_seed_client("alpha").await;

    let response = app.admin(Method::DELETE, "/admin/realms/alpha", None).await;

    assert_eq!(response.status, 204, "{}", response.body);
    assert!(response.raw.is_empty());
    assert_eq!(realm_names(&app).await, ["root"]);
    let register = app.register("alpha", &seed_registration()).await;
    register.assert_error(404, "not_found", "register in a deleted realm");
    let read = app
        .manage(
            Method::GET,
            "alpha",
            text(&client, "client_id"),
            None,
            Some(text(&client, "registration_access_token")),
        )
        .await;
    read.assert_error(404, "not_found", "manage in a deleted realm");
    let export = app.admin(Method::GET, "/admin/realms/alpha", None).await;
    export.assert_error(404, "not_found", "export of a deleted realm");
    let again = app.admin(Method::DELETE, "/admin/realms/alpha", None).await;
    again.assert_error(404, "not_found", "deleting it again");
}

#[actix_web::test]
async fn a_recreated_realm_starts_empty() {
    let app = spawn_app().await;
    let client = app.register_seed_client("alpha").await;
    let deleted = app.admin(Method::DELETE, "/admin/realms/alpha", None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    let created = app
        .admin(
            Method::PUT,
            "/admin/realms/alpha",
            Some(&realm_document("alpha", true)),
        )
        .await;

    assert_eq!(created.status, 201, "{}", created.body);
    let read = app
        .manage(
            Method::GET,
            "alpha",
            text(&client, "client_id"),
            None,
            Some(text(&client, "registration_access_token")),
        )
        .await;
    read.assert_error(401, "invalid_token", "the old client is gone");
    let listed = app
        .admin(Method::GET, "/admin/realms/alpha/clients", None)
        .await;
    assert_eq!(listed.body, json!({"clients": [], "next": null}));
}

#[actix_web::test]
async fn the_root_realm_cannot_be_deleted() {
    let app = spawn_app().await;

    let response = app.admin(Method::DELETE, "/admin/realms/root", None).await;

    response.assert_error(400, "invalid_request", "DELETE root");
    assert!(response.error_description().contains("root"));
    assert_eq!(realm_names(&app).await, ["alpha", "root"]);
}

#[actix_web::test]
async fn bad_realm_names_are_invalid_request() {
    let app = spawn_app().await;
    let too_long = "a".repeat(65);
    let names = [
        ("Alpha", "upper case"),
        ("a.b", "a dot"),
        ("a%20b", "a space"),
        ("caf%C3%A9", "a non-ASCII letter"),
        (too_long.as_str(), "65 characters"),
    ];
    for (name, what) in names {
        for method in [Method::PUT, Method::GET, Method::DELETE] {
            let message = format!("{method} realm with {what}");
            let body = (method == Method::PUT).then(|| json!({"oauth2_provider": {}}));
            let response = app
                .admin(method, &format!("/admin/realms/{name}"), body.as_ref())
                .await;
            response.assert_error(400, "invalid_request", &message);
        }
        let provider = app
            .admin(
                Method::GET,
                &format!("/admin/realms/{name}/oauth2-provider"),
                None,
            )
            .await;
        provider.assert_error(400, "invalid_request", &format!("provider of {what}"));
    }
    let longest = "a".repeat(64);
    let created = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/{longest}"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(
        created.status, 201,
        "64 characters are fine: {}",
        created.body
    );
}

#[actix_web::test]
async fn unknown_realms_are_not_found() {
    let app = spawn_app().await;
    let routes = [
        (Method::GET, "/admin/realms/nowhere"),
        (Method::DELETE, "/admin/realms/nowhere"),
        (Method::GET, "/admin/realms/nowhere/oauth2-provider"),
        (Method::PUT, "/admin/realms/nowhere/oauth2-provider"),
        (Method::GET, "/admin/realms/nowhere/clients"),
        (Method::GET, "/admin/realms/nowhere/clients/x"),
        (Method::PUT, "/admin/realms/nowhere/clients/x"),
        (Method::DELETE, "/admin/realms/nowhere/clients/x"),
    ];
    for (method, path) in routes {
        let message = format!("{method} {path}");
        let body = (method == Method::PUT).then(|| json!({"client_secret": "s"}));
        let response = app.admin(method, path, body.as_ref()).await;
        response.assert_error(404, "not_found", &message);
    }
    assert_eq!(realm_names(&app).await, ["alpha", "root"]);
}

#[actix_web::test]
async fn provider_settings_can_be_read_and_replaced() {
    let app = spawn_app().await;
    assert_eq!(provider(&app, "alpha").await, provider_settings(true));
    assert_eq!(provider(&app, "root").await, provider_settings(false));
    let mut settings = provider_settings(true);
    settings["client_registration_scope_allowlist"] = json!(["openid", "email", "payments"]);
    settings["default_scopes"] = json!(["openid"]);
    settings["access_token_lifetime_seconds"] = json!(60);

    let response = app
        .admin(
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider",
            Some(&settings),
        )
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body, settings);
    assert_eq!(provider(&app, "alpha").await, settings);
    let client = app
        .register_ok("alpha", &json!({"scope": "openid payments"}))
        .await;
    assert_eq!(client["scopes"], json!(["openid", "payments"]));
    let refused = app.register("alpha", &json!({"scope": "profile"})).await;
    refused.assert_error(400, "invalid_client_metadata", "profile left the allowlist");
}

#[actix_web::test]
async fn provider_settings_left_out_take_their_defaults() {
    let app = spawn_app().await;

    let response = app
        .admin(
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider",
            Some(&json!({})),
        )
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body, provider_settings(false));
}

#[actix_web::test]
async fn turning_open_registration_off_makes_registration_without_a_token_401() {
    let app = spawn_app().await;
    app.register_seed_client("alpha").await;

    app.put_provider("alpha", &provider_settings(false)).await;

    let closed = app.register("alpha", &seed_registration()).await;
    closed.assert_error(401, "access_denied", "alpha closed");
    app.put_provider("alpha", &provider_settings(true)).await;
    let reopened = app.register("alpha", &seed_registration()).await;
    assert_eq!(reopened.status, 201, "{}", reopened.body);
}

#[actix_web::test]
async fn invalid_provider_settings_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let with = |key: &str, value: Value| {
        let mut settings = provider_settings(false);
        settings[key] = value;
        settings
    };
    let cases = [
        (
            with("allow_open_registration", json!(true)),
            "an unknown field",
        ),
        (
            with("default_scopes", json!(["openid", "payments"])),
            "a default scope outside the allowlist",
        ),
        (
            with("allow_open_dynamic_registration", json!("no")),
            "a string for a boolean",
        ),
        (
            with("access_token_lifetime_seconds", json!(0)),
            "a zero token lifetime",
        ),
        (
            with("access_token_lifetime_seconds", json!(-5)),
            "a negative token lifetime",
        ),
        (
            with("dynamic_client_registration_scope", json!(" ")),
            "a blank registration scope",
        ),
        (json!(["not", "an", "object"]), "an array"),
    ];
    for (settings, message) in cases {
        let response = app
            .admin(
                Method::PUT,
                "/admin/realms/alpha/oauth2-provider",
                Some(&settings),
            )
            .await;
        response.assert_error(400, "invalid_request", message);
    }
    let not_json = app
        .request(
            Method::PUT,
            "/admin/realms/alpha/oauth2-provider",
            Some(b"{"),
            Some(ADMIN_TOKEN),
        )
        .await;
    not_json.assert_error(400, "invalid_request", "invalid JSON");

    assert_eq!(provider(&app, "alpha").await, provider_settings(true));
    let still_open = app.register("alpha", &json!({})).await;
    assert_eq!(still_open.status, 201, "{}", still_open.body);
}

#[actix_web::test]
async fn client_pages_walk_every_client_exactly_once() {
    let app = spawn_app().await;
    let realm = json!({"oauth2_provider": {"allow_open_dynamic_registration": true}});
    let created = app
        .admin(Method::PUT, "/admin/realms/paging", Some(&realm))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let mut registered = BTreeSet::new();
    for _ in 0..5 {
        let client = app.register_seed_client("paging").await;
        registered.insert(text(&client, "client_id").to_owned());
    }

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(cursor) => format!("?page_size=2&after={cursor}"),
            None => "?page_size=2".to_owned(),
        };
        let response = app
            .admin(
                Method::GET,
                &format!("/admin/realms/paging/clients{query}"),
                None,
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        let clients = response.body["clients"].as_array().expect("clients");
        pages.push(clients.len());
        for client in clients {
            assert!(client.get("client_secret").is_none(), "{client}");
            assert!(client.get("registration_access_token").is_none());
            seen.push(text(client, "client_id").to_owned());
        }
        match &response.body["next"] {
            Value::Null => break,
            Value::String(cursor) => after = Some(cursor.clone()),
            other => panic!("next is {other}"),
        }
        assert!(pages.len() < 10, "paging does not end: {pages:?}");
    }

    assert_eq!(pages, [2, 2, 1]);
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), registered);
}

#[actix_web::test]
async fn a_guessed_or_mangled_page_cursor_is_invalid_request_not_page_one() {
    let app = spawn_app().await;
    app.register_seed_client("alpha").await;
    app.register_seed_client("alpha").await;
    let first = app
        .admin(Method::GET, "/admin/realms/alpha/clients?page_size=1", None)
        .await;
    let next = first.body["next"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let client_id = text(&first.body["clients"][0], "client_id").to_owned();
    for bad in [client_id.as_str(), "2", "not%20a%20cursor!", &next[1..], ""] {
        let response = app
            .admin(
                Method::GET,
                &format!("/admin/realms/alpha/clients?page_size=1&after={bad}"),
                None,
            )
            .await;
        response.assert_error(400, "invalid_request", &format!("after={bad:?}"));
        assert!(response.error_description().contains("next"));
    }
    let second = app
        .admin(
            Method::GET,
            &format!("/admin/realms/alpha/clients?page_size=1&after={next}"),
            None,
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_ne!(second.body["clients"][0]["client_id"], client_id.as_str());
}

#[actix_web::test]
async fn listing_clients_shows_secrets_only_when_asked() {
    let app = spawn_app().await;
    let client = app.register_seed_client("alpha").await;

    let hidden = app
        .admin(Method::GET, "/admin/realms/alpha/clients", None)
        .await;
    let shown = app
        .admin(
            Method::GET,
            "/admin/realms/alpha/clients?include_secrets=true",
            None,
        )
        .await;

    assert_eq!(hidden.body["next"], Value::Null);
    assert!(hidden.body["clients"][0].get("client_secret").is_none());
    assert_eq!(hidden.body["clients"][0]["client_origin"], "dynamic");
    assert_eq!(
        shown.body["clients"][0]["client_secret"],
        client["client_secret"]
    );
}

#[actix_web::test]
async fn bad_page_sizes_are_invalid_request() {
    let app = spawn_app().await;

    for (page_size, message) in [
        ("0", "zero"),
        ("1001", "above the maximum"),
        ("5000", "far above the maximum"),
        ("-1", "negative"),
        ("two", "not a number"),
        ("", "empty"),
    ] {
        let response = app
            .admin(
                Method::GET,
                &format!("/admin/realms/alpha/clients?page_size={page_size}"),
                None,
            )
            .await;
        response.assert_error(400, "invalid_request", message);
        assert!(
            response.error_description().contains("page_size"),
            "{message}"
        );
    }
    for page_size in ["1", "1000"] {
        let response = app
            .admin(
                Method::GET,
                &format!("/admin/realms/alpha/clients?page_size={page_size}"),
                None,
            )
            .await;
        assert_eq!(
            response.status, 200,
            "page_size={page_size}: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn putting_a_static_client_creates_it_then_replaces_it() {
    let app = spawn_app().await;

    let created = app
        .put_static_client("alpha", "static-service", &registration_service())
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["client_id"], "static-service");
    assert_eq!(created.body["client_origin"], "static");
    assert!(
        created.body.get("client_secret").is_none(),
        "{}",
        created.body
    );

    let mut replacement = registration_service();
    replacement["client_secret"] = json!("rotated");
    replacement["client_name"] = json!("Registration service v2");
    let replaced = app
        .put_static_client("alpha", "static-service", &replacement)
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["client_name"], "Registration service v2");

    let read = app
        .admin(
            Method::GET,
            "/admin/realms/alpha/clients/static-service?include_secrets=true",
            None,
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["client_secret"], "rotated");
    assert_eq!(read.body["client_name"], "Registration service v2");
}

#[actix_web::test]
async fn static_client_documents_are_validated() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "a confidential client without a client_secret"),
        (json!({"client_secret": ""}), "an empty client_secret"),
        (
            json!({"client_secret": "s", "token_endpoint_auth_method": "none"}),
            "a public client with a client_secret",
        ),
        (
            json!({"client_id": "someone-else", "client_secret": "s"}),
            "a client_id other than the path's",
        ),
        (
            json!({"client_secret": "s", "redirect_uris": ["http://client.example.com/cb"]}),
            "a bad redirect URI",
        ),
        (
            json!({"client_secret": "s", "grant_types": ["magic"]}),
            "an unknown grant type",
        ),
        (json!([]), "not an object"),
    ];
    for (document, message) in cases {
        let response = app.put_static_client("alpha", "svc", &document).await;
        response.assert_error(400, "invalid_request", message);
    }
    let missing = app
        .admin(Method::GET, "/admin/realms/alpha/clients/svc", None)
        .await;
    missing.assert_error(404, "not_found", "nothing was created");

    let public = app
        .put_static_client(
            "alpha",
            "svc",
            &json!({"token_endpoint_auth_method": "none"}),
        )
        .await;
    assert_eq!(
        public.status, 201,
        "a public client needs no secret: {}",
        public.body
    );
    assert_eq!(public.body["client_type"], "Public");
}

#[actix_web::test]
async fn static_client_scopes_are_not_limited_by_the_registration_allowlist() {
    let app = spawn_app().await;

    let created = app
        .put_static_client("alpha", "static-service", &registration_service())
        .await;

    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["scopes"],
        json!(["dynamic_client_registration"])
    );
    let dynamic = app
        .register("alpha", &json!({"scopes": ["dynamic_client_registration"]}))
        .await;
    dynamic.assert_error(
        400,
        "invalid_client_metadata",
        "the allowlist still governs dynamic registration",
    );
}

#[actix_web::test]
async fn a_static_client_cannot_take_the_id_of_a_dynamic_client() {
    let app = spawn_app().await;
    let client = app.register_seed_client("alpha").await;
    let client_id = text(&client, "client_id");

    let response = app
        .put_static_client("alpha", client_id, &json!({"client_secret": "mine"}))
        .await;

    response.assert_error(400, "invalid_request", "static over dynamic");
    let read = app
        .manage(
            Method::GET,
            "alpha",
            client_id,
            None,
            Some(text(&client, "registration_access_token")),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["client_secret"], client["client_secret"]);
}

#[actix_web::test]
async fn deleting_a_client_through_the_admin_api_answers_204_then_404() {
    let app = spawn_app().await;
    app.put_static_client("alpha", "static-service", &registration_service())
        .await;
    let dynamic = app.register_seed_client("alpha").await;
    let dynamic_id = text(&dynamic, "client_id");

    for client_id in ["static-service", dynamic_id] {
        let path = format!("/admin/realms/alpha/clients/{client_id}");
        let first = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(first.status, 204, "{client_id}: {}", first.body);
        let second = app.admin(Method::DELETE, &path, None).await;
        second.assert_error(404, "not_found", &format!("{client_id} deleted twice"));
        let read = app.admin(Method::GET, &path, None).await;
        read.assert_error(404, "not_found", &format!("{client_id} read after delete"));
    }
    let managed = app
        .manage(
            Method::GET,
            "alpha",
            dynamic_id,
            None,
            Some(text(&dynamic, "registration_access_token")),
        )
        .await;
    managed.assert_error(401, "invalid_token", "the deleted dynamic client's token");
}
