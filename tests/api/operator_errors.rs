//! Issue 12 item 6: errors that tell the user what to do instead of leaving them guessing.

use crate::helpers::*;
use awc::http::Method;
use dynreg::config::Settings;
use dynreg::startup::Application;

#[actix_web::test]
async fn a_missing_registration_token_is_named_as_missing_not_invalid() {
    let app = spawn_app().await;
    let client = app.register_seed_client("alpha").await;
    let client_id = text(&client, "client_id");
    for method in [Method::GET, Method::DELETE] {
        let missing = app
            .manage(method.clone(), "alpha", client_id, None, None)
            .await;
        missing.assert_error(401, "invalid_token", &format!("{method} without a token"));
        assert!(
            missing
                .error_description()
                .contains("Authorization: Bearer"),
            "{method}: {}",
            missing.error_description()
        );
        assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

        let wrong = app
            .manage(method.clone(), "alpha", client_id, None, Some("wrong"))
            .await;
        wrong.assert_error(
            401,
            "invalid_token",
            &format!("{method} with a wrong token"),
        );
        assert!(
            wrong.error_description().contains("not valid"),
            "{method}: {}",
            wrong.error_description()
        );
    }
}

#[actix_web::test]
async fn a_form_encoded_registration_body_gets_a_hint_to_send_json() {
    let app = spawn_app().await;
    let form = app
        .request_raw(
            Method::POST,
            &register_path("alpha"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(b"redirect_uris=https%3A%2F%2Fa.example.com%2Fcb&client_name=x".to_vec()),
        )
        .await;
    form.assert_error(400, "invalid_client_metadata", "form-encoded body");
    assert!(
        form.error_description().contains("form-encoded")
            && form.error_description().contains("application/json"),
        "{}",
        form.error_description()
    );

    let broken_json = app
        .request(
            Method::POST,
            &register_path("alpha"),
            Some(b"{\"a\": "),
            None,
        )
        .await;
    broken_json.assert_error(400, "invalid_client_metadata", "truncated JSON");
    assert!(
        !broken_json.error_description().contains("form-encoded"),
        "no form hint for broken JSON: {}",
        broken_json.error_description()
    );
}

#[actix_web::test]
async fn a_trailing_slash_on_a_known_path_says_which_path_was_meant() {
    let app = spawn_app().await;
    let path = format!("{}/", register_path("alpha"));
    let response = app.post_json(&path, &seed_registration(), None).await;
    response.assert_error(404, "not_found", "trailing slash");
    assert!(
        response
            .error_description()
            .contains(&format!("did you mean {}", register_path("alpha"))),
        "{}",
        response.error_description()
    );
    let unknown = app.request(Method::GET, "/no/such/path/", None, None).await;
    unknown.assert_error(404, "not_found", "unknown path with a slash");
    assert!(!unknown.error_description().contains("did you mean"));
}

/// Each resource's `Allow` list against its routes: every listed method is routed (no 405),
/// and an unlisted one is refused with the list.
#[actix_web::test]
async fn every_405_lists_the_allowed_methods_and_each_listed_method_is_routed() {
    let app = spawn_app().await;
    let paths = [
        "/health".to_owned(),
        "/metrics".to_owned(),
        register_path("alpha"),
        format!("{}/access_token", base("alpha")),
        format!("{}/introspect", base("alpha")),
        format!("{}/.well-known/openid-configuration", base("root")),
        format!("{}/connect/jwk_uri", base("root")),
        "/admin/realms".to_owned(),
        "/admin/realms/alpha".to_owned(),
        "/admin/realms/alpha/oauth2-provider".to_owned(),
        "/admin/realms/alpha/software-publishers".to_owned(),
        "/admin/realms/alpha/software-publishers/nobody".to_owned(),
        "/admin/realms/alpha/keys/rotate".to_owned(),
        "/admin/realms/alpha/clients".to_owned(),
        "/admin/realms/alpha/clients/nobody".to_owned(),
    ];
    for path in &paths {
        let refused = app
            .request(Method::PATCH, path, None, Some(ADMIN_TOKEN))
            .await;
        refused.assert_error(405, "invalid_request", path);
        let allow = refused
            .header("allow")
            .unwrap_or_else(|| panic!("{path}: no Allow header"))
            .to_owned();
        assert!(!allow.is_empty(), "{path}");
        for method in allow.split(", ") {
            // Only safe probes: a listed method must route, which a GET/HEAD-free check
            // cannot show for writes, so writes go to a realm that does not exist.
            let probe_path = path.replace("/alpha", "/no-such-realm");
            let method = Method::from_bytes(method.as_bytes()).expect("method name");
            let response = app
                .request(method.clone(), &probe_path, Some(b"{}"), Some(ADMIN_TOKEN))
                .await;
            assert_ne!(
                response.status.as_u16(),
                405,
                "{path}: {method} is in Allow but not routed"
            );
        }
    }
}

#[actix_web::test]
async fn a_second_server_on_the_same_data_dir_says_another_dynreg_is_using_it() {
    let app = spawn_app().await;
    let data_dir = app.data_dir.path().join("data");
    let settings = Settings::for_data_dir(data_dir.clone(), repo_realms_dir());
    let error = match Application::build(settings).await {
        Ok(_) => panic!("a second server opened a locked data directory"),
        Err(e) => e,
    };
    assert!(
        error.contains("another dynreg is using")
            && error.contains(&data_dir.display().to_string()),
        "{error}"
    );
}

#[actix_web::test]
async fn public_url_must_be_an_http_url_with_a_host_and_no_query_or_fragment() {
    for bad in [
        "id.example.com",
        "id.example.com:8443",
        "ftp://id.example.com",
        "https://",
        "https://id.example.com/?x=1",
        "https://id.example.com/#top",
        "https://user:pw@id.example.com",
    ] {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::for_data_dir(data_dir.path().join("data"), repo_realms_dir());
        settings.public_url = Some(bad.to_owned());
        let error = match Application::build(settings).await {
            Ok(_) => panic!("--public-url {bad:?} was accepted"),
            Err(e) => e,
        };
        assert!(error.contains("--public-url"), "{bad}: {error}");
    }
    let app = spawn_app_with(|s| s.public_url = Some("https://id.example.com/auth/".into())).await;
    let discovery = app
        .request(
            Method::GET,
            &format!("{}/.well-known/openid-configuration", base("alpha")),
            None,
            None,
        )
        .await;
    assert_eq!(
        discovery.body["issuer"],
        "https://id.example.com/auth/am/oauth2/realms/root/realms/alpha"
    );
}
