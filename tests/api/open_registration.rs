//! Open registration (RFC 7591) as the seed shows it.

use crate::helpers::*;
use awc::http::Method;
use serde_json::json;

/// Every key of the seed's open-registration response (reference §7.1).
const SEED_PROFILE_KEYS: &[&str] = &[
    "authorization_signed_response_alg",
    "request_object_encryption_alg",
    "introspection_encrypted_response_alg",
    "client_uri",
    "default_max_age",
    "application_type",
    "introspection_encrypted_response_enc",
    "introspection_signed_response_alg",
    "client_name#en",
    "userinfo_encrypted_response_enc",
    "client_type",
    "userinfo_encrypted_response_alg",
    "token_endpoint_auth_method",
    "userinfo_signed_response_alg",
    "public_key_selector",
    "scope",
    "require_pushed_authorization_requests",
    "authorization_code_lifetime",
    "user_info_response_format_selector",
    "tls_client_certificate_bound_access_tokens",
    "backchannel_logout_session_required",
    "id_token_signed_response_alg",
    "default_max_age_enabled",
    "token_intro_response_format_selector",
    "subject_type",
    "grant_types",
    "jwt_token_lifetime",
    "id_token_encryption_enabled",
    "redirect_uris",
    "jwks_cache_miss_cache_time",
    "jwks_cache_timeout",
    "id_token_encrypted_response_alg",
    "id_token_encrypted_response_enc",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "scopes",
    "request_object_signing_alg",
    "response_types",
    "client_id_issued_at",
];

/// The members AM sends as `""` while they are unset (the seed's response).
const AM_PLACEHOLDER_KEYS: &[&str] = &[
    "userinfo_signed_response_alg",
    "userinfo_encrypted_response_alg",
    "userinfo_encrypted_response_enc",
    "request_object_signing_alg",
    "request_object_encryption_alg",
];

/// Members the standard profile omits while unset: the placeholders, AM's default
/// encryption algorithms while encryption is off, and the disabled `default_max_age`.
const OMITTED_WHILE_UNSET: &[&str] = &[
    "userinfo_signed_response_alg",
    "userinfo_encrypted_response_alg",
    "userinfo_encrypted_response_enc",
    "request_object_signing_alg",
    "request_object_encryption_alg",
    "id_token_encrypted_response_alg",
    "id_token_encrypted_response_enc",
    "introspection_encrypted_response_alg",
    "introspection_encrypted_response_enc",
    "default_max_age",
];

#[actix_web::test]
async fn seed_open_registration_returns_201_with_unset_members_omitted_by_default() {
    let app = spawn_app().await;

    let response = app.register("alpha", &seed_registration()).await;

    assert_eq!(response.status, 201, "{}", response.body);
    let body = response.body.as_object().unwrap();
    for key in SEED_PROFILE_KEYS {
        let omitted = OMITTED_WHILE_UNSET.contains(key);
        assert_eq!(body.contains_key(*key), !omitted, "{key}");
    }
    assert_eq!(body["default_max_age_enabled"], false);
    assert_eq!(body["id_token_encryption_enabled"], false);
    assert!(
        body.values().all(|value| value != ""),
        "no empty-string member: {}",
        response.body
    );
    // The same shape on read and update (RFC 7592).
    let token = text(&response.body, "registration_access_token");
    let client_id = text(&response.body, "client_id");
    let path = format!("{}/register?client_id={client_id}", base("alpha"));
    let read = app.request(Method::GET, &path, None, Some(token)).await;
    assert_eq!(read.status, 200, "{}", read.body);
    let updated = app
        .request(
            Method::PUT,
            &path,
            Some(read.body.to_string().as_bytes()),
            Some(token),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    for shown in [&read.body, &updated.body] {
        for key in OMITTED_WHILE_UNSET {
            assert!(shown.get(*key).is_none(), "{key} in {shown}");
        }
    }
}

#[actix_web::test]
async fn seed_open_registration_in_an_am_profile_realm_returns_the_full_am_profile() {
    let app = spawn_app().await;
    let mut settings = provider_settings(true);
    settings["response_profile"] = json!("am");
    app.put_provider("alpha", &settings).await;

    let response = app.register("alpha", &seed_registration()).await;

    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = &response.body;
    let client_id = body["client_id"].as_str().unwrap();
    // SPEC: the server decides `client_id`, a UUID v4.
    let parsed = uuid::Uuid::parse_str(client_id).unwrap();
    assert_eq!(
        parsed.get_version(),
        Some(uuid::Version::Random),
        "{client_id}"
    );
    assert_eq!(body["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(body["client_secret_expires_at"], 0);
    assert_eq!(body["client_name#ja-jpan-jp"], "クライアント名");
    assert_eq!(body["scope"], "address phone openid profile email");
    assert_eq!(
        body["registration_client_uri"],
        format!(
            "{}{}/register?client_id={client_id}",
            app.address,
            base("alpha")
        )
    );
    assert!(body["registration_access_token"].is_string());
    for key in SEED_PROFILE_KEYS {
        assert!(body.get(*key).is_some(), "missing {key}");
    }
    for key in AM_PLACEHOLDER_KEYS {
        assert_eq!(body[*key], "", "{key}");
    }
    assert_eq!(body["default_max_age"], 1);
    assert_eq!(body["default_max_age_enabled"], false);
}

#[actix_web::test]
async fn sent_client_id_and_secret_are_ignored() {
    let app = spawn_app().await;
    let body = app
        .register_ok(
            "alpha",
            &json!({"client_id": "mine", "client_secret": "mine"}),
        )
        .await;
    assert_ne!(body["client_id"], "mine");
    assert_ne!(body["client_secret"], "mine");
}

#[actix_web::test]
async fn registration_without_a_token_is_access_denied_when_open_registration_is_off() {
    let app = spawn_app().await;

    let response = app.register("root", &seed_registration()).await;

    response.assert_error(401, "access_denied", "root realm, no token");
    let challenge = response.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge:?}");
    assert!(!challenge.contains("invalid_token"), "{challenge:?}");
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn any_bearer_token_sent_to_register_is_invalid_token_even_with_open_registration() {
    let app = spawn_app().await;
    let registered = app.register_seed_client("alpha").await;
    let registration_token = text(&registered, "registration_access_token").to_owned();

    let cases = [
        ("alpha", "made-up-token", "a made-up token in an open realm"),
        ("root", "made-up-token", "a made-up token in a closed realm"),
        (
            "alpha",
            registration_token.as_str(),
            "a registration access token is not an access token",
        ),
        (
            "alpha",
            ADMIN_TOKEN,
            "the admin token is not an access token",
        ),
    ];
    for (realm, token, message) in cases {
        let response = app
            .post_json(&register_path(realm), &seed_registration(), Some(token))
            .await;
        response.assert_error(401, "invalid_token", message);
        let challenge = response.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "{message}: {challenge:?}");
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{message}: {challenge:?}"
        );
    }
}

#[actix_web::test]
async fn an_empty_body_registers_a_client_with_the_default_metadata() {
    let app = spawn_app().await;

    let cases: [(Option<Vec<u8>>, &str); 2] = [
        (None, "no body at all"),
        (Some(Vec::new()), "a zero-length JSON body"),
    ];
    for (body, message) in cases {
        let response = app
            .request_raw(
                Method::POST,
                &register_path("alpha"),
                &[("Content-Type", "application/json")],
                body,
            )
            .await;
        assert_eq!(response.status, 201, "{message}: {}", response.body);
        let body = &response.body;
        assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(body["grant_types"], json!(["authorization_code"]));
        assert_eq!(body["response_types"], json!(["code"]));
        assert_eq!(body["application_type"], "web");
        assert_eq!(body["subject_type"], "public");
        assert_eq!(body["id_token_signed_response_alg"], "RS256");
        assert_eq!(body["client_type"], "Confidential");
        assert_eq!(
            body["scopes"],
            json!(["address", "phone", "openid", "profile", "email"])
        );
        assert_eq!(body["scope"], "address phone openid profile email");
        assert_eq!(body["access_token_lifetime"], 0, "{message}");
        assert!(body["client_secret"].is_string(), "{message}");
        assert!(body["registration_access_token"].is_string(), "{message}");
    }
}

#[actix_web::test]
async fn a_body_that_is_not_a_json_object_is_invalid_client_metadata() {
    let app = spawn_app().await;

    let cases = [
        ("[]", "an array"),
        ("\"client\"", "a string"),
        ("42", "a number"),
        ("null", "null"),
        ("true", "a boolean"),
        ("{", "truncated JSON"),
        ("redirect_uris=https://x", "a form body"),
        ("{\"a\": 1} {}", "trailing data after the object"),
    ];
    for (body, message) in cases {
        let response = app
            .request(
                Method::POST,
                &register_path("alpha"),
                Some(body.as_bytes()),
                None,
            )
            .await;
        response.assert_error(400, "invalid_client_metadata", message);
    }
}

#[actix_web::test]
async fn the_body_is_checked_before_authorization() {
    let app = spawn_app().await;

    let cases = [
        ("root", None, "closed realm, no token"),
        ("alpha", Some("made-up-token"), "open realm, bad token"),
    ];
    for (realm, token, message) in cases {
        let response = app
            .request(Method::POST, &register_path(realm), Some(b"[1, 2]"), token)
            .await;
        response.assert_error(400, "invalid_client_metadata", message);
    }
}

#[actix_web::test]
async fn a_json_body_is_parsed_as_json_whatever_its_content_type() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&seed_registration()).unwrap();

    let cases = [
        (
            Some("application/x-www-form-urlencoded"),
            "labelled as a form",
        ),
        (Some("text/plain"), "labelled as text"),
        (None, "not labelled"),
    ];
    for (content_type, message) in cases {
        let headers: Vec<(&str, &str)> = content_type
            .map(|value| vec![("Content-Type", value)])
            .unwrap_or_default();
        let response = app
            .request_raw(
                Method::POST,
                &register_path("alpha"),
                &headers,
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status, 201, "{message}: {}", response.body);
        assert_eq!(response.body["client_name#en"], "My Client", "{message}");
        assert_eq!(
            response.body["redirect_uris"],
            json!(["https://client.example.com/callback"]),
            "{message}"
        );
    }
}

#[actix_web::test]
async fn a_non_empty_scope_string_wins_over_the_scopes_array() {
    let app = spawn_app().await;

    let cases = [
        (
            json!({"scope": "openid profile", "scopes": ["email"]}),
            json!(["openid", "profile"]),
            "scope wins over scopes",
        ),
        (
            json!({"scope": "openid", "scopes": ["not-allowed"]}),
            json!(["openid"]),
            "scopes is not even checked when scope is given",
        ),
        (
            json!({"scope": "", "scopes": ["email"]}),
            json!(["email"]),
            "an empty scope string falls back to scopes",
        ),
        (
            json!({"scopes": ["phone", "openid"]}),
            json!(["phone", "openid"]),
            "scopes alone",
        ),
    ];
    for (request, expected, message) in cases {
        let body = app.register_ok("alpha", &request).await;
        assert_eq!(body["scopes"], expected, "{message}");
        let joined: Vec<&str> = expected
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(body["scope"], joined.join(" "), "{message}");
    }
}

#[actix_web::test]
async fn scopes_are_deduplicated_and_keep_their_order() {
    let app = spawn_app().await;

    let cases = [
        (
            json!({"scope": "profile openid profile"}),
            json!(["profile", "openid"]),
            "repeated in the scope string",
        ),
        (
            json!({"scope": "  email   openid "}),
            json!(["email", "openid"]),
            "extra spaces in the scope string",
        ),
        (
            json!({"scopes": ["email", "openid", "email", "address"]}),
            json!(["email", "openid", "address"]),
            "repeated in the scopes array",
        ),
    ];
    for (request, expected, message) in cases {
        let body = app.register_ok("alpha", &request).await;
        assert_eq!(body["scopes"], expected, "{message}");
    }
}

#[actix_web::test]
async fn a_scope_outside_the_allowlist_is_refused_naming_it() {
    let app = spawn_app().await;

    let cases = [
        (
            json!({"scope": "openid admin"}),
            "admin",
            "in the scope string",
        ),
        (
            json!({"scopes": ["openid", "write:all"]}),
            "write:all",
            "in the scopes array",
        ),
        (
            json!({"scope": "openid", "default_scopes": ["superuser"]}),
            "superuser",
            "in default_scopes",
        ),
    ];
    for (request, scope, message) in cases {
        let response = app.register("alpha", &request).await;
        response.assert_error(400, "invalid_client_metadata", message);
        assert!(
            response.error_description().contains(scope),
            "{message}: {}",
            response.error_description()
        );
    }
}

#[actix_web::test]
async fn a_public_client_gets_no_client_secret() {
    let app = spawn_app().await;

    let cases = [
        (
            json!({"token_endpoint_auth_method": "none"}),
            "auth method none",
        ),
        (
            json!({"client_type": "Public", "token_endpoint_auth_method": "none"}),
            "client_type Public",
        ),
    ];
    for (request, message) in cases {
        let body = app.register_ok("alpha", &request).await;
        assert_eq!(body["client_type"], "Public", "{message}");
        assert_eq!(body["token_endpoint_auth_method"], "none", "{message}");
        assert!(body.get("client_secret").is_none(), "{message}: {body}");

        let read = app
            .manage(
                Method::GET,
                "alpha",
                text(&body, "client_id"),
                None,
                Some(text(&body, "registration_access_token")),
            )
            .await;
        assert_eq!(read.status, 200, "{message}: {}", read.body);
        assert!(read.body.get("client_secret").is_none(), "{message}");
    }
}

#[actix_web::test]
async fn a_public_client_may_not_ask_for_symmetric_algorithms() {
    let app = spawn_app().await;

    let cases = [
        ("id_token_signed_response_alg", "HS256"),
        ("userinfo_signed_response_alg", "HS384"),
        ("request_object_signing_alg", "HS512"),
        ("id_token_encrypted_response_alg", "dir"),
        ("userinfo_encrypted_response_alg", "A128KW"),
        ("request_object_encryption_alg", "A256GCMKW"),
        ("id_token_encrypted_response_alg", "PBES2-HS256+A128KW"),
    ];
    for (field, alg) in cases {
        let message = format!("public client asking {field} {alg}");
        let response = app
            .register(
                "alpha",
                &json!({"token_endpoint_auth_method": "none", field: alg}),
            )
            .await;
        response.assert_error(400, "invalid_client_metadata", &message);
        assert!(
            response.error_description().contains(field),
            "{message}: {}",
            response.error_description()
        );
    }
    // The same algorithm is fine for a confidential client, which has a secret.
    let body = app
        .register_ok("alpha", &json!({"id_token_signed_response_alg": "HS256"}))
        .await;
    assert_eq!(body["id_token_signed_response_alg"], "HS256");
}

#[actix_web::test]
async fn invalid_redirect_uris_are_refused_with_invalid_redirect_uri() {
    let app = spawn_app().await;

    let cases = [
        (
            "web",
            "http://client.example.com/cb",
            "http on a non-loopback host",
        ),
        ("web", "https://client.example.com/cb#top", "a fragment"),
        ("web", "https://client.example.com/cb#", "an empty fragment"),
        ("web", "javascript:alert(1)", "javascript: on a web client"),
        (
            "native",
            "javascript:alert(1)",
            "javascript: on a native client",
        ),
        ("native", "data:text/html,hi", "data: on a native client"),
        ("native", "file:///etc/passwd", "file: on a native client"),
        (
            "native",
            "myapp:/callback",
            "a private-use scheme without a dot",
        ),
        (
            "web",
            "com.example.app:/callback",
            "a private-use scheme on a web client",
        ),
        (
            "native",
            "http://client.example.com/cb",
            "http on a non-loopback host, native",
        ),
        (
            "web",
            "https://user:pw@client.example.com/cb",
            "userinfo with a password",
        ),
        (
            "web",
            "https://user@client.example.com/cb",
            "userinfo without a password",
        ),
        ("web", "/callback", "a relative URI"),
    ];
    for (application_type, uri, message) in cases {
        let response = app
            .register(
                "alpha",
                &json!({"application_type": application_type, "redirect_uris": [uri]}),
            )
            .await;
        response.assert_error(400, "invalid_redirect_uri", message);
        assert!(
            response.error_description().contains("redirect_uris"),
            "{message}: {}",
            response.error_description()
        );
    }
}

#[actix_web::test]
async fn redirect_uris_the_spec_allows_are_accepted() {
    let app = spawn_app().await;

    let cases = [
        ("web", "https://client.example.com/callback", "https"),
        ("web", "http://127.0.0.1:8080/cb", "http on IPv4 loopback"),
        ("web", "http://[::1]/cb", "http on IPv6 loopback"),
        ("web", "http://localhost/cb", "http on localhost"),
        (
            "native",
            "com.example.app:/callback",
            "private-use scheme with a dot",
        ),
        (
            "native",
            "https://client.example.com/cb",
            "https on a native client",
        ),
        (
            "native",
            "http://127.0.0.1/cb",
            "http loopback on a native client",
        ),
    ];
    for (application_type, uri, message) in cases {
        let response = app
            .register(
                "alpha",
                &json!({"application_type": application_type, "redirect_uris": [uri]}),
            )
            .await;
        assert_eq!(response.status, 201, "{message}: {}", response.body);
        assert_eq!(response.body["redirect_uris"], json!([uri]), "{message}");
    }
}

#[actix_web::test]
async fn unknown_fields_are_ignored_and_not_returned() {
    let app = spawn_app().await;

    let mut request = seed_registration();
    request["favourite_colour"] = json!("blue");
    request["x-custom"] = json!({"nested": true});
    let body = app.register_ok("alpha", &request).await;
    assert!(body.get("favourite_colour").is_none(), "{body}");
    assert!(body.get("x-custom").is_none(), "{body}");

    let read = app
        .manage(
            Method::GET,
            "alpha",
            text(&body, "client_id"),
            None,
            Some(text(&body, "registration_access_token")),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.body.get("favourite_colour").is_none(), "{}", read.body);
    assert!(read.body.get("x-custom").is_none(), "{}", read.body);
}

#[actix_web::test]
async fn jwks_and_jwks_uri_together_are_refused() {
    let app = spawn_app().await;

    let response = app
        .register(
            "alpha",
            &json!({
                "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]},
                "jwks_uri": "https://client.example.com/jwks.json"
            }),
        )
        .await;

    response.assert_error(400, "invalid_client_metadata", "jwks and jwks_uri");
    let description = response.error_description();
    assert!(
        description.contains("jwks") && description.contains("jwks_uri"),
        "{description}"
    );
}

#[actix_web::test]
async fn unsupported_values_are_refused_naming_the_field() {
    let app = spawn_app().await;

    let cases = [
        (
            "grant_types",
            json!(["magic_grant"]),
            "an unknown grant type",
        ),
        (
            "token_endpoint_auth_method",
            json!("client_secret_jwt"),
            "an auth method the token endpoint does not serve",
        ),
        (
            "token_endpoint_auth_method",
            json!("tls_client_auth"),
            "mutual TLS auth",
        ),
        (
            "response_types",
            json!(["code magic"]),
            "an unknown response type",
        ),
        ("subject_type", json!("secret"), "an unknown subject type"),
        (
            "application_type",
            json!("desktop"),
            "an unknown application type",
        ),
        (
            "id_token_signed_response_alg",
            json!("none"),
            "unsigned ID tokens",
        ),
        (
            "id_token_encrypted_response_enc",
            json!("A128CBC-HS256"),
            "an _enc without its _alg",
        ),
        ("grant_types", json!("authorization_code"), "not an array"),
    ];
    for (field, value, message) in cases {
        let response = app.register("alpha", &json!({ field: value })).await;
        response.assert_error(400, "invalid_client_metadata", message);
        assert!(
            response.error_description().contains(field),
            "{message}: {}",
            response.error_description()
        );
    }
}

#[actix_web::test]
async fn both_root_aliases_reach_the_root_realm() {
    let app = spawn_app().await;
    app.put_provider("root", &provider_settings(true)).await;

    for path in ["/am/oauth2/register", "/am/oauth2/realms/root/register"] {
        let registered = app.post_json(path, &seed_registration(), None).await;
        assert_eq!(registered.status, 201, "{path}: {}", registered.body);
        let client_id = text(&registered.body, "client_id");
        let token = text(&registered.body, "registration_access_token");

        // The client lives in root: readable through both root URLs, not through alpha.
        for read_path in [
            format!("/am/oauth2/register?client_id={client_id}"),
            format!("/am/oauth2/realms/root/register?client_id={client_id}"),
        ] {
            let read = app
                .request(Method::GET, &read_path, None, Some(token))
                .await;
            assert_eq!(read.status, 200, "{path} then {read_path}: {}", read.body);
            assert_eq!(read.body["client_id"], client_id);
        }
        let in_alpha = app
            .manage(Method::GET, "alpha", client_id, None, Some(token))
            .await;
        in_alpha.assert_error(401, "invalid_token", "a root client is not in alpha");
        let admin = app
            .admin(
                Method::GET,
                &format!("/admin/realms/root/clients/{client_id}"),
                None,
            )
            .await;
        assert_eq!(admin.status, 200, "{path}: {}", admin.body);
    }
}

#[actix_web::test]
async fn without_generated_tokens_open_registration_returns_no_token_but_the_client_uri() {
    let app = spawn_app().await;
    let mut settings = provider_settings(true);
    settings["generate_registration_access_tokens"] = json!(false);
    app.put_provider("alpha", &settings).await;

    let body = app.register_seed_client("alpha").await;

    assert!(body.get("registration_access_token").is_none(), "{body}");
    let client_id = text(&body, "client_id");
    assert_eq!(
        body["registration_client_uri"],
        format!("{}{}", app.address, manage_path("alpha", client_id))
    );
    assert!(body["client_secret"].is_string());
}
