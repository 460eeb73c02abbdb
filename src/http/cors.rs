//! CORS for browser-based registrars: `register`, discovery and `jwk_uri` answer pages from
//! the realm's `cors_allowed_origins` (none by default). Preflights (`OPTIONS`) are routed to
//! [`preflight`]; [`allow_origin`] adds the headers to the actual responses, errors included,
//! so a page can read why a registration failed.

use super::error::ApiError;
use super::extract::realm;
use super::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";
/// Request headers a registrar may send.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type";
/// Response headers a page may read besides the CORS-safelisted ones.
const EXPOSED_HEADERS: &str = "WWW-Authenticate, Retry-After";

/// The methods of a CORS-enabled endpoint, by path; `None` for the other endpoints.
fn methods_of(path: &str) -> Option<&'static str> {
    if path.ends_with("/register") {
        Some("GET, POST, PUT, DELETE, OPTIONS")
    } else if path.ends_with("/.well-known/openid-configuration")
        || path.ends_with("/connect/jwk_uri")
    {
        Some("GET, OPTIONS")
    } else {
        None
    }
}

fn origin_of(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ORIGIN)?.to_str().ok()
}

/// `OPTIONS` on a CORS-enabled endpoint: `204` with `Allow`, plus the CORS grant when the
/// realm allows the page's origin.
pub async fn preflight(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    let methods = methods_of(req.path()).unwrap_or("OPTIONS");
    let mut response = HttpResponse::NoContent();
    response.insert_header((header::ALLOW, methods));
    response.insert_header((header::VARY, "Origin"));
    if let Some(origin) = origin_of(&req).filter(|o| realm.allows_origin(o)) {
        response.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin));
        response.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, methods));
        response.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS));
        response.insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE));
    }
    Ok(response.finish())
}

/// Middleware of the realm routes: a response to an allowed origin on a CORS-enabled
/// endpoint carries `Access-Control-Allow-Origin`.
pub async fn allow_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let endpoint = methods_of(req.path()).is_some();
    let grant = match (origin_of(req.request()), methods_of(req.path())) {
        (Some(origin), Some(_)) => match req.app_data::<web::Data<AppState>>() {
            Some(state) => realm(req.request(), state)
                .await
                .ok()
                .filter(|realm| realm.allows_origin(origin))
                .and_then(|_| HeaderValue::from_str(origin).ok()),
            None => None,
        },
        _ => None,
    };
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if let Some(origin) = grant {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    if endpoint {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(response)
}
