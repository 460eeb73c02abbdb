//! Operations endpoints: `/health` (liveness), `/ready` (readiness), `/metrics` (Prometheus
//! text), and the middleware that measures and logs every request.

use super::AppState;
use crate::log_value::Logged;
use crate::telemetry;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `/ready` waits for its store write to become durable.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Measures every response (route template, method, status class, latency) and writes the
/// access line: method, path without query (tokens never travel in paths, but query strings
/// may carry anything), status, duration and request id. Nothing else of the request is
/// logged.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request_id(req.headers().get(X_REQUEST_ID));
    let method = method_label(req.method());
    let access_line = log::log_enabled!(target: "dynreg::access", log::Level::Info)
        .then(|| format!("{} {}", req.method(), Logged(req.path())));
    let mut response = next.call(req).await?;
    response
        .headers_mut()
        .insert(X_REQUEST_ID, request_id.clone());
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    // The template, not the path: its values are bounded by the routes.
    let route = response.request().match_pattern();
    telemetry::global().observe_request(
        route.as_deref().unwrap_or("unmatched"),
        method,
        status,
        elapsed,
    );
    if let Some(line) = access_line {
        let id = request_id.to_str().unwrap_or_default();
        log::info!(target: "dynreg::access", "{line} {status} {:.3}ms request_id={id}", elapsed.as_secs_f64() * 1e3);
    }
    Ok(response)
}

/// Methods as a metric label: the standard ones by name, any other as `other`, so a client
/// cannot add series by inventing methods.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_REQUEST_ID_LEN: usize = 64;

/// The caller's `X-Request-Id` when it is short and made of `[A-Za-z0-9._:-]` (safe to echo
/// and to log), else a fresh one: 32 hex digits, a random prefix drawn once per process and
/// a counter, so an id costs no call to the system's random source.
fn request_id(incoming: Option<&HeaderValue>) -> HeaderValue {
    let well_formed = |value: &&HeaderValue| {
        let bytes = value.as_bytes();
        (1..=MAX_REQUEST_ID_LEN).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(b))
    };
    match incoming.filter(well_formed) {
        Some(value) => value.clone(),
        None => {
            static PREFIX: OnceLock<u64> = OnceLock::new();
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
            let count = COUNTER.fetch_add(1, Ordering::Relaxed);
            // Hex digits written directly: `format!` cost more than the rest of the id.
            let mut generated = [0u8; 32];
            hex_into(&mut generated[..16], *prefix);
            hex_into(&mut generated[16..], count);
            HeaderValue::from_bytes(&generated).unwrap_or(HeaderValue::from_static("-"))
        }
    }
}

/// `value` as lowercase hex digits filling `out` (16 bytes: every digit of a u64).
fn hex_into(out: &mut [u8], mut value: u64) {
    for byte in out.iter_mut().rev() {
        let nibble = (value & 0xf) as u8;
        *byte = if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        };
        value >>= 4;
    }
}

/// Liveness: the process answers HTTP.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: not shutting down, and a write to the store becomes durable through the
/// group-commit flusher within [`READY_TIMEOUT`] (so the disk is writable and the flusher
/// thread alive). 503 with the failed check otherwise.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.load(Ordering::Relaxed) {
        return not_ready("draining", "the server is shutting down".into());
    }
    match actix_rt::time::timeout(READY_TIMEOUT, state.store.probe_writable()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ready",
            "checks": {"store_writable": "ok", "flusher": "ok", "draining": false},
        })),
        Ok(Err(e)) => not_ready("store", e.to_string()),
        Err(_) => not_ready(
            "flusher",
            format!("the store did not flush within {READY_TIMEOUT:?}"),
        ),
    }
}

fn not_ready(check: &str, why: String) -> HttpResponse {
    log::warn!("not ready: {check}: {why}");
    HttpResponse::ServiceUnavailable().json(serde_json::json!({
        "status": "not_ready",
        "failed_check": check,
        "reason": why,
    }))
}

/// The OpenAPI 3.1 description of every route, checked in beside the routes; a test holds
/// the two in step.
pub const OPENAPI_DOCUMENT: &str = include_str!("openapi.json");

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI_DOCUMENT)
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (realms, active) = state.registry.realm_counts();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(telemetry::global().render(realms, active))
}

#[cfg(test)]
mod tests {
    use super::hex_into;

    #[test]
    fn hex_into_writes_every_digit_of_a_u64_lowercase_and_zero_padded() {
        let mut out = [0u8; 16];
        hex_into(&mut out, 0xab);
        assert_eq!(&out, b"00000000000000ab");
        hex_into(&mut out, u64::MAX - 1);
        assert_eq!(&out, b"fffffffffffffffe");
    }
}
