//! Issue 12 item 4: `/console` is served from the binary, offline (no third-party origin), and
//! locked down by its Content-Security-Policy. The browser test is scripts/console-test.sh.

use crate::helpers::*;
use awc::http::Method;

#[actix_web::test]
async fn the_console_is_embedded_self_contained_and_locked_down() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/console", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let response = app.request(Method::GET, path, None, None).await;
        assert_eq!(response.status, 200, "{path}");
        assert!(
            response
                .header("content-type")
                .unwrap_or_default()
                .starts_with(content_type),
            "{path}: {:?}",
            response.header("content-type")
        );
        let csp = response
            .header("content-security-policy")
            .unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        let body = String::from_utf8_lossy(&response.raw);
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
    let script = app
        .request(Method::GET, "/console/console.js", None, None)
        .await;
    let script = String::from_utf8_lossy(&script.raw);
    assert!(
        !script.contains("innerHTML"),
        "server data goes in as text only"
    );
    assert!(
        !script.contains("localStorage"),
        "the token stays in sessionStorage"
    );

    let unknown = app
        .request(Method::GET, "/console/../admin-token", None, None)
        .await;
    assert_eq!(unknown.status, 404);
    let other = app
        .request(Method::GET, "/console/other.js", None, None)
        .await;
    other.assert_error(404, "not_found", "an asset that is not embedded");
}
