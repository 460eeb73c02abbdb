//! Software publisher profiles (SPEC §4 table, reference §4): who may issue statements in a
//! realm, the one algorithm they sign with, and where their keys come from.
//!
//! [`PublisherDocument`] is the wire form (admin API, realm files, the sled tree);
//! [`SoftwarePublisher`] is the checked profile, built only by [`SoftwarePublisher::parse`],
//! so the rest of the code never re-checks a publisher. The secret is write-only: it leaves
//! the server only through [`SoftwarePublisher::to_document`] with `include_secret`.

use super::signature::asymmetric_verifier;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// AM's default lifetime of a fetched publisher JWK set, in milliseconds (reference §4).
pub const DEFAULT_JWKS_CACHE_TIMEOUT_MS: u64 = 3_600_000;
/// AM's default minimum spacing of refetches after an unknown `kid`, in milliseconds.
pub const DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS: u64 = 60_000;
const MAX_AGENT_ID_CHARS: usize = 256;

/// The JWS algorithms a publisher may pin (SPEC §4): never `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 13] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
    ];

    /// The JWS `alg` value (RFC 7518 §3.1, RFC 8037 §3.1).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Exact, case-sensitive match (RFC 7515 §4.1.1: `alg` values are case-sensitive).
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == value)
    }

    /// HMAC algorithms verify with the publisher's secret, not with keys.
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }
}

/// Where a publisher's public keys come from (AM's "Public key selector").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySelector {
    /// Keys by value, in the profile.
    Jwks,
    /// Keys fetched from a URL through the shared, SSRF-guarded fetcher.
    JwksUri,
}

impl KeySelector {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwks => "jwks",
            Self::JwksUri => "jwks_uri",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "jwks" => Some(Self::Jwks),
            "jwks_uri" => Some(Self::JwksUri),
            _ => None,
        }
    }
}

/// A publisher's keys, by selector.
#[derive(Debug, Clone, PartialEq)]
pub enum PublisherKeys {
    /// A JWK set object, `{"keys": [...]}`.
    Jwks(Value),
    /// The URL of a JWK set.
    JwksUri(String),
    /// An `HS*` publisher verifies with its secret and may name no keys; the selector it chose
    /// is kept so the admin reads back what was sent.
    Unused(KeySelector),
}

impl PublisherKeys {
    pub fn selector(&self) -> KeySelector {
        match self {
            Self::Jwks(_) => KeySelector::Jwks,
            Self::JwksUri(_) => KeySelector::JwksUri,
            Self::Unused(selector) => *selector,
        }
    }
}

/// A publisher profile as the admin API and realm documents carry it (SPEC §4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Write-only: never serialized unless the caller asked for secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cache_timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cache_miss_cache_time_ms: Option<u64>,
}

/// A checked publisher profile.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftwarePublisher {
    agent_id: String,
    issuer: String,
    secret: Option<Secret>,
    signing_algorithm: SigningAlgorithm,
    keys: PublisherKeys,
    jwks_cache_timeout_ms: u64,
    jwks_cache_miss_cache_time_ms: u64,
}

impl SoftwarePublisher {
    /// Checks a publisher document (SPEC §4 "validation on save"); `path_agent_id` is the
    /// `{agent_id}` of an admin URL, which a body `agent_id` must match. The error names the
    /// field. Issuer uniqueness is a property of the realm, checked where the realm is known.
    pub fn parse(
        document: &PublisherDocument,
        path_agent_id: Option<&str>,
    ) -> Result<Self, String> {
        let agent_id = match (&document.agent_id, path_agent_id) {
            (Some(sent), Some(path)) if sent != path => {
                return Err(format!(
                    "agent_id {sent:?} does not match the agent_id in the path"
                ))
            }
            (Some(sent), _) => sent.clone(),
            (None, Some(path)) => path.to_owned(),
            (None, None) => return Err("agent_id is required".into()),
        };
        check_agent_id(&agent_id)?;
        let issuer = match document.issuer.as_deref().map(str::trim) {
            Some(issuer) if !issuer.is_empty() => issuer.to_owned(),
            _ => return Err("issuer is required (the iss of the publisher's statements)".into()),
        };
        let secret = match &document.secret {
            Some(secret) if secret.expose().is_empty() => {
                return Err("secret must not be empty".into())
            }
            secret => secret.clone(),
        };
        let signing_algorithm = match document.signing_algorithm.as_deref() {
            None => SigningAlgorithm::RS256,
            Some(value) => SigningAlgorithm::parse(value).ok_or_else(|| {
                let supported: Vec<&str> =
                    SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
                format!(
                    "signing_algorithm {value:?} is not supported (supported: {})",
                    supported.join(", ")
                )
            })?,
        };
        if signing_algorithm.is_hmac() && secret.is_none() {
            return Err(format!(
                "secret is required for signing_algorithm {}",
                signing_algorithm.as_str()
            ));
        }
        let keys = read_keys(document, signing_algorithm)?;
        Ok(Self {
            agent_id,
            issuer,
            secret,
            signing_algorithm,
            keys,
            jwks_cache_timeout_ms: document
                .jwks_cache_timeout_ms
                .unwrap_or(DEFAULT_JWKS_CACHE_TIMEOUT_MS),
            jwks_cache_miss_cache_time_ms: document
                .jwks_cache_miss_cache_time_ms
                .unwrap_or(DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS),
        })
    }

    /// The wire form; the secret only when `include_secret` (SPEC §4: write-only).
    pub fn to_document(&self, include_secret: bool) -> PublisherDocument {
        let (jwks, jwks_uri) = match &self.keys {
            PublisherKeys::Jwks(jwks) => (Some(jwks.clone()), None),
            PublisherKeys::JwksUri(uri) => (None, Some(uri.clone())),
            PublisherKeys::Unused(_) => (None, None),
        };
        PublisherDocument {
            agent_id: Some(self.agent_id.clone()),
            issuer: Some(self.issuer.clone()),
            secret: self.secret.as_ref().filter(|_| include_secret).cloned(),
            signing_algorithm: Some(self.signing_algorithm.as_str().to_owned()),
            public_key_selector: Some(self.keys.selector().as_str().to_owned()),
            jwks,
            jwks_uri,
            jwks_cache_timeout_ms: Some(self.jwks_cache_timeout_ms),
            jwks_cache_miss_cache_time_ms: Some(self.jwks_cache_miss_cache_time_ms),
        }
    }

    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// Compared exactly with a statement's `iss` (reference §8 step 6).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        self.signing_algorithm
    }

    pub fn keys(&self) -> &PublisherKeys {
        &self.keys
    }

    pub fn jwks_cache_timeout_ms(&self) -> u64 {
        self.jwks_cache_timeout_ms
    }

    pub fn jwks_cache_miss_cache_time_ms(&self) -> u64 {
        self.jwks_cache_miss_cache_time_ms
    }
}

/// Agent ids are path segments and sled key suffixes: 1–256 characters, no control characters
/// and no `/`. Spaces are allowed (the seed's publisher is "My Software Publisher").
fn check_agent_id(agent_id: &str) -> Result<(), String> {
    let chars = agent_id.chars().count();
    if chars == 0
        || chars > MAX_AGENT_ID_CHARS
        || agent_id.trim() != agent_id
        || agent_id.chars().any(|c| c.is_control() || c == '/')
    {
        return Err(format!(
            "agent_id must be 1-{MAX_AGENT_ID_CHARS} characters without control characters, '/' or surrounding spaces"
        ));
    }
    Ok(())
}

/// SPEC §4: the selector's keys must be present and usable for the pinned algorithm; an
/// `HS*` publisher verifies with its secret, so its keys are optional bookkeeping (the seed's
/// publisher has an `oct` JWK beside its secret).
fn read_keys(
    document: &PublisherDocument,
    algorithm: SigningAlgorithm,
) -> Result<PublisherKeys, String> {
    let selector = match document.public_key_selector.as_deref() {
        None => KeySelector::JwksUri,
        Some(value) => KeySelector::parse(value).ok_or_else(|| {
            format!("public_key_selector {value:?} is not supported (supported: jwks, jwks_uri)")
        })?,
    };
    match selector {
        KeySelector::Jwks => {
            if document.jwks_uri.is_some() {
                return Err("jwks_uri is given but public_key_selector is jwks".into());
            }
            match &document.jwks {
                Some(jwks) => {
                    check_jwk_set(jwks, algorithm)?;
                    Ok(PublisherKeys::Jwks(jwks.clone()))
                }
                None if algorithm.is_hmac() => Ok(PublisherKeys::Unused(selector)),
                None => Err("jwks is required when public_key_selector is jwks".into()),
            }
        }
        KeySelector::JwksUri => {
            if document.jwks.is_some() {
                return Err("jwks is given but public_key_selector is jwks_uri".into());
            }
            match document.jwks_uri.as_deref() {
                Some(uri) => {
                    check_jwks_uri(uri)?;
                    Ok(PublisherKeys::JwksUri(uri.to_owned()))
                }
                None if algorithm.is_hmac() => Ok(PublisherKeys::Unused(selector)),
                None => Err(
                    "jwks_uri is required when public_key_selector is jwks_uri (the default)"
                        .into(),
                ),
            }
        }
    }
}

/// RFC 7517 §5 shape; for asymmetric algorithms also: public keys only, and at least one
/// key that can verify the pinned algorithm (kty, crv, use, alg and key size all fit).
fn check_jwk_set(jwks: &Value, algorithm: SigningAlgorithm) -> Result<(), String> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("jwks must be a JWK set: {\"keys\": [...]}")?;
    let mut objects: Vec<&Map<String, Value>> = Vec::with_capacity(keys.len());
    for key in keys {
        let key = key
            .as_object()
            .ok_or("jwks: every key must be a JSON object")?;
        if !key.get("kty").is_some_and(Value::is_string) {
            return Err("jwks: every key must have a kty".into());
        }
        objects.push(key);
    }
    if algorithm.is_hmac() {
        return Ok(());
    }
    if objects.iter().any(|key| {
        ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
            .iter()
            .any(|private| key.contains_key(*private))
    }) {
        return Err(
            "jwks must contain public keys only (private or symmetric key material found)".into(),
        );
    }
    let usable = objects
        .iter()
        .filter(|key| asymmetric_verifier(algorithm, key).is_ok())
        .count();
    if usable == 0 {
        return Err(format!(
            "jwks has no key that can verify {} signatures (check kty, crv, use, alg and key size)",
            algorithm.as_str()
        ));
    }
    Ok(())
}

/// SPEC §4: `jwks_uri` must be an absolute http(s) URL; whether it may be fetched (https
/// only, public addresses) is the fetcher's decision at use time.
fn check_jwks_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|_| format!("jwks_uri {uri:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(format!(
            "jwks_uri {uri:?} must be an http(s) URL with a host"
        ));
    }
    if parsed.fragment().is_some() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "jwks_uri {uri:?} must not carry a fragment or user information"
        ));
    }
    Ok(())
}
