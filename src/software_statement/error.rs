//! Why a software statement was refused. Every variant names its reason precisely (SPEC §5:
//! "any other failure → `400 invalid_software_statement` naming the reason"); only an unknown
//! issuer maps to `unapproved_software_statement` (RFC 7591 §3.2.2, reference §13 A5).
//!
//! Descriptions never echo key material and never tell one decryption failure from another
//! (a padding or tag oracle must not be observable).

use crate::registration::RegistrationError;

/// A refused software statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// SPEC §3: the realm requires a statement and the request has none.
    #[error("software statement required: this realm accepts registrations only with a software_statement")]
    Required,
    #[error("software_statement must be a string (a compact JWS or JWE)")]
    NotAString,
    /// SPEC §6: statements above 64 KiB are refused before any parsing.
    #[error("the software statement exceeds {0} bytes")]
    TooLarge(usize),
    /// Not a compact serialization, bad base64url, bad JSON, …; the text says which part.
    #[error("the software statement is malformed: {0}")]
    Malformed(String),
    /// RFC 7591 §2.3: a statement MUST be signed; `alg: none` or an empty signature.
    #[error("the software statement is not signed (alg none or empty signature); only signed statements are accepted")]
    Unsigned,
    /// RFC 7515 §4.1.11: a `crit` header names extensions this server does not understand.
    #[error("the software statement's header has crit {0}; this server understands no critical header extensions")]
    UnsupportedCritical(String),
    /// A JWE whose `alg`, `enc` or `zip` is not accepted (SPEC §5 lists them).
    #[error("the encrypted software statement uses {what} {value:?}, which is not accepted (accepted: {accepted})")]
    UnsupportedEncryption {
        what: &'static str,
        value: String,
        accepted: &'static str,
    },
    /// The JWE could not be decrypted; deliberately one message for every cause.
    #[error("the encrypted software statement could not be decrypted: {0}")]
    Undecryptable(&'static str),
    /// SPEC §5: a `zip: "DEF"` payload may inflate to at most 32 KiB.
    #[error("the encrypted software statement's payload inflates past {0} bytes")]
    InflatesTooFar(usize),
    /// SPEC §5: the plaintext of a JWE must itself be a signed JWT.
    #[error("the plaintext of the encrypted software statement is not a signed JWT (compact JWS)")]
    NotNested,
    #[error("the software statement has no iss claim (a non-empty string is required)")]
    MissingIssuer,
    /// No publisher of the realm has this issuer.
    #[error(
        "the software statement's issuer {0:?} is not a software publisher trusted by this realm"
    )]
    UnknownIssuer(String),
    /// SPEC §5: the header `alg` must equal the publisher's `signing_algorithm`.
    #[error("the software statement is signed with alg {found:?}, but its publisher signs with {expected}")]
    AlgorithmMismatch {
        found: String,
        expected: &'static str,
    },
    /// The publisher has no key (or secret) that can check this statement.
    #[error("no key of the software publisher can verify the statement: {0}")]
    NoUsableKey(String),
    #[error(
        "the software statement's signature does not verify with the software publisher's {0}"
    )]
    BadSignature(&'static str),
    /// The publisher's `jwks_uri` could not be fetched (SSRF guard, timeout, size cap, …).
    #[error("the software publisher's keys could not be fetched: {0}")]
    KeysUnavailable(String),
    #[error("the software statement has expired (exp {exp}, now {now}, 60 s skew allowed)")]
    Expired { exp: i64, now: u64 },
    #[error("the software statement is not valid yet (nbf {nbf}, now {now}, 60 s skew allowed)")]
    NotYetValid { nbf: i64, now: u64 },
    #[error(
        "the software statement was issued in the future (iat {iat}, now {now}, 60 s skew allowed)"
    )]
    IssuedInFuture { iat: i64, now: u64 },
    /// A time claim that is not a number (RFC 7519 §2 NumericDate).
    #[error("the software statement's {0} claim must be a number of seconds since the epoch")]
    BadTimeClaim(&'static str),
    /// SPEC §4 `required_software_statement_attested_attributes`.
    #[error("the software statement lacks the attested attribute {0:?} that this realm requires")]
    MissingAttribute(String),
}

impl From<StatementError> for RegistrationError {
    fn from(error: StatementError) -> Self {
        match error {
            StatementError::UnknownIssuer(_) => {
                RegistrationError::UnapprovedSoftwareStatement(error.to_string())
            }
            other => RegistrationError::InvalidSoftwareStatement(other.to_string()),
        }
    }
}
