//! Admin routes of the registration policy: initial access tokens (create, list, revoke) and
//! reaping runs. Mounted by [`super::admin::scope`], behind its admin-token check.

use super::admin::{existing_realm, json_body};
use super::error::ApiError;
use super::extract::query_param;
use super::AppState;
use crate::realm::InitialAccessRequest;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// `POST …/initial-access-tokens` → `201` with the token, shown this once.
pub async fn create_initial_access(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let request: InitialAccessRequest = json_body(&req, payload).await?;
    let (record, secret) = realm.create_initial_access(request).await?;
    let mut view = record.view();
    if let Value::Object(fields) = &mut view {
        fields.insert("token".into(), json!(secret.expose()));
    }
    Ok(HttpResponse::Created().json(view))
}

/// `GET …/initial-access-tokens` → `{"initial_access_tokens": [...]}` without the tokens.
pub async fn list_initial_access(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let tokens: Vec<Value> = realm
        .initial_access_tokens()?
        .iter()
        .map(|token| token.view())
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "initial_access_tokens": tokens })))
}

/// `DELETE …/initial-access-tokens/{id}` → `204`.
pub async fn revoke_initial_access(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let id = req.match_info().get("id").unwrap_or_default();
    realm.revoke_initial_access(id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST …/reap?dry_run=true&as_of=UNIX` → what the run found (and removed unless a dry run).
pub async fn reap(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let dry_run = match query_param(&req, "dry_run").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::BadRequest("dry_run must be true or false".into())),
    };
    let as_of = match query_param(&req, "as_of") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u64>()
                .map_err(|_| ApiError::BadRequest("as_of must be a Unix time in seconds".into()))?,
        ),
    };
    let report = realm.reap(dry_run, as_of).await?;
    Ok(HttpResponse::Ok().json(json!({
        "dry_run": report.dry_run,
        "as_of": report.as_of,
        "unused_for_seconds": report.unused_for_seconds,
        "count": report.count,
        "client_ids": report.client_ids,
    })))
}
