//! `B/.well-known/openid-configuration` (OIDC Discovery 1.0 §3, shaped as AM's), RFC 8414
//! authorization server metadata (what the realm really supports) and `B/connect/jwk_uri`.

use super::error::ApiError;
use super::extract::realm;
use super::AppState;
use crate::realm::RealmHandle;
use crate::registration::types::{
    CONTENT_ENCRYPTION_ALGS, GRANT_TYPES, KEY_MANAGEMENT_ALGS, SIGNING_ALGS,
};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// Algorithms a client may sign its `private_key_jwt` assertions with (asymmetric only).
const ASSERTION_SIGNING_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];
/// How clients authenticate at the token and introspection endpoints.
const CLIENT_AUTH_METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];
/// The one grant the token endpoint serves.
const TOKEN_GRANT_TYPES: &[&str] = &["client_credentials"];
const CACHE_FOR_FIVE_MINUTES: &str = "public, max-age=300";

/// `scopes_supported`: what clients may register, plus the registration scope itself.
fn supported_scopes(realm: &RealmHandle) -> Vec<String> {
    let settings = realm.settings();
    let mut scopes = settings.client_registration_scope_allowlist;
    if !scopes.contains(&settings.dynamic_client_registration_scope) {
        scopes.push(settings.dynamic_client_registration_scope);
    }
    scopes
}

pub async fn openid_configuration(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    let issuer = realm.issuer();
    let scopes = supported_scopes(&realm);
    let document = json!({
        "issuer": issuer,
        "registration_endpoint": format!("{issuer}/register"),
        "token_endpoint": format!("{issuer}/access_token"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "jwks_uri": format!("{issuer}/connect/jwk_uri"),
        "scopes_supported": scopes,
        "response_types_supported": [
            "code", "token", "id_token", "code token", "code id_token", "token id_token",
            "code token id_token"
        ],
        "grant_types_supported": TOKEN_GRANT_TYPES,
        "registrable_grant_types": GRANT_TYPES,
        "subject_types_supported": ["public", "pairwise"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "id_token_signing_alg_values_supported": SIGNING_ALGS,
        "id_token_encryption_alg_values_supported": KEY_MANAGEMENT_ALGS,
        "id_token_encryption_enc_values_supported": CONTENT_ENCRYPTION_ALGS,
        "userinfo_signing_alg_values_supported": SIGNING_ALGS,
        "userinfo_encryption_alg_values_supported": KEY_MANAGEMENT_ALGS,
        "userinfo_encryption_enc_values_supported": CONTENT_ENCRYPTION_ALGS,
        "request_object_signing_alg_values_supported": SIGNING_ALGS,
        "request_object_encryption_alg_values_supported": KEY_MANAGEMENT_ALGS,
        "request_object_encryption_enc_values_supported": CONTENT_ENCRYPTION_ALGS,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "registration_policy": realm.registration_policy_summary(),
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_FOR_FIVE_MINUTES))
        .json(document))
}

/// RFC 8414 §2 metadata, served at `/.well-known/oauth-authorization-server` + the issuer's
/// path (§3.1) and at `B/.well-known/oauth-authorization-server`. Unlike the OpenID document
/// it lists only what the realm serves: no authorization endpoint (optional here, as no
/// supported grant uses one), so `response_types_supported` is empty.
pub async fn authorization_server_metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    let issuer = realm.issuer();
    let document = json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/access_token"),
        "jwks_uri": format!("{issuer}/connect/jwk_uri"),
        "registration_endpoint": format!("{issuer}/register"),
        "scopes_supported": supported_scopes(&realm),
        "response_types_supported": [],
        "grant_types_supported": TOKEN_GRANT_TYPES,
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "introspection_endpoint": format!("{issuer}/introspect"),
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_FOR_FIVE_MINUTES))
        .json(document))
}

pub async fn jwk_uri(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE_FOR_FIVE_MINUTES))
        .content_type("application/jwk-set+json")
        .json(realm.jwks().await?))
}
