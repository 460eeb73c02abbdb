//! `/console`: the admin console, static HTML/JS/CSS compiled into the binary. It signs in
//! with the admin token and uses only the admin REST API (and a realm's public JWKS), so it
//! holds no server-side session and adds no privilege.

use super::not_allowed;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

const INDEX_HTML: &str = include_str!("console/index.html");
const CONSOLE_JS: &str = include_str!("console/console.js");
const CONSOLE_CSS: &str = include_str!("console/console.css");

/// Scripts, styles and requests from this origin only; no framing (clickjacking).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/console")
            .get(index)
            .default_service(not_allowed("GET")),
    )
    .service(
        web::resource("/console/{asset}")
            .get(asset)
            .default_service(not_allowed("GET")),
    );
}

async fn index() -> HttpResponse {
    page("text/html; charset=utf-8", INDEX_HTML)
}

async fn asset(req: HttpRequest) -> HttpResponse {
    match req.match_info().get("asset") {
        Some("console.js") => page("text/javascript; charset=utf-8", CONSOLE_JS),
        Some("console.css") => page("text/css; charset=utf-8", CONSOLE_CSS),
        _ => super::not_found(req).await,
    }
}

fn page(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}
