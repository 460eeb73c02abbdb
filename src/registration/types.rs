//! Domain types of client metadata and the values this server supports.

use serde::{Deserialize, Serialize};

/// RFC 7591 §2 `token_endpoint_auth_method`, limited to what the token endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// Methods that authenticate with the client secret, which a public client does not have.
    pub fn uses_client_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }
}

/// AM's `client_type`: whether the client holds a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientType {
    Confidential,
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "Confidential",
            Self::Public => "Public",
        }
    }
}

/// OIDC Registration §2 `application_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    Web,
    Native,
}

impl ApplicationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Native => "native",
        }
    }
}

/// OIDC Registration §2 `subject_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    Public,
    Pairwise,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Pairwise => "pairwise",
        }
    }
}

/// Grant types a client may register (AM's provider list). Only `client_credentials` is
/// served by this server's token endpoint; the others are recorded for the wider platform.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "refresh_token",
    "password",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:openid:params:grant-type:ciba",
    "urn:ietf:params:oauth:grant-type:uma-ticket",
];

/// The parts a `response_types` entry may combine, space-separated.
pub const RESPONSE_TYPE_PARTS: &[&str] = &["code", "token", "id_token"];

/// JWS algorithms for signed responses and request objects (never `none`).
pub const SIGNING_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "ES512", "EdDSA",
];

/// JWE key-management algorithms.
pub const KEY_MANAGEMENT_ALGS: &[&str] = &[
    "RSA-OAEP",
    "RSA-OAEP-256",
    "ECDH-ES",
    "ECDH-ES+A128KW",
    "ECDH-ES+A192KW",
    "ECDH-ES+A256KW",
    "A128KW",
    "A192KW",
    "A256KW",
    "dir",
];

/// JWE content-encryption algorithms.
pub const CONTENT_ENCRYPTION_ALGS: &[&str] = &[
    "A128GCM",
    "A192GCM",
    "A256GCM",
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
];

/// Whether a JWS algorithm needs a shared secret (impossible for a public client).
pub fn is_symmetric_signing(alg: &str) -> bool {
    alg.starts_with("HS")
}

/// Whether a JWE key-management algorithm needs a shared secret.
pub fn is_symmetric_key_management(alg: &str) -> bool {
    alg == "dir"
        || alg.starts_with("PBES2-")
        || (alg.starts_with('A') && (alg.ends_with("KW") || alg.ends_with("GCMKW")))
}

/// Metadata whose values may carry a BCP 47 language tag (`client_name#ja-Jpan-JP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalizedField {
    ClientName,
    ClientUri,
    LogoUri,
    PolicyUri,
    TosUri,
}

impl LocalizedField {
    pub const ALL: [LocalizedField; 5] = [
        Self::ClientName,
        Self::ClientUri,
        Self::LogoUri,
        Self::PolicyUri,
        Self::TosUri,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientName => "client_name",
            Self::ClientUri => "client_uri",
            Self::LogoUri => "logo_uri",
            Self::PolicyUri => "policy_uri",
            Self::TosUri => "tos_uri",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == value)
    }

    /// Values of these fields are URLs shown to users, so they must be http(s).
    pub fn is_uri(self) -> bool {
        self != Self::ClientName
    }

    /// Seed: registering these with an access token needs the realm's DCR scope.
    pub fn needs_registration_scope(self) -> bool {
        matches!(self, Self::ClientUri | Self::LogoUri | Self::PolicyUri)
    }
}

/// One value of a localizable field; `tag` is lower-cased, `None` for the untagged value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedValue {
    pub field: LocalizedField,
    pub tag: Option<String>,
    pub value: String,
}

impl LocalizedValue {
    /// The metadata key as sent back: `client_name` or `client_name#ja-jpan-jp`.
    pub fn key(&self) -> String {
        match &self.tag {
            Some(tag) => format!("{}#{}", self.field.as_str(), tag),
            None => self.field.as_str().to_owned(),
        }
    }
}

/// Where the client's public keys come from (AM's `public_key_selector`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKeys {
    /// No keys registered; AM reports the selector as `x509`.
    None,
    /// A JWK set registered by value.
    Jwks(serde_json::Value),
    /// A JWK set fetched from this URL.
    JwksUri(String),
}

impl ClientKeys {
    pub fn selector(&self) -> &'static str {
        match self {
            Self::None => "x509",
            Self::Jwks(_) => "jwks",
            Self::JwksUri(_) => "jwks_uri",
        }
    }
}
