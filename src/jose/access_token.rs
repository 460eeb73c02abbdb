//! Access tokens: JWTs signed with the realm's active ES256 key (RFC 9068 shape), so they can
//! be checked without a store lookup or a write, and resource servers can verify them with the
//! realm's JWKS or ask the introspection endpoint.

use super::keys::RealmKeys;
use super::{JoseError, MAX_JWT_BYTES};
use jsonwebtoken::{decode, decode_header, encode, Header, Validation};
use serde::{Deserialize, Serialize};

const TOKEN_TYPE: &str = "at+jwt";

/// RFC 7519 §4.1.3 `aud`: one audience as a string, several as an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// The audience of these values: a plain string when there is one.
    pub fn from_values(mut values: Vec<String>) -> Self {
        match values.len() {
            1 => Self::One(values.remove(0)),
            _ => Self::Many(values),
        }
    }

    pub fn contains(&self, value: &str) -> bool {
        match self {
            Self::One(one) => one == value,
            Self::Many(many) => many.iter().any(|v| v == value),
        }
    }
}

/// Claims of an access token: every claim RFC 9068 §2.2 requires, plus `scope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The realm's issuer URL: binds the token to its realm.
    pub iss: String,
    /// Who the token is for: the realm's default audience or the RFC 8707 resources asked for.
    pub aud: Audience,
    pub sub: String,
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

impl AccessTokenClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// Signs an access token with the realm's active key.
pub fn issue_access_token(
    keys: &RealmKeys,
    claims: &AccessTokenClaims,
) -> Result<String, JoseError> {
    let (kid, key) = keys.signer();
    let mut header = Header::new(RealmKeys::signing_algorithm());
    header.kid = Some(kid.to_owned());
    header.typ = Some(TOKEN_TYPE.to_owned());
    encode(&header, claims, key).map_err(|e| JoseError::Key(format!("signing failed: {e}")))
}

/// Checks an access token: size, type, a key of this realm still in service, signature,
/// issuer (this realm) and expiry.
pub fn verify_access_token(
    keys: &RealmKeys,
    token: &str,
    issuer: &str,
    now: u64,
) -> Result<AccessTokenClaims, JoseError> {
    if token.len() > MAX_JWT_BYTES {
        return Err(JoseError::Invalid("the access token is too long".into()));
    }
    let header =
        decode_header(token).map_err(|_| JoseError::Invalid("malformed access token".into()))?;
    if header.alg != RealmKeys::signing_algorithm() || header.typ.as_deref() != Some(TOKEN_TYPE) {
        return Err(JoseError::Invalid(
            "not an access token of this server".into(),
        ));
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.verifier(kid, now))
        .ok_or_else(|| {
            JoseError::Invalid("the access token was not issued by this realm".into())
        })?;
    let mut validation = Validation::new(RealmKeys::signing_algorithm());
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    // Any audience of this realm is fine here; the endpoints that accept access tokens as
    // credentials check the audience themselves.
    validation.validate_aud = false;
    validation.leeway = 0;
    let data = decode::<AccessTokenClaims>(token, key, &validation)
        .map_err(|e| JoseError::Invalid(format!("access token rejected: {e}")))?;
    Ok(data.claims)
}
