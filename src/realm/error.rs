//! Errors of the realm layer: authorization outcomes, registration refusals, storage faults.

use crate::registration::RegistrationError;
use crate::software_statement::StatementError;
use crate::store::StoreError;

/// Why a realm operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RealmError {
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    /// RFC 6750 §3.1: a bearer token was sent to `register` and is not a live token of the realm.
    #[error("the access token is not valid in this realm")]
    InvalidAccessToken,
    /// Strict token mode: the access token lacks the realm's registration scope.
    #[error("registering a client requires an access token with the scope {0:?}")]
    InsufficientScope(String),
    /// The realm holds as many dynamic clients as its policy allows.
    #[error("the realm's limit of dynamic clients is reached ({0} registered)")]
    QuotaExceeded(u64),
    /// Too many registrations from one client address or for one `software_id`.
    #[error("too many registrations {what}; retry after {retry_after} seconds")]
    RateLimited {
        what: &'static str,
        retry_after: u64,
    },
    /// No token was sent and open registration is off.
    #[error("registration requires an access token in this realm")]
    RegistrationNotOpen,
    /// RFC 7592 §2: a management request came without `Authorization: Bearer`.
    #[error("this request needs the client's registration access token in Authorization: Bearer <token>")]
    MissingRegistrationToken,
    /// RFC 7592 §2: wrong, rotated or unknown registration access token, or unknown client.
    #[error("the registration access token is not valid for this client")]
    InvalidRegistrationToken,
    /// The request is malformed (missing `client_id`, bad admin document, …).
    #[error("{0}")]
    InvalidRequest(String),
    /// An admin request named something that does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error("storage failed: {0}")]
    Store(StoreError),
    /// The write was made but could not be made durable: its outcome is unknown.
    #[error("storage is not accepting writes: {0}")]
    NotDurable(StoreError),
    /// The realm's actor is gone (realm deleted while the request ran) or overloaded.
    #[error("the realm is unavailable")]
    Unavailable,
    /// The client holds its whole share of the realm's replay cache (RFC 7523 `jti`s still
    /// live); it can send another assertion once an earlier one has expired.
    #[error("this client has {0} client assertions in use; retry when an earlier one has expired")]
    AssertionShareFull(usize),
    /// The realm is fenced for a move: writes wait until it is done (503, `Retry-After`).
    #[error("the realm is being moved; writes resume in a moment")]
    Fenced,
    /// The realm lives on another node now (421 Misdirected Request).
    #[error("the realm has moved to another node")]
    Moved,
    /// A realm import named a realm that already exists here.
    #[error("{0}")]
    AlreadyExists(String),
    /// RFC 6749 §5.2: the token or introspection endpoint refused the request.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The realm's keys could not be loaded or used.
    #[error("realm keys: {0}")]
    Keys(#[from] crate::jose::JoseError),
    /// The random generator could not give us randomness.
    #[error("random generator failed: {0}")]
    Random(#[from] aws_lc_rs::error::Unspecified),
}

impl RealmError {
    /// The OAuth error code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7591 §3.2.2) this failure is
    /// reported with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Registration(e) => e.code(),
            Self::InvalidAccessToken
            | Self::InvalidRegistrationToken
            | Self::MissingRegistrationToken => "invalid_token",
            // Waiting does not lift a quota, so it is not `too_many_requests`.
            Self::RegistrationNotOpen | Self::QuotaExceeded(_) => "access_denied",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::RateLimited { .. } => "too_many_requests",
            Self::InvalidRequest(_) | Self::AlreadyExists(_) => "invalid_request",
            Self::NotFound(_) => "not_found",
            Self::Unavailable
            | Self::NotDurable(_)
            | Self::Fenced
            | Self::AssertionShareFull(_) => "temporarily_unavailable",
            Self::Moved => "misdirected_request",
            Self::Token(e) => e.code(),
            Self::Store(_) | Self::Keys(_) | Self::Random(_) => "server_error",
        }
    }
}

impl From<StatementError> for RealmError {
    fn from(error: StatementError) -> Self {
        Self::Registration(error.into())
    }
}

impl From<StoreError> for RealmError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Flush(_) | StoreError::FlusherGone => Self::NotDurable(error),
            // A request that was running when its realm was deleted.
            StoreError::Dropped => Self::NotFound("the realm was deleted".into()),
            other => Self::Store(other),
        }
    }
}

impl From<actix::MailboxError> for RealmError {
    fn from(_: actix::MailboxError) -> Self {
        Self::Unavailable
    }
}

/// RFC 6749 §5.2 errors of the token and introspection endpoints.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed (401 with `WWW-Authenticate: Basic`).
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidScope(String),
    /// RFC 8707 §2: a `resource` the realm does not serve.
    #[error("{0}")]
    InvalidTarget(String),
}

impl TokenError {
    /// The RFC 6749 error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidTarget(_) => "invalid_target",
        }
    }
}
