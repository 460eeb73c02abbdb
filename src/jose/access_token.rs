//! Access tokens: JWTs signed with the realm's active ES256 key (RFC 9068 shape), so they can
//! be checked without a store lookup or a write, and resource servers can verify them with the
//! realm's JWKS or ask the introspection endpoint.

use super::keys::RealmKeys;
use super::{JoseError, MAX_JWT_BYTES};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode, decode_header, EncodingKey, Header, Validation};
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

/// The realm's active signing key, ready to sign: the key pair is parsed and checked once
/// when the realm's keys load (`jsonwebtoken::encode` parses the PKCS#8 key again for every
/// token, which costs about as much as the signature), and the encoded JWS header, the same
/// for every token of the key, is kept.
pub struct AccessTokenSigner {
    key: EcdsaKeyPair,
    /// `BASE64URL(header) "."`, the start of every token this key signs.
    header_prefix: String,
}

impl AccessTokenSigner {
    /// The signer of the P-256 key `pem` (PKCS#8), whose tokens carry `kid`.
    pub fn from_pem(kid: &str, pem: &[u8]) -> Result<Self, JoseError> {
        let pkcs8 = EncodingKey::from_ec_pem(pem)
            .map_err(|e| JoseError::Key(format!("signing key {kid}: {e}")))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_bytes())
            .map_err(|e| JoseError::Key(format!("signing key {kid}: {e}")))?;
        let mut header = Header::new(RealmKeys::signing_algorithm());
        header.kid = Some(kid.to_owned());
        header.typ = Some(TOKEN_TYPE.to_owned());
        let header = serde_json::to_vec(&header)
            .map_err(|e| JoseError::Key(format!("signing key {kid}: header: {e}")))?;
        Ok(Self {
            key,
            header_prefix: format!("{}.", URL_SAFE_NO_PAD.encode(header)),
        })
    }

    /// RFC 7515 compact serialization of `claims`, signed with ES256 (RFC 7518 §3.4: the
    /// signature is R || S, 64 bytes, which is what the `FIXED` algorithm produces).
    fn sign<T: Serialize>(&self, claims: &T) -> Result<String, JoseError> {
        // Room for a typical token's claims (~300 bytes) at once: `to_vec` starts at 128
        // bytes and grows twice.
        let mut claims_json = Vec::with_capacity(512);
        serde_json::to_writer(&mut claims_json, claims)
            .map_err(|e| JoseError::Key(format!("signing failed: claims: {e}")))?;
        let mut token =
            String::with_capacity(self.header_prefix.len() + claims_json.len() * 4 / 3 + 90);
        token.push_str(&self.header_prefix);
        URL_SAFE_NO_PAD.encode_string(claims_json, &mut token);
        let signature = self
            .key
            .sign(&SystemRandom::new(), token.as_bytes())
            .map_err(|e| JoseError::Key(format!("signing failed: {e}")))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }
}

/// A new token's `jti`: a random UUID (see `secret::random_uuid`).
pub fn new_token_id() -> Result<String, JoseError> {
    crate::secret::random_uuid()
        .map_err(|e| JoseError::Key(format!("no randomness for a token id: {e}")))
}

/// Signs an access token with the realm's active key.
pub fn issue_access_token(
    keys: &RealmKeys,
    claims: &AccessTokenClaims,
) -> Result<String, JoseError> {
    keys.signer().sign(claims)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::StoredKeys;

    const ISSUER: &str = "https://as.example.com/am/oauth2/realms/root/realms/alpha";

    fn claims(iat: u64) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: ISSUER.into(),
            aud: Audience::Many(vec![
                "https://a.example/".into(),
                "https://b.example/".into(),
            ]),
            sub: "client \"one\"".into(),
            client_id: "client \"one\"".into(),
            scope: "read write".into(),
            iat,
            exp: iat + 300,
            jti: "jti-1".into(),
        }
    }

    #[test]
    fn a_signed_token_carries_the_header_and_claims_and_verifies_with_the_realm_key() {
        let keys = RealmKeys::load(StoredKeys::generate().unwrap()).unwrap();
        // jsonwebtoken checks `exp` against the system clock.
        let now = crate::time::now_unix();
        let token = issue_access_token(&keys, &claims(now)).unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, RealmKeys::signing_algorithm());
        assert_eq!(header.typ.as_deref(), Some(TOKEN_TYPE));
        assert_eq!(
            header.kid.as_deref(),
            Some(keys.stored().signing[0].kid.as_str())
        );
        let signature = URL_SAFE_NO_PAD
            .decode(token.rsplit('.').next().unwrap())
            .unwrap();
        assert_eq!(signature.len(), 64, "ES256 signatures are R || S");
        assert_eq!(
            verify_access_token(&keys, &token, ISSUER, now).unwrap(),
            claims(now)
        );
    }

    #[test]
    fn a_token_with_a_changed_claim_or_from_another_realm_does_not_verify() {
        let keys = RealmKeys::load(StoredKeys::generate().unwrap()).unwrap();
        let now = crate::time::now_unix();
        let token = issue_access_token(&keys, &claims(now)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims(now);
        forged.scope = "admin".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert!(verify_access_token(&keys, &tampered, ISSUER, now).is_err());
        let other = RealmKeys::load(StoredKeys::generate().unwrap()).unwrap();
        assert!(verify_access_token(&other, &token, ISSUER, now).is_err());
    }
}
