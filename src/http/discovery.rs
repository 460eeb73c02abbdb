//! `B/.well-known/openid-configuration` (OIDC Discovery 1.0 §3) and `B/connect/jwk_uri`.

use super::error::ApiError;
use super::extract::realm;
use super::AppState;
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

pub async fn openid_configuration(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state)?;
    let settings = realm.settings();
    let issuer = realm.issuer();
    let mut scopes = settings.client_registration_scope_allowlist.clone();
    if !scopes.contains(&settings.dynamic_client_registration_scope) {
        scopes.push(settings.dynamic_client_registration_scope.clone());
    }
    let auth_methods = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
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
        "grant_types_supported": ["client_credentials"],
        "registrable_grant_types": GRANT_TYPES,
        "subject_types_supported": ["public", "pairwise"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "introspection_endpoint_auth_methods_supported": auth_methods,
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
        "registration_policy": settings.policy.discovery(settings.allow_open_dynamic_registration),
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(document))
}

pub async fn jwk_uri(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/jwk-set+json")
        .json(realm.jwks()))
}
