//! `scripts/seed-examples.sh` (the seed document's curl examples) passes against the real
//! binary.

mod common;

use common::{Home, Server};
use std::path::Path;
use std::process::Command;

#[actix_web::test]
async fn the_seed_curl_examples_pass_against_the_real_binary() {
    let home = Home::new();
    let server = Server::start(&home, 1).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/seed-examples.sh");

    let output = Command::new("bash")
        .arg(&script)
        .env("DYNREG_URL", &server.url)
        .output()
        .expect("bash runs the script");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed ({}):\n{stdout}\n{stderr}\nserver log:\n{}",
        script.display(),
        output.status,
        server.log()
    );
    for step in [
        "register: HTTP 201",
        "read: HTTP 200",
        "update: HTTP 200",
        "delete: HTTP 204",
    ] {
        assert!(stdout.contains(step), "no {step:?} in:\n{stdout}");
    }
}
