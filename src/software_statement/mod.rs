//! Software statements (RFC 7591 §2.3, SPEC §5): signed — and possibly encrypted — JWTs in
//! which a trusted software publisher asserts client metadata. Pure: no actix, no sled, no
//! network and no clock (callers pass `now`).
//!
//! Verification runs in two steps so that the one piece of I/O, fetching a publisher's
//! `jwks_uri`, stays with the caller (the realm handle and its shared fetcher):
//!
//! 1. [`open`]: size bound → JWS or JWE → decrypt (JWE) → read `iss` unverified → the
//!    publisher with that issuer → header `alg` must be the publisher's `signing_algorithm`.
//! 2. [`OpenedStatement::verify`]: signature with the publisher's secret or keys only →
//!    `exp`/`nbf`/`iat` with 60 s skew → required attested attributes.
//!
//! [`VerifiedStatement::merge_into`] then lays the statement's claims over the request.

mod error;
mod jwe;
mod publisher;
mod signature;
mod unverified;

#[cfg(test)]
mod tests;

pub use error::StatementError;
pub use jwe::{DecryptionKeys, MAX_INFLATED_BYTES};
pub use publisher::{
    KeySelector, PublisherDocument, PublisherKeys, SigningAlgorithm, SoftwarePublisher,
    DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS, DEFAULT_JWKS_CACHE_TIMEOUT_MS,
};
pub use signature::CLOCK_SKEW_SECONDS;
pub use unverified::{is_encrypted, MAX_STATEMENT_BYTES};

use serde_json::{Map, Value};
use unverified::{classify, Compact, UnverifiedJws};

/// Claims never copied into the profile: RFC 7519 §4.1 registered claims (SPEC §5), the
/// statement itself (kept as sent), and what the server alone decides (SPEC §3).
const NOT_COPIED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "software_statement",
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
];

/// Request fields that are alternatives of one another: a statement that sets one replaces
/// the request's choice among them, not just the same name (otherwise a request `scope` would
/// beat a statement `scopes`, and a statement `jwks` would clash with a request `jwks_uri`).
const ALTERNATIVES: &[&[&str]] = &[&["scope", "scopes"], &["jwks", "jwks_uri"]];

/// Step 1: a statement decrypted and decoded, its publisher found and its `alg` pinned, but
/// its signature not yet checked.
#[derive(Debug, Clone)]
pub struct OpenedStatement {
    jws: UnverifiedJws,
    publisher: SoftwarePublisher,
}

/// Where the keys that check an opened statement come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource<'a> {
    /// `HS*`: the publisher's secret.
    Secret,
    /// Keys in the publisher profile.
    Jwks,
    /// Keys the caller must fetch (with the publisher's cache timings) and pass to
    /// [`OpenedStatement::verify`].
    JwksUri {
        uri: &'a str,
        timeout_ms: u64,
        miss_cache_ms: u64,
        kid: Option<&'a str>,
    },
}

/// Step 1 of SPEC §5 (see the module documentation). `keys` decrypt JWE statements; the
/// work is CPU-bound for those (an RSA decryption), so callers may run it on a blocking pool.
pub fn open(
    raw: &str,
    publishers: &[SoftwarePublisher],
    keys: &DecryptionKeys,
) -> Result<OpenedStatement, StatementError> {
    let jws = match classify(raw)? {
        Compact::Jws(compact) => UnverifiedJws::parse(compact)?,
        Compact::Jwe(compact) => UnverifiedJws::parse(&jwe::decrypt(compact, publishers, keys)?)?,
    };
    let issuer = jws.unverified_iss()?;
    let publisher = publishers
        .iter()
        .find(|p| p.issuer() == issuer)
        .ok_or_else(|| StatementError::UnknownIssuer(issuer.to_owned()))?;
    // Pinned before any key is touched: no HS/RS confusion, no downgrade.
    let expected = publisher.signing_algorithm().as_str();
    if jws.unverified_alg() != expected {
        return Err(StatementError::AlgorithmMismatch {
            found: jws.unverified_alg().to_owned(),
            expected,
        });
    }
    Ok(OpenedStatement {
        jws,
        publisher: publisher.clone(),
    })
}

impl OpenedStatement {
    /// The publisher named by the (still unverified) `iss`.
    pub fn publisher(&self) -> &SoftwarePublisher {
        &self.publisher
    }

    /// Where the verification keys come from.
    pub fn key_source(&self) -> KeySource<'_> {
        if self.publisher.signing_algorithm().is_hmac() {
            return KeySource::Secret;
        }
        match self.publisher.keys() {
            PublisherKeys::JwksUri(uri) => KeySource::JwksUri {
                uri,
                timeout_ms: self.publisher.jwks_cache_timeout_ms(),
                miss_cache_ms: self.publisher.jwks_cache_miss_cache_time_ms(),
                kid: self.jws.unverified_kid(),
            },
            PublisherKeys::Jwks(_) | PublisherKeys::Unused(_) => KeySource::Jwks,
        }
    }

    /// Step 2 of SPEC §5. `fetched_jwks` is the publisher's key set when
    /// [`Self::key_source`] said `JwksUri`; `required_attributes` is the realm's attested
    /// attribute list when the realm requires statements (`None` otherwise).
    pub fn verify(
        self,
        fetched_jwks: Option<&Value>,
        now: u64,
        required_attributes: Option<&[String]>,
    ) -> Result<VerifiedStatement, StatementError> {
        let publisher = &self.publisher;
        let algorithm = publisher.signing_algorithm();
        if algorithm.is_hmac() {
            let secret = publisher
                .secret()
                .ok_or_else(|| StatementError::NoUsableKey("the publisher has no secret".into()))?;
            signature::verify_hmac(
                algorithm,
                secret.expose(),
                self.jws.signing_input(),
                self.jws.signature_b64(),
            )?;
        } else {
            let jwks = match publisher.keys() {
                PublisherKeys::Jwks(jwks) => jwks,
                PublisherKeys::JwksUri(_) => fetched_jwks.ok_or_else(|| {
                    StatementError::KeysUnavailable("the JWK set was not fetched".into())
                })?,
                PublisherKeys::Unused(_) => {
                    return Err(StatementError::NoUsableKey(
                        "the publisher has no keys".into(),
                    ))
                }
            };
            signature::verify_with_jwks(
                algorithm,
                jwks,
                self.jws.unverified_kid(),
                self.jws.signing_input(),
                self.jws.signature(),
            )?;
        }
        // From here on the claims are the publisher's word.
        let claims = self.jws.unverified_claims();
        signature::check_times(claims, now)?;
        for name in required_attributes.unwrap_or_default() {
            if !claims.contains_key(name) {
                return Err(StatementError::MissingAttribute(name.clone()));
            }
        }
        Ok(VerifiedStatement {
            agent_id: publisher.agent_id().to_owned(),
            issuer: publisher.issuer().to_owned(),
            claims: self.jws.into_unverified_claims(),
        })
    }
}

/// A statement whose signature, times and attested attributes have been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedStatement {
    agent_id: String,
    issuer: String,
    claims: Map<String, Value>,
}

impl VerifiedStatement {
    /// The publisher profile that vouched for the statement.
    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// RFC 7591 §2.3 / reference §6 step 5: the statement's claims replace the request's
    /// fields of the same name. Registered JWT claims and server-decided fields are not
    /// copied; other names that are not client metadata are copied but then ignored by
    /// client-metadata validation like any unknown request field (RFC 7591 §2).
    pub fn merge_into(&self, request: &mut Map<String, Value>) {
        let copied = || {
            self.claims
                .iter()
                .filter(|(name, _)| !NOT_COPIED.contains(&name.as_str()))
        };
        for (name, _) in copied() {
            if let Some(group) = ALTERNATIVES.iter().find(|g| g.contains(&name.as_str())) {
                for alternative in group.iter() {
                    request.remove(*alternative);
                }
            }
        }
        for (name, value) in copied() {
            request.insert(name.clone(), value.clone());
        }
    }
}
