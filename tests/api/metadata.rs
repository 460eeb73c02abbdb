//! RFC 8414 authorization server metadata: where it is served and what it says.

use crate::helpers::*;
use awc::http::{Method, StatusCode};
use serde_json::json;

const WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";

#[actix_web::test]
async fn metadata_is_served_at_the_path_inserted_and_the_realm_relative_url() {
    let app = spawn_app().await;
    let cases = [
        (
            format!("{WELL_KNOWN}{}", base("alpha")),
            "alpha",
            "RFC 8414 §3.1, alpha",
        ),
        (
            format!("{}{WELL_KNOWN}", base("alpha")),
            "alpha",
            "B/.well-known, alpha",
        ),
        (
            format!("{WELL_KNOWN}{}", base("root")),
            "root",
            "RFC 8414 §3.1, root",
        ),
        (format!("{WELL_KNOWN}/am/oauth2"), "root", "root's alias"),
        (
            format!("/am/oauth2{WELL_KNOWN}"),
            "root",
            "B/.well-known, root's alias",
        ),
    ];
    for (path, realm, message) in cases {
        let response = app.request(Method::GET, &path, None, None).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{message}: {}",
            response.body
        );
        let issuer = format!("{}{}", app.address, base(realm));
        assert_eq!(response.body["issuer"], issuer, "{message}");
        assert_eq!(
            response.body["token_endpoint"],
            format!("{issuer}/access_token"),
            "{message}"
        );
    }
}

#[actix_web::test]
async fn metadata_lists_only_what_the_realm_serves() {
    let app = spawn_app().await;
    let response = app
        .request(
            Method::GET,
            &format!("{WELL_KNOWN}{}", base("alpha")),
            None,
            None,
        )
        .await;
    let issuer = format!("{}{}", app.address, base("alpha"));
    let doc = &response.body;
    assert_eq!(doc["registration_endpoint"], format!("{issuer}/register"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/connect/jwk_uri"));
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{issuer}/introspect")
    );
    assert_eq!(doc["grant_types_supported"], json!(["client_credentials"]));
    // No authorization endpoint, so no response type is served (RFC 8414 §2).
    assert!(doc.get("authorization_endpoint").is_none());
    assert_eq!(doc["response_types_supported"], json!([]));
    assert!(doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("private_key_jwt")));
    assert!(doc["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("dynamic_client_registration")));
}

#[actix_web::test]
async fn metadata_of_an_unknown_realm_is_404_and_other_methods_are_405() {
    let app = spawn_app().await;
    let unknown = app
        .request(
            Method::GET,
            &format!("{WELL_KNOWN}{}", base("nowhere")),
            None,
            None,
        )
        .await;
    unknown.assert_error(404, "not_found", "unknown realm");
    let post = app
        .request(
            Method::POST,
            &format!("{WELL_KNOWN}{}", base("alpha")),
            Some(b"{}"),
            None,
        )
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED, "{}", post.body);
}
