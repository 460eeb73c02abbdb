//! Issue 9, many realms: a new realm has no RSA key until its key set is first published
//! (creation stays fast), an idle realm's actor is stopped and starts again on its next
//! request, and the realm listing pages.

use crate::helpers::*;
use crate::statement_helpers::*;
use awc::http::{Method, StatusCode};
use josekit::jwe;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Creates `realm` with open registration and the seed's HS256 publisher; asserts 201.
async fn create_realm(app: &Api, realm: &str) {
    let document = json!({
        "oauth2_provider": {"allow_open_dynamic_registration": true},
        "software_publishers": [{
            "agent_id": "seed", "issuer": "https://publisher.example.com",
            "signing_algorithm": "HS256", "secret": "secret",
        }],
    });
    let response = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/{realm}"),
            Some(&document),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
}

/// The realm's stored keys, from its complete export.
async fn stored_keys(app: &Api, realm: &str) -> Value {
    let export = app
        .admin(
            Method::GET,
            &format!("/admin/realms/{realm}/export?include_secrets=true"),
            None,
        )
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    export.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry[0] == "keys")
        .map(|entry| entry[1].clone())
        .unwrap_or_else(|| panic!("no keys entry in {}", export.body))
}

/// `B/connect/jwk_uri` of `realm`.
async fn key_set(app: &Api, realm: &str) -> Value {
    let response = app
        .request(
            Method::GET,
            &format!("{}/connect/jwk_uri", base(realm)),
            None,
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body
}

fn rsa_kid(jwks: &Value) -> Option<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "RSA" && k["use"] == "enc")
        .map(|k| k["kid"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn a_new_realm_gets_its_rsa_key_at_the_first_jwk_uri_fetch_and_keeps_it_after_a_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let (first, stop) = start_over(data_dir.path()).await;
    create_realm(&first, "fresh").await;
    let keys = stored_keys(&first, "fresh").await;
    assert!(keys.get("encryption").is_none(), "{keys}");
    assert!(keys["ecdh_encryption"].is_object() && keys["signing"][0].is_object());
    // Discovery publishes nothing new; only the key set makes the RSA key.
    let discovery = first
        .request(
            Method::GET,
            &format!("{}/.well-known/openid-configuration", base("fresh")),
            None,
            None,
        )
        .await;
    assert_eq!(discovery.status, StatusCode::OK);
    assert!(stored_keys(&first, "fresh")
        .await
        .get("encryption")
        .is_none());

    // Concurrent first fetches make one key, and every answer lists it.
    let fetches = (0..4)
        .map(|_| {
            let api = first.clone();
            async move { key_set(&api, "fresh").await }
        })
        .collect();
    let kids: Vec<Option<String>> = join_local(fetches).await.iter().map(rsa_kid).collect();
    let kid = kids[0].clone().expect("the RSA key is published");
    assert!(
        kids.iter().all(|k| k.as_deref() == Some(kid.as_str())),
        "{kids:?}"
    );
    assert_eq!(stored_keys(&first, "fresh").await["encryption"]["kid"], kid);
    stop.stop(true).await;

    let restarted = tempfile::tempdir().unwrap();
    copy_dir(data_dir.path(), restarted.path());
    let (second, stop) = start_over(restarted.path()).await;
    let jwks = key_set(&second, "fresh").await;
    assert_eq!(rsa_kid(&jwks).as_deref(), Some(kid.as_str()), "{jwks}");
    stop.stop(true).await;
}

#[actix_web::test]
async fn an_rsa_oaep_statement_to_a_new_realm_registers_once_its_key_set_is_fetched() {
    let app = spawn_app().await;
    create_realm(&app, "fresh").await;
    // A publisher encrypts to the key it finds in the realm's key set.
    let key = app.realm_encryption_key("fresh", "RSA").await;
    let inner = seed_like_statement(&seed_claims());
    let encrypter = jwe::RSA_OAEP.encrypter_from_jwk(&key).unwrap();
    let statement = encrypt(inner.as_bytes(), "A128CBC-HS256", false, &encrypter);
    let response = app
        .register_with_statement("fresh", seed_registration(), &statement)
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["software_statement"], statement);
}

/// `dynreg_realms_active` from `/metrics`.
async fn running_realms(app: &Api) -> u64 {
    let metrics = app.request(Method::GET, "/metrics", None, None).await;
    let text = String::from_utf8(metrics.raw).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("dynreg_realms_active "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no dynreg_realms_active in {text}"))
}

#[actix_web::test]
async fn realms_created_one_after_another_each_get_their_own_keys() {
    let app = spawn_app().await;
    let mut kids = std::collections::HashSet::new();
    for index in 0..10 {
        let realm = format!("keyed-{index}");
        create_realm(&app, &realm).await;
        let keys = stored_keys(&app, &realm).await;
        for key in [&keys["signing"][0], &keys["ecdh_encryption"]] {
            let kid = key["kid"].as_str().unwrap().to_owned();
            assert!(kids.insert(kid), "a key was given to two realms: {keys}");
        }
    }
}

#[actix_web::test]
async fn a_created_realm_answers_with_its_export_and_stays_dormant_until_its_first_request() {
    let app = spawn_app().await;
    let running_before = running_realms(&app).await;
    let document = json!({
        "oauth2_provider": {"allow_open_dynamic_registration": true, "default_scopes": ["openid"]},
        "software_publishers": [
            {"agent_id": "zeta", "issuer": "https://zeta.example.com",
             "signing_algorithm": "HS256", "secret": "zeta-secret"},
            {"agent_id": "alpha", "issuer": "https://alpha.example.com",
             "signing_algorithm": "HS256", "secret": "alpha-secret"},
        ],
        "clients": [
            {"client_id": "service-b", "client_secret": "b-secret",
             "grant_types": ["client_credentials"], "scopes": ["dynamic_client_registration"]},
            {"client_id": "service-a", "client_secret": "a-secret",
             "grant_types": ["client_credentials"]},
        ],
    });

    let created = app
        .admin(Method::PUT, "/admin/realms/fresh-doc", Some(&document))
        .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        running_realms(&app).await,
        running_before,
        "creating a realm does not start it"
    );
    let exported = app
        .admin(Method::GET, "/admin/realms/fresh-doc", None)
        .await;
    assert_eq!(exported.status, StatusCode::OK, "{}", exported.body);
    assert_eq!(running_realms(&app).await, running_before + 1);
    assert_eq!(
        created.body, exported.body,
        "the creation answers what the realm reads back"
    );
    assert_eq!(created.body["software_publishers"][0]["agent_id"], "alpha");
    assert_eq!(created.body["clients"][0]["client_id"], "service-a");
    assert!(created.body["clients"][0].get("client_secret").is_none());
    assert_eq!(
        created.body["oauth2_provider"]["default_scopes"],
        json!(["openid"])
    );
}

#[actix_web::test]
async fn an_idle_realm_is_stopped_and_its_next_request_starts_it_with_its_data() {
    let app = spawn_app_with(|s| s.realm_idle_seconds = 1).await;
    create_realm(&app, "sleepy").await;
    let client = app.register_ok("sleepy", &seed_registration()).await;
    let client_id = text(&client, "client_id");
    let token = text(&client, "registration_access_token");
    assert!(running_realms(&app).await >= 1);

    // Every realm goes idle: the sweep (every second here) stops them all.
    let deadline = Instant::now() + Duration::from_secs(30);
    while running_realms(&app).await > 0 {
        assert!(Instant::now() < deadline, "idle realms were not stopped");
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
    let read = app
        .manage(Method::GET, "sleepy", client_id, None, Some(token))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["client_id"], client_id);
    assert_eq!(running_realms(&app).await, 1);
    // The stored count of dynamic clients came back with it.
    let second = app.register_ok("sleepy", &seed_registration()).await;
    assert_ne!(second["client_id"], client["client_id"]);
}

#[actix_web::test]
async fn the_realm_listing_pages_in_name_order_with_an_opaque_cursor() {
    let app = spawn_app().await;
    for realm in ["page-c", "page-a", "page-b"] {
        create_realm(&app, realm).await;
    }
    let all = app.admin(Method::GET, "/admin/realms", None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body["next"].is_null(), "{}", all.body);
    let expected: Vec<String> = all.body["realms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap().to_owned())
        .collect();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(expected, sorted);
    assert!(expected.contains(&"page-b".to_owned()));

    let mut walked: Vec<String> = Vec::new();
    let mut path = "/admin/realms?page_size=2".to_owned();
    for _ in 0..expected.len() {
        let page = app.admin(Method::GET, &path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let names = page.body["realms"].as_array().unwrap();
        assert!(names.len() <= 2);
        walked.extend(names.iter().map(|n| n.as_str().unwrap().to_owned()));
        match page.body["next"].as_str() {
            Some(next) => path = format!("/admin/realms?page_size=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(walked, expected);

    for bad in [
        "/admin/realms?page_size=0",
        "/admin/realms?page_size=10001",
        "/admin/realms?after=page-a",
    ] {
        app.admin(Method::GET, bad, None)
            .await
            .assert_error(400, "invalid_request", bad);
    }
}
