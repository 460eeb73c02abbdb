//! Prometheus metrics of the process (served at `/metrics`).
//!
//! One set per process: the layers that observe (HTTP, realm, store) record into
//! [`global()`] without being handed a registry. Every label has a bounded set of values
//! (route templates, methods, status classes, registration modes, error codes); nothing is
//! labelled by realm or client, so the series count does not grow with data.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

/// Request latency buckets, in seconds: 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Writers answered by one group-commit flush.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Every metric dynreg records.
pub struct Telemetry {
    registry: Registry,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    registrations: IntCounterVec,
    tokens_issued: IntCounter,
    flush_batch: Histogram,
    flush_seconds: Histogram,
    realms: IntGauge,
    realms_active: IntGauge,
}

static GLOBAL: LazyLock<Telemetry> = LazyLock::new(Telemetry::new);

/// The request metrics of one label set (route template, method, status class).
struct RequestMetrics {
    count: IntCounter,
    seconds: Histogram,
}

type RequestMetricsByLabel = Vec<(&'static str, &'static str, RequestMetrics)>;

thread_local! {
    /// This thread's handles of the request metrics, by route template, then method and
    /// status class: prometheus finds a labelled child by hashing its labels under a lock,
    /// twice per request. As bounded as the labels are.
    static REQUEST_METRICS: RefCell<HashMap<String, RequestMetricsByLabel>> =
        RefCell::default();
}

/// The process's metrics.
pub fn global() -> &'static Telemetry {
    &GLOBAL
}

impl Telemetry {
    fn new() -> Self {
        let registry = Registry::new();
        let http_labels = &["route", "method", "status_class"];
        let telemetry = Self {
            http_requests: IntCounterVec::new(
                Opts::new("dynreg_http_requests_total", "HTTP requests answered."),
                http_labels,
            )
            .unwrap_or_else(|e| unreachable_metric(&e)),
            http_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "dynreg_http_request_duration_seconds",
                    "Time from request to response head.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                http_labels,
            )
            .unwrap_or_else(|e| unreachable_metric(&e)),
            registrations: IntCounterVec::new(
                Opts::new(
                    "dynreg_registrations_total",
                    "Dynamic registration attempts by mode and outcome (ok or the error code).",
                ),
                &["mode", "outcome"],
            )
            .unwrap_or_else(|e| unreachable_metric(&e)),
            tokens_issued: IntCounter::new(
                "dynreg_tokens_issued_total",
                "Access tokens issued by the token endpoints.",
            )
            .unwrap_or_else(|e| unreachable_metric(&e)),
            flush_batch: Histogram::with_opts(
                HistogramOpts::new(
                    "dynreg_store_flush_batch_size",
                    "Writers made durable by one group-commit flush.",
                )
                .buckets(BATCH_BUCKETS.to_vec()),
            )
            .unwrap_or_else(|e| unreachable_metric(&e)),
            flush_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "dynreg_store_flush_duration_seconds",
                    "Duration of one group-commit flush.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
            )
            .unwrap_or_else(|e| unreachable_metric(&e)),
            realms: IntGauge::new("dynreg_realms", "Realms on this server.")
                .unwrap_or_else(|e| unreachable_metric(&e)),
            realms_active: IntGauge::new(
                "dynreg_realms_active",
                "Realms started since boot (a realm starts on first use).",
            )
            .unwrap_or_else(|e| unreachable_metric(&e)),
            registry,
        };
        telemetry.register_all();
        telemetry
    }

    fn register_all(&self) {
        let build_info = IntGaugeVec::new(
            Opts::new(
                "dynreg_build_info",
                "Always 1; the labels say which build runs.",
            ),
            &["version"],
        )
        .unwrap_or_else(|e| unreachable_metric(&e));
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.http_requests.clone()),
            Box::new(self.http_seconds.clone()),
            Box::new(self.registrations.clone()),
            Box::new(self.tokens_issued.clone()),
            Box::new(self.flush_batch.clone()),
            Box::new(self.flush_seconds.clone()),
            Box::new(self.realms.clone()),
            Box::new(self.realms_active.clone()),
            Box::new(build_info),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        for collector in collectors {
            if let Err(e) = self.registry.register(collector) {
                log::error!("metric not registered: {e}");
            }
        }
    }

    /// One answered HTTP request. `route` is the matched route template.
    pub fn observe_request(
        &self,
        route: &str,
        method: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        REQUEST_METRICS.with_borrow_mut(|by_route| {
            if !by_route.contains_key(route) {
                by_route.insert(route.to_owned(), Vec::new());
            }
            let Some(by_label) = by_route.get_mut(route) else {
                return;
            };
            let index = match by_label
                .iter()
                .position(|(m, c, _)| *m == method && *c == class)
            {
                Some(index) => index,
                None => {
                    let labels = [route, method, class];
                    by_label.push((
                        method,
                        class,
                        RequestMetrics {
                            count: self.http_requests.with_label_values(&labels),
                            seconds: self.http_seconds.with_label_values(&labels),
                        },
                    ));
                    by_label.len() - 1
                }
            };
            if let Some((_, _, metrics)) = by_label.get(index) {
                metrics.count.inc();
                metrics.seconds.observe(elapsed.as_secs_f64());
            }
        });
    }

    /// One registration attempt: `mode` open, access_token, initial_access_token or
    /// software_statement; `outcome` ok or the OAuth error code.
    pub fn observe_registration(&self, mode: &str, outcome: &str) {
        self.registrations.with_label_values(&[mode, outcome]).inc();
    }

    pub fn observe_token_issued(&self) {
        self.tokens_issued.inc();
    }

    /// One group-commit flush: how many writers it answered and how long it took.
    pub fn observe_flush(&self, writers: usize, elapsed: Duration) {
        self.flush_batch.observe(writers as f64);
        self.flush_seconds.observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of everything, with the realm gauges set first.
    pub fn render(&self, realms: usize, realms_active: usize) -> String {
        self.realms.set(i64::try_from(realms).unwrap_or(i64::MAX));
        self.realms_active
            .set(i64::try_from(realms_active).unwrap_or(i64::MAX));
        let mut text = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            log::error!("metrics encoding failed: {e}");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

/// Metric construction only fails on invalid names, labels or buckets, which are constants
/// here; a unit test builds them all.
fn unreachable_metric(error: &prometheus::Error) -> ! {
    log::error!("invalid metric definition: {error}");
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_defined_validly_and_renders_with_its_help_line() {
        let telemetry = Telemetry::new();
        telemetry.observe_request("/health", "GET", 200, Duration::from_millis(1));
        telemetry.observe_registration("open", "ok");
        telemetry.observe_token_issued();
        telemetry.observe_flush(3, Duration::from_millis(2));
        let text = telemetry.render(2, 1);
        for name in [
            "dynreg_http_requests_total",
            "dynreg_http_request_duration_seconds",
            "dynreg_registrations_total",
            "dynreg_tokens_issued_total",
            "dynreg_store_flush_batch_size",
            "dynreg_store_flush_duration_seconds",
            "dynreg_realms",
            "dynreg_realms_active",
            "dynreg_build_info",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}:\n{text}");
        }
        assert!(text.contains("dynreg_realms_active 1"), "{text}");
    }
}
