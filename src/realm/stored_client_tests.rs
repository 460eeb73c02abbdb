//! Stored client records: the checked-in bytes of every schema version decode to what the
//! server answered when it wrote them, version 1 re-encodes byte for byte, and any
//! registered metadata survives a round trip.

use super::record::{ClientOrigin, ClientRecord, TokenMatch};
use crate::registration::{
    validate, ClientMetadata, ClientProfile, ManagementCredentials, RegistrationPolicy,
    ResponseProfile,
};
use crate::secret::Secret;
use serde_json::{json, Map, Value};

/// A stored record as a server wrote it, with what that server answered about the client.
struct Fixture {
    name: &'static str,
    stored: &'static str,
    /// The body of the RFC 7592 read (dynamic clients) or of the admin API's client read with
    /// `include_secrets=true` (static clients).
    answered: &'static str,
    /// Registration access tokens: `{"current": ..., "previous": ...}` as far as known.
    tokens: &'static str,
}

macro_rules! fixture {
    ($name:literal) => {
        Fixture {
            name: $name,
            stored: include_str!(concat!("fixtures/stored_clients/", $name, ".stored.json")),
            answered: include_str!(concat!("fixtures/stored_clients/", $name, ".answered.json")),
            tokens: include_str!(concat!("fixtures/stored_clients/", $name, ".tokens.json")),
        }
    };
}

/// Version 1 records of this server, and version 0 ones written before records had a version.
fn fixtures() -> [(u32, Fixture); 5] {
    [
        (1, fixture!("v1-dynamic-confidential")),
        (1, fixture!("v1-dynamic-public")),
        (1, fixture!("v1-static-with-resources")),
        (1, fixture!("v1-previous-token-in-grace")),
        (0, fixture!("v0-dynamic-confidential")),
    ]
}

fn decode(stored: &str) -> ClientRecord {
    serde_json::from_str(stored.trim_end()).unwrap()
}

fn encode(record: &ClientRecord) -> String {
    serde_json::to_string(record).unwrap()
}

#[test]
fn every_checked_in_record_decodes_to_what_the_server_answered_when_it_stored_it() {
    for (_, fixture) in fixtures() {
        let record = decode(fixture.stored);
        let answered: Map<String, Value> = serde_json::from_str(fixture.answered).unwrap();
        match record.origin {
            ClientOrigin::Dynamic => {
                let rendered = record
                    .profile
                    .view(&ManagementCredentials::default(), ResponseProfile::Standard)
                    .to_json_bytes()
                    .unwrap();
                let rendered = String::from_utf8(rendered).unwrap();
                assert_eq!(rendered, fixture.answered.trim_end(), "{}", fixture.name);
            }
            ClientOrigin::Static => {
                let mut expected = answered.clone();
                assert_eq!(expected.remove("client_origin"), Some(json!("static")));
                assert_eq!(record.static_document(), expected, "{}", fixture.name);
            }
        }
    }
}

#[test]
fn checked_in_records_keep_their_registration_tokens() {
    for (_, fixture) in fixtures() {
        let record = decode(fixture.stored);
        let tokens: Map<String, Value> = serde_json::from_str(fixture.tokens).unwrap();
        let hash = |which: &str| {
            tokens
                .get(which)
                .and_then(Value::as_str)
                .map(|token| Secret::new(token).hash())
        };
        if let Some(current) = hash("current") {
            let matched = record.match_registration_token(&current, false);
            assert_eq!(matched, Some(TokenMatch::Current), "{}", fixture.name);
        }
        if let Some(previous) = hash("previous") {
            let with_grace = record.match_registration_token(&previous, true);
            assert_eq!(with_grace, Some(TokenMatch::Previous), "{}", fixture.name);
            assert_eq!(record.match_registration_token(&previous, false), None);
        }
        let wrong = Secret::new("not-a-token").hash();
        assert_eq!(record.match_registration_token(&wrong, true), None);
    }
}

#[test]
fn version_1_records_re_encode_byte_for_byte_and_older_ones_are_written_as_version_1() {
    for (version, fixture) in fixtures() {
        let record = decode(fixture.stored);
        let written = encode(&record);
        if version == 1 {
            assert_eq!(written, fixture.stored.trim_end(), "{}", fixture.name);
        } else {
            assert!(written.starts_with(r#"{"v":1,"#), "{}", fixture.name);
            assert!(written.len() * 4 < fixture.stored.len(), "{}", fixture.name);
            let again = decode(&written);
            assert_eq!(again.profile, record.profile, "{}", fixture.name);
            assert_eq!(again.registration_token, record.registration_token);
        }
    }
}

#[test]
fn the_static_fixture_keeps_its_allowed_resources_and_the_public_one_has_no_secret() {
    let [_, (_, public), (_, static_client), ..] = fixtures();
    let public = decode(public.stored);
    assert!(public.profile.client_secret.is_none());
    assert!(public.profile.metadata.is_public());
    let static_client = decode(static_client.stored);
    assert_eq!(static_client.origin, ClientOrigin::Static);
    assert!(!static_client.allowed_resources.is_empty());
}

fn policy_free(request: Value) -> ClientMetadata {
    let policy = RegistrationPolicy {
        scope_allowlist: None,
        default_scopes: &["openid".to_owned()],
        may_set_info_uris: true,
    };
    validate(request.as_object().unwrap(), &policy).unwrap()
}

fn record(metadata: ClientMetadata, origin: ClientOrigin) -> ClientRecord {
    let public = metadata.is_public();
    ClientRecord {
        profile: ClientProfile {
            client_id: "0b8e9c1e-3c55-4d0f-9d4e-1b2f3a4b5c6d".into(),
            client_secret: (!public).then(|| Secret::generate().unwrap()),
            client_id_issued_at: 1_764_467_531,
            metadata,
        },
        origin,
        registration_token: Some(Secret::generate().unwrap().hash()),
        previous_registration_token: Some(Secret::generate().unwrap().hash()),
        allowed_resources: vec!["https://api.example.com".into()],
    }
}

/// Every member set to something other than its default.
fn everything_registered() -> Value {
    serde_json::from_str(
        r#"{
            "redirect_uris": ["https://a.example/cb", "https://a.example/cb2"],
            "token_endpoint_auth_method": "private_key_jwt",
            "client_type": "Public",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code", "code id_token"],
            "scope": "openid profile",
            "default_scopes": ["openid"],
            "client_name": "Demo",
            "client_name#ja-Jpan-JP": "デモ",
            "tos_uri": "https://a.example/tos",
            "contacts": ["ops@a.example"],
            "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AQ", "y": "Ag"}]},
            "jwks_cache_timeout": 5,
            "jwks_cache_miss_cache_time": 6,
            "sector_identifier_uri": "https://a.example/sector",
            "subject_type": "pairwise",
            "id_token_signed_response_alg": "ES256",
            "id_token_encrypted_response_alg": "RSA-OAEP-256",
            "id_token_encrypted_response_enc": "A256GCM",
            "userinfo_signed_response_alg": "ES256",
            "userinfo_encrypted_response_alg": "RSA-OAEP",
            "userinfo_encrypted_response_enc": "A128GCM",
            "request_object_signing_alg": "PS256",
            "request_object_encryption_alg": "RSA-OAEP",
            "request_object_encryption_enc": "A128GCM",
            "token_endpoint_auth_signing_alg": "ES256",
            "introspection_signed_response_alg": "ES384",
            "introspection_encrypted_response_alg": "RSA-OAEP-256",
            "introspection_encrypted_response_enc": "A192GCM",
            "authorization_signed_response_alg": "ES512",
            "authorization_encrypted_response_alg": "ECDH-ES",
            "authorization_encrypted_response_enc": "A256GCM",
            "token_intro_response_format_selector": "SIGNED_THEN_ENCRYPTED_JWT",
            "default_max_age": 300,
            "require_auth_time": true,
            "default_acr_values": ["gold"],
            "initiate_login_uri": "https://a.example/login",
            "request_uris": ["https://a.example/req"],
            "post_logout_redirect_uris": ["https://a.example/bye"],
            "backchannel_logout_uri": "https://a.example/bc",
            "backchannel_logout_session_required": true,
            "tls_client_certificate_bound_access_tokens": true,
            "require_pushed_authorization_requests": true,
            "authorization_code_lifetime": 1,
            "access_token_lifetime": 2,
            "refresh_token_lifetime": 3,
            "jwt_token_lifetime": 4,
            "software_id": "sw",
            "software_version": "1.0",
            "software_statement": "eyJhbGciOiJub25lIn0.e30."
        }"#,
    )
    .unwrap()
}

#[test]
fn any_registered_metadata_survives_a_round_trip_without_nulls() {
    let requests = [
        everything_registered(),
        json!({}),
        json!({"token_endpoint_auth_method": "none"}),
        json!({"jwks_uri": "https://a.example/jwks", "client_type": "Confidential",
               "token_endpoint_auth_method": "private_key_jwt"}),
        json!({"application_type": "native", "redirect_uris": ["com.example.app:/cb"]}),
    ];
    for request in requests {
        for origin in [ClientOrigin::Dynamic, ClientOrigin::Static] {
            let original = record(policy_free(request.clone()), origin);
            let stored = encode(&original);
            assert!(!stored.contains("null"), "{stored}");
            let back = decode(&stored);
            assert_eq!(back.profile, original.profile, "{stored}");
            assert_eq!(back.origin, original.origin);
            assert_eq!(back.allowed_resources, original.allowed_resources);
            assert_eq!(back.registration_token, original.registration_token);
            assert_eq!(
                back.previous_registration_token,
                original.previous_registration_token
            );
        }
    }
}

#[test]
fn a_client_with_default_metadata_stores_only_what_the_server_decided_and_its_scopes() {
    let mut client = record(policy_free(json!({})), ClientOrigin::Dynamic);
    client.profile.client_secret = Some(Secret::new("s"));
    client.registration_token = None;
    client.previous_registration_token = None;
    client.allowed_resources.clear();
    assert_eq!(
        encode(&client),
        r#"{"v":1,"id":"0b8e9c1e-3c55-4d0f-9d4e-1b2f3a4b5c6d","sec":"s","iat":1764467531,"m":{"sc":["openid"]}}"#
    );
}

/// What `dynreg load` registers by default, stored, stays within this many bytes (the disk
/// figure, with sled's own overhead, is measured by `scripts/bench-scale.sh`).
const TYPICAL_CLIENT_BUDGET: usize = 400;

#[test]
fn a_typical_client_is_stored_in_under_the_byte_budget() {
    let body = json!({"redirect_uris": ["https://client.example.com/callback"],
                      "client_name": "load",
                      "grant_types": ["authorization_code", "client_credentials"]});
    let scopes = ["address", "phone", "openid", "profile", "email"].map(String::from);
    let policy = RegistrationPolicy {
        scope_allowlist: Some(&scopes),
        default_scopes: &scopes,
        may_set_info_uris: false,
    };
    let metadata = validate(body.as_object().unwrap(), &policy).unwrap();
    let mut client = record(metadata, ClientOrigin::Dynamic);
    client.previous_registration_token = None;
    client.allowed_resources.clear();
    let stored = encode(&client);
    assert!(
        stored.len() <= TYPICAL_CLIENT_BUDGET,
        "{} bytes: {stored}",
        stored.len()
    );
}

#[test]
fn records_of_an_unknown_version_or_with_unknown_keys_are_refused_with_the_reason() {
    let newer = r#"{"v":2,"id":"a","iat":1,"m":{}}"#;
    let error = serde_json::from_str::<ClientRecord>(newer)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("schema version 2"), "{error}");
    for bad in [
        r#"{"v":1,"id":"a","iat":1,"m":{},"later":true}"#,
        r#"{"v":1,"id":"a","iat":1,"m":{"later":true}}"#,
        r#"{"v":1,"id":"a","iat":1,"m":{"jwks":{"keys":[]},"ju":"https://a.example/j"}}"#,
        r#"{"v":1,"id":"a","iat":1,"m":{"loc":{"nickname":"x"}}}"#,
        r#"{"id":"a","v":1,"iat":1,"m":{}}"#,
        r#"{}"#,
    ] {
        assert!(serde_json::from_str::<ClientRecord>(bad).is_err(), "{bad}");
    }
}
