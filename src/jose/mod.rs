//! JOSE: the realm's keys, its access tokens (signed JWTs), and verification of client
//! assertions (RFC 7523). Pure: no I/O, no clock (callers pass `now`), no actix, no sled.

mod access_token;
mod client_assertion;
mod keys;

pub use access_token::{
    issue_access_token, new_token_id, verify_access_token, AccessTokenClaims, Audience,
};
pub use client_assertion::{
    unverified_subject, verify_client_assertion, AssertionClock, ClientAssertion,
    ASSERTION_CLOCK_SKEW_SECONDS, MAX_ASSERTION_LIFETIME_SECONDS, MAX_JTI_BYTES,
};
pub use keys::{generate_rsa_encryption_key, RealmKeys, StoredKey, StoredKeys, SIGNING_ALG};

/// Compact JWTs we accept at all; anything longer is refused before parsing (SPEC §6).
pub const MAX_JWT_BYTES: usize = 16 * 1024;

/// Why a JOSE operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    #[error("key problem: {0}")]
    Key(String),
    #[error("crypto library: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    /// A token or assertion that does not verify; the text says why (safe to show clients).
    #[error("{0}")]
    Invalid(String),
}
