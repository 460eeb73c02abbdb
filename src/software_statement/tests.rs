//! Unit tests of software statement verification: the seed's test vector, every algorithm
//! family, every JWE key-management family, each refusal, the merge, publisher validation,
//! and a deterministic fuzz loop that feeds random and mutated statements to the parser.

use super::jwe::{derive_key, inflate_capped};
use super::*;
use crate::jose::StoredKeys;
use crate::registration::RegistrationError;
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwe::{self as jwe_alg, JweContext, JweEncrypter, JweHeader};
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{self as jws_alg, JwsSigner};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The seed's literal statement (reference §12).
const SEED_STATEMENT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWdpc3RyYXJAZXhhbXBsZS5jb20iLCJuYW1lIjoiSm9obiBEb2UiLCJpYXQiOjE2NzUyNDYxOTQsImV4cCI6MTY3NTI0OTc5NCwiaXNzIjoiaHR0cHM6Ly9wdWJsaXNoZXIuZXhhbXBsZS5jb20iLCJyZWRpcmVjdF91cmlzIjpbImh0dHBzOi8vY2xpZW50LmV4YW1wbGUuY29tL2NhbGxiYWNrIl19.7_3nu39GtTTz_RPKZMjj1JuwWWTgeE4Iqx7p3-cfiPg";
const SEED_IAT: u64 = 1_675_246_194;
const NOW: u64 = 1_800_000_000;

fn realm_keys() -> &'static StoredKeys {
    static KEYS: OnceLock<StoredKeys> = OnceLock::new();
    KEYS.get_or_init(|| StoredKeys::generate().unwrap().with_rsa_key())
}

fn decryption_keys() -> DecryptionKeys {
    let keys = realm_keys();
    DecryptionKeys::from_pems(
        keys.encryption.as_ref().map(|k| k.private_pem.expose()),
        keys.ecdh_encryption
            .as_ref()
            .map(|k| k.private_pem.expose()),
    )
    .unwrap()
}

fn publisher(document: Value) -> SoftwarePublisher {
    let document: PublisherDocument = serde_json::from_value(document).unwrap();
    SoftwarePublisher::parse(&document, None).unwrap()
}

fn seed_publisher() -> SoftwarePublisher {
    publisher(json!({
        "agent_id": "My Software Publisher",
        "issuer": "https://publisher.example.com",
        "secret": "secret",
        "signing_algorithm": "HS256",
        "public_key_selector": "jwks",
        "jwks": {"keys": [{"kty": "oct", "k": "secret", "alg": "HS256"}]},
    }))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn fresh_claims(issuer: &str) -> Value {
    json!({
        "iss": issuer, "sub": "registrar@example.com", "name": "John Doe",
        "iat": NOW, "exp": NOW + 300,
        "redirect_uris": ["https://client.example.com/callback"],
    })
}

/// A compact JWS with exactly the header given, signed by `sign`.
fn compact(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn hmac(alg: jsonwebtoken::Algorithm, secret: &str) -> impl Fn(&[u8]) -> Vec<u8> {
    hmac_with_key(alg, secret.as_bytes())
}

fn hmac_with_key(alg: jsonwebtoken::Algorithm, key: &[u8]) -> impl Fn(&[u8]) -> Vec<u8> {
    let key = jsonwebtoken::EncodingKey::from_secret(key);
    move |input| {
        let signature = jsonwebtoken::crypto::sign(input, &key, alg).unwrap();
        URL_SAFE_NO_PAD.decode(signature).unwrap()
    }
}

fn hs256(header: &Value, claims: &Value, secret: &str) -> String {
    compact(header, claims, hmac(jsonwebtoken::Algorithm::HS256, secret))
}

/// A key pair for an asymmetric algorithm: the private JWK and the public JWK.
fn key_pair(alg: SigningAlgorithm) -> (Jwk, Value) {
    use SigningAlgorithm as A;
    let pair: Box<dyn KeyPair> = match alg {
        A::RS256 => Box::new(jws_alg::RS256.generate_key_pair(2048).unwrap()),
        A::RS384 => Box::new(jws_alg::RS384.generate_key_pair(2048).unwrap()),
        A::RS512 => Box::new(jws_alg::RS512.generate_key_pair(2048).unwrap()),
        A::PS256 => Box::new(jws_alg::RS256.generate_key_pair(2048).unwrap()),
        A::PS384 => Box::new(jws_alg::RS384.generate_key_pair(2048).unwrap()),
        A::PS512 => Box::new(jws_alg::RS512.generate_key_pair(2048).unwrap()),
        A::ES256 => Box::new(jws_alg::ES256.generate_key_pair().unwrap()),
        A::ES384 => Box::new(jws_alg::ES384.generate_key_pair().unwrap()),
        A::ES512 => Box::new(jws_alg::ES512.generate_key_pair().unwrap()),
        A::EdDSA => Box::new(
            jws_alg::EdDSA
                .generate_key_pair(josekit::jwk::Ed25519)
                .unwrap(),
        ),
        _ => panic!("not asymmetric"),
    };
    // No `alg` on the JWKs: one RSA key serves RS* and PS* alike.
    let mut private = pair.to_jwk_key_pair();
    private.set_parameter("alg", None).unwrap();
    private.set_key_id(format!("{}-key", alg.as_str()));
    let mut public = pair.to_jwk_public_key();
    public.set_parameter("alg", None).unwrap();
    public.set_key_id(format!("{}-key", alg.as_str()));
    let public: Value = serde_json::from_str(&public.to_string()).unwrap();
    (private, public)
}

fn signer(alg: SigningAlgorithm, key: &Jwk) -> Box<dyn JwsSigner> {
    use SigningAlgorithm as A;
    match alg {
        A::RS256 => Box::new(jws_alg::RS256.signer_from_jwk(key).unwrap()),
        A::RS384 => Box::new(jws_alg::RS384.signer_from_jwk(key).unwrap()),
        A::RS512 => Box::new(jws_alg::RS512.signer_from_jwk(key).unwrap()),
        A::PS256 => Box::new(jws_alg::PS256.signer_from_jwk(key).unwrap()),
        A::PS384 => Box::new(jws_alg::PS384.signer_from_jwk(key).unwrap()),
        A::PS512 => Box::new(jws_alg::PS512.signer_from_jwk(key).unwrap()),
        A::ES256 => Box::new(jws_alg::ES256.signer_from_jwk(key).unwrap()),
        A::ES384 => Box::new(jws_alg::ES384.signer_from_jwk(key).unwrap()),
        A::ES512 => Box::new(jws_alg::ES512.signer_from_jwk(key).unwrap()),
        A::EdDSA => Box::new(jws_alg::EdDSA.signer_from_jwk(key).unwrap()),
        _ => panic!("not asymmetric"),
    }
}

fn signed(alg: SigningAlgorithm, key: &Jwk, header: &Value, claims: &Value) -> String {
    let signer = signer(alg, key);
    compact(header, claims, |input| signer.sign(input).unwrap())
}

/// `open` then `verify`, with the publisher's keys by value.
fn check(
    raw: &str,
    publishers: &[SoftwarePublisher],
    now: u64,
    required: Option<&[String]>,
) -> Result<VerifiedStatement, StatementError> {
    open(raw, publishers, &decryption_keys())?.verify(None, now, required)
}

fn jwe(payload: &str, enc: &str, zip: bool, encrypter: &dyn JweEncrypter) -> String {
    let mut header = JweHeader::new();
    header.set_content_encryption(enc);
    header.set_content_type("JWT");
    if zip {
        header.set_compression("DEF");
    }
    // The default context compresses; only the server side must cap inflation.
    JweContext::new()
        .serialize_compact(payload.as_bytes(), &header, encrypter)
        .unwrap()
}

fn realm_rsa_public_pem() -> Vec<u8> {
    openssl::pkey::PKey::private_key_from_pem(
        realm_keys()
            .encryption
            .as_ref()
            .unwrap()
            .private_pem
            .expose()
            .as_bytes(),
    )
    .unwrap()
    .public_key_to_pem()
    .unwrap()
}

fn realm_ec_public_jwk() -> Jwk {
    let public = &realm_keys().ecdh_encryption.as_ref().unwrap().public_jwk;
    Jwk::from_map(public.as_object().unwrap().clone()).unwrap()
}

// ---- the seed's test vector ----

#[test]
fn seed_statement_verifies_with_the_utf8_bytes_of_the_secret_while_it_was_current() {
    let verified = check(SEED_STATEMENT, &[seed_publisher()], SEED_IAT + 10, None).unwrap();
    assert_eq!(verified.issuer(), "https://publisher.example.com");
    assert_eq!(verified.agent_id(), "My Software Publisher");
    assert_eq!(verified.claims()["name"], "John Doe");
}

#[test]
fn seed_statement_is_refused_as_expired_today() {
    let error = check(SEED_STATEMENT, &[seed_publisher()], NOW, None).unwrap_err();
    assert!(matches!(error, StatementError::Expired { .. }), "{error}");
    assert_eq!(
        RegistrationError::from(error).code(),
        "invalid_software_statement"
    );
}

#[test]
fn hs_publishers_do_not_accept_the_base64url_decoded_secret_as_key() {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = fresh_claims("https://publisher.example.com");
    // "secret" as base64url has trailing bits; a lenient decoder gives 4 bytes.
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let decoded = lenient.decode("secret").unwrap();
    let statement = compact(
        &header,
        &claims,
        hmac_with_key(jsonwebtoken::Algorithm::HS256, &decoded),
    );
    let error = check(&statement, &[seed_publisher()], NOW, None).unwrap_err();
    assert_eq!(error, StatementError::BadSignature("secret"));
}

#[test]
fn every_hmac_algorithm_verifies_with_the_publishers_secret() {
    for (alg, jwt_alg) in [
        ("HS256", jsonwebtoken::Algorithm::HS256),
        ("HS384", jsonwebtoken::Algorithm::HS384),
        ("HS512", jsonwebtoken::Algorithm::HS512),
    ] {
        let issuer = format!("https://{alg}.example.com");
        let publishers = [publisher(json!({
            "agent_id": alg, "issuer": issuer, "secret": "short", "signing_algorithm": alg,
        }))];
        let statement = compact(
            &json!({"alg": alg}),
            &fresh_claims(&issuer),
            hmac(jwt_alg, "short"),
        );
        check(&statement, &publishers, NOW, None).unwrap_or_else(|e| panic!("{alg}: {e}"));
        let wrong = compact(
            &json!({"alg": alg}),
            &fresh_claims(&issuer),
            hmac(jwt_alg, "other"),
        );
        assert!(check(&wrong, &publishers, NOW, None).is_err(), "{alg}");
    }
}

// ---- asymmetric algorithms ----

#[test]
fn every_asymmetric_algorithm_verifies_with_the_publishers_jwks_and_only_with_it() {
    use SigningAlgorithm as A;
    for alg in [
        A::RS256,
        A::RS384,
        A::RS512,
        A::PS256,
        A::PS384,
        A::PS512,
        A::ES256,
        A::ES384,
        A::ES512,
        A::EdDSA,
    ] {
        let (private, public) = key_pair(alg);
        let (other_private, _) = key_pair(alg);
        let issuer = format!("https://{}.example.com", alg.as_str());
        let publishers = [publisher(json!({
            "agent_id": alg.as_str(), "issuer": issuer, "signing_algorithm": alg.as_str(),
            "public_key_selector": "jwks", "jwks": {"keys": [public]},
        }))];
        let header = json!({"alg": alg.as_str(), "kid": format!("{}-key", alg.as_str())});
        let good = signed(alg, &private, &header, &fresh_claims(&issuer));
        check(&good, &publishers, NOW, None).unwrap_or_else(|e| panic!("{}: {e}", alg.as_str()));
        let forged = signed(alg, &other_private, &header, &fresh_claims(&issuer));
        assert_eq!(
            check(&forged, &publishers, NOW, None).unwrap_err(),
            StatementError::BadSignature("keys"),
            "{}",
            alg.as_str()
        );
    }
}

#[test]
fn a_jwks_uri_publisher_verifies_with_the_keys_the_caller_fetched() {
    let (private, public) = key_pair(SigningAlgorithm::ES256);
    let publishers = [publisher(json!({
        "agent_id": "remote", "issuer": "https://remote.example.com",
        "signing_algorithm": "ES256", "jwks_uri": "https://remote.example.com/jwks",
        "jwks_cache_timeout_ms": 5, "jwks_cache_miss_cache_time_ms": 7,
    }))];
    let header = json!({"alg": "ES256", "kid": "ES256-key"});
    let statement = signed(
        SigningAlgorithm::ES256,
        &private,
        &header,
        &fresh_claims("https://remote.example.com"),
    );
    let opened = open(&statement, &publishers, &decryption_keys()).unwrap();
    assert_eq!(
        opened.key_source(),
        KeySource::JwksUri {
            uri: "https://remote.example.com/jwks",
            timeout_ms: 5,
            miss_cache_ms: 7,
            kid: Some("ES256-key"),
        }
    );
    let not_fetched = opened.clone().verify(None, NOW, None).unwrap_err();
    assert!(matches!(not_fetched, StatementError::KeysUnavailable(_)));
    opened
        .verify(Some(&json!({"keys": [public]})), NOW, None)
        .unwrap();
}

// ---- refusals before the signature ----

#[test]
fn an_unknown_issuer_is_unapproved_not_invalid() {
    let claims = fresh_claims("https://stranger.example.com");
    let statement = hs256(&json!({"alg": "HS256"}), &claims, "secret");
    let error = check(&statement, &[seed_publisher()], NOW, None).unwrap_err();
    assert_eq!(
        error,
        StatementError::UnknownIssuer("https://stranger.example.com".into())
    );
    assert_eq!(
        RegistrationError::from(error).code(),
        "unapproved_software_statement"
    );
}

#[test]
fn unsigned_statements_are_refused_whatever_the_case_of_none() {
    let claims = fresh_claims("https://publisher.example.com");
    for alg in ["none", "None", "NONE"] {
        let header = b64(json!({"alg": alg}).to_string().as_bytes());
        let payload = b64(claims.to_string().as_bytes());
        let statement = format!("{header}.{payload}.");
        assert_eq!(
            check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
            StatementError::Unsigned,
            "{alg}"
        );
    }
    // A real alg with its signature cut off is unsigned too.
    let statement = hs256(&json!({"alg": "HS256"}), &claims, "secret");
    let cut = &statement[..=statement.rfind('.').unwrap()];
    assert_eq!(
        check(cut, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::Unsigned
    );
}

#[test]
fn the_header_alg_must_be_the_publishers_pinned_algorithm() {
    let (_, public) = key_pair(SigningAlgorithm::RS256);
    let rsa_publisher = publisher(json!({
        "agent_id": "rsa", "issuer": "https://rsa.example.com", "signing_algorithm": "RS256",
        "public_key_selector": "jwks", "jwks": {"keys": [public.clone()]},
    }));
    // Alg confusion: HS256 keyed with the RSA public key's bytes.
    let public_bytes = serde_json::to_string(&public).unwrap();
    let statement = hs256(
        &json!({"alg": "HS256"}),
        &fresh_claims("https://rsa.example.com"),
        &public_bytes,
    );
    assert_eq!(
        check(&statement, &[rsa_publisher], NOW, None).unwrap_err(),
        StatementError::AlgorithmMismatch {
            found: "HS256".into(),
            expected: "RS256"
        }
    );
}

#[test]
fn any_crit_header_is_refused() {
    let header = json!({"alg": "HS256", "crit": ["exp"], "exp": 1});
    let statement = hs256(
        &header,
        &fresh_claims("https://publisher.example.com"),
        "secret",
    );
    assert!(matches!(
        check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::UnsupportedCritical(_)
    ));
}

#[test]
fn keys_in_the_header_are_ignored_and_kid_only_picks_among_the_publishers_keys() {
    let (private, public) = key_pair(SigningAlgorithm::ES256);
    let (attacker_private, mut attacker_public) = key_pair(SigningAlgorithm::ES256);
    attacker_public["kid"] = json!("attacker");
    let publishers = [publisher(json!({
        "agent_id": "es", "issuer": "https://es.example.com", "signing_algorithm": "ES256",
        "public_key_selector": "jwks", "jwks": {"keys": [public]},
    }))];
    let claims = fresh_claims("https://es.example.com");
    for header in [
        json!({"alg": "ES256", "jwk": attacker_public}),
        json!({"alg": "ES256", "jku": "https://attacker.example/jwks", "kid": "ES256-key"}),
        json!({"alg": "ES256", "x5u": "https://attacker.example/cert", "x5c": ["AAAA"]}),
    ] {
        let statement = signed(SigningAlgorithm::ES256, &attacker_private, &header, &claims);
        assert_eq!(
            check(&statement, &publishers, NOW, None).unwrap_err(),
            StatementError::BadSignature("keys"),
            "{header}"
        );
    }
    let unknown_kid = signed(
        SigningAlgorithm::ES256,
        &attacker_private,
        &json!({"alg": "ES256", "kid": "attacker", "jwk": attacker_public}),
        &claims,
    );
    assert!(matches!(
        check(&unknown_kid, &publishers, NOW, None).unwrap_err(),
        StatementError::NoUsableKey(_)
    ));
    // The genuine key still works with the same noise in the header.
    let genuine = signed(
        SigningAlgorithm::ES256,
        &private,
        &json!({"alg": "ES256", "jku": "https://attacker.example/jwks"}),
        &claims,
    );
    check(&genuine, &publishers, NOW, None).unwrap();
}

#[test]
fn malformed_statements_are_refused_with_the_reason() {
    let cases: &[(&str, &str)] = &[
        ("", "this has 1"),
        ("abc", "this has 1"),
        ("a.b", "this has 2"),
        ("a.b.c.d", "this has 4"),
        ("a.b.c.d.e.f", "this has 6"),
        ("!!!.e30.AAAA", "not base64url"),
        ("bm90IGpzb24.e30.AAAA", "not valid JSON"),
        ("WzFd.e30.AAAA", "not a JSON object"),
        ("e30.e30.AAAA", "no alg"),
    ];
    for (raw, reason) in cases {
        let error = check(raw, &[seed_publisher()], NOW, None).unwrap_err();
        assert!(error.to_string().contains(reason), "{raw}: {error}");
    }
    let no_iss = hs256(&json!({"alg": "HS256"}), &json!({"sub": "x"}), "secret");
    assert_eq!(
        check(&no_iss, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::MissingIssuer
    );
}

#[test]
fn statements_above_64_kib_are_refused_before_parsing() {
    let raw = "a".repeat(MAX_STATEMENT_BYTES + 1);
    assert_eq!(
        check(&raw, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::TooLarge(MAX_STATEMENT_BYTES)
    );
    let at_limit = "a".repeat(MAX_STATEMENT_BYTES);
    assert!(matches!(
        check(&at_limit, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::Malformed(_)
    ));
}

// ---- time claims and attested attributes ----

#[test]
fn time_claims_are_checked_when_present_with_sixty_seconds_of_skew() {
    let publishers = [seed_publisher()];
    let statement = |extra: Value| {
        let mut claims = json!({"iss": "https://publisher.example.com"});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        hs256(&json!({"alg": "HS256"}), &claims, "secret")
    };
    let now = NOW as i64;
    // (claims, accepted)
    let cases = [
        (json!({}), true),
        (json!({"exp": now + 1}), true),
        (json!({"exp": now - 59}), true),
        (json!({"exp": now - 60}), false),
        (json!({"exp": (now - 30) as f64 + 0.5}), true),
        (json!({"nbf": now + 60}), true),
        (json!({"nbf": now + 61}), false),
        (json!({"iat": now + 60}), true),
        (json!({"iat": now + 61}), false),
        (json!({"exp": "tomorrow"}), false),
        (json!({"nbf": null}), false),
        (json!({"exp": u64::MAX}), true),
        (json!({"exp": i64::MIN}), false),
    ];
    for (claims, accepted) in cases {
        let result = check(&statement(claims.clone()), &publishers, NOW, None);
        assert_eq!(result.is_ok(), accepted, "{claims}: {result:?}");
    }
}

#[test]
fn required_attested_attributes_must_be_claims_of_the_statement() {
    let publishers = [seed_publisher()];
    let statement = hs256(
        &json!({"alg": "HS256"}),
        &json!({"iss": "https://publisher.example.com", "redirect_uris": [], "software_id": ""}),
        "secret",
    );
    let required = ["redirect_uris".to_owned(), "software_id".to_owned()];
    check(&statement, &publishers, NOW, Some(&required)).unwrap();
    let more = ["redirect_uris".to_owned(), "client_name".to_owned()];
    assert_eq!(
        check(&statement, &publishers, NOW, Some(&more)).unwrap_err(),
        StatementError::MissingAttribute("client_name".into())
    );
    // Not enforced when the realm does not require statements.
    check(&statement, &publishers, NOW, None).unwrap();
}

// ---- encrypted statements ----

fn seed_like_jws() -> String {
    hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &fresh_claims("https://publisher.example.com"),
        "secret",
    )
}

#[test]
fn jwe_to_the_realms_rsa_key_decrypts_with_rsa_oaep_and_rsa_oaep_256() {
    let pem = realm_rsa_public_pem();
    for (encrypter, enc) in [
        (
            jwe_alg::RSA_OAEP.encrypter_from_pem(&pem).unwrap(),
            "A128CBC-HS256",
        ),
        (
            jwe_alg::RSA_OAEP_256.encrypter_from_pem(&pem).unwrap(),
            "A256GCM",
        ),
    ] {
        let statement = jwe(&seed_like_jws(), enc, false, &encrypter);
        check(&statement, &[seed_publisher()], NOW, None).unwrap();
    }
}

#[test]
fn rsa_oaep_jwe_to_a_realm_without_an_rsa_key_yet_is_undecryptable() {
    let keys = realm_keys();
    let without_rsa = DecryptionKeys::from_pems(
        None,
        keys.ecdh_encryption
            .as_ref()
            .map(|k| k.private_pem.expose()),
    )
    .unwrap();
    let encrypter = jwe_alg::RSA_OAEP_256
        .encrypter_from_pem(realm_rsa_public_pem())
        .unwrap();
    let statement = jwe(&seed_like_jws(), "A128GCM", false, &encrypter);
    let refusal = open(&statement, &[seed_publisher()], &without_rsa).unwrap_err();
    assert!(
        matches!(refusal, StatementError::Undecryptable(why) if why.contains("no RSA")),
        "{refusal:?}"
    );
}

#[test]
fn jwe_to_the_realms_ec_key_decrypts_with_every_ecdh_es_variant() {
    let jwk = realm_ec_public_jwk();
    let encrypters = [
        jwe_alg::ECDH_ES.encrypter_from_jwk(&jwk).unwrap(),
        jwe_alg::ECDH_ES_A128KW.encrypter_from_jwk(&jwk).unwrap(),
        jwe_alg::ECDH_ES_A192KW.encrypter_from_jwk(&jwk).unwrap(),
        jwe_alg::ECDH_ES_A256KW.encrypter_from_jwk(&jwk).unwrap(),
    ];
    for encrypter in &encrypters {
        for enc in ["A128GCM", "A256CBC-HS512"] {
            let statement = jwe(&seed_like_jws(), enc, true, encrypter);
            check(&statement, &[seed_publisher()], NOW, None).unwrap();
        }
    }
}

#[test]
fn jwe_with_keys_derived_from_a_publisher_secret_decrypts_dir_and_aes_key_wrap() {
    // Another publisher with a secret comes first: each secret is tried in turn.
    let decoy = publisher(json!({
        "agent_id": "A decoy", "issuer": "https://decoy.example.com",
        "secret": "decoy", "signing_algorithm": "HS256",
    }));
    let publishers = [decoy, seed_publisher()];
    for (enc, len) in [
        ("A128CBC-HS256", 32),
        ("A256CBC-HS512", 64),
        ("A128GCM", 16),
        ("A256GCM", 32),
    ] {
        let encrypter = jwe_alg::Dir
            .encrypter_from_bytes(derive_key(b"secret", len))
            .unwrap();
        let statement = jwe(&seed_like_jws(), enc, false, &encrypter);
        check(&statement, &publishers, NOW, None).unwrap_or_else(|e| panic!("dir {enc}: {e}"));
    }
    for (encrypter, name) in [
        (
            jwe_alg::A128KW
                .encrypter_from_bytes(derive_key(b"secret", 16))
                .unwrap(),
            "A128KW",
        ),
        (
            jwe_alg::A192KW
                .encrypter_from_bytes(derive_key(b"secret", 24))
                .unwrap(),
            "A192KW",
        ),
        (
            jwe_alg::A256KW
                .encrypter_from_bytes(derive_key(b"secret", 32))
                .unwrap(),
            "A256KW",
        ),
    ] {
        let statement = jwe(&seed_like_jws(), "A128CBC-HS256", true, &encrypter);
        check(&statement, &publishers, NOW, None).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let wrong = jwe_alg::A128KW
        .encrypter_from_bytes(derive_key(b"not the secret", 16))
        .unwrap();
    let statement = jwe(&seed_like_jws(), "A128GCM", false, &wrong);
    assert!(matches!(
        check(&statement, &publishers, NOW, None).unwrap_err(),
        StatementError::Undecryptable(_)
    ));
}

#[test]
fn derived_keys_are_the_leftmost_bytes_of_sha2_of_the_utf8_secret() {
    let sha256 = openssl::sha::sha256(b"secret");
    let sha512 = openssl::sha::sha512(b"secret");
    assert_eq!(derive_key(b"secret", 16), sha256[..16]);
    assert_eq!(derive_key(b"secret", 32), sha256[..]);
    assert_eq!(
        derive_key(b"secret", 48),
        openssl::sha::sha384(b"secret")[..]
    );
    assert_eq!(derive_key(b"secret", 64), sha512[..]);
}

#[test]
fn jwe_that_is_not_to_this_realm_or_not_accepted_is_refused() {
    let stranger = jwe_alg::RSA_OAEP_256.generate_key_pair(2048).unwrap();
    let encrypter = jwe_alg::RSA_OAEP_256
        .encrypter_from_pem(stranger.to_pem_public_key())
        .unwrap();
    let statement = jwe(&seed_like_jws(), "A128GCM", false, &encrypter);
    assert!(matches!(
        check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::Undecryptable(_)
    ));

    let pem = realm_rsa_public_pem();
    #[allow(deprecated)] // RFC 8725 §3.2: exactly why the server refuses it.
    let rsa1_5 = jwe_alg::RSA1_5.encrypter_from_pem(&pem).unwrap();
    let statement = jwe(&seed_like_jws(), "A128GCM", false, &rsa1_5);
    assert!(matches!(
        check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::UnsupportedEncryption { what: "alg", .. }
    ));
    let oaep = jwe_alg::RSA_OAEP_256.encrypter_from_pem(&pem).unwrap();
    let statement = jwe(&seed_like_jws(), "A192GCM", false, &oaep);
    assert!(matches!(
        check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::UnsupportedEncryption { what: "enc", .. }
    ));
}

#[test]
fn the_plaintext_of_a_jwe_must_be_a_signed_jwt() {
    let oaep = jwe_alg::RSA_OAEP_256
        .encrypter_from_pem(realm_rsa_public_pem())
        .unwrap();
    let claims = fresh_claims("https://publisher.example.com").to_string();
    let statement = jwe(&claims, "A128GCM", false, &oaep);
    assert_eq!(
        check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::NotNested
    );
    let inner = jwe(&seed_like_jws(), "A128GCM", false, &oaep);
    let nested_twice = jwe(&inner, "A128GCM", false, &oaep);
    assert_eq!(
        check(&nested_twice, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::NotNested
    );
}

#[test]
fn zip_payloads_inflating_past_32_kib_are_refused() {
    let oaep = jwe_alg::RSA_OAEP_256
        .encrypter_from_pem(realm_rsa_public_pem())
        .unwrap();
    // A real statement with a padded claim, a little over the cap once inflated.
    let mut claims = fresh_claims("https://publisher.example.com");
    claims["padding"] = json!("x".repeat(MAX_INFLATED_BYTES));
    let big = hs256(&json!({"alg": "HS256"}), &claims, "secret");
    let statement = jwe(&big, "A128GCM", true, &oaep);
    assert!(statement.len() < 4096, "compresses well");
    assert_eq!(
        check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::InflatesTooFar(MAX_INFLATED_BYTES)
    );
    // A bomb: 16 MiB of zeros, also with a publisher-secret key (the loop must stop too).
    let bomb = "0".repeat(16 << 20);
    let dir = jwe_alg::Dir
        .encrypter_from_bytes(derive_key(b"secret", 16))
        .unwrap();
    let statement = jwe(&bomb, "A128GCM", true, &dir);
    assert!(statement.len() < MAX_STATEMENT_BYTES);
    assert_eq!(
        check(&statement, &[seed_publisher()], NOW, None).unwrap_err(),
        StatementError::InflatesTooFar(MAX_INFLATED_BYTES)
    );
    // Compressed statements below the cap are fine.
    let statement = jwe(&seed_like_jws(), "A128GCM", true, &oaep);
    check(&statement, &[seed_publisher()], NOW, None).unwrap();
}

#[test]
fn capped_inflate_stops_one_byte_past_the_cap() {
    let deflate = |data: &[u8]| {
        use std::io::Write;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    };
    assert_eq!(
        inflate_capped(&deflate(&[7u8; 100]), 100).unwrap(),
        vec![7u8; 100]
    );
    assert!(inflate_capped(&deflate(&[7u8; 101]), 100).is_err());
    assert!(inflate_capped(&deflate(&vec![0u8; 64 << 20]), 32 * 1024).is_err());
    assert!(inflate_capped(b"not deflate at all", 100).is_err());
}

// ---- merging into the request ----

#[test]
fn statement_claims_override_the_request_except_registered_and_server_decided_claims() {
    let statement = VerifiedStatement {
        agent_id: "p".into(),
        issuer: "https://publisher.example.com".into(),
        claims: json!({
            "iss": "https://publisher.example.com", "sub": "s", "aud": "a", "exp": 1,
            "iat": 1, "nbf": 1, "jti": "j", "name": "John Doe",
            "client_id": "chosen", "client_secret": "chosen",
            "software_statement": "inner", "software_id": "app-1",
            "redirect_uris": ["https://statement.example.com/cb"],
            "scopes": ["openid"], "jwks": {"keys": []},
        })
        .as_object()
        .unwrap()
        .clone(),
    };
    let mut request = json!({
        "software_statement": "as-sent",
        "redirect_uris": ["https://request.example.com/cb"],
        "scope": "profile email", "jwks_uri": "https://request.example.com/jwks",
        "client_name": "kept",
    })
    .as_object()
    .unwrap()
    .clone();
    statement.merge_into(&mut request);
    assert_eq!(
        Value::Object(request),
        json!({
            "software_statement": "as-sent",
            "redirect_uris": ["https://statement.example.com/cb"],
            "scopes": ["openid"], "jwks": {"keys": []},
            "client_name": "kept", "software_id": "app-1", "name": "John Doe",
        })
    );
}

// ---- publisher profiles ----

#[test]
fn publisher_profiles_are_validated_on_save() {
    let (_, es_public) = key_pair(SigningAlgorithm::ES256);
    let (_, rsa_public) = key_pair(SigningAlgorithm::RS256);
    let base = json!({"agent_id": "p", "issuer": "https://p.example.com"});
    let with = |extra: Value| {
        let mut document = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            document[k] = v.clone();
        }
        serde_json::from_value::<PublisherDocument>(document).unwrap()
    };
    // (document, expected error fragment, or "" when valid)
    let cases = [
        (with(json!({"jwks_uri": "https://p.example.com/jwks"})), ""),
        (with(json!({"issuer": " "})), "issuer is required"),
        (with(json!({"agent_id": ""})), "agent_id must be"),
        (with(json!({"agent_id": "a/b"})), "agent_id must be"),
        (
            with(json!({"signing_algorithm": "none"})),
            "signing_algorithm \"none\" is not supported",
        ),
        (
            with(json!({"signing_algorithm": "es256"})),
            "is not supported",
        ),
        (with(json!({})), "jwks_uri is required"),
        (
            with(json!({"jwks_uri": "file:///etc/passwd"})),
            "must be an http(s) URL",
        ),
        (
            with(json!({"jwks_uri": "not-a-url"})),
            "is not an absolute URI",
        ),
        (
            with(json!({"signing_algorithm": "HS256"})),
            "secret is required",
        ),
        (
            with(json!({"signing_algorithm": "HS256", "secret": ""})),
            "secret must not be empty",
        ),
        (
            with(json!({"signing_algorithm": "HS512", "secret": "s"})),
            "",
        ),
        (
            with(json!({"public_key_selector": "x509"})),
            "public_key_selector \"x509\" is not supported",
        ),
        (
            with(json!({"public_key_selector": "jwks"})),
            "jwks is required",
        ),
        (
            with(json!({"public_key_selector": "jwks", "jwks": {"keys": [rsa_public.clone()]}})),
            "",
        ),
        (
            with(
                json!({"public_key_selector": "jwks", "signing_algorithm": "ES256", "jwks": {"keys": [rsa_public]}}),
            ),
            "no key that can verify ES256",
        ),
        (
            with(
                json!({"public_key_selector": "jwks", "signing_algorithm": "ES512", "jwks": {"keys": [es_public]}}),
            ),
            "no key that can verify ES512",
        ),
        (
            with(
                json!({"public_key_selector": "jwks", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
            ),
            "public keys only",
        ),
        (
            with(json!({"public_key_selector": "jwks", "jwks": [1]})),
            "must be a JWK set",
        ),
        (
            with(json!({"jwks_uri": "https://p.example.com/jwks", "jwks": {"keys": []}})),
            "jwks is given",
        ),
    ];
    for (document, expected) in cases {
        let result = SoftwarePublisher::parse(&document, None);
        match (expected, result) {
            ("", Ok(_)) => {}
            ("", Err(e)) => panic!("{document:?} refused: {e}"),
            (fragment, Ok(_)) => panic!("{document:?} accepted, expected {fragment}"),
            (fragment, Err(e)) => assert!(e.contains(fragment), "{e} lacks {fragment}"),
        }
    }
    let mismatch =
        SoftwarePublisher::parse(&with(json!({"jwks_uri": "https://x.example"})), Some("q"));
    assert!(mismatch.unwrap_err().contains("does not match"));
}

#[test]
fn publisher_documents_default_as_am_does_and_keep_the_secret_write_only() {
    let document = PublisherDocument {
        issuer: Some("https://p.example.com".into()),
        jwks_uri: Some("https://p.example.com/jwks".into()),
        secret: Some(Secret::new("for-dir-jwe")),
        ..PublisherDocument::default()
    };
    let parsed = SoftwarePublisher::parse(&document, Some("P")).unwrap();
    assert_eq!(parsed.signing_algorithm(), SigningAlgorithm::RS256);
    assert_eq!(parsed.keys().selector(), KeySelector::JwksUri);
    let shown = serde_json::to_value(parsed.to_document(false)).unwrap();
    assert_eq!(
        shown,
        json!({
            "agent_id": "P", "issuer": "https://p.example.com", "signing_algorithm": "RS256",
            "public_key_selector": "jwks_uri", "jwks_uri": "https://p.example.com/jwks",
            "jwks_cache_timeout_ms": 3_600_000, "jwks_cache_miss_cache_time_ms": 60_000,
        })
    );
    assert_eq!(
        parsed.to_document(true).secret.as_ref().map(Secret::expose),
        Some("for-dir-jwe")
    );
    assert!(!format!("{parsed:?}").contains("for-dir-jwe"));
    // The exported form (with secret) parses back to the same profile.
    let round_trip = SoftwarePublisher::parse(&parsed.to_document(true), None).unwrap();
    assert_eq!(round_trip, parsed);
}

// ---- fuzz ----

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, valid: &str) -> String {
    const ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00\xff{}\"";
    let mut bytes = valid.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = ALPHABET[rng.below(ALPHABET.len())];
                }
            }
            2 => bytes.insert(at.min(bytes.len()), b'.'),
            3 => {
                if at < bytes.len() {
                    bytes.remove(at);
                }
            }
            4 => {
                let copy = bytes.clone();
                bytes.extend_from_slice(&copy[at..]);
            }
            _ => {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Headers and claims of odd shapes, validly encoded and signed, to reach the deeper steps.
fn odd_statement(rng: &mut Rng) -> String {
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e308),
        json!("https://publisher.example.com"),
        json!([]),
        json!({}),
        json!(["exp"]),
        json!("HS256"),
        json!("none"),
    ];
    let mut header = serde_json::Map::new();
    let mut claims = serde_json::Map::new();
    for name in ["alg", "kid", "crit", "jwk", "typ", "zip", "enc"] {
        if rng.below(2) == 0 {
            header.insert(name.into(), values[rng.below(values.len())].clone());
        }
    }
    for name in ["iss", "exp", "nbf", "iat", "redirect_uris", "aud"] {
        if rng.below(2) == 0 {
            claims.insert(name.into(), values[rng.below(values.len())].clone());
        }
    }
    hs256(&Value::Object(header), &Value::Object(claims), "secret")
}

#[test]
fn random_and_mutated_statements_never_panic_the_verifier() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let (es_private, es_public) = key_pair(SigningAlgorithm::ES512);
    let publishers = [
        seed_publisher(),
        publisher(json!({
            "agent_id": "es", "issuer": "https://es.example.com", "signing_algorithm": "ES512",
            "public_key_selector": "jwks", "jwks": {"keys": [es_public]},
        })),
    ];
    let oaep = jwe_alg::RSA_OAEP_256
        .encrypter_from_pem(realm_rsa_public_pem())
        .unwrap();
    let dir = jwe_alg::Dir
        .encrypter_from_bytes(derive_key(b"secret", 32))
        .unwrap();
    let ecdh = jwe_alg::ECDH_ES_A128KW
        .encrypter_from_jwk(&realm_ec_public_jwk())
        .unwrap();
    let valid = [
        seed_like_jws(),
        SEED_STATEMENT.to_owned(),
        signed(
            SigningAlgorithm::ES512,
            &es_private,
            &json!({"alg": "ES512"}),
            &fresh_claims("https://es.example.com"),
        ),
        jwe(&seed_like_jws(), "A128GCM", true, &oaep),
        jwe(&seed_like_jws(), "A128CBC-HS256", false, &dir),
        jwe(&seed_like_jws(), "A256GCM", true, &ecdh),
    ];
    for statement in &valid {
        check(statement, &publishers, NOW, None)
            .map(|_| ())
            .or_else(|e| match e {
                StatementError::Expired { .. } => Ok(()),
                other => Err(other),
            })
            .unwrap();
    }
    let required = ["redirect_uris".to_owned()];
    let run = |raw: &str| {
        if let Ok(opened) = open(raw, &publishers, &decryption_keys()) {
            let _ = opened.key_source();
            let _ = opened.verify(Some(&json!({"keys": "nope"})), NOW, Some(&required));
        }
    };
    for round in 0..3000 {
        let base = &valid[round % valid.len()];
        // JWE rounds cost an RSA or ECDH operation each; fewer of them keeps this quick.
        if round % valid.len() >= 3 && round % 4 != 0 {
            continue;
        }
        let mutated = mutate(&mut rng, base);
        if mutated != *base {
            // A mutation may only be accepted if it left the signed content intact (e.g. a
            // flipped low bit of the last base64url character); never may it panic.
            run(&mutated);
        }
    }
    for _ in 0..1000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        run(&String::from_utf8_lossy(&bytes));
        let parts: Vec<String> = (0..=rng.below(6))
            .map(|_| {
                b64(&(0..rng.below(40))
                    .map(|_| rng.next() as u8)
                    .collect::<Vec<_>>())
            })
            .collect();
        run(&parts.join("."));
        run(&odd_statement(&mut rng));
    }
}
