//! Operations endpoints: `/health`, `/metrics` (Prometheus text), and the request counters
//! behind them.

use super::AppState;
use crate::log_value::Logged;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters since start, by status class.
#[derive(Default)]
pub struct Metrics {
    responses: [AtomicU64; 5],
    duration_micros: AtomicU64,
}

impl Metrics {
    fn record(&self, status: u16, micros: u64) {
        let class = usize::from(status / 100).saturating_sub(1).min(4);
        if let Some(counter) = self.responses.get(class) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.duration_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// Counts every response by status class and writes the access line: method, path without
/// query (tokens never travel in paths, but query strings may carry anything), status and
/// duration. Nothing else of the request is logged.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let access_line = log::log_enabled!(target: "dynreg::access", log::Level::Info)
        .then(|| format!("{} {}", req.method(), Logged(req.path())));
    let response = next.call(req).await?;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Some(state) = state {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        state.metrics.record(status, micros);
    }
    if let Some(line) = access_line {
        log::info!(target: "dynreg::access", "{line} {status} {:.3}ms", elapsed.as_secs_f64() * 1e3);
    }
    Ok(response)
}

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let m = &state.metrics;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# HELP dynreg_http_responses_total HTTP responses by status class."
    );
    let _ = writeln!(text, "# TYPE dynreg_http_responses_total counter");
    for (index, counter) in m.responses.iter().enumerate() {
        let _ = writeln!(
            text,
            "dynreg_http_responses_total{{class=\"{}xx\"}} {}",
            index + 1,
            counter.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        text,
        "# HELP dynreg_http_response_seconds_sum Time spent answering."
    );
    let _ = writeln!(text, "# TYPE dynreg_http_response_seconds_sum counter");
    let _ = writeln!(
        text,
        "dynreg_http_response_seconds_sum {}",
        m.duration_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(text, "# HELP dynreg_realms Realms on this server.");
    let _ = writeln!(text, "# TYPE dynreg_realms gauge");
    let _ = writeln!(text, "dynreg_realms {}", state.registry.names().len());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}
