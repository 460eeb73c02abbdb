//! Software statements over HTTP (SPEC §3–§5): the seed's example, every signing family,
//! both key sources, every JWE key-management family, each refusal, the realm's
//! `require_software_statement` on POST and PUT, and the publisher admin API.

use crate::helpers::*;
use crate::statement_helpers::*;
use awc::http::{Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwe;
use serde_json::{json, Value};

/// Registers in alpha (open registration) and asserts 201.
async fn registers(app: &TestApp, statement: &str, what: &str) -> Value {
    let response = app
        .register_with_statement("alpha", seed_registration(), statement)
        .await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "{what}: {}",
        response.body
    );
    assert_eq!(response.body["software_statement"], statement, "{what}");
    response.body
}

/// Registers in alpha and asserts the refusal code; returns the description.
async fn refused(app: &TestApp, statement: &str, code: &str, what: &str) -> String {
    let response = app
        .register_with_statement("alpha", seed_registration(), statement)
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{what}: {}",
        response.body
    );
    assert_eq!(response.error_code(), code, "{what}: {}", response.body);
    response.body["error_description"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One `jwks` publisher per algorithm; each signs a statement that must register.
async fn each_algorithm_registers(algorithms: &[&'static str]) {
    let app = spawn_app().await;
    for alg in algorithms {
        let key = PublisherKey::generate(alg, &format!("{alg}-1"));
        let issuer = format!("https://{}.publisher.example", alg.to_lowercase());
        app.publisher(
            "alpha",
            alg,
            json!({
                "issuer": issuer, "signing_algorithm": alg,
                "public_key_selector": "jwks", "jwks": key.jwks(),
            }),
        )
        .await;
        let mut claims = seed_claims();
        claims["iss"] = json!(issuer);
        registers(&app, &key.sign(&claims), alg).await;
        let other = PublisherKey::generate(alg, &format!("{alg}-1"));
        let description = refused(
            &app,
            &other.sign(&claims),
            "invalid_software_statement",
            alg,
        )
        .await;
        assert!(description.contains("signature"), "{alg}: {description}");
    }
}

// ---- the seed's example ----

#[actix_web::test]
async fn the_seeds_literal_statement_is_refused_as_expired() {
    let app = spawn_app().await;
    let description = refused(&app, SEED_STATEMENT, "invalid_software_statement", "seed").await;
    assert!(description.contains("expired"), "{description}");
}

#[actix_web::test]
async fn a_fresh_statement_like_the_seeds_registers_in_alpha_and_its_claims_win() {
    let app = spawn_app().await;
    let mut claims = seed_claims();
    claims["software_id"] = json!("seed-app");
    claims["software_version"] = json!("1.2.3");
    claims["client_name"] = json!("From the statement");
    let statement = seed_like_statement(&claims);
    let mut body = seed_registration();
    body["redirect_uris"] = json!(["https://request.example.com/ignored"]);
    body["client_name"] = json!("From the request");
    let response = app.register_with_statement("alpha", body, &statement).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let profile = &response.body;
    assert_eq!(profile["software_statement"], statement);
    assert_eq!(
        profile["redirect_uris"],
        json!(["https://client.example.com/callback"])
    );
    assert_eq!(profile["client_name"], "From the statement");
    assert_eq!(profile["client_name#en"], "My Client");
    assert_eq!(profile["software_id"], "seed-app");
    assert_eq!(profile["software_version"], "1.2.3");
    for not_metadata in ["name", "sub", "iss", "iat", "exp"] {
        assert!(profile.get(not_metadata).is_none(), "{not_metadata} copied");
    }
    // The stored profile says the same.
    let read = app
        .manage(
            Method::GET,
            "alpha",
            profile["client_id"].as_str().unwrap(),
            None,
            profile["registration_access_token"].as_str(),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["software_statement"], statement);
    assert_eq!(read.body["software_id"], "seed-app");
}

// ---- signing families, by value ----

#[actix_web::test]
async fn hmac_statements_verify_with_the_utf8_secret_for_hs256_hs384_and_hs512() {
    let app = spawn_app().await;
    for alg in ["HS256", "HS384", "HS512"] {
        let issuer = format!("https://{}.publisher.example", alg.to_lowercase());
        app.publisher(
            "alpha",
            alg,
            json!({"issuer": issuer, "signing_algorithm": alg, "secret": "short secret"}),
        )
        .await;
        let mut claims = seed_claims();
        claims["iss"] = json!(issuer);
        let header = json!({"alg": alg});
        registers(
            &app,
            &hs_statement(alg, b"short secret", &header, &claims),
            alg,
        )
        .await;
        refused(
            &app,
            &hs_statement(alg, b"wrong secret", &header, &claims),
            "invalid_software_statement",
            alg,
        )
        .await;
    }
}

#[actix_web::test]
async fn rsa_pkcs1_statements_verify_for_rs256_rs384_and_rs512() {
    each_algorithm_registers(&["RS256", "RS384", "RS512"]).await;
}

#[actix_web::test]
async fn rsa_pss_statements_verify_for_ps256_ps384_and_ps512() {
    each_algorithm_registers(&["PS256", "PS384", "PS512"]).await;
}

#[actix_web::test]
async fn ecdsa_statements_verify_for_es256_es384_and_es512() {
    each_algorithm_registers(&["ES256", "ES384", "ES512"]).await;
}

#[actix_web::test]
async fn eddsa_statements_verify_with_ed25519_keys() {
    each_algorithm_registers(&["EdDSA"]).await;
}

// ---- keys by jwks_uri ----

#[actix_web::test]
async fn jwks_uri_keys_are_fetched_cached_and_refetched_for_an_unknown_kid_at_most_once_per_miss_interval(
) {
    let app = spawn_app_with(|s| s.allow_insecure_fetch = true).await;
    let first = PublisherKey::generate("ES256", "first");
    let second = PublisherKey::generate("ES256", "second");
    let server = JwksServer::start(first.jwks());
    let publisher = |miss_ms: u64| {
        json!({
            "issuer": "https://remote.publisher.example", "signing_algorithm": "ES256",
            "public_key_selector": "jwks_uri", "jwks_uri": server.url,
            "jwks_cache_miss_cache_time_ms": miss_ms,
        })
    };
    app.publisher("alpha", "Remote", publisher(60_000)).await;
    let mut claims = seed_claims();
    claims["iss"] = json!("https://remote.publisher.example");

    registers(&app, &first.sign(&claims), "first fetch").await;
    registers(&app, &first.sign(&claims), "from the cache").await;
    assert_eq!(server.fetches(), 1);

    // The publisher rotates; within the miss interval the server does not refetch.
    server.replace(second.jwks());
    let description = refused(
        &app,
        &second.sign(&claims),
        "invalid_software_statement",
        "unknown kid inside the miss interval",
    )
    .await;
    assert!(description.contains("second"), "{description}");
    assert_eq!(server.fetches(), 1);

    // With a zero miss interval the unknown kid triggers one refetch, which finds it.
    app.publisher("alpha", "Remote", publisher(0)).await;
    registers(&app, &second.sign(&claims), "after the refetch").await;
    assert_eq!(server.fetches(), 2);
    registers(&app, &second.sign(&claims), "cached again").await;
    assert_eq!(server.fetches(), 2);
}

#[actix_web::test]
async fn a_jwks_uri_that_cannot_be_fetched_refuses_the_statement_without_a_server_error() {
    // The SSRF guard refuses loopback targets when insecure fetch is off.
    let guarded = spawn_app().await;
    let key = PublisherKey::generate("RS256", "k");
    let server = JwksServer::start(key.jwks());
    let mut claims = seed_claims();
    claims["iss"] = json!("https://remote.publisher.example");
    guarded
        .publisher(
            "alpha",
            "Remote",
            json!({"issuer": "https://remote.publisher.example", "jwks_uri": server.url}),
        )
        .await;
    let description = refused(
        &guarded,
        &key.sign(&claims),
        "invalid_software_statement",
        "guarded",
    )
    .await;
    assert!(
        description.contains("could not be fetched"),
        "{description}"
    );
    assert_eq!(server.fetches(), 0);

    // Nothing listens on the port: refused, quickly, as invalid.
    let open = spawn_app_with(|s| s.allow_insecure_fetch = true).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    open.publisher(
        "alpha",
        "Remote",
        json!({
            "issuer": "https://remote.publisher.example",
            "jwks_uri": format!("http://{closed}/jwks"),
        }),
    )
    .await;
    let description = refused(
        &open,
        &key.sign(&claims),
        "invalid_software_statement",
        "closed port",
    )
    .await;
    assert!(
        description.contains("could not be fetched"),
        "{description}"
    );
}

// ---- encrypted statements ----

#[actix_web::test]
async fn the_realm_publishes_rsa_and_ecdh_es_encryption_keys_for_statements() {
    let app = spawn_app().await;
    let jwks = app.realm_jwks("alpha").await;
    let keys = jwks["keys"].as_array().unwrap();
    // No `alg` on encryption keys: each serves several key-management algorithms, and strict
    // key parsers drop keys labelled with one.
    assert!(keys
        .iter()
        .any(|k| k["use"] == "enc" && k["kty"] == "RSA" && k.get("alg").is_none()));
    assert!(keys.iter().any(|k| k["use"] == "enc"
        && k["kty"] == "EC"
        && k["crv"] == "P-256"
        && k.get("d").is_none()));
}

#[actix_web::test]
async fn statements_encrypted_to_the_realms_rsa_key_register_with_rsa_oaep_and_rsa_oaep_256() {
    let app = spawn_app().await;
    let key = app.realm_encryption_key("alpha", "RSA").await;
    // The published key names no `alg`, so one key serves both algorithms.
    let inner = seed_like_statement(&seed_claims());
    let oaep = jwe::RSA_OAEP.encrypter_from_jwk(&key).unwrap();
    let oaep_256 = jwe::RSA_OAEP_256.encrypter_from_jwk(&key).unwrap();
    for (encrypter, enc, zip, what) in [
        (
            &oaep as &dyn jwe::JweEncrypter,
            "A128CBC-HS256",
            false,
            "RSA-OAEP",
        ),
        (&oaep_256, "A256GCM", true, "RSA-OAEP-256"),
        (&oaep_256, "A256CBC-HS512", false, "RSA-OAEP-256 CBC"),
    ] {
        let statement = encrypt(inner.as_bytes(), enc, zip, encrypter);
        let profile = registers(&app, &statement, what).await;
        assert_eq!(
            profile["redirect_uris"],
            json!(["https://client.example.com/callback"])
        );
    }
}

#[actix_web::test]
async fn statements_encrypted_to_the_realms_ec_key_register_with_every_ecdh_es_variant() {
    let app = spawn_app().await;
    let key = app.realm_encryption_key("alpha", "EC").await;
    let inner = seed_like_statement(&seed_claims());
    for (encrypter, what) in [
        (jwe::ECDH_ES.encrypter_from_jwk(&key).unwrap(), "ECDH-ES"),
        (
            jwe::ECDH_ES_A128KW.encrypter_from_jwk(&key).unwrap(),
            "ECDH-ES+A128KW",
        ),
        (
            jwe::ECDH_ES_A256KW.encrypter_from_jwk(&key).unwrap(),
            "ECDH-ES+A256KW",
        ),
    ] {
        let statement = encrypt(inner.as_bytes(), "A128GCM", false, &encrypter);
        registers(&app, &statement, what).await;
    }
}

#[actix_web::test]
async fn statements_encrypted_with_keys_derived_from_the_publishers_secret_register() {
    let app = spawn_app().await;
    let inner = seed_like_statement(&seed_claims());
    let dir_cbc = jwe::Dir
        .encrypter_from_bytes(derive_key(SEED_SECRET, 32))
        .unwrap();
    let dir_cbc_512 = jwe::Dir
        .encrypter_from_bytes(derive_key(SEED_SECRET, 64))
        .unwrap();
    let dir_gcm = jwe::Dir
        .encrypter_from_bytes(derive_key(SEED_SECRET, 16))
        .unwrap();
    let a128kw = jwe::A128KW
        .encrypter_from_bytes(derive_key(SEED_SECRET, 16))
        .unwrap();
    let a256kw = jwe::A256KW
        .encrypter_from_bytes(derive_key(SEED_SECRET, 32))
        .unwrap();
    for (encrypter, enc, what) in [
        (&dir_cbc as &dyn jwe::JweEncrypter, "A128CBC-HS256", "dir"),
        (&dir_cbc_512, "A256CBC-HS512", "dir 512"),
        (&dir_gcm, "A128GCM", "dir GCM"),
        (&a128kw, "A256GCM", "A128KW"),
        (&a256kw, "A128CBC-HS256", "A256KW"),
    ] {
        registers(&app, &encrypt(inner.as_bytes(), enc, true, encrypter), what).await;
    }
    let wrong = jwe::A128KW
        .encrypter_from_bytes(derive_key("not the secret", 16))
        .unwrap();
    let description = refused(
        &app,
        &encrypt(inner.as_bytes(), "A128GCM", false, &wrong),
        "invalid_software_statement",
        "wrong secret",
    )
    .await;
    assert!(
        description.contains("could not be decrypted"),
        "{description}"
    );
}

// ---- refusals ----

#[actix_web::test]
async fn bad_statements_are_refused_with_400_and_the_reason() {
    let app = spawn_app().await;
    let rsa = PublisherKey::generate("RS256", "rsa-1");
    app.publisher(
        "alpha",
        "RSA publisher",
        json!({
            "issuer": "https://rsa.publisher.example", "signing_algorithm": "RS256",
            "public_key_selector": "jwks", "jwks": rsa.jwks(),
        }),
    )
    .await;
    let attacker = PublisherKey::generate("RS256", "rsa-1");
    let mut rsa_claims = seed_claims();
    rsa_claims["iss"] = json!("https://rsa.publisher.example");
    let seed_header = json!({"alg": "HS256", "typ": "JWT"});
    let mut stranger = seed_claims();
    stranger["iss"] = json!("https://stranger.example");
    let mut expired = seed_claims();
    expired["iat"] = json!(now() - 7200);
    expired["exp"] = json!(now() - 3600);
    let mut early = seed_claims();
    early["nbf"] = json!(now() + 3600);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(seed_claims().to_string())
    );
    let public_key_bytes = rsa.public.to_string();
    let bomb = {
        let key = app.realm_encryption_key("alpha", "RSA").await;
        let encrypter = jwe::RSA_OAEP_256.encrypter_from_jwk(&key).unwrap();
        encrypt(&vec![b'0'; 8 << 20], "A128GCM", true, &encrypter)
    };
    // (why, statement, error code, description fragment)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "unknown issuer",
            seed_like_statement(&stranger),
            "unapproved_software_statement",
            "not a software publisher trusted",
        ),
        (
            "wrong secret",
            hs_statement("HS256", b"guess", &seed_header, &seed_claims()),
            "invalid_software_statement",
            "signature does not verify",
        ),
        (
            "wrong key",
            attacker.sign(&rsa_claims),
            "invalid_software_statement",
            "signature does not verify",
        ),
        (
            "alg none",
            unsigned,
            "invalid_software_statement",
            "not signed",
        ),
        (
            "alg confusion: HS256 keyed with the RSA publisher's public key",
            hs_statement(
                "HS256",
                public_key_bytes.as_bytes(),
                &json!({"alg": "HS256"}),
                &rsa_claims,
            ),
            "invalid_software_statement",
            "publisher signs with RS256",
        ),
        (
            "attacker key in a jwk header",
            attacker.sign_with_header(
                &json!({"alg": "RS256", "jwk": attacker.public}),
                &rsa_claims,
            ),
            "invalid_software_statement",
            "signature does not verify",
        ),
        (
            "attacker keys behind a jku header",
            attacker.sign_with_header(
                &json!({"alg": "RS256", "kid": "rsa-1", "jku": "https://attacker.example/jwks"}),
                &rsa_claims,
            ),
            "invalid_software_statement",
            "signature does not verify",
        ),
        (
            "expired",
            seed_like_statement(&expired),
            "invalid_software_statement",
            "expired",
        ),
        (
            "not yet valid",
            seed_like_statement(&early),
            "invalid_software_statement",
            "not valid yet",
        ),
        (
            "zip bomb",
            bomb,
            "invalid_software_statement",
            "inflates past 32768 bytes",
        ),
        (
            "unknown crit",
            hs_statement(
                "HS256",
                SEED_SECRET.as_bytes(),
                &json!({"alg": "HS256", "crit": ["urn:example:x"], "urn:example:x": 1}),
                &seed_claims(),
            ),
            "invalid_software_statement",
            "crit",
        ),
        (
            "not a JWT",
            "not-a-jwt".to_owned(),
            "invalid_software_statement",
            "malformed",
        ),
    ];
    for (why, statement, code, fragment) in cases {
        let description = refused(&app, &statement, code, why).await;
        assert!(description.contains(fragment), "{why}: {description}");
    }
    // Nothing was registered along the way.
    let clients = app
        .admin(Method::GET, "/admin/realms/alpha/clients", None)
        .await
        .body;
    assert_eq!(clients["clients"].as_array().unwrap().len(), 1, "{clients}");
}

#[actix_web::test]
async fn a_statement_of_the_wrong_json_type_is_invalid() {
    let app = spawn_app().await;
    let mut body = seed_registration();
    body["software_statement"] = json!({"iss": SEED_ISSUER});
    let response = app.register("alpha", &body).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.error_code(), "invalid_software_statement");
}

#[actix_web::test]
async fn statements_above_64_kib_are_never_accepted() {
    let app = spawn_app().await;
    let mut claims = seed_claims();
    claims["padding"] = json!("x".repeat(64 * 1024));
    let statement = seed_like_statement(&claims);
    let response = app
        .register_with_statement("alpha", json!({}), &statement)
        .await;
    // The body cap (SPEC §6) is reached before the statement bound; either way, no client.
    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.body
    );
    // Just under the body cap, an oversized-and-malformed statement is a 400, never a 500.
    let almost = "a".repeat(64 * 1024 - 100);
    let response = app
        .register_with_statement("alpha", json!({}), &almost)
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
    assert_eq!(response.error_code(), "invalid_software_statement");
}

#[actix_web::test]
async fn a_statement_is_validated_even_when_the_realm_does_not_require_one() {
    let app = spawn_app().await;
    let registered = app.register_ok("alpha", &seed_registration()).await;
    assert!(registered.get("software_statement").is_none());
    let mut tampered = seed_like_statement(&seed_claims());
    tampered.push('A');
    refused(&app, &tampered, "invalid_software_statement", "tampered").await;
}

// ---- require_software_statement ----

#[actix_web::test]
async fn a_realm_that_requires_statements_refuses_registrations_without_one() {
    let app = spawn_app().await;
    app.change_provider("alpha", json!({"require_software_statement": true}))
        .await;
    let response = app.register("alpha", &seed_registration()).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.error_code(), "invalid_software_statement");
    assert!(response.body["error_description"]
        .as_str()
        .unwrap()
        .contains("software statement required"));
    registers(&app, &seed_like_statement(&seed_claims()), "required").await;
}

#[actix_web::test]
async fn a_statement_missing_a_required_attested_attribute_is_refused() {
    let app = spawn_app().await;
    app.change_provider(
        "alpha",
        json!({
            "require_software_statement": true,
            "required_software_statement_attested_attributes": ["redirect_uris", "software_id"],
        }),
    )
    .await;
    let mut claims = seed_claims();
    let description = refused(
        &app,
        &seed_like_statement(&claims),
        "invalid_software_statement",
        "no software_id",
    )
    .await;
    assert!(description.contains("software_id"), "{description}");
    // A request field does not stand in for a statement claim.
    let mut body = seed_registration();
    body["software_id"] = json!("from-the-request");
    let response = app
        .register_with_statement("alpha", body, &seed_like_statement(&claims))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    claims["software_id"] = json!("attested");
    let profile = registers(&app, &seed_like_statement(&claims), "attested").await;
    assert_eq!(profile["software_id"], "attested");
}

#[actix_web::test]
async fn updates_need_a_valid_and_current_statement_when_the_realm_requires_one() {
    let app = spawn_app().await;
    app.change_provider("alpha", json!({"require_software_statement": true}))
        .await;
    let statement = seed_like_statement(&seed_claims());
    let profile = registers(&app, &statement, "initial").await;
    let client_id = profile["client_id"].as_str().unwrap();
    let token = profile["registration_access_token"].as_str().unwrap();

    // Without a statement.
    let mut update = seed_registration();
    update["client_id"] = json!(client_id);
    let response = app
        .manage(Method::PUT, "alpha", client_id, Some(&update), Some(token))
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
    assert_eq!(response.error_code(), "invalid_software_statement");

    // With a stale (expired) one.
    let mut stale = seed_claims();
    stale["iat"] = json!(now() - 7200);
    stale["exp"] = json!(now() - 3600);
    update["software_statement"] = json!(seed_like_statement(&stale));
    update["client_name"] = json!("Renamed");
    let response = app
        .manage(Method::PUT, "alpha", client_id, Some(&update), Some(token))
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
    assert_eq!(response.error_code(), "invalid_software_statement");
    assert!(response.body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // Nothing changed and the token still works.
    let read = app
        .manage(Method::GET, "alpha", client_id, None, Some(token))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert!(read.body.get("client_name").is_none());
    assert_eq!(read.body["software_statement"], statement);

    // A current statement goes through, and its claims win again.
    let mut fresh = seed_claims();
    fresh["redirect_uris"] = json!(["https://client.example.com/updated"]);
    let renewed = seed_like_statement(&fresh);
    update["software_statement"] = json!(renewed);
    let response = app
        .manage(Method::PUT, "alpha", client_id, Some(&update), Some(token))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["software_statement"], renewed);
    assert_eq!(response.body["client_name"], "Renamed");
    assert_eq!(
        response.body["redirect_uris"],
        json!(["https://client.example.com/updated"])
    );
}

// ---- publisher profiles (admin) ----

#[actix_web::test]
async fn the_seed_publisher_is_in_alpha_and_its_secret_is_write_only() {
    let app = spawn_app().await;
    let path = format!(
        "/admin/realms/alpha/software-publishers/{}",
        encoded("My Software Publisher")
    );
    let response = app.admin(Method::GET, &path, None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.body,
        json!({
            "agent_id": "My Software Publisher",
            "issuer": "https://publisher.example.com",
            "signing_algorithm": "HS256",
            "public_key_selector": "jwks",
            "jwks": {"keys": [{"kty": "oct", "k": "secret", "alg": "HS256"}]},
            "jwks_cache_timeout_ms": 3_600_000,
            "jwks_cache_miss_cache_time_ms": 60_000,
        })
    );
    let list = app
        .admin(Method::GET, "/admin/realms/alpha/software-publishers", None)
        .await;
    assert_eq!(list.body["software_publishers"], json!([response.body]));
    let export = app.admin(Method::GET, "/admin/realms/alpha", None).await;
    assert!(export.body["software_publishers"][0]
        .get("secret")
        .is_none());
    let with_secrets = app
        .admin(
            Method::GET,
            "/admin/realms/alpha?include_secrets=true",
            None,
        )
        .await;
    assert_eq!(
        with_secrets.body["software_publishers"][0]["secret"],
        "secret"
    );
}

#[actix_web::test]
async fn publisher_profiles_are_created_replaced_and_deleted_through_the_admin_api() {
    let app = spawn_app().await;
    let key = PublisherKey::generate("ES256", "k1");
    let path = "/admin/realms/alpha/software-publishers/acme";
    let document = json!({
        "issuer": "https://acme.example", "signing_algorithm": "ES256",
        "public_key_selector": "jwks", "jwks": key.jwks(), "secret": "for dir JWE",
    });
    let created = app.put_publisher("alpha", "acme", document.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["agent_id"], "acme");
    assert!(created.body.get("secret").is_none());
    assert_eq!(created.header("cache-control"), Some("no-store"));

    let mut claims = seed_claims();
    claims["iss"] = json!("https://acme.example");
    registers(&app, &key.sign(&claims), "acme").await;

    let mut replacement = document.clone();
    replacement["issuer"] = json!("https://acme.example/v2");
    let replaced = app.put_publisher("alpha", "acme", replacement).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["issuer"], "https://acme.example/v2");
    // The old issuer is no longer trusted.
    refused(
        &app,
        &key.sign(&claims),
        "unapproved_software_statement",
        "old issuer",
    )
    .await;

    let list = app
        .admin(Method::GET, "/admin/realms/alpha/software-publishers", None)
        .await;
    let agents: Vec<&str> = list.body["software_publishers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["agent_id"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["My Software Publisher", "acme"]);

    let deleted = app.admin(Method::DELETE, path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    for method in [Method::GET, Method::DELETE] {
        let gone = app.admin(method, path, None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert_eq!(gone.error_code(), "not_found");
    }
    let unknown_realm = app
        .admin(
            Method::GET,
            "/admin/realms/nowhere/software-publishers",
            None,
        )
        .await;
    assert_eq!(unknown_realm.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn invalid_publisher_profiles_are_refused_with_invalid_request() {
    let app = spawn_app().await;
    // (why, document, description fragment)
    let cases = [
        (
            "no issuer",
            json!({"jwks_uri": "https://x.example/jwks"}),
            "issuer is required",
        ),
        (
            "issuer taken",
            json!({"issuer": SEED_ISSUER, "signing_algorithm": "HS256", "secret": "s"}),
            "already the issuer",
        ),
        (
            "unsupported alg",
            json!({"issuer": "https://x.example", "signing_algorithm": "none"}),
            "not supported",
        ),
        (
            "HS without secret",
            json!({"issuer": "https://x.example", "signing_algorithm": "HS384"}),
            "secret is required",
        ),
        (
            "jwks_uri not a URL",
            json!({"issuer": "https://x.example", "jwks_uri": "keys please"}),
            "not a URL",
        ),
        (
            "no jwks_uri for the default selector",
            json!({"issuer": "https://x.example"}),
            "jwks_uri is required",
        ),
        (
            "jwks without usable keys",
            json!({"issuer": "https://x.example", "public_key_selector": "jwks", "jwks": {"keys": [{"kty": "EC"}]}}),
            "no key that can verify RS256",
        ),
        (
            "agent_id differs from the path",
            json!({"agent_id": "other", "issuer": "https://x.example", "jwks_uri": "https://x.example/jwks"}),
            "does not match",
        ),
        (
            "unknown field",
            json!({"issuer": "https://x.example", "jwks_uri": "https://x.example/jwks", "colour": "red"}),
            "unknown field",
        ),
    ];
    for (why, document, fragment) in cases {
        let response = app.put_publisher("alpha", "new", document).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{why}: {}",
            response.body
        );
        assert_eq!(response.error_code(), "invalid_request", "{why}");
        let description = response.body["error_description"].as_str().unwrap();
        assert!(description.contains(fragment), "{why}: {description}");
    }
    let none = app
        .admin(
            Method::GET,
            "/admin/realms/alpha/software-publishers/new",
            None,
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn realm_documents_create_and_replace_software_publishers() {
    let app = spawn_app().await;
    let document = json!({
        "oauth2_provider": {"allow_open_dynamic_registration": true},
        "software_publishers": [{
            "agent_id": "Beta publisher", "issuer": "https://beta.publisher.example",
            "signing_algorithm": "HS512", "secret": "beta secret",
        }],
    });
    let created = app
        .admin(Method::PUT, "/admin/realms/beta", Some(&document))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["software_publishers"][0]["agent_id"],
        "Beta publisher"
    );
    assert!(created.body["software_publishers"][0]
        .get("secret")
        .is_none());

    let mut claims = seed_claims();
    claims["iss"] = json!("https://beta.publisher.example");
    let statement = hs_statement("HS512", b"beta secret", &json!({"alg": "HS512"}), &claims);
    let response = app
        .register_with_statement("beta", json!({}), &statement)
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    // Publishers are per realm: alpha does not trust beta's.
    refused(
        &app,
        &statement,
        "unapproved_software_statement",
        "beta's publisher in alpha",
    )
    .await;

    let duplicate = json!({
        "software_publishers": [
            {"agent_id": "a", "issuer": "https://same.example", "jwks_uri": "https://same.example/jwks"},
            {"agent_id": "b", "issuer": "https://same.example", "jwks_uri": "https://same.example/jwks"},
        ],
    });
    let refused_doc = app
        .admin(Method::PUT, "/admin/realms/beta", Some(&duplicate))
        .await;
    assert_eq!(refused_doc.status, StatusCode::BAD_REQUEST);
    assert!(refused_doc.body["error_description"]
        .as_str()
        .unwrap()
        .contains("software_publishers"));

    let replaced = app
        .admin(
            Method::PUT,
            "/admin/realms/beta",
            Some(&json!({"oauth2_provider": {"allow_open_dynamic_registration": true}})),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["software_publishers"], json!([]));
    let response = app
        .register_with_statement("beta", json!({}), &statement)
        .await;
    assert_eq!(response.error_code(), "unapproved_software_statement");
}
