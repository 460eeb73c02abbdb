//! Issue 8, "secrets in `Debug`": every value that carries a secret, a private key, a token
//! or a client assertion prints without it, so no `{:?}` in a log line or a panic leaks one.

use super::record::{ClientOrigin, ClientRecord};
use super::settings::{ProviderSettings, RealmDocument, StaticClient};
use super::token::{ClientCredentials, IssuedToken, TokenRequest};
use super::Registered;
use crate::jose::StoredKeys;
use crate::registration::{validate, ClientProfile, ManagementCredentials};
use crate::secret::Secret;
use crate::software_statement::PublisherDocument;
use serde_json::{json, Map, Value};

const SECRET: &str = "s3cret-that-must-never-show";

fn assert_redacted(what: &str, debug: String) {
    assert!(
        !debug.contains(SECRET),
        "{what} shows its secret through Debug: {debug}"
    );
}

fn profile() -> ClientProfile {
    let settings = ProviderSettings::default();
    let metadata = validate(&Map::new(), &settings.static_client_policy()).unwrap();
    ClientProfile {
        client_id: "client".into(),
        client_secret: Some(Secret::new(SECRET)),
        client_id_issued_at: 1,
        metadata,
    }
}

#[test]
fn realm_private_keys_do_not_show_through_debug() {
    let keys = StoredKeys::generate().unwrap().with_rsa_key();
    let pem = keys.signing[0].private_pem.expose().to_owned();
    assert!(pem.contains("PRIVATE KEY"));
    let debug = format!("{keys:?}");
    assert!(
        !debug.contains(&pem) && !debug.contains("PRIVATE KEY"),
        "{debug}"
    );
    assert!(!format!("{:?}", keys.encryption).contains("PRIVATE KEY"));
}

#[test]
fn client_secrets_do_not_show_through_debug() {
    let record = ClientRecord {
        profile: profile(),
        origin: ClientOrigin::Static,
        registration_token: None,
        allowed_resources: Vec::new(),
        previous_registration_token: None,
    };
    assert_redacted("ClientProfile", format!("{:?}", record.profile));
    assert_redacted("ClientRecord", format!("{record:?}"));
    let registered = Registered {
        profile: profile(),
        registration_access_token: Some(Secret::new(SECRET)),
    };
    assert_redacted("Registered", format!("{registered:?}"));
    let credentials = ManagementCredentials {
        registration_access_token: Some(Secret::new(SECRET)),
        registration_client_uri: None,
    };
    assert_redacted("ManagementCredentials", format!("{credentials:?}"));
    let document: Map<String, Value> =
        serde_json::from_value(json!({"client_id": "svc", "client_secret": SECRET})).unwrap();
    let client = StaticClient::parse(&document, &ProviderSettings::default(), None).unwrap();
    assert_redacted("StaticClient", format!("{client:?}"));
    let realm = RealmDocument {
        clients: vec![document],
        ..RealmDocument::default()
    };
    assert_redacted("RealmDocument", format!("{realm:?}"));
}

#[test]
fn publisher_secrets_do_not_show_through_debug() {
    let document: PublisherDocument = serde_json::from_value(json!({
        "issuer": "https://p.example.com", "signing_algorithm": "HS256", "secret": SECRET
    }))
    .unwrap();
    assert_redacted("PublisherDocument", format!("{document:?}"));
    let realm = RealmDocument {
        software_publishers: vec![document],
        ..RealmDocument::default()
    };
    assert_redacted("RealmDocument", format!("{realm:?}"));
}

#[test]
fn token_endpoint_credentials_and_tokens_do_not_show_through_debug() {
    for credentials in [
        ClientCredentials::Assertion {
            client_id: Some("client".into()),
            assertion: Secret::new(SECRET),
        },
        ClientCredentials::Basic {
            client_id: "client".into(),
            secret: Secret::new(SECRET),
        },
        ClientCredentials::Post {
            client_id: "client".into(),
            secret: Secret::new(SECRET),
        },
    ] {
        let request = TokenRequest {
            grant_type: Some("client_credentials".into()),
            scope: None,
            resources: Vec::new(),
            credentials,
        };
        assert_redacted("TokenRequest", format!("{request:?}"));
    }
    let issued = IssuedToken {
        access_token: Secret::new(SECRET),
        expires_in: 3600,
        scope: String::new(),
    };
    assert_redacted("IssuedToken", format!("{issued:?}"));
}
