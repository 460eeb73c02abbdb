//! Signature and time checks of a statement's JWS, with the publisher's secret or keys only.
//!
//! Two libraries, each where it fits: `HS*` goes through jsonwebtoken's HMAC, because josekit
//! refuses HMAC keys shorter than the hash (and the seed's publisher secret, `secret`, is six
//! bytes: reference §12); every asymmetric algorithm goes through josekit, which covers ES512
//! (jsonwebtoken does not) and checks a JWK's `kty`, `crv`, `use`, `alg`, `key_ops` and RSA
//! size (≥ 2048 bits) before it becomes a verifier.

use super::error::StatementError;
use super::publisher::SigningAlgorithm;
use josekit::jwk::Jwk;
use josekit::jws::{self, JwsVerifier};
use moka::sync::Cache;
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// SPEC §5 / reference §13 A11: allowed clock difference on `exp`, `nbf` and `iat`.
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// A verifier for an asymmetric `alg` from one JWK; `Err` when the key does not fit.
pub(crate) fn asymmetric_verifier(
    algorithm: SigningAlgorithm,
    jwk: &Map<String, Value>,
) -> Result<Box<dyn JwsVerifier>, String> {
    let jwk = Jwk::from_map(jwk.clone()).map_err(|e| e.to_string())?;
    fn boxed<V: JwsVerifier + 'static>(
        verifier: Result<V, josekit::JoseError>,
    ) -> Result<Box<dyn JwsVerifier>, String> {
        verifier
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>)
            .map_err(|e| e.to_string())
    }
    use SigningAlgorithm as A;
    match algorithm {
        A::RS256 => boxed(jws::RS256.verifier_from_jwk(&jwk)),
        A::RS384 => boxed(jws::RS384.verifier_from_jwk(&jwk)),
        A::RS512 => boxed(jws::RS512.verifier_from_jwk(&jwk)),
        A::PS256 => boxed(jws::PS256.verifier_from_jwk(&jwk)),
        A::PS384 => boxed(jws::PS384.verifier_from_jwk(&jwk)),
        A::PS512 => boxed(jws::PS512.verifier_from_jwk(&jwk)),
        A::ES256 => boxed(jws::ES256.verifier_from_jwk(&jwk)),
        A::ES384 => boxed(jws::ES384.verifier_from_jwk(&jwk)),
        A::ES512 => boxed(jws::ES512.verifier_from_jwk(&jwk)),
        A::EdDSA => boxed(jws::EdDSA.verifier_from_jwk(&jwk)),
        A::HS256 | A::HS384 | A::HS512 => {
            Err("HMAC algorithms verify with the publisher's secret".into())
        }
    }
}

/// Reference §12 / §13 A6: the HMAC key is the UTF-8 bytes of the publisher's secret (the
/// seed's token verifies that way and not with a base64url-decoded key).
pub(crate) fn verify_hmac(
    algorithm: SigningAlgorithm,
    secret: &str,
    signing_input: &str,
    signature_b64: &str,
) -> Result<(), StatementError> {
    let alg = match algorithm {
        SigningAlgorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        SigningAlgorithm::HS384 => jsonwebtoken::Algorithm::HS384,
        SigningAlgorithm::HS512 => jsonwebtoken::Algorithm::HS512,
        _ => {
            return Err(StatementError::NoUsableKey(
                "only HMAC algorithms verify with the secret".into(),
            ))
        }
    };
    let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
    match jsonwebtoken::crypto::verify(signature_b64, signing_input.as_bytes(), &key, alg) {
        Ok(true) => Ok(()),
        _ => Err(StatementError::BadSignature("secret")),
    }
}

/// SPEC §5: only the publisher's keys count; `kid`, when sent, only picks among them. Any
/// candidate that verifies is enough.
pub(crate) fn verify_with_jwks(
    algorithm: SigningAlgorithm,
    jwks: &Value,
    kid: Option<&str>,
    signing_input: &str,
    signature: &[u8],
) -> Result<(), StatementError> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| StatementError::NoUsableKey("the publisher's JWK set has no keys".into()))?;
    let mut candidates = 0usize;
    // Profiles cap their key sets and the fetcher refuses larger ones; the cap here also
    // bounds sets stored before the cap existed.
    for key in keys
        .iter()
        .take(crate::jwks_fetch::MAX_JWKS_KEYS)
        .filter_map(Value::as_object)
    {
        if let Some(kid) = kid {
            if key.get("kid").and_then(Value::as_str) != Some(kid) {
                continue;
            }
        }
        let Ok(verifier) = cached_verifier(algorithm, key) else {
            continue;
        };
        candidates += 1;
        if verifier.verify(signing_input.as_bytes(), signature).is_ok() {
            return Ok(());
        }
    }
    if candidates > 0 {
        return Err(StatementError::BadSignature("keys"));
    }
    Err(StatementError::NoUsableKey(match kid {
        Some(kid) => format!(
            "the publisher has no {} key with kid {kid:?}",
            algorithm.as_str()
        ),
        None => format!("the publisher has no key for {}", algorithm.as_str()),
    }))
}

/// Verifiers already built, by algorithm and JWK text. Building one makes OpenSSL decode the
/// key, which costs many times the signature check, and publishers reuse their keys.
type VerifierCache = Cache<(&'static str, String), Arc<dyn JwsVerifier>>;
/// Bound on cached verifiers, so keys from many `jwks_uri` sets cannot grow memory forever;
/// past it the least used are evicted (losing one only costs rebuilding it).
const MAX_CACHED_VERIFIERS: u64 = 4096;

fn cached_verifier(
    algorithm: SigningAlgorithm,
    jwk: &Map<String, Value>,
) -> Result<Arc<dyn JwsVerifier>, String> {
    static CACHE: OnceLock<VerifierCache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Cache::new(MAX_CACHED_VERIFIERS));
    let key = (algorithm.as_str(), Value::Object(jwk.clone()).to_string());
    // Concurrent misses on one key build it once.
    cache
        .try_get_with(key, || {
            asymmetric_verifier(algorithm, jwk).map(Arc::<dyn JwsVerifier>::from)
        })
        .map_err(|shared: Arc<String>| String::clone(&shared))
}

/// RFC 7519 §4.1.4–4.1.6 with SPEC §5's 60 s skew; each claim only when present (AM accepts
/// statements without `exp`: reference §8 step 9).
pub(crate) fn check_times(claims: &Map<String, Value>, now: u64) -> Result<(), StatementError> {
    let now_signed = i64::try_from(now).unwrap_or(i64::MAX);
    if let Some(exp) = numeric_date(claims, "exp")? {
        if now_signed >= exp.saturating_add(CLOCK_SKEW_SECONDS) {
            return Err(StatementError::Expired { exp, now });
        }
    }
    if let Some(nbf) = numeric_date(claims, "nbf")? {
        if nbf > now_signed.saturating_add(CLOCK_SKEW_SECONDS) {
            return Err(StatementError::NotYetValid { nbf, now });
        }
    }
    if let Some(iat) = numeric_date(claims, "iat")? {
        if iat > now_signed.saturating_add(CLOCK_SKEW_SECONDS) {
            return Err(StatementError::IssuedInFuture { iat, now });
        }
    }
    Ok(())
}

/// RFC 7519 §2: a NumericDate is a JSON number, possibly with a fraction (truncated here).
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, StatementError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            // `as` saturates for out-of-range floats, which is what a bound check wants.
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(StatementError::BadTimeClaim(name)),
        Some(_) => Err(StatementError::BadTimeClaim(name)),
    }
}
