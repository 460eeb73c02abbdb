//! RFC 7523 §2.2 client assertions for `private_key_jwt`, verified only with the keys the
//! client registered.

use super::{JoseError, MAX_JWT_BYTES};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// The verified claims that matter to the token endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientAssertion {
    pub iss: String,
    pub sub: String,
    pub exp: u64,
    pub jti: String,
}

/// The `sub` of an assertion before any check: only to find which client to load.
pub fn unverified_subject(assertion: &str) -> Option<String> {
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
    validation.set_issuer(&[client_id]);
    validation.sub = Some(client_id.to_owned());
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| JoseError::Invalid("the client has no usable JWK set".into()))?;
    let mut last_error = "no registered key matches the assertion".to_owned();
    for raw in keys {
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
            Ok(data) => return Ok(data.claims),
            Err(e) => last_error = format!("client assertion rejected: {e}"),
        }
    }
    Err(JoseError::Invalid(last_error))
}
