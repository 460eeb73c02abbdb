//! The HTTP client handed to `openidconnect`: a ureq agent without TLS (the test only talks
//! plain http to 127.0.0.1), no redirects, bounded time. Non-2xx statuses are responses, not
//! errors, so the crate sees every answer exactly as the server sent it.

use openidconnect::http::{self, HeaderName, HeaderValue, Method};
use openidconnect::{HttpRequest, HttpResponse};
use std::fmt;
use std::io::Read;
use std::time::Duration;

/// Any answer larger than this is a failure of the server under test.
const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// A transport failure (connection refused, timeout, malformed response).
#[derive(Debug)]
pub struct HttpError(String);

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(10))
        .build()
}

/// Sends `request` as is and returns the status, headers and body as received.
pub fn send(agent: &ureq::Agent, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let mut outgoing = agent.request(request.method().as_str(), &request.uri().to_string());
    for (name, value) in request.headers() {
        let value = value
            .to_str()
            .map_err(|_| HttpError(format!("header {name} is not text")))?;
        outgoing = outgoing.set(name.as_str(), value);
    }
    let answer = match outgoing.send_bytes(request.body()) {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => return Err(HttpError(error.to_string())),
    };
    let mut response = http::Response::builder().status(answer.status());
    for name in answer.headers_names() {
        for value in answer.all(&name) {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| HttpError(format!("header name {name}: {e}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| HttpError(format!("header {name}: {e}")))?;
            response = response.header(name, value);
        }
    }
    let mut body = Vec::new();
    answer
        .into_reader()
        .take(MAX_BODY_BYTES)
        .read_to_end(&mut body)
        .map_err(|e| HttpError(format!("reading the body: {e}")))?;
    response
        .body(body)
        .map_err(|e| HttpError(format!("building the response: {e}")))
}

/// A request with an optional bearer token and JSON body (RFC 7592 calls, metadata, keys).
pub fn request(
    method: Method,
    url: &str,
    bearer: Option<&str>,
    json_body: Option<Vec<u8>>,
) -> Result<HttpRequest, HttpError> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if json_body.is_some() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    builder
        .body(json_body.unwrap_or_default())
        .map_err(|e| HttpError(format!("building the request: {e}")))
}
