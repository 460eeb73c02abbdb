//! RFC 7523 §2.2 client assertions for `private_key_jwt`, verified only with the keys the
//! client registered.

use super::{JoseError, MAX_JWT_BYTES};
use crate::jwks_fetch::MAX_JWKS_KEYS;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Longest accepted `exp - now`: an assertion is a one-shot credential, and the replay cache
/// must remember each `jti` for as long as its assertion verifies.
pub const MAX_ASSERTION_LIFETIME_SECONDS: u64 = 600;
/// Allowed clock difference on `exp` and `iat` (jsonwebtoken's default leeway).
pub const ASSERTION_CLOCK_SKEW_SECONDS: u64 = 60;
/// Longest accepted `jti`, in bytes.
pub const MAX_JTI_BYTES: usize = 256;

/// The verified claims that matter to the token endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientAssertion {
    pub iss: String,
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
}

impl ClientAssertion {
    /// Until when the `jti` must be remembered: past this the assertion no longer verifies.
    pub fn replayable_until(&self) -> u64 {
        self.exp.saturating_add(ASSERTION_CLOCK_SKEW_SECONDS)
    }
}

/// When an assertion is checked, and the earliest `iat` accepted (the time the replay cache
/// started remembering: an assertion issued before then may already have been used).
#[derive(Debug, Clone, Copy)]
pub struct AssertionClock {
    pub now: u64,
    pub not_issued_before: u64,
}

/// The `sub` of an assertion before any check: only to find which client to load.
pub fn unverified_subject(assertion: &str) -> Option<String> {
    if assertion.len() > MAX_JWT_BYTES {
        return None;
    }
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// Verifies `assertion` for `client_id` against the client's JWK set. `audiences` are the
/// values `aud` may hold (the token endpoint URL, the issuer). `pinned_alg` is the client's
/// `token_endpoint_auth_signing_alg`, when registered.
pub fn verify_client_assertion(
    assertion: &str,
    client_id: &str,
    jwks: &Value,
    pinned_alg: Option<&str>,
    audiences: &[String],
    clock: AssertionClock,
) -> Result<ClientAssertion, JoseError> {
    if assertion.len() > MAX_JWT_BYTES {
        return Err(JoseError::Invalid(
            "the client assertion is too long".into(),
        ));
    }
    let header = decode_header(assertion)
        .map_err(|_| JoseError::Invalid("malformed client assertion".into()))?;
    let alg = header.alg;
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Err(JoseError::Invalid(
            "private_key_jwt assertions must use an asymmetric algorithm".into(),
        ));
    }
    if pinned_alg.is_some_and(|pinned| format!("{alg:?}") != pinned) {
        return Err(JoseError::Invalid(
            "the assertion's alg is not the client's token_endpoint_auth_signing_alg".into(),
        ));
    }
    let mut validation = Validation::new(alg);
    validation.set_audience(audiences);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = ASSERTION_CLOCK_SKEW_SECONDS;
    validation.set_issuer(&[client_id]);
    validation.sub = Some(client_id.to_owned());
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| JoseError::Invalid("the client has no usable JWK set".into()))?;
    let mut last_error = "no registered key matches the assertion".to_owned();
    // Registration caps key sets; the cap here also bounds sets stored before it existed.
    for raw in keys.iter().take(MAX_JWKS_KEYS) {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw.clone()) else {
            continue;
        };
        if header.kid.is_some() && jwk.common.key_id != header.kid {
            continue;
        }
        if raw
            .get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        match decode::<ClientAssertion>(assertion, &key, &validation) {
            Ok(data) => return check_lifetime(data.claims, clock),
            Err(e) => last_error = format!("client assertion rejected: {e}"),
        }
    }
    Err(JoseError::Invalid(last_error))
}

/// RFC 7523 §3 leaves lifetimes to the server: `exp` within ten minutes, `iat` neither in the
/// future nor before the replay cache started, and a `jti` of bounded length. All sums
/// saturate, so an `exp` near `u64::MAX` cannot wrap into the past.
fn check_lifetime(
    claims: ClientAssertion,
    clock: AssertionClock,
) -> Result<ClientAssertion, JoseError> {
    let invalid = |why: String| Err(JoseError::Invalid(why));
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_BYTES {
        return invalid(format!(
            "the assertion's jti must be 1-{MAX_JTI_BYTES} bytes"
        ));
    }
    let latest_exp = clock
        .now
        .saturating_add(MAX_ASSERTION_LIFETIME_SECONDS)
        .saturating_add(ASSERTION_CLOCK_SKEW_SECONDS);
    if claims.exp > latest_exp {
        return invalid(format!(
            "the assertion lives too long: exp may be at most {MAX_ASSERTION_LIFETIME_SECONDS} s ahead"
        ));
    }
    if claims.iat > clock.now.saturating_add(ASSERTION_CLOCK_SKEW_SECONDS) {
        return invalid("the assertion's iat is in the future".into());
    }
    if claims.iat < clock.not_issued_before {
        return invalid(
            "the assertion was issued before the server started; send a fresh one".into(),
        );
    }
    Ok(claims)
}
