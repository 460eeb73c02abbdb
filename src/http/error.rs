//! `ApiError`: the one place where errors become HTTP status codes, headers and
//! `{"error", "error_description"}` bodies.

use crate::log_value::Logged;
use crate::realm::{RealmError, TokenError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Every error an HTTP handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Realm(#[from] RealmError),
    #[error("no realm {0:?} on this server")]
    UnknownRealm(String),
    #[error("no such endpoint")]
    NoRoute,
    #[error("no such endpoint; did you mean {0} (without the trailing slash)?")]
    TrailingSlash(String),
    #[error("method {method} is not allowed on this endpoint (allowed: {allowed})")]
    MethodNotAllowed {
        method: String,
        allowed: &'static str,
    },
    #[error("the request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request (head and body) did not arrive within {0} s")]
    RequestTimeout(u64),
    #[error("{0}")]
    BadRequest(String),
    #[error("the admin API requires Authorization: Bearer <admin token>")]
    AdminUnauthorized,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Realm(e) => (realm_status(e), e.code()),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::UnknownRealm(_) | Self::NoRoute | Self::TrailingSlash(_) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            Self::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "invalid_request"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
            Self::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "invalid_request"),
            Self::AdminUnauthorized => (StatusCode::UNAUTHORIZED, "invalid_token"),
        }
    }

    fn description(&self) -> String {
        match self {
            Self::Realm(RealmError::Registration(e)) => e.description().to_owned(),
            // Internal details go to the log, not to the client.
            Self::Realm(RealmError::Store(_) | RealmError::Random(_) | RealmError::Keys(_)) => {
                "the server could not complete the request".to_owned()
            }
            Self::Realm(RealmError::NotDurable(_)) => {
                "the change could not be stored durably; its outcome is unknown".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// RFC 6750 §3: 401s and 403s of bearer-protected endpoints say which scheme and why.
    fn www_authenticate(&self) -> Option<String> {
        let challenge = match self {
            Self::Realm(RealmError::InvalidAccessToken | RealmError::InvalidRegistrationToken) => {
                "Bearer error=\"invalid_token\""
            }
            Self::Realm(RealmError::InsufficientScope(scope)) => {
                let scope = scope.replace(['"', '\\'], "");
                return Some(format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
                ));
            }
            // RFC 6750 §3.1: a request without credentials gets the scheme, no error code.
            Self::Realm(RealmError::RegistrationNotOpen | RealmError::MissingRegistrationToken) => {
                "Bearer"
            }
            // RFC 6749 §5.2: invalid_client answers with the scheme the client may use.
            Self::Realm(RealmError::Token(TokenError::InvalidClient(_))) => "Basic",
            Self::AdminUnauthorized => "Bearer realm=\"dynreg-admin\"",
            _ => return None,
        };
        Some(challenge.to_owned())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.parts();
        let fenced = matches!(self, Self::Realm(RealmError::Fenced));
        if status.is_server_error() && !fenced {
            log::error!("{code}: {}", Logged(&self.to_string()));
        }
        let mut response = HttpResponse::build(status);
        if fenced {
            // A move's fence lasts about a second: ask clients to try again right after.
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if matches!(self, Self::RequestTimeout(_)) {
            // The rest of a late body is never read: the connection cannot be reused.
            response.force_close();
        }
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(challenge) = self.www_authenticate() {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let Self::Realm(RealmError::RateLimited { retry_after, .. }) = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        if let Self::MethodNotAllowed { allowed, .. } = self {
            response.insert_header((header::ALLOW, *allowed));
        }
        response.json(json!({"error": code, "error_description": self.description()}))
    }
}

/// The HTTP status of a realm failure (its code comes from [`RealmError::code`]).
fn realm_status(error: &RealmError) -> StatusCode {
    use RealmError as R;
    match error {
        R::Registration(_) | R::InvalidRequest(_) => StatusCode::BAD_REQUEST,
        R::InvalidAccessToken
        | R::InvalidRegistrationToken
        | R::MissingRegistrationToken
        | R::RegistrationNotOpen
        | R::Token(TokenError::InvalidClient(_)) => StatusCode::UNAUTHORIZED,
        R::Token(_) => StatusCode::BAD_REQUEST,
        // RFC 6750 §3.1; a quota is not cured by waiting, so 403 rather than 429.
        R::InsufficientScope(_) | R::QuotaExceeded(_) => StatusCode::FORBIDDEN,
        R::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        R::NotFound(_) => StatusCode::NOT_FOUND,
        R::Unavailable | R::NotDurable(_) | R::Fenced | R::AssertionShareFull(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        R::Moved => StatusCode::MISDIRECTED_REQUEST,
        R::AlreadyExists(_) => StatusCode::CONFLICT,
        R::Store(_) | R::Random(_) | R::Keys(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        Self::Realm(RealmError::Token(error))
    }
}
