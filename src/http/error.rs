//! `ApiError`: the one place where errors become HTTP status codes, headers and
//! `{"error", "error_description"}` bodies.

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
    #[error("method {0} is not allowed on this endpoint")]
    MethodNotAllowed(String),
    #[error("the request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    BadRequest(String),
    #[error("the admin API requires Authorization: Bearer <admin token>")]
    AdminUnauthorized,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        use RealmError as R;
        match self {
            Self::Realm(R::Registration(e)) => (StatusCode::BAD_REQUEST, e.code()),
            Self::Realm(R::InvalidAccessToken | R::InvalidRegistrationToken) => {
                (StatusCode::UNAUTHORIZED, "invalid_token")
            }
            Self::Realm(R::RegistrationNotOpen) => (StatusCode::UNAUTHORIZED, "access_denied"),
            // RFC 6750 §3.1.
            Self::Realm(R::InsufficientScope(_)) => (StatusCode::FORBIDDEN, "insufficient_scope"),
            // Waiting does not lift a quota, so no 429.
            Self::Realm(R::QuotaExceeded(_)) => (StatusCode::FORBIDDEN, "access_denied"),
            Self::Realm(R::RateLimited { .. }) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            Self::Realm(R::InvalidRequest(_)) | Self::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
            Self::Realm(R::NotFound(_)) | Self::UnknownRealm(_) | Self::NoRoute => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            Self::Realm(R::Unavailable) => {
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
            Self::Realm(R::Token(e @ TokenError::InvalidClient(_))) => {
                (StatusCode::UNAUTHORIZED, e.code())
            }
            Self::Realm(R::Token(e)) => (StatusCode::BAD_REQUEST, e.code()),
            Self::Realm(R::Store(_) | R::Random(_) | R::Keys(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
            }
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "invalid_request"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
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
            Self::Realm(RealmError::RegistrationNotOpen) => "Bearer",
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
        if status.is_server_error() {
            log::error!("{code}: {self}");
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(challenge) = self.www_authenticate() {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let Self::Realm(RealmError::RateLimited { retry_after, .. }) = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        response.json(json!({"error": code, "error_description": self.description()}))
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        Self::Realm(RealmError::Token(error))
    }
}
