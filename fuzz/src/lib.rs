//! What the fuzz targets share: fixed keys and publishers, and signing of fuzzed claims so
//! that inputs reach the checks behind a signature, not only the parsers in front of it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dynreg::jose::StoredKeys;
use dynreg::software_statement::{PublisherDocument, SoftwarePublisher};
use jsonwebtoken::{Algorithm, EncodingKey};

/// The seed publisher's secret and issuer (realms/alpha.json).
pub const HS_SECRET: &str = "secret";
pub const HS_ISSUER: &str = "https://publisher.example.com";
/// The issuer of the asymmetric publisher, whose key is the realm's own signing key.
pub const ES_ISSUER: &str = "https://es-publisher.example.com";

/// A realm's worth of fresh keys (made once per fuzzing process).
pub fn keys() -> StoredKeys {
    let mut keys = StoredKeys::generate().expect("key generation");
    // A realm makes its RSA key lazily; the targets fuzz a realm that has one.
    keys.add_rsa_key(dynreg::jose::generate_rsa_encryption_key().expect("RSA key generation"));
    keys
}

/// An `HS256` publisher with the seed's secret and an `ES256` one holding `keys`' signing key.
pub fn publishers(keys: &StoredKeys) -> Vec<SoftwarePublisher> {
    let hs = PublisherDocument {
        agent_id: Some("hs".into()),
        issuer: Some(HS_ISSUER.into()),
        secret: Some(dynreg::secret::Secret::new(HS_SECRET)),
        signing_algorithm: Some("HS256".into()),
        ..Default::default()
    };
    let es = PublisherDocument {
        agent_id: Some("es".into()),
        issuer: Some(ES_ISSUER.into()),
        signing_algorithm: Some("ES256".into()),
        public_key_selector: Some("jwks".into()),
        jwks: Some(serde_json::json!({ "keys": [keys.signing[0].public_jwk] })),
        ..Default::default()
    };
    [hs, es]
        .iter()
        .map(|document| SoftwarePublisher::parse(document, None).expect("valid publisher"))
        .collect()
}

/// A compact JWS over `payload` (raw bytes, as fuzzed) signed with `alg` and `key`.
pub fn sign(payload: &[u8], alg: Algorithm, kid: Option<&str>, key: &EncodingKey) -> String {
    let header = match kid {
        Some(kid) => format!(r#"{{"alg":"{alg:?}","kid":"{kid}"}}"#),
        None => format!(r#"{{"alg":"{alg:?}"}}"#),
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("signing");
    format!("{input}.{signature}")
}

/// The ES256 signing key of `keys`, as jsonwebtoken wants it.
pub fn es256_key(keys: &StoredKeys) -> EncodingKey {
    EncodingKey::from_ec_pem(keys.signing[0].private_pem.expose().as_bytes()).expect("EC PEM")
}
