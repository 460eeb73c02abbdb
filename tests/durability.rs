//! SPEC §6 and §1: a 2xx means the change is on disk and survives `kill -9`; SIGTERM stops the
//! server cleanly (exit 0) without losing anything. Runs the real binary.

mod common;

use awc::http::Method;
use common::{http_client, send, Home, Server};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 50;

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

#[actix_web::test]
async fn every_acknowledged_registration_survives_kill_9() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let client = http_client();
    let acknowledged: Rc<RefCell<Vec<Value>>> = Rc::default();

    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (client, url, acknowledged) =
                (client.clone(), register_url(&server), acknowledged.clone());
            actix_rt::spawn(async move {
                let outcome = send(&client, Method::POST, &url, Some(&registration(n)), None).await;
                if let Ok((status, body)) = &outcome {
                    assert_eq!(*status, 201, "registration {n}: {body}");
                    acknowledged.borrow_mut().push(body.clone());
                }
            })
        })
        .collect();
    // Kill while registrations are still in flight: once half are acknowledged.
    let started = Instant::now();
    while acknowledged.borrow().len() < CLIENTS / 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "too slow");
        actix_rt::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill();
    for task in tasks {
        task.await.expect("no registration got an error status");
    }

    let acknowledged = acknowledged.borrow().clone();
    assert!(acknowledged.len() >= CLIENTS / 2);
    let restarted = Server::start(&home, 2).await;
    assert_all_readable(&restarted, &acknowledged).await;
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
