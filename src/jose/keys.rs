//! A realm's own keys: ES256 signing keys (the active one plus rotated ones still published
//! until the tokens they signed have expired) and two encryption keys whose public halves let
//! software publishers encrypt statements to the realm (SPEC §5): a P-256 key (`ECDH-ES`,
//! `ECDH-ES+A*KW`) and an RSA key (`RSA-OAEP`, `RSA-OAEP-256`).
//!
//! A new realm gets its two P-256 keys only: RSA-2048 generation takes a few hundred
//! milliseconds, so the RSA key is made the first time the realm's key set is published
//! (see `RealmHandle::jwks`), which keeps realm creation fast.

use super::access_token::AccessTokenSigner;
use super::JoseError;
use crate::secret::Secret;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Signing algorithm of the realm's access tokens: fast to sign and verify, widely supported.
pub const SIGNING_ALG: &str = "ES256";
const RSA_BITS: u32 = 2048;

/// One stored key pair: private key as PKCS#8 PEM, public key as a JWK.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub private_pem: Secret,
    pub public_jwk: Value,
    /// For rotated signing keys: published and accepted until this Unix time.
    #[serde(default)]
    pub retire_after: Option<u64>,
}

/// The stored form of a realm's keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKeys {
    /// The first key signs; the rest are rotated keys that only verify.
    pub signing: Vec<StoredKey>,
    /// RSA encryption key: `None` until the realm's key set is first published (realms
    /// stored before it was made lazily always have one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<StoredKey>,
    /// P-256 key for ECDH-ES key agreement. Realms stored before it existed have none until
    /// [`StoredKeys::ensure_ecdh_key`] adds one at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecdh_encryption: Option<StoredKey>,
}

impl StoredKeys {
    /// Fresh keys for a new realm: two P-256 keys, no RSA key yet.
    pub fn generate() -> Result<Self, JoseError> {
        Ok(Self {
            signing: vec![generate_signing_key()?],
            encryption: None,
            ecdh_encryption: Some(generate_ecdh_key()?),
        })
    }

    /// Adds the RSA encryption key (see [`generate_rsa_encryption_key`]) unless there is one
    /// already; true when `key` was added.
    pub fn add_rsa_key(&mut self, key: StoredKey) -> bool {
        if self.encryption.is_some() {
            return false;
        }
        self.encryption = Some(key);
        true
    }

    /// Tests: these keys with an RSA key.
    #[cfg(test)]
    pub fn with_rsa_key(mut self) -> Self {
        self.add_rsa_key(generate_rsa_encryption_key().unwrap());
        self
    }

    /// Adds the ECDH-ES key to keys stored before it existed; true when one was added.
    pub fn ensure_ecdh_key(&mut self) -> Result<bool, JoseError> {
        if self.ecdh_encryption.is_some() {
            return Ok(false);
        }
        self.ecdh_encryption = Some(generate_ecdh_key()?);
        Ok(true)
    }

    /// A new active signing key; the old ones stay published until `now + keep_seconds`,
    /// and keys whose time has passed are dropped.
    pub fn rotated(&self, now: u64, keep_seconds: u64) -> Result<Self, JoseError> {
        let mut signing = vec![generate_signing_key()?];
        for (index, key) in self.signing.iter().enumerate() {
            let mut key = key.clone();
            if index == 0 {
                key.retire_after = Some(now.saturating_add(keep_seconds));
            }
            if key.retire_after.is_some_and(|t| t > now) {
                signing.push(key);
            }
        }
        Ok(Self {
            signing,
            encryption: self.encryption.clone(),
            ecdh_encryption: self.ecdh_encryption.clone(),
        })
    }
}

struct VerifyingKey {
    kid: String,
    key: DecodingKey,
    retire_after: Option<u64>,
}

/// Loaded keys, ready to sign and verify.
pub struct RealmKeys {
    stored: StoredKeys,
    signer: AccessTokenSigner,
    verifiers: Vec<VerifyingKey>,
}

impl RealmKeys {
    pub fn load(stored: StoredKeys) -> Result<Self, JoseError> {
        let active = stored
            .signing
            .first()
            .ok_or_else(|| JoseError::Key("the realm has no signing key".into()))?;
        let signer =
            AccessTokenSigner::from_pem(&active.kid, active.private_pem.expose().as_bytes())?;
        let verifiers = stored
            .signing
            .iter()
            .map(|k| {
                let public = PKey::private_key_from_pem(k.private_pem.expose().as_bytes())
                    .and_then(|p| p.public_key_to_pem())
                    .map_err(|e| JoseError::Key(format!("signing key {}: {e}", k.kid)))?;
                Ok(VerifyingKey {
                    kid: k.kid.clone(),
                    key: DecodingKey::from_ec_pem(&public)
                        .map_err(|e| JoseError::Key(format!("signing key {}: {e}", k.kid)))?,
                    retire_after: k.retire_after,
                })
            })
            .collect::<Result<Vec<_>, JoseError>>()?;
        Ok(Self {
            stored,
            signer,
            verifiers,
        })
    }

    pub fn stored(&self) -> &StoredKeys {
        &self.stored
    }

    /// The active signing key.
    pub fn signer(&self) -> &AccessTokenSigner {
        &self.signer
    }

    /// The verification key with this `kid`, if it is still in service at `now`.
    pub fn verifier(&self, kid: &str, now: u64) -> Option<&DecodingKey> {
        self.verifiers
            .iter()
            .find(|v| v.kid == kid && v.retire_after.is_none_or(|t| t > now))
            .map(|v| &v.key)
    }

    /// RFC 7517 JWK set of the public keys still in service.
    pub fn jwks(&self, now: u64) -> Value {
        let signing = self
            .stored
            .signing
            .iter()
            .filter(|k| k.retire_after.is_none_or(|t| t > now))
            .map(|k| k.public_jwk.clone());
        let encryption = self
            .stored
            .encryption
            .iter()
            .chain(self.stored.ecdh_encryption.as_ref())
            .map(|k| published_encryption_jwk(&k.public_jwk));
        let keys: Vec<Value> = signing.chain(encryption).collect();
        json!({ "keys": keys })
    }

    pub fn signing_algorithm() -> Algorithm {
        Algorithm::ES256
    }
}

/// An encryption key as published: `use: "enc"` and no `alg`. One key serves several
/// key-management algorithms (RSA-OAEP and RSA-OAEP-256; ECDH-ES and ECDH-ES+A*KW), RFC 7517
/// §4.4 makes `alg` optional, and strict key parsers (the Rust `openidconnect` crate) drop
/// keys whose `alg` is a key-management algorithm. Keys stored with an `alg` lose it here.
fn published_encryption_jwk(stored: &Value) -> Value {
    let mut jwk = stored.clone();
    if let Some(members) = jwk.as_object_mut() {
        members.remove("alg");
    }
    jwk
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638 thumbprint over the required members, in lexicographic order.
fn thumbprint(required_members: &Value) -> String {
    b64(&crate::secret::sha256(
        required_members.to_string().as_bytes(),
    ))
}

fn generate_signing_key() -> Result<StoredKey, JoseError> {
    generate_p256_key("sig", Some(SIGNING_ALG))
}

/// No `alg` in its JWK (see [`published_encryption_jwk`]).
fn generate_ecdh_key() -> Result<StoredKey, JoseError> {
    generate_p256_key("enc", None)
}

/// A P-256 key made with aws-lc (a few times cheaper than OpenSSL 3's generation and PEM
/// encoder, which matters on the realm-creation path).
fn generate_p256_key(key_use: &str, alg: Option<&str>) -> Result<StoredKey, JoseError> {
    let failed = |_| JoseError::Key("P-256 key generation failed".into());
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?;
    let pkcs8 = pair.to_pkcs8v1().map_err(failed)?;
    // The public key is the uncompressed SEC1 point: 0x04 || x || y.
    let (x, y) = match pair.public_key().as_ref() {
        [0x04, coordinates @ ..] if coordinates.len() == 64 => coordinates.split_at(32),
        _ => {
            return Err(JoseError::Key(
                "unexpected P-256 public key encoding".into(),
            ))
        }
    };
    let (x, y) = (b64(x), b64(y));
    let kid = thumbprint(&json!({"crv": "P-256", "kty": "EC", "x": x, "y": y}));
    let mut public_jwk = json!({
        "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": key_use,
    });
    if let (Some(alg), Some(jwk)) = (alg, public_jwk.as_object_mut()) {
        jwk.insert("alg".into(), json!(alg));
    }
    Ok(StoredKey {
        public_jwk,
        kid,
        private_pem: Secret::new(pkcs8_pem(pkcs8.as_ref())),
        retire_after: None,
    })
}

/// PKCS#8 DER as PEM (RFC 7468 `PRIVATE KEY`, lines of 64 characters).
fn pkcs8_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// A realm's RSA-2048 encryption key: a few hundred milliseconds of CPU, so callers run it off
/// the async workers.
pub fn generate_rsa_encryption_key() -> Result<StoredKey, JoseError> {
    let rsa = Rsa::generate(RSA_BITS)?;
    let n = b64(&rsa.n().to_vec());
    let e = b64(&rsa.e().to_vec());
    let kid = thumbprint(&json!({"e": e, "kty": "RSA", "n": n}));
    let private_pem = Secret::new(String::from_utf8_lossy(
        &PKey::from_rsa(rsa)?.private_key_to_pem_pkcs8()?,
    ));
    Ok(StoredKey {
        public_jwk: json!({
            "kty": "RSA", "n": n, "e": e,
            "kid": kid, "use": "enc",
        }),
        kid,
        private_pem,
        retire_after: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RSA-2048 generation is slow: one key pair for the tests of this module.
    fn keys_with_rsa() -> StoredKeys {
        static KEYS: std::sync::OnceLock<StoredKeys> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| StoredKeys::generate().unwrap().with_rsa_key())
            .clone()
    }

    #[test]
    fn a_new_p256_key_is_pkcs8_pem_whose_public_half_is_its_jwk() {
        let keys = StoredKeys::generate().unwrap();
        for key in keys.signing.iter().chain(&keys.ecdh_encryption) {
            let pem = key.private_pem.expose();
            assert!(
                pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
                "{}",
                key.kid
            );
            let ec = PKey::private_key_from_pem(pem.as_bytes())
                .unwrap()
                .ec_key()
                .unwrap();
            ec.check_key().unwrap();
            let mut ctx = openssl::bn::BigNumContext::new().unwrap();
            let point = ec
                .public_key()
                .to_bytes(
                    ec.group(),
                    openssl::ec::PointConversionForm::UNCOMPRESSED,
                    &mut ctx,
                )
                .unwrap();
            assert_eq!(b64(&point[1..33]), key.public_jwk["x"]);
            assert_eq!(b64(&point[33..]), key.public_jwk["y"]);
        }
        assert_ne!(keys.signing[0].kid, keys.ecdh_encryption.unwrap().kid);
    }

    #[test]
    fn new_keys_have_no_rsa_key_until_one_is_added_and_adding_keeps_the_others() {
        let fresh = StoredKeys::generate().unwrap();
        assert!(fresh.encryption.is_none() && fresh.ecdh_encryption.is_some());
        let jwks = RealmKeys::load(fresh.clone()).unwrap().jwks(0);
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k["kty"] == "EC"),
            "{jwks}"
        );
        let with_rsa = fresh.clone().with_rsa_key();
        let rsa = with_rsa.encryption.clone().expect("an RSA key");
        assert_eq!(with_rsa.signing[0].kid, fresh.signing[0].kid);
        // Adding again keeps the key already there.
        let mut again = with_rsa.clone();
        assert!(!again.add_rsa_key(generate_rsa_encryption_key().unwrap()));
        assert_eq!(again.encryption.unwrap().kid, rsa.kid);
        // Stored, it survives a round trip; stored without one, it stays absent.
        let again: StoredKeys =
            serde_json::from_value(serde_json::to_value(&with_rsa).unwrap()).unwrap();
        assert_eq!(again.encryption.unwrap().kid, rsa.kid);
        assert!(!serde_json::to_string(&fresh)
            .unwrap()
            .contains("\"encryption\""));
    }

    #[test]
    fn keys_stored_before_the_ecdh_key_existed_still_load_and_gain_one() {
        let mut stored = serde_json::to_value(keys_with_rsa()).unwrap();
        stored.as_object_mut().unwrap().remove("ecdh_encryption");
        let mut old: StoredKeys = serde_json::from_value(stored).unwrap();
        assert!(old.ecdh_encryption.is_none());
        assert_eq!(
            RealmKeys::load(old.clone()).unwrap().jwks(0)["keys"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        assert!(old.ensure_ecdh_key().unwrap());
        assert!(!old.ensure_ecdh_key().unwrap());
        let jwks = RealmKeys::load(old).unwrap().jwks(0);
        let ecdh = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kty"] == "EC" && k["use"] == "enc")
            .expect("an ECDH-ES key is published");
        assert!(ecdh.get("d").is_none() && ecdh.get("alg").is_none());
    }

    #[test]
    fn encryption_keys_are_published_without_alg_even_when_stored_with_one() {
        let mut stored = keys_with_rsa();
        if let Some(rsa) = stored.encryption.as_mut() {
            rsa.public_jwk["alg"] = json!("RSA-OAEP-256");
        }
        let jwks = RealmKeys::load(stored).unwrap().jwks(0);
        let keys = jwks["keys"].as_array().unwrap();
        let encryption: Vec<&Value> = keys.iter().filter(|k| k["use"] == "enc").collect();
        assert_eq!(encryption.len(), 2, "{jwks}");
        assert!(encryption.iter().all(|k| k.get("alg").is_none()), "{jwks}");
        let signing = keys.iter().find(|k| k["use"] == "sig").unwrap();
        assert_eq!(signing["alg"], SIGNING_ALG);
    }
}
