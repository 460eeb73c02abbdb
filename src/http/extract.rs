//! Request parts the handlers need: the realm, the bearer token, `client_id`, the body.

use super::deadline;
use super::error::ApiError;
use super::AppState;
use crate::config::DEFAULT_REQUEST_TIMEOUT;
use crate::realm::{RealmHandle, RealmName, ROOT_REALM};
use crate::secret::Secret;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

/// SPEC §6: request bodies above 64 KiB are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The realm named by the URL (`…/realms/{realm}/…`, or root for root's URLs).
pub async fn realm(req: &HttpRequest, state: &AppState) -> Result<Arc<RealmHandle>, ApiError> {
    let name = req.match_info().get("realm").unwrap_or(ROOT_REALM);
    // SPEC §2: a malformed realm name is a bad request, an unknown one is not found.
    RealmName::parse(name).map_err(ApiError::BadRequest)?;
    state
        .registry
        .get(name)
        .await?
        .ok_or_else(|| ApiError::UnknownRealm(name.to_owned()))
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235 §2.1).
/// Other schemes count as no bearer token.
pub fn bearer_token(req: &HttpRequest) -> Option<Secret> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| Secret::new(token.trim()))
}

/// One query parameter, decoded (the first, when it repeats).
pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    let query = req.query_string();
    // Form-urlencoded; a query without `%` or `+` (a management call's `client_id=<uuid>`)
    // decodes to itself, so it is split as is, without the decoder's allocations.
    if query.contains(['%', '+']) {
        return url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned());
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The whole body, refused with 413 past [`MAX_BODY_BYTES`] and with 408 when the request
/// (head and body together) does not arrive within the request timeout. Always
/// consumed, even when the handler fails early, so keep-alive connections stay usable; a
/// body cut short leaves the rest unread, so actix closes that connection after the answer.
pub async fn body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, ApiError> {
    body_limited(req, payload, MAX_BODY_BYTES).await
}

/// The whole body, refused with 413 past `limit` bytes (realm imports are larger than
/// protocol requests).
pub async fn body_limited(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    // RFC 9112 §6.3: without Content-Length and Transfer-Encoding a request has no body
    // (most GETs and DELETEs); nothing to read, so no deadline to arm.
    if declared == Some(0)
        || (declared.is_none() && !req.headers().contains_key(header::TRANSFER_ENCODING))
    {
        return Ok(web::Bytes::new());
    }
    let request_timeout = req
        .app_data::<web::Data<AppState>>()
        .map_or(DEFAULT_REQUEST_TIMEOUT, |state| state.request_timeout);
    let mut read = std::pin::pin!(payload.to_bytes_limited(limit));
    // A small body usually came in with the head: one poll takes it without arming a timer.
    let read = match std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await {
        Poll::Ready(read) => Ok(read),
        // One budget for head and body: the body gets what the head left of it.
        Poll::Pending => {
            let time_left = deadline::time_left(req).unwrap_or(request_timeout);
            actix_rt::time::timeout(time_left, read).await
        }
    };
    // The outer error is the deadline, the middle one the size limit, the inner one a read.
    match read {
        Ok(Ok(Ok(bytes))) => Ok(bytes),
        Ok(Ok(Err(e))) => Err(ApiError::BadRequest(format!(
            "the request body could not be read: {e}"
        ))),
        Ok(Err(_)) => Err(ApiError::PayloadTooLarge(limit)),
        Err(_) => Err(ApiError::RequestTimeout(request_timeout.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::query_param;
    use actix_web::test::TestRequest;

    #[test]
    fn query_params_decode_as_form_urlencoded_with_or_without_escapes() {
        for (query, expected) in [
            ("client_id=abc-123", Some("abc-123")),
            ("a=1&client_id=x%20y", Some("x y")),
            ("x=1&&client_id=a+b", Some("a b")),
            ("client_id", Some("")),
            ("client_id=1&client_id=2", Some("1")),
            ("client_id=a=b", Some("a=b")),
            ("other=1", None),
            ("", None),
        ] {
            let req = TestRequest::with_uri(&format!("/register?{query}")).to_http_request();
            assert_eq!(
                query_param(&req, "client_id").as_deref(),
                expected,
                "{query}"
            );
        }
    }
}
