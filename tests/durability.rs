//! SPEC §6 and §1: a 2xx means the change is on disk and survives `kill -9`; SIGTERM stops the
//! server cleanly (exit 0) without losing anything; a write that cannot be made durable is
//! never acknowledged. Runs the real binary (and checks the process setting it makes at
//! start: transparent huge pages off).

mod common;

use awc::http::Method;
use common::{http_client, send, Home, Server};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 50;
/// Concurrent writers of each kind (registration, update, deletion, admin write).
const WRITERS: usize = 3;
/// Prepared clients each deletion writer works through.
const DELETES_PER_WRITER: usize = 40;
/// Acknowledged writes before the kill.
const KILL_AFTER: usize = 60;

fn register_url(server: &Server) -> String {
    format!("{}/am/oauth2/realms/root/realms/alpha/register", server.url)
}

fn manage_url(server: &Server, client_id: &str) -> String {
    format!("{}?client_id={client_id}", register_url(server))
}

fn registration(n: usize) -> Value {
    json!({
        "client_name": format!("durable client {n}"),
        "redirect_uris": [format!("https://client{n}.example.com/callback")]
    })
}

/// Reads every client back with its registration access token and checks its secret.
async fn assert_all_readable(server: &Server, acknowledged: &[Value]) {
    let client = http_client();
    for registered in acknowledged {
        let client_id = registered["client_id"].as_str().expect("client_id");
        let token = registered["registration_access_token"]
            .as_str()
            .expect("token");
        let (status, body) = send(
            &client,
            Method::GET,
            &manage_url(server, client_id),
            None,
            Some(token),
        )
        .await
        .expect("the restarted server answers");
        assert_eq!(
            status,
            200,
            "acknowledged client {client_id} lost: {body}\n{}",
            server.log()
        );
        assert_eq!(body["client_secret"], registered["client_secret"]);
        assert_eq!(body["client_name"], registered["client_name"]);
    }
}

/// A confidential `client_credentials` client as the admin defines it.
fn static_client() -> Value {
    json!({
        "client_secret": "static secret",
        "grant_types": ["client_credentials"],
        "scopes": ["dynamic_client_registration"]
    })
}

/// What the writers sent and what the server acknowledged before it was killed.
#[derive(Default)]
struct Ledger {
    sent: usize,
    acknowledged: usize,
    /// 201 bodies of registrations.
    registered: Vec<Value>,
    /// Prepared client → the last `client_name` version an update of it was acknowledged with.
    updated: HashMap<String, usize>,
    /// Prepared clients whose deletion was acknowledged.
    deleted: Vec<String>,
    /// Static clients whose creation through the admin API was acknowledged.
    static_clients: Vec<String>,
    /// Answers that were neither the expected 2xx nor a dead server.
    unexpected: Vec<String>,
}

impl Ledger {
    fn ready_to_kill(&self) -> bool {
        self.acknowledged >= KILL_AFTER
            && !self.registered.is_empty()
            && !self.updated.is_empty()
            && !self.deleted.is_empty()
            && !self.static_clients.is_empty()
    }
}

type Shared = Rc<RefCell<Ledger>>;

/// Sends one write and books it: `Some(body)` when it got `expected`, `None` when the server
/// is gone (the writer stops).
async fn book(
    ledger: &Shared,
    what: &str,
    expected: u16,
    request: impl std::future::Future<Output = Result<(u16, Value), String>>,
) -> Option<Value> {
    ledger.borrow_mut().sent += 1;
    match request.await {
        Ok((status, body)) if status == expected => {
            ledger.borrow_mut().acknowledged += 1;
            Some(body)
        }
        Ok((status, body)) => {
            ledger
                .borrow_mut()
                .unexpected
                .push(format!("{what}: {status} {body}"));
            None
        }
        Err(_) => None,
    }
}

fn admin_client_url(server: &Server, client_id: &str) -> String {
    format!("{}/admin/realms/alpha/clients/{client_id}", server.url)
}

/// Registers `count` clients; returns their 201 bodies.
async fn prepare_clients(server: &Server, count: usize) -> Vec<Value> {
    let client = http_client();
    let mut bodies = Vec::with_capacity(count);
    for n in 0..count {
        let (status, body) = send(
            &client,
            Method::POST,
            &register_url(server),
            Some(&registration(n)),
            None,
        )
        .await
        .expect("the server answers");
        assert_eq!(status, 201, "{body}");
        bodies.push(body);
    }
    bodies
}

#[actix_web::test]
async fn every_acknowledged_write_survives_kill_9_while_writes_are_in_flight() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let ledger: Shared = Rc::default();
    let prepared = prepare_clients(&server, WRITERS * (1 + DELETES_PER_WRITER)).await;
    let (to_update, to_delete) = prepared.split_at(WRITERS);
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        // Registrations (POST).
        let (client, url, ledger_) = (http_client(), register_url(&server), ledger.clone());
        tasks.push(actix_rt::spawn(async move {
            for n in 0.. {
                let body = registration(n);
                let request = send(&client, Method::POST, &url, Some(&body), None);
                let Some(body) = book(&ledger_, "register", 201, request).await else {
                    break;
                };
                ledger_.borrow_mut().registered.push(body);
            }
        }));
        // Updates (PUT) of one prepared client, each rotating its token.
        let target = to_update[writer].clone();
        let client_id = target["client_id"].as_str().expect("client_id").to_owned();
        let (client, url, ledger_) = (
            http_client(),
            manage_url(&server, &client_id),
            ledger.clone(),
        );
        tasks.push(actix_rt::spawn(async move {
            let mut token = target["registration_access_token"]
                .as_str()
                .expect("token")
                .to_owned();
            for version in 1.. {
                let body = json!({
                    "client_name": format!("version {version}"),
                    "redirect_uris": ["https://updated.example.com/callback"]
                });
                let request = send(&client, Method::PUT, &url, Some(&body), Some(&token));
                let Some(body) = book(&ledger_, "update", 200, request).await else {
                    break;
                };
                token = body["registration_access_token"]
                    .as_str()
                    .expect("new token")
                    .to_owned();
                ledger_
                    .borrow_mut()
                    .updated
                    .insert(client_id.clone(), version);
            }
        }));
        // Deletions (DELETE) of prepared clients.
        let doomed: Vec<Value> =
            to_delete[writer * DELETES_PER_WRITER..(writer + 1) * DELETES_PER_WRITER].to_vec();
        let (client, server_url, ledger_) = (http_client(), server.url.clone(), ledger.clone());
        tasks.push(actix_rt::spawn(async move {
            for target in doomed {
                let client_id = target["client_id"].as_str().expect("client_id").to_owned();
                let url = format!(
                    "{server_url}/am/oauth2/realms/root/realms/alpha/register?client_id={client_id}"
                );
                let token = target["registration_access_token"].as_str();
                let request = send(&client, Method::DELETE, &url, None, token);
                if book(&ledger_, "delete", 204, request).await.is_none() {
                    break;
                }
                ledger_.borrow_mut().deleted.push(client_id);
            }
        }));
        // Admin writes: static clients (PUT /admin/realms/alpha/clients/ID).
        let (client, server_url, ledger_) = (http_client(), server.url.clone(), ledger.clone());
        tasks.push(actix_rt::spawn(async move {
            for n in 0.. {
                let client_id = format!("static-{writer}-{n}");
                let url = format!("{server_url}/admin/realms/alpha/clients/{client_id}");
                let document = static_client();
                let request = send(
                    &client,
                    Method::PUT,
                    &url,
                    Some(&document),
                    Some(common::ADMIN_TOKEN),
                );
                if book(&ledger_, "admin static client", 201, request)
                    .await
                    .is_none()
                {
                    break;
                }
                ledger_.borrow_mut().static_clients.push(client_id);
            }
        }));
    }
    let started = Instant::now();
    while !ledger.borrow().ready_to_kill() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "too slow\n{}",
            server.log()
        );
        actix_rt::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill();
    for task in tasks {
        task.await.expect("writer task");
    }

    // Every writer has stopped: the ledger is ours alone.
    let ledger = Rc::try_unwrap(ledger)
        .map_err(|_| "a writer still holds the ledger")
        .expect("writers done")
        .into_inner();
    assert!(
        ledger.unexpected.is_empty(),
        "unexpected answers: {:?}",
        ledger.unexpected
    );
    assert!(
        ledger.acknowledged < ledger.sent,
        "no write was in flight at the kill: {} sent, {} acknowledged",
        ledger.sent,
        ledger.acknowledged
    );
    let restarted = Server::start(&home, 2).await;
    assert_all_readable(&restarted, &ledger.registered).await;
    let client = http_client();
    let admin_read = |client_id: &str| {
        let (client, url) = (client.clone(), admin_client_url(&restarted, client_id));
        async move { send(&client, Method::GET, &url, None, Some(common::ADMIN_TOKEN)).await }
    };
    for (client_id, version) in &ledger.updated {
        let (status, body) = admin_read(client_id)
            .await
            .expect("the restarted server answers");
        assert_eq!(status, 200, "{body}");
        // The acknowledged version, or the one in flight at the kill.
        let name = body["client_name"].as_str().unwrap_or_default().to_owned();
        assert!(
            name == format!("version {version}") || name == format!("version {}", version + 1),
            "client {client_id}: acknowledged version {version}, found {name:?}"
        );
    }
    for client_id in &ledger.deleted {
        let (status, body) = admin_read(client_id)
            .await
            .expect("the restarted server answers");
        assert_eq!(
            status, 404,
            "acknowledged deletion of {client_id} lost: {body}"
        );
    }
    for client_id in &ledger.static_clients {
        let (status, body) = admin_read(client_id)
            .await
            .expect("the restarted server answers");
        assert_eq!(
            status, 200,
            "acknowledged static client {client_id} lost: {body}"
        );
    }
}

#[actix_web::test]
async fn sigterm_exits_0_and_keeps_every_acknowledged_change() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let client = http_client();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (client, url) = (client.clone(), register_url(&server));
            actix_rt::spawn(async move {
                send(&client, Method::POST, &url, Some(&registration(n)), None).await
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for task in tasks {
        let (status, body) = task.await.expect("task").expect("the server answers");
        assert_eq!(status, 201, "{body}");
        acknowledged.push(body);
    }
    // An update, so the restart must also keep a rotated token and the new profile.
    let first = acknowledged[0].clone();
    let (status, updated) = send(
        &client,
        Method::PUT,
        &manage_url(&server, first["client_id"].as_str().unwrap()),
        Some(&json!({"client_name": "durable client 0", "scope": "openid"})),
        first["registration_access_token"].as_str(),
    )
    .await
    .expect("the server answers");
    assert_eq!(status, 200, "{updated}");
    acknowledged[0] = updated;
    acknowledged[0]["client_secret"] = first["client_secret"].clone();

    let log = server.log();
    let status = server.terminate();

    assert_eq!(status.code(), Some(0), "exit status {status}\n{log}");
    let restarted = Server::start(&home, 2).await;
    assert_all_readable(&restarted, &acknowledged).await;
    let (_, read) = send(
        &http_client(),
        Method::GET,
        &manage_url(&restarted, acknowledged[0]["client_id"].as_str().unwrap()),
        None,
        acknowledged[0]["registration_access_token"].as_str(),
    )
    .await
    .expect("the restarted server answers");
    assert_eq!(read["scopes"], json!(["openid"]));
}

#[actix_web::test]
async fn settings_changed_by_the_admin_survive_a_restart_and_the_realm_file_is_not_reimported() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let client = http_client();
    let provider_url = format!("{}/admin/realms/alpha/oauth2-provider", server.url);
    let (status, body) = send(
        &client,
        Method::PUT,
        &provider_url,
        Some(&json!({"allow_open_dynamic_registration": false})),
        Some(common::ADMIN_TOKEN),
    )
    .await
    .expect("the server answers");
    assert_eq!(status, 200, "{body}");
    server.kill();

    let restarted = Server::start(&home, 2).await;

    let (status, settings) = send(
        &client,
        Method::GET,
        &format!("{}/admin/realms/alpha/oauth2-provider", restarted.url),
        None,
        Some(common::ADMIN_TOKEN),
    )
    .await
    .expect("the restarted server answers");
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings["allow_open_dynamic_registration"], false);
    let (status, refused) = send(
        &client,
        Method::POST,
        &register_url(&restarted),
        Some(&registration(0)),
        None,
    )
    .await
    .expect("the restarted server answers");
    assert_eq!(status, 401, "{refused}");
}

#[actix_web::test]
async fn a_write_that_cannot_be_made_durable_gets_503_never_2xx_until_a_restart() {
    let home = Home::new();
    let trigger = home.path("fail-flushes");
    let trigger_arg = trigger.to_string_lossy().into_owned();
    let server =
        Server::start_with_args(&home, 1, &["--fault-fail-flush-while", &trigger_arg]).await;
    let client = http_client();
    let (status, kept) = send(
        &client,
        Method::POST,
        &register_url(&server),
        Some(&registration(0)),
        None,
    )
    .await
    .expect("the server answers");
    assert_eq!(status, 201, "{kept}");
    let client_id = kept["client_id"].as_str().expect("client_id").to_owned();
    let token = kept["registration_access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    std::fs::write(&trigger, b"").expect("create the fault trigger");
    let writes = [
        (
            Method::POST,
            register_url(&server),
            Some(registration(1)),
            None,
        ),
        (
            Method::PUT,
            manage_url(&server, &client_id),
            Some(
                json!({"client_name": "never acknowledged", "redirect_uris": ["https://c.example.com/cb"]}),
            ),
            Some(token.clone()),
        ),
        (
            Method::PUT,
            format!(
                "{}/admin/realms/alpha/clients/static-during-fault",
                server.url
            ),
            Some(static_client()),
            Some(common::ADMIN_TOKEN.to_owned()),
        ),
        // The update above was made in memory, so the client's token has rotated: the admin
        // deletes it.
        (
            Method::DELETE,
            format!("{}/admin/realms/alpha/clients/{client_id}", server.url),
            None,
            Some(common::ADMIN_TOKEN.to_owned()),
        ),
    ];
    for (method, url, body, bearer) in &writes {
        let (status, answer) = send(
            &client,
            method.clone(),
            url,
            body.as_ref(),
            bearer.as_deref(),
        )
        .await
        .expect("the server answers");
        assert_eq!(status, 503, "{method} {url}: {answer}");
        assert_eq!(answer["error"], "temporarily_unavailable", "{answer}");
    }
    // A failed sync may have lost pages that a later sync would not report: writes stay
    // refused after the fault is gone, until a restart recovers from what is on disk.
    std::fs::remove_file(&trigger).expect("remove the fault trigger");
    let (status, answer) = send(
        &client,
        Method::PUT,
        &format!(
            "{}/admin/realms/alpha/clients/static-after-fault",
            server.url
        ),
        Some(&static_client()),
        Some(common::ADMIN_TOKEN),
    )
    .await
    .expect("the server answers");
    assert_eq!(status, 503, "{answer}");
    let log = server.log();
    assert!(log.contains("could not be made durable"), "{log}");
    server.kill();

    let restarted =
        Server::start_with_args(&home, 2, &["--fault-fail-flush-while", &trigger_arg]).await;
    let (status, answer) = send(
        &client,
        Method::POST,
        &register_url(&restarted),
        Some(&registration(3)),
        None,
    )
    .await
    .expect("the restarted server answers");
    assert_eq!(status, 201, "{answer}");
}

#[actix_web::test]
async fn initial_access_token_uses_and_the_client_quota_survive_kill_9() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let client = http_client();
    let admin = |server: &Server, path: &str| format!("{}/admin/realms/alpha/{path}", server.url);
    let policy = json!({
        "allow_open_dynamic_registration": true,
        "registration_policy": {"max_dynamic_clients": 3}
    });
    let (status, body) = send(
        &client,
        Method::PUT,
        &admin(&server, "oauth2-provider"),
        Some(&policy),
        Some(common::ADMIN_TOKEN),
    )
    .await
    .expect("the server answers");
    assert_eq!(status, 200, "{body}");
    let (status, created) = send(
        &client,
        Method::POST,
        &admin(&server, "initial-access-tokens"),
        Some(&json!({"uses": 2})),
        Some(common::ADMIN_TOKEN),
    )
    .await
    .expect("the server answers");
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().expect("token").to_owned();
    let register = |server: &Server, bearer: Option<&str>| {
        let (client, url, bearer) = (
            client.clone(),
            register_url(server),
            bearer.map(str::to_owned),
        );
        async move {
            send(
                &client,
                Method::POST,
                &url,
                Some(&registration(0)),
                bearer.as_deref(),
            )
            .await
            .expect("the server answers")
            .0
        }
    };
    assert_eq!(register(&server, Some(&token)).await, 201);
    server.kill();

    let restarted = Server::start(&home, 2).await;
    assert_eq!(
        register(&restarted, Some(&token)).await,
        201,
        "one use was left"
    );
    assert_eq!(
        register(&restarted, Some(&token)).await,
        401,
        "both uses were taken, the one before the kill included\n{}",
        restarted.log()
    );
    assert_eq!(register(&restarted, None).await, 201, "third client");
    assert_eq!(register(&restarted, None).await, 403, "quota of three");
}

/// `startup::without_transparent_huge_pages`, which `src/main.rs` calls first: the serving
/// process has THP off (the kernel reports `THP_enabled: 0` for it), so the allocator's fresh
/// pages are zeroed 4 KiB at a time as they are touched, not 2 MiB at once.
#[cfg(target_os = "linux")]
#[actix_web::test]
async fn the_server_process_runs_with_transparent_huge_pages_off() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid()))
        .expect("the server's /proc status");
    let thp = status
        .lines()
        .find_map(|line| line.strip_prefix("THP_enabled:"))
        .map(str::trim);
    assert_eq!(thp, Some("0"), "{status}");
}
