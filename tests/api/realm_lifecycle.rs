//! Realm lifecycle (issue 8, "realm lifecycle races" and "realm creation not crash-atomic"):
//! a realm is visible only with its whole document applied, a half-created realm left by a
//! crash does not exist, and requests running while their realm is deleted get 404, not 500.

use crate::helpers::*;
use awc::http::Method;
use dynreg::store::Store;
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Registers in `realm` again and again until `stop` says so (or 30 s pass); returns every
/// status seen, in order.
async fn keep_registering(api: Api, realm: &'static str, stop: Rc<RefCell<bool>>) -> Vec<u16> {
    let started = Instant::now();
    let mut statuses = Vec::new();
    while !*stop.borrow() && started.elapsed() < Duration::from_secs(30) {
        let response = api.register(realm, &seed_registration()).await;
        if response.status.is_server_error() || response.status == 401 {
            // Kept for the assertion message.
            eprintln!("{realm}: {} {}", response.status, response.body);
        }
        statuses.push(response.status.as_u16());
        if response.status == 404 {
            actix_rt::time::sleep(Duration::from_millis(2)).await;
        }
    }
    statuses
}

#[actix_web::test]
async fn registrations_racing_a_realm_creation_see_no_realm_or_the_whole_document() {
    let app = spawn_app().await;
    let stop = Rc::new(RefCell::new(false));
    let racers: Vec<_> = (0..4)
        .map(|_| actix_rt::spawn(keep_registering(app.api.clone(), "fresh", stop.clone())))
        .collect();
    actix_rt::time::sleep(Duration::from_millis(20)).await;
    // Default settings refuse open registration; the document allows it.
    let created = app
        .admin(
            Method::PUT,
            "/admin/realms/fresh",
            Some(&json!({"oauth2_provider": {"allow_open_dynamic_registration": true}})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    *stop.borrow_mut() = true;
    let mut seen = Vec::new();
    for racer in racers {
        seen.extend(racer.await.expect("racer"));
    }
    assert!(
        seen.contains(&404),
        "no registration ran before the creation"
    );
    assert!(
        seen.contains(&201),
        "no registration ran after the creation"
    );
    assert!(
        seen.iter().all(|status| *status == 404 || *status == 201),
        "a registration saw the realm before its document was applied: {seen:?}"
    );
}

#[actix_web::test]
async fn requests_running_while_their_realm_is_deleted_get_404_never_500() {
    let app = spawn_app().await;
    for round in 0..3 {
        let created = app
            .admin(
                Method::PUT,
                "/admin/realms/doomed",
                Some(&json!({"oauth2_provider": {"allow_open_dynamic_registration": true}})),
            )
            .await;
        assert_eq!(created.status, 201, "round {round}: {}", created.body);
        let stop = Rc::new(RefCell::new(false));
        let racers: Vec<_> = (0..6)
            .map(|_| actix_rt::spawn(keep_registering(app.api.clone(), "doomed", stop.clone())))
            .collect();
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        let deleted = app
            .admin(Method::DELETE, "/admin/realms/doomed", None)
            .await;
        assert_eq!(deleted.status, 204, "{}", deleted.body);
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        *stop.borrow_mut() = true;
        let mut seen = Vec::new();
        for racer in racers {
            seen.extend(racer.await.expect("racer"));
        }
        assert!(
            seen.contains(&201),
            "round {round}: nothing ran before the deletion"
        );
        assert!(
            seen.contains(&404),
            "round {round}: nothing ran after the deletion"
        );
        assert!(
            seen.iter().all(|status| [201, 404, 503].contains(status)),
            "round {round}: {seen:?}"
        );
    }
}

#[actix_web::test]
async fn a_realm_left_half_created_by_a_crash_is_imported_again_from_its_file() {
    // Keys under alpha's prefix without its index entry: what a failed creation can leave.
    let app = spawn_app_with(|settings| {
        let store = Store::open(&settings.data_dir.join("sled"), 1 << 20).expect("store");
        let leftover = json!({"origin": "static", "profile": {"client_id": "stale"}});
        store
            .realm_tree("alpha")
            .expect("tree")
            .put("client/stale", &leftover)
            .expect("put");
        store.flush_now().expect("flush");
    })
    .await;
    // realms/alpha.json allows open registration; an empty alpha would have the defaults.
    app.register_seed_client("alpha").await;
    let exported = app.admin(Method::GET, "/admin/realms/alpha", None).await;
    assert_eq!(exported.status, 200, "{}", exported.body);
    assert_eq!(
        exported.body["oauth2_provider"]["allow_open_dynamic_registration"],
        true
    );
    // The leftovers went with the failed creation: they are not part of the new alpha.
    let stale = app
        .admin(Method::GET, "/admin/realms/alpha/clients/stale", None)
        .await;
    assert_eq!(stale.status, 404, "{}", stale.body);
}

#[actix_web::test]
async fn a_data_dir_in_the_per_realm_tree_layout_is_migrated_and_its_clients_still_served() {
    // A realm with a registered client, as entries: what the per-realm-tree layout stored
    // (one sled tree per realm, keys relative to the realm).
    let source = spawn_app().await;
    let client = source.register_seed_client("alpha").await;
    let export = source
        .admin(
            Method::GET,
            "/admin/realms/alpha/export?include_secrets=true",
            None,
        )
        .await;
    assert_eq!(export.status, 200, "{}", export.body);
    let entries = export.body["entries"].as_array().expect("entries").clone();

    let app = spawn_app_with(|settings| {
        let db = sled::open(settings.data_dir.join("sled")).expect("sled");
        let legacy = db.open_tree("realm/legacy").expect("tree");
        for entry in &entries {
            let key = entry[0].as_str().expect("key");
            legacy
                .insert(key, serde_json::to_vec(&entry[1]).expect("value"))
                .expect("insert");
        }
        db.flush().expect("flush");
    })
    .await;
    let read = app
        .manage(
            Method::GET,
            "legacy",
            text(&client, "client_id"),
            None,
            Some(text(&client, "registration_access_token")),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["client_name#en"], "My Client");
    let realms = app.admin(Method::GET, "/admin/realms", None).await;
    assert!(
        realms.body["realms"]
            .as_array()
            .is_some_and(|names| names.contains(&json!("legacy"))),
        "{}",
        realms.body
    );
}
