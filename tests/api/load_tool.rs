//! `dynreg load`, the binary, against a real server: what it creates is random and removed,
//! a wrong realm or URL is refused before any load, and failed requests fail the run.

use crate::helpers::{spawn_app, TestApp};
use awc::http::Method;
use serde_json::{json, Value};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `dynreg load ARGS` on a blocking thread (the server runs on this test's runtime).
async fn load(args: Vec<String>) -> Output {
    actix_rt::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_dynreg"))
            .arg("load")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("dynreg load runs")
    })
    .await
    .expect("load thread")
}

/// `--base-url`, `--admin-token-file`, quiet JSON output, and `extra`.
fn args(app: &TestApp, extra: &[&str]) -> Vec<String> {
    let token_file = app.data_dir.path().join("admin-token");
    let mut args: Vec<String> = vec![
        "--base-url".into(),
        app.address.clone(),
        "--admin-token-file".into(),
        token_file.display().to_string(),
        "--json".into(),
        "--quiet".into(),
        "-c".into(),
        "4".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn summary(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        )
    })
}

async fn realm_names(app: &TestApp) -> Vec<String> {
    let listed = app.admin(Method::GET, "/admin/realms", None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["realms"]
        .as_array()
        .expect("realms")
        .iter()
        .filter_map(|r| r.as_str().or_else(|| r["name"].as_str()).map(str::to_owned))
        .collect()
}

/// Ids of the static clients named like the load tool's token clients.
async fn load_token_clients(app: &TestApp, realm: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            None => format!("/admin/realms/{realm}/clients?page_size=1000"),
            Some(cursor) => format!("/admin/realms/{realm}/clients?page_size=1000&after={cursor}"),
        };
        let page = app.admin(Method::GET, &path, None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        ids.extend(
            page.body["clients"]
                .as_array()
                .expect("clients")
                .iter()
                .filter_map(|c| c["client_id"].as_str())
                .filter(|id| id.starts_with("load-token"))
                .map(str::to_owned),
        );
        match page.body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return ids,
        }
    }
}

#[actix_rt::test]
async fn token_runs_use_a_random_client_and_secret_and_remove_it_unless_kept() {
    let app = spawn_app().await;
    let run = load(args(
        &app,
        &["--realm", "alpha", "--mix", "token=1", "-n", "40"],
    ))
    .await;
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(summary(&run)["operations"]["token"]["requests"], 40);
    assert!(
        load_token_clients(&app, "alpha").await.is_empty(),
        "the token client is removed at the end"
    );

    let kept_args = args(
        &app,
        &["--realm", "alpha", "--mix", "token=1", "-n", "8", "--keep"],
    );
    for _ in 0..2 {
        let run = load(kept_args.clone()).await;
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let kept = load_token_clients(&app, "alpha").await;
    assert_eq!(
        kept.len(),
        2,
        "each --keep run leaves its own client: {kept:?}"
    );
    assert!(!kept.contains(&"load-token-client".to_owned()));
    let mut secrets = Vec::new();
    for id in &kept {
        let client = app
            .admin(
                Method::GET,
                &format!("/admin/realms/alpha/clients/{id}?include_secrets=true"),
                None,
            )
            .await;
        assert_eq!(client.status, 200, "{}", client.body);
        let secret = client.body["client_secret"].as_str().expect("secret");
        assert!(secret.len() >= 40, "a 256-bit secret: {secret}");
        assert_ne!(secret, "load-token-client-secret");
        secrets.push(secret.to_owned());
        let scopes = client.body["scopes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            !scopes.contains(&json!("dynamic_client_registration")),
            "a token-only run gives no registration scope: {scopes:?}"
        );
    }
    assert_ne!(secrets[0], secrets[1], "secrets are random per run");
}

#[actix_rt::test]
async fn realms_runs_delete_their_realms_unless_kept() {
    let app = spawn_app().await;
    let before = realm_names(&app).await;
    let run = load(args(
        &app,
        &[
            "--realms",
            "2",
            "--mix",
            "register=1,read=1,register-with-token=1",
            "-n",
            "60",
        ],
    ))
    .await;
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(summary(&run)["total_requests"], 60);
    assert_eq!(realm_names(&app).await, before, "the run's realms are gone");

    let run = load(args(&app, &["--realms", "2", "-n", "10", "--keep"])).await;
    assert!(run.status.success(), "{}", stderr(&run));
    let made: Vec<String> = realm_names(&app)
        .await
        .into_iter()
        .filter(|name| !before.contains(name))
        .collect();
    assert_eq!(made.len(), 2, "--keep leaves the realms: {made:?}");
    assert!(made
        .iter()
        .all(|name| name.starts_with("load-") && name.len() > 12));
}

#[actix_rt::test]
async fn interrupted_run_still_removes_its_realm() {
    let app = spawn_app().await;
    let before = realm_names(&app).await;
    let child = Command::new(env!("CARGO_BIN_EXE_dynreg"))
        .arg("load")
        .args(args(
            &app,
            &["--realms", "1", "-d", "120", "--mix", "token=1"],
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dynreg load starts");
    let started = Instant::now();
    while realm_names(&app).await.len() == before.len() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run made no realm"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let output = actix_rt::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("wait thread")
        .expect("exit");
    assert!(
        started.elapsed() < Duration::from_secs(100),
        "Ctrl-C ends the 120 s run early"
    );
    assert!(
        !output.status.success(),
        "an interrupted run is not a success"
    );
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        realm_names(&app).await,
        before,
        "the realm is removed after Ctrl-C"
    );
}

#[actix_rt::test]
async fn failed_requests_make_the_exit_status_non_zero() {
    let app = spawn_app().await;
    let realm = json!({
        "oauth2_provider": {
            "allow_open_dynamic_registration": true,
            "registration_policy": {"max_dynamic_clients": 3}
        }
    });
    let made = app
        .admin(Method::PUT, "/admin/realms/capped", Some(&realm))
        .await;
    assert!(made.status.is_success(), "{}", made.body);
    let run = load(args(
        &app,
        &["--realm", "capped", "--mix", "register=1", "-n", "20"],
    ))
    .await;
    assert!(!run.status.success(), "17 of 20 registrations got 403");
    let report = summary(&run);
    assert_eq!(report["operations"]["register"]["statuses"]["201"], 3);
    assert_eq!(report["operations"]["register"]["statuses"]["403"], 17);
    assert_eq!(report["failed_requests"], 17);
    assert!(
        stderr(&run).contains("17 of 20 requests failed (403×17)"),
        "{}",
        stderr(&run)
    );
}

#[actix_rt::test]
async fn a_missing_realm_is_refused_before_any_load() {
    let app = spawn_app().await;
    let run = load(args(&app, &["--realm", "no-such-realm", "-d", "30"])).await;
    assert!(!run.status.success());
    assert!(run.stdout.is_empty(), "no report: nothing was measured");
    let message = stderr(&run);
    assert!(
        message.contains("realm \"no-such-realm\" not found") && message.contains("--realm"),
        "{message}"
    );

    let wrong_path = format!("{}/wrong-prefix", app.address);
    let mut with_wrong_path = args(&app, &["--realm", "alpha", "-d", "30"]);
    with_wrong_path[1] = wrong_path;
    let run = load(with_wrong_path).await;
    assert!(!run.status.success());
    assert!(stderr(&run).contains("not found"), "{}", stderr(&run));
}

#[actix_rt::test]
async fn an_unreachable_base_url_is_refused_before_any_load() {
    let app = spawn_app().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let mut unreachable = args(&app, &["--realm", "alpha", "-d", "30"]);
    unreachable[1] = format!("http://127.0.0.1:{closed}");
    let started = Instant::now();
    let run = load(unreachable).await;
    assert!(!run.status.success());
    assert!(run.stdout.is_empty());
    assert!(stderr(&run).contains("cannot reach"), "{}", stderr(&run));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "refused at once, not after the run"
    );
}

#[actix_rt::test]
async fn url_mode_sends_plain_gets_to_a_fixed_url() {
    let app = spawn_app().await;
    let url = format!("{}/health", app.address);
    let run = load(args(&app, &["--url", &url, "-n", "50"])).await;
    assert!(run.status.success(), "{}", stderr(&run));
    let report = summary(&run);
    assert_eq!(report["operations"]["get"]["requests"], 50);
    assert_eq!(report["operations"]["get"]["errors"], 0);
}

#[actix_rt::test]
async fn busy_polling_runs_end_on_time_and_count_their_requests() {
    let app = spawn_app().await;
    let started = Instant::now();
    let run = load(args(
        &app,
        &[
            "--realm",
            "alpha",
            "--mix",
            "read=1",
            "-d",
            "1",
            "--busy-poll",
        ],
    ))
    .await;
    assert!(run.status.success(), "{}", stderr(&run));
    let read = &summary(&run)["operations"]["read"];
    assert!(read["requests"].as_u64().unwrap() > 0, "{read}");
    assert_eq!(read["errors"], 0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the polling task stops with the connections"
    );
}
