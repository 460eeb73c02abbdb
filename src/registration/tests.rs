//! Unit tests of the pure metadata rules.

use super::types::{AuthMethod, ClientKeys, ClientType};
use super::*;
use serde_json::{json, Map, Value};

fn allowlist() -> Vec<String> {
    ["address", "phone", "openid", "profile", "email"]
        .map(String::from)
        .to_vec()
}

fn check(request: Value) -> Result<ClientMetadata, RegistrationError> {
    check_with(request, true)
}

fn check_with(
    request: Value,
    may_set_info_uris: bool,
) -> Result<ClientMetadata, RegistrationError> {
    let list = allowlist();
    let policy = RegistrationPolicy {
        scope_allowlist: Some(&list),
        default_scopes: &list,
        may_set_info_uris,
    };
    let map: Map<String, Value> = serde_json::from_value(request).unwrap();
    validate(&map, &policy)
}

fn render(metadata: ClientMetadata) -> Map<String, Value> {
    render_as(metadata, ResponseProfile::Standard)
}

fn render_as(metadata: ClientMetadata, shape: ResponseProfile) -> Map<String, Value> {
    ClientProfile {
        client_id: "id".into(),
        client_secret: Some(crate::secret::Secret::new("secret")),
        client_id_issued_at: 1,
        metadata,
    }
    .to_json(&ManagementCredentials::default(), shape)
}

/// Members the standard shape omits while they are unset, and AM's placeholder for each.
const AM_PLACEHOLDERS: &[(&str, &str)] = &[
    ("userinfo_signed_response_alg", ""),
    ("userinfo_encrypted_response_alg", ""),
    ("userinfo_encrypted_response_enc", ""),
    ("request_object_signing_alg", ""),
    ("request_object_encryption_alg", ""),
    ("id_token_encrypted_response_alg", "RSA-OAEP-256"),
    ("id_token_encrypted_response_enc", "A128CBC-HS256"),
    ("introspection_encrypted_response_alg", "RSA-OAEP-256"),
    ("introspection_encrypted_response_enc", "A128CBC-HS256"),
];

#[test]
fn empty_request_gets_the_seed_defaults() {
    let json = render(check(json!({})).unwrap());
    assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(json["grant_types"], json!(["authorization_code"]));
    assert_eq!(json["response_types"], json!(["code"]));
    assert_eq!(json["application_type"], "web");
    assert_eq!(json["subject_type"], "public");
    assert_eq!(json["id_token_signed_response_alg"], "RS256");
    assert_eq!(json["scope"], "address phone openid profile email");
    assert_eq!(json["client_type"], "Confidential");
    assert_eq!(json["public_key_selector"], "x509");
    assert_eq!(json["id_token_encryption_enabled"], false);
    assert_eq!(json["default_max_age_enabled"], false);
    assert_eq!(json["access_token_lifetime"], 0);
    assert_eq!(json["redirect_uris"], json!([]));
}

#[test]
fn the_standard_shape_omits_unset_members_and_the_am_shape_shows_its_placeholders() {
    let standard = render_as(check(json!({})).unwrap(), ResponseProfile::Standard);
    let am = render_as(check(json!({})).unwrap(), ResponseProfile::Am);
    for (key, placeholder) in AM_PLACEHOLDERS {
        assert!(!standard.contains_key(*key), "standard shape has {key}");
        assert_eq!(am[*key], *placeholder, "am shape, {key}");
    }
    assert!(!standard.contains_key("default_max_age"));
    assert_eq!(am["default_max_age"], 1);
    assert_eq!(am["default_max_age_enabled"], false);
    // Only the unset members differ.
    let mut trimmed = am.clone();
    trimmed.retain(|key, _| standard.contains_key(key));
    assert_eq!(trimmed, standard);
}

#[test]
fn registered_algorithms_appear_in_both_shapes_with_the_content_encryption_they_imply() {
    let request = json!({
        "userinfo_signed_response_alg": "ES256",
        "request_object_signing_alg": "PS256",
        "id_token_encrypted_response_alg": "RSA-OAEP",
        "token_intro_response_format_selector": "SIGNED_THEN_ENCRYPTED_JWT",
        "default_max_age": 600,
    });
    for shape in [ResponseProfile::Standard, ResponseProfile::Am] {
        let json = render_as(check(request.clone()).unwrap(), shape);
        assert_eq!(json["userinfo_signed_response_alg"], "ES256", "{shape:?}");
        assert_eq!(json["request_object_signing_alg"], "PS256", "{shape:?}");
        assert_eq!(
            json["id_token_encrypted_response_alg"], "RSA-OAEP",
            "{shape:?}"
        );
        assert_eq!(
            json["id_token_encrypted_response_enc"], "A128CBC-HS256",
            "{shape:?}"
        );
        assert_eq!(
            json["introspection_encrypted_response_alg"], "RSA-OAEP-256",
            "{shape:?}"
        );
        assert_eq!(json["default_max_age"], 600, "{shape:?}");
        assert_eq!(json["default_max_age_enabled"], true, "{shape:?}");
    }
}

#[test]
fn seed_names_have_lower_cased_language_tags() {
    let json = render(
        check(json!({
            "client_name#en": "My Client",
            "client_name#ja-Jpan-JP": "クライアント名",
        }))
        .unwrap(),
    );
    assert_eq!(json["client_name#en"], "My Client");
    assert_eq!(json["client_name#ja-jpan-jp"], "クライアント名");
    assert!(!json.contains_key("client_name#ja-Jpan-JP"));
}

#[test]
fn scope_string_wins_over_scopes_array_and_is_deduplicated() {
    let m = check(json!({"scope": "openid profile openid", "scopes": ["email"]})).unwrap();
    assert_eq!(m.scopes, vec!["openid", "profile"]);
    let m = check(json!({"scopes": ["email", "email", "phone"]})).unwrap();
    assert_eq!(m.scope_string(), "email phone");
}

#[test]
fn scopes_outside_the_allowlist_are_refused_naming_the_scope() {
    let err = check(json!({"scope": "openid admin"})).unwrap_err();
    assert_eq!(err.code(), "invalid_client_metadata");
    assert!(err.description().contains("\"admin\""), "{err}");
}

#[test]
fn public_clients_get_no_symmetric_algorithms() {
    let cases = [
        json!({"token_endpoint_auth_method": "none", "id_token_signed_response_alg": "HS256"}),
        json!({"client_type": "Public", "token_endpoint_auth_method": "private_key_jwt", "request_object_signing_alg": "HS512"}),
        json!({"token_endpoint_auth_method": "none", "userinfo_encrypted_response_alg": "dir"}),
        json!({"token_endpoint_auth_method": "none", "id_token_encrypted_response_alg": "A128KW"}),
        json!({"client_type": "Public"}),
    ];
    for case in cases {
        let err = check(case.clone()).unwrap_err();
        assert_eq!(err.code(), "invalid_client_metadata", "{case}");
    }
    let public = check(json!({"token_endpoint_auth_method": "none"})).unwrap();
    assert_eq!(public.client_type, ClientType::Public);
    assert_eq!(public.token_endpoint_auth_method, AuthMethod::None);
}

#[test]
fn unsupported_values_are_refused_naming_the_field() {
    let cases = [
        (
            json!({"token_endpoint_auth_method": "client_secret_jwt"}),
            "token_endpoint_auth_method",
        ),
        (json!({"grant_types": ["magic"]}), "grant_types"),
        (json!({"response_types": ["code magic"]}), "response_types"),
        (json!({"subject_type": "secret"}), "subject_type"),
        (json!({"application_type": "desktop"}), "application_type"),
        (
            json!({"id_token_signed_response_alg": "none"}),
            "id_token_signed_response_alg",
        ),
        (
            json!({"userinfo_encrypted_response_enc": "A128GCM"}),
            "userinfo_encrypted_response_enc",
        ),
        (
            json!({"jwks": {"keys": []}, "jwks_uri": "https://x.example/jwks"}),
            "jwks",
        ),
        (json!({"jwks": {"nokeys": 1}}), "jwks"),
        (
            json!({"redirect_uris": "https://a.example/cb"}),
            "redirect_uris",
        ),
        (json!({"default_max_age": "ten"}), "default_max_age"),
        (
            json!({"access_token_lifetime": -5}),
            "access_token_lifetime",
        ),
        (json!({"client_name#": "x"}), "client_name#"),
        (json!({"logo_uri": "javascript:alert(1)"}), "logo_uri"),
        (json!({"contacts": [1]}), "contacts"),
    ];
    for (request, field) in cases {
        let err = check(request.clone()).unwrap_err();
        assert!(err.description().contains(field), "{request} → {err}");
    }
}

#[test]
fn bad_redirect_uris_use_their_own_error_code() {
    let err = check(json!({"redirect_uris": ["https://ok.example/cb", "http://evil.example/cb"]}))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_redirect_uri");
    let err = check(json!({"post_logout_redirect_uris": ["javascript:x"]})).unwrap_err();
    assert_eq!(err.code(), "invalid_post_logout_redirect_uris");
}

#[test]
fn info_uris_need_the_registration_scope_when_not_allowed() {
    for field in ["client_uri", "logo_uri", "policy_uri", "client_uri#en"] {
        let err = check_with(json!({ field: "https://client.example.com/" }), false).unwrap_err();
        assert!(err.description().contains(field), "{err}");
    }
    assert!(check_with(json!({"tos_uri": "https://client.example.com/tos"}), false).is_ok());
}

#[test]
fn jwks_selects_the_key_selector_and_private_keys_are_refused() {
    let m = check(json!({"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}}))
        .unwrap();
    assert!(matches!(m.keys, ClientKeys::Jwks(_)));
    assert_eq!(render(m)["public_key_selector"], "jwks");
    assert!(check(json!({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}})).is_err());
}

#[test]
fn default_max_age_is_clamped_and_enables_the_setting() {
    let json = render(check(json!({"default_max_age": 0})).unwrap());
    assert_eq!(json["default_max_age"], 1);
    assert_eq!(json["default_max_age_enabled"], true);
}

#[test]
fn a_read_response_sent_back_as_an_update_keeps_the_same_profile() {
    let first = check(json!({
        "redirect_uris": ["https://client.example.com/callback"],
        "client_name#en": "My Client",
        "scope": "openid profile",
    }))
    .unwrap();
    for shape in [ResponseProfile::Standard, ResponseProfile::Am] {
        let echoed = render_as(first.clone(), shape);
        let second = check(Value::Object(echoed.clone())).unwrap();
        assert_eq!(render_as(second, shape), echoed, "{shape:?}");
    }
}

#[test]
fn unknown_fields_are_ignored() {
    let m =
        check(json!({"frobnicate": true, "client_id": "mine", "client_secret": "mine"})).unwrap();
    assert_eq!(m, check(json!({})).unwrap());
}
