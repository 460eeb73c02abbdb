//! Issue 12 items 1 and 2: `/metrics` counts what happened, by bounded labels only, and
//! parses with the reference parser; `/ready` checks the store. Its own test binary, because
//! the metrics are per process and the counts here must be exact.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use awc::http::Method;
use helpers::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The value of the sample whose line starts with `series` (name and labels, exactly as
/// written), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.trim().parse().expect("numeric sample"))
}

async fn scrape(app: &TestApp) -> String {
    let response = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.header("content-type")
    );
    String::from_utf8(response.raw).expect("utf-8")
}

/// The Python `prometheus_client` parser, when installed (scripts/check-metrics.sh makes a
/// venv under target/; CI sets DYNREG_REQUIRE_METRICS_PARSER=1 so it cannot be skipped).
fn python_parser() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin/python");
    let found = venv.exists().then_some(venv);
    if found.is_none() && std::env::var("DYNREG_REQUIRE_METRICS_PARSER").as_deref() == Ok("1") {
        panic!("DYNREG_REQUIRE_METRICS_PARSER=1 but target/py-venv has no python");
    }
    found
}

fn parse_with_python(python: &PathBuf, text: &str) -> Value {
    use std::io::Write;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/lib/parse_metrics.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write scrape");
    let output = child.wait_with_output().expect("python finishes");
    assert!(
        output.status.success(),
        "prometheus_client refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("family list")
}

#[actix_web::test]
async fn metrics_count_requests_registrations_tokens_and_flushes_with_bounded_labels() {
    let app = spawn_app().await;
    let before = scrape(&app).await;

    let registered = app
        .register_ok(
            "alpha",
            &json!({
                "client_name": "metrics client",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_post",
                "redirect_uris": ["https://metrics.example.com/cb"],
            }),
        )
        .await;
    let refused = app
        .register("alpha", &json!({"redirect_uris": ["not a uri"]}))
        .await;
    assert_eq!(refused.status, 400);
    let refused_code = refused.error_code().to_owned();
    let client_id = text(&registered, "client_id");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", text(&registered, "client_secret")),
        ])
        .finish();
    let token = app
        .request_raw(
            Method::POST,
            &format!("{}/access_token", base("alpha")),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form.into_bytes()),
        )
        .await;
    assert_eq!(token.status, 200, "{}", token.body);

    let after = scrape(&app).await;
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    let register_route = "/am/oauth2/realms/root/realms/{realm}/register";
    assert_eq!(
        delta(&format!(
            "dynreg_http_requests_total{{method=\"POST\",route=\"{register_route}\",status_class=\"2xx\"}}"
        )),
        1.0,
        "{after}"
    );
    assert_eq!(
        delta(&format!(
            "dynreg_http_request_duration_seconds_count{{method=\"POST\",route=\"{register_route}\",status_class=\"4xx\"}}"
        )),
        1.0
    );
    assert_eq!(
        delta("dynreg_registrations_total{mode=\"open\",outcome=\"ok\"}"),
        1.0
    );
    assert_eq!(
        delta(&format!(
            "dynreg_registrations_total{{mode=\"open\",outcome=\"{refused_code}\"}}"
        )),
        1.0
    );
    assert_eq!(delta("dynreg_tokens_issued_total"), 1.0);
    assert!(delta("dynreg_store_flush_batch_size_count") >= 1.0);
    assert!(delta("dynreg_store_flush_duration_seconds_count") >= 1.0);
    assert_eq!(sample(&after, "dynreg_realms"), 2.0, "root and alpha");
    assert!(sample(&after, "dynreg_realms_active") >= 1.0);
    assert_eq!(
        sample(
            &after,
            &format!(
                "dynreg_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );
    assert!(sample(&after, "process_resident_memory_bytes") > 0.0);
    assert!(sample(&after, "process_open_fds") > 0.0);
    assert!(after.contains("process_cpu_seconds_total"));
    // No label value names a realm or a client.
    for (line, value) in after.lines().flat_map(|l| [(l, "alpha"), (l, client_id)]) {
        assert!(!line.contains(value), "{value} in {line}");
    }

    if let Some(python) = python_parser() {
        let families = parse_with_python(&python, &after);
        for (family, kind) in [
            ("dynreg_http_requests", "counter"),
            ("dynreg_http_request_duration_seconds", "histogram"),
            ("dynreg_registrations", "counter"),
            ("dynreg_tokens_issued", "counter"),
            ("dynreg_store_flush_batch_size", "histogram"),
            ("dynreg_store_flush_duration_seconds", "histogram"),
            ("dynreg_realms", "gauge"),
            ("dynreg_realms_active", "gauge"),
            ("dynreg_build_info", "gauge"),
            ("process_resident_memory_bytes", "gauge"),
        ] {
            assert_eq!(families[family], kind, "{family} in {families}");
        }
    }
}

#[actix_web::test]
async fn ready_writes_through_the_store_and_health_stays_trivial() {
    let app = spawn_app().await;
    let ready = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["checks"]["store_writable"], "ok");
    let health = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
}

#[actix_web::test]
async fn the_realm_gauges_follow_creations_first_requests_and_deletions() {
    let app = spawn_app().await;
    let gauges = |text: &str| {
        (
            sample(text, "dynreg_realms"),
            sample(text, "dynreg_realms_active"),
        )
    };
    let (realms, active) = gauges(&scrape(&app).await);
    assert_eq!(realms, 2.0, "root and alpha");
    let created = app
        .admin(Method::PUT, "/admin/realms/gamma", Some(&json!({})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let discovery = app
        .request(
            Method::GET,
            &format!("{}/.well-known/openid-configuration", base("gamma")),
            None,
            None,
        )
        .await;
    assert_eq!(discovery.status, 200, "{}", discovery.body);
    assert_eq!(gauges(&scrape(&app).await), (3.0, active + 1.0));
    let deleted = app.admin(Method::DELETE, "/admin/realms/gamma", None).await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    assert_eq!(gauges(&scrape(&app).await), (2.0, active));
}
