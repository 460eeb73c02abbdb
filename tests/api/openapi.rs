//! Issue 12 item 3: `/openapi.json` describes exactly the routes the server has.

use crate::helpers::*;
use awc::http::Method;
use serde_json::Value;
use std::collections::BTreeSet;

const HTTP_METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every `web::resource("…")` in src/http, with its scope prefix applied: admin resources
/// sit under `/admin`, realm resources under each of the three realm prefixes.
fn routes_in_source() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src/http") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source");
        let mut remaining = source.as_str();
        // `web::resource("…")` and helpers that wrap it (`metadata_resource("…")`).
        while let Some(start) = remaining.find("resource(") {
            let after = remaining[start + "resource(".len()..].trim_start();
            let Some(after) = after.strip_prefix('"') else {
                remaining = &remaining[start + 1..];
                continue;
            };
            let end = after.find('"').expect("closing quote");
            let resource = &after[..end];
            let file = path.file_name().expect("file name").to_string_lossy();
            let absolute = resource.starts_with("/.well-known/oauth-authorization-server/");
            if file == "admin.rs" {
                routes.insert(format!("/admin{resource}"));
            } else if !absolute
                && (resource.starts_with("/register")
                    || resource.starts_with("/access_token")
                    || resource.starts_with("/introspect")
                    || resource.starts_with("/.well-known")
                    || resource.starts_with("/connect"))
            {
                for prefix in [
                    "/am/oauth2/realms/root/realms/{realm}",
                    "/am/oauth2/realms/root",
                    "/am/oauth2",
                ] {
                    routes.insert(format!("{prefix}{resource}"));
                }
            } else {
                routes.insert(resource.to_owned());
            }
            remaining = &after[end..];
        }
    }
    routes
}

fn concrete(template: &str) -> String {
    template
        .replace("{realm}", "alpha")
        .replace("{client_id}", "nobody")
        .replace("{agent_id}", "nobody")
        .replace("{asset}", "console.js")
}

#[actix_web::test]
async fn openapi_lists_every_route_with_exactly_its_methods() {
    let app = spawn_app().await;
    let response = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(response.status, 200);
    let document = &response.body;
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");

    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    assert_eq!(documented, routes_in_source(), "documented vs routed paths");

    for (template, item) in paths {
        let methods: BTreeSet<String> = HTTP_METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        let refused = app
            .request(Method::PATCH, &concrete(template), None, Some(ADMIN_TOKEN))
            .await;
        assert_eq!(refused.status, 405, "{template}: PATCH is not documented");
        let allowed: BTreeSet<String> = refused
            .header("allow")
            .unwrap_or_default()
            .split(", ")
            .map(str::to_owned)
            .collect();
        assert_eq!(allowed, methods, "{template}: Allow vs document");
        for method in &methods {
            let operation: &Value = &item[method.to_lowercase()];
            assert!(operation["operationId"].is_string(), "{template} {method}");
            assert!(
                operation["responses"]["default"].is_object(),
                "{template} {method}"
            );
        }
    }
}
