//! Errors of client-metadata validation, carrying the RFC 7591 §3.2.2 error codes.

/// Why a registration or update request was refused. Every description names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// RFC 7591 §3.2.2: a metadata field is invalid.
    #[error("invalid_client_metadata: {0}")]
    InvalidClientMetadata(String),
    /// RFC 7591 §3.2.2: a redirect URI is invalid.
    #[error("invalid_redirect_uri: {0}")]
    InvalidRedirectUri(String),
    /// AM's code for a bad `post_logout_redirect_uris` entry.
    #[error("invalid_post_logout_redirect_uris: {0}")]
    InvalidPostLogoutRedirectUri(String),
    /// RFC 7591 §3.2.2: the software statement is missing (when required), malformed, not
    /// verifiable or not current (SPEC §5).
    #[error("invalid_software_statement: {0}")]
    InvalidSoftwareStatement(String),
    /// RFC 7591 §3.2.2: the software statement's issuer is not a publisher of this realm.
    #[error("unapproved_software_statement: {0}")]
    UnapprovedSoftwareStatement(String),
}

impl RegistrationError {
    /// The RFC error code sent as `error`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidClientMetadata(_) => "invalid_client_metadata",
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::InvalidPostLogoutRedirectUri(_) => "invalid_post_logout_redirect_uris",
            Self::InvalidSoftwareStatement(_) => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement(_) => "unapproved_software_statement",
        }
    }

    /// The human-readable `error_description`.
    pub fn description(&self) -> &str {
        match self {
            Self::InvalidClientMetadata(d)
            | Self::InvalidRedirectUri(d)
            | Self::InvalidPostLogoutRedirectUri(d)
            | Self::InvalidSoftwareStatement(d)
            | Self::UnapprovedSoftwareStatement(d) => d,
        }
    }
}

/// Shorthand for the most common refusal.
pub(crate) fn invalid(description: impl Into<String>) -> RegistrationError {
    RegistrationError::InvalidClientMetadata(description.into())
}
