//! SPEC §4 and issue 10: a realm deleted or moved away stays gone across restarts, although
//! its `realms/NAME.json` is still there; removing its tombstone brings the file back.

mod common;

use awc::http::Method;
use common::{http_client, send, Home, Server, ADMIN_TOKEN};

async fn admin(server: &Server, method: Method, path: &str) -> u16 {
    let (status, _) = send(
        &http_client(),
        method,
        &format!("{}{path}", server.url),
        None,
        Some(ADMIN_TOKEN),
    )
    .await
    .expect("the server answers");
    status
}

#[actix_web::test]
async fn a_deleted_realm_is_not_imported_again_until_its_tombstone_is_removed() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    assert_eq!(
        admin(&server, Method::DELETE, "/admin/realms/alpha").await,
        204
    );
    server.kill();

    let restarted = Server::start(&home, 2).await;
    assert_eq!(
        admin(&restarted, Method::GET, "/admin/realms/alpha").await,
        404,
        "a deleted realm came back from its file:\n{}",
        restarted.log()
    );
    assert_eq!(
        admin(&restarted, Method::DELETE, "/admin/tombstones/alpha").await,
        204
    );
    restarted.kill();

    let reimported = Server::start(&home, 3).await;
    assert_eq!(
        admin(&reimported, Method::GET, "/admin/realms/alpha").await,
        200
    );
}

#[actix_web::test]
async fn a_realm_moved_away_is_deleted_at_start_if_a_restart_cut_its_grace_period_short() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let path = "/admin/realms/alpha/moved?grace_seconds=3600";
    assert_eq!(admin(&server, Method::POST, path).await, 204);
    server.kill();

    let restarted = Server::start(&home, 2).await;
    assert_eq!(
        admin(&restarted, Method::GET, "/admin/realms/alpha").await,
        404
    );
}
