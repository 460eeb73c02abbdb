//! HTTP: routes, extractors and the mapping of errors to responses. The only layer that
//! knows actix-web.

pub mod admin;
mod admin_policy;
pub mod client_ip;
pub mod console;
mod cors;
pub mod deadline;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod ops;
pub mod registration;
pub mod server;
pub mod token;

pub use error::ApiError;

use crate::realm::RealmRegistry;
use crate::secret::SecretHash;
use crate::store::Store;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use client_ip::TrustedProxies;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// State shared by every handler.
pub struct AppState {
    pub registry: Arc<RealmRegistry>,
    /// Scheme, host and port clients see, without a trailing slash.
    pub public_url: String,
    /// SHA-256 of the admin token.
    pub admin_token: SecretHash,
    /// For the readiness probe's write.
    pub store: Store,
    /// Set when a shutdown signal arrives: `/ready` answers 503 from then on.
    pub draining: AtomicBool,
    /// Proxies whose `X-Forwarded-For` is believed for registration rate limits.
    pub trusted_proxies: TrustedProxies,
    /// How long a whole request (head and body) may take to arrive.
    pub request_timeout: std::time::Duration,
}

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // The realm endpoints first: the router tries routes in order, and each route with a
    // `{…}` segment (console assets, the well-known metadata) runs a regex over the whole
    // path, which cost a read more than the rest of routing. No other route starts with
    // `/am/oauth2`, so the order changes no match.
    // Most specific first: a scope that matches a prefix does not fall through.
    // The static prefix is matched by string comparison; only `/{realm}` is left to the
    // router's regex, which costs per byte it scans.
    cfg.service(web::scope("/am/oauth2/realms/root/realms").service(realm_scope("/{realm}")))
        .service(realm_scope("/am/oauth2/realms/root"))
        .service(realm_scope("/am/oauth2"))
        .service(
            web::resource("/health")
                .get(ops::health)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/ready")
                .get(ops::ready)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/metrics")
                .get(ops::metrics)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/openapi.json")
                .get(ops::openapi)
                .default_service(not_allowed("GET")),
        )
        .configure(console::configure)
        .service(admin::scope())
        // RFC 8414 §3.1: the well-known name goes between host and the issuer's path.
        .service(metadata_resource(
            "/.well-known/oauth-authorization-server/am/oauth2/realms/root/realms/{realm}",
        ))
        .service(metadata_resource(
            "/.well-known/oauth-authorization-server/am/oauth2/realms/root",
        ))
        .service(metadata_resource(
            "/.well-known/oauth-authorization-server/am/oauth2",
        ));
}

fn realm_scope(
    prefix: &str,
) -> actix_web::Scope<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let preflight = || web::method(Method::OPTIONS).to(cors::preflight);
    web::scope(prefix)
        .wrap(from_fn(cors::allow_origin))
        .service(
            web::resource("/register")
                .post(registration::register_client)
                .get(registration::read_client)
                .put(registration::replace_client)
                .delete(registration::delete_client)
                .route(preflight())
                .default_service(not_allowed("POST, GET, PUT, DELETE, OPTIONS")),
        )
        .service(
            web::resource("/access_token")
                .post(token::issue_token)
                .default_service(not_allowed("POST")),
        )
        .service(
            web::resource("/introspect")
                .post(token::introspect)
                .default_service(not_allowed("POST")),
        )
        .service(
            web::resource("/.well-known/openid-configuration")
                .get(discovery::openid_configuration)
                .route(preflight())
                .default_service(not_allowed("GET, OPTIONS")),
        )
        .service(metadata_resource("/.well-known/oauth-authorization-server"))
        .service(
            web::resource("/connect/jwk_uri")
                .get(discovery::jwk_uri)
                .route(preflight())
                .default_service(not_allowed("GET, OPTIONS")),
        )
        .default_service(web::to(not_found))
}

/// RFC 8414 authorization server metadata at `path`.
fn metadata_resource(path: &str) -> actix_web::Resource {
    web::resource(path)
        .get(discovery::authorization_server_metadata)
        .default_service(not_allowed("GET"))
}

/// JSON 405 with `Allow` (RFC 9110 §15.5.6) for a known path asked with another method.
/// `allowed` lists the methods the resource routes; a test checks each list against its routes.
pub fn not_allowed(allowed: &'static str) -> actix_web::Route {
    web::to(move |req: HttpRequest| async move {
        ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allowed,
        }
        .error_response()
    })
}

/// JSON 404 for every unknown path; a path that only differs from a route by its trailing
/// slash says so.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    let trimmed = path.trim_end_matches('/');
    if trimmed.len() < path.len() && !trimmed.is_empty() && req.resource_map().has_resource(trimmed)
    {
        return ApiError::TrailingSlash(trimmed.to_owned()).error_response();
    }
    ApiError::NoRoute.error_response()
}

/// `Cache-Control: no-store` (RFC 7591 §3.2.1, RFC 6749 §5.1).
pub fn no_store() -> (HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}
