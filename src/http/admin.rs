//! `/admin`: realms, provider settings, software publishers and clients (SPEC §4). Every
//! route sits behind [`require_admin_token`].

use super::admin_policy;
use super::error::ApiError;
use super::extract::{bearer_token, body, body_limited, query_param};
use super::{no_store, not_allowed, AppState};
use crate::realm::{
    ClientRecord, ProviderSettings, PutRealm, RealmDocument, RealmExport, RealmHandle, RealmName,
    RealmStatus,
};
use crate::software_statement::PublisherDocument;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;
/// Realm names are short: pages of realms are larger, so a listing of a few hundred realms
/// still fits in one answer as it did before paging.
const DEFAULT_REALM_PAGE_SIZE: usize = 1000;
const MAX_REALM_PAGE_SIZE: usize = 10_000;
/// A realm import carries every client of the realm: 10,000 clients take about 20 MB.
const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;
/// How long a realm moved away answers 421 before its data is deleted, unless the request
/// says otherwise (`grace_seconds`).
const DEFAULT_MOVE_GRACE_SECONDS: u64 = 60;
const MAX_MOVE_GRACE_SECONDS: u64 = 7 * 24 * 3600;

/// Mounts the admin routes.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/admin")
        .wrap(from_fn(require_admin_token))
        .service(
            web::resource("/realms")
                .get(list_realms)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/realms/{realm}")
                .get(export_realm)
                .put(put_realm)
                .delete(delete_realm)
                .default_service(not_allowed("GET, PUT, DELETE")),
        )
        .service(
            web::resource("/realms/{realm}/export")
                .get(export_complete_realm)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/realms/{realm}/import")
                .post(import_realm)
                .default_service(not_allowed("POST")),
        )
        .service(
            web::resource("/realms/{realm}/fence")
                .post(fence_realm)
                .delete(unfence_realm)
                .default_service(not_allowed("POST, DELETE")),
        )
        .service(
            web::resource("/realms/{realm}/moved")
                .post(mark_realm_moved)
                .default_service(not_allowed("POST")),
        )
        .service(
            web::resource("/tombstones")
                .get(list_tombstones)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/tombstones/{realm}")
                .delete(delete_tombstone)
                .default_service(not_allowed("DELETE")),
        )
        .service(
            web::resource("/realms/{realm}/oauth2-provider")
                .get(read_provider)
                .put(put_provider)
                .default_service(not_allowed("GET, PUT")),
        )
        .service(
            web::resource("/realms/{realm}/software-publishers")
                .get(list_publishers)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/realms/{realm}/software-publishers/{agent_id}")
                .get(read_publisher)
                .put(put_publisher)
                .delete(delete_publisher)
                .default_service(not_allowed("GET, PUT, DELETE")),
        )
        .service(
            web::resource("/realms/{realm}/keys/rotate")
                .post(rotate_keys)
                .default_service(not_allowed("POST")),
        )
        .service(
            web::resource("/realms/{realm}/initial-access-tokens")
                .get(admin_policy::list_initial_access)
                .post(admin_policy::create_initial_access)
                .default_service(not_allowed("GET, POST")),
        )
        .service(
            web::resource("/realms/{realm}/initial-access-tokens/{id}")
                .delete(admin_policy::revoke_initial_access)
                .default_service(not_allowed("DELETE")),
        )
        .service(
            web::resource("/realms/{realm}/reap")
                .post(admin_policy::reap)
                .default_service(not_allowed("POST")),
        )
        .service(
            web::resource("/realms/{realm}/clients")
                .get(list_clients)
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/realms/{realm}/clients/{client_id}")
                .get(read_client)
                .put(put_client)
                .delete(delete_client)
                .default_service(not_allowed("GET, PUT, DELETE")),
        )
}

/// Refuses every admin request without the admin token, before routing.
async fn require_admin_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or(ApiError::AdminUnauthorized)?;
    let presented = bearer_token(req.request()).ok_or(ApiError::AdminUnauthorized)?;
    if !presented.hash().ct_eq(&state.admin_token) {
        return Err(ApiError::AdminUnauthorized.into());
    }
    let mut response = next.call(req).await?;
    response.headers_mut().insert(no_store().0, no_store().1);
    Ok(response)
}

/// A page of realm names in name order; `next` continues the walk (absent on the last page).
async fn list_realms(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page_size = page_size(&req, DEFAULT_REALM_PAGE_SIZE, MAX_REALM_PAGE_SIZE)?;
    let after = query_param(&req, "after")
        .map(|cursor| decode_cursor(&cursor).and_then(|name| parse_realm_name(&name)))
        .transpose()?;
    let mut page = state.registry.names(after.as_ref(), page_size + 1);
    if page.len() <= page_size {
        // The last page looks as the whole listing did before paging.
        return Ok(HttpResponse::Ok().json(json!({ "realms": page })));
    }
    page.truncate(page_size);
    let next = page.last().map(|name| encode_cursor(name));
    Ok(HttpResponse::Ok().json(json!({ "realms": page, "next": next })))
}

/// The `page_size` query parameter: `default` when absent, else 1 to `max`.
fn page_size(req: &HttpRequest, default: usize, max: usize) -> Result<usize, ApiError> {
    match query_param(req, "page_size") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("page_size must be 1 to {max}"))),
    }
}

async fn export_realm(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let document = realm.export(include_secrets(&req)).await?;
    Ok(HttpResponse::Ok().json(document))
}

/// The complete realm (issue 10): every stored entry, secrets included, which is why the
/// request must say `include_secrets=true`.
async fn export_complete_realm(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !include_secrets(&req) {
        return Err(ApiError::BadRequest(
            "a complete export carries the realm's private keys and client secrets: \
             ask for it with include_secrets=true"
                .into(),
        ));
    }
    let realm = existing_realm(&req, &state).await?;
    Ok(HttpResponse::Ok().json(realm.export_all().await?))
}

/// Creates the realm from a complete export (201 with its client count and digest).
async fn import_realm(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let name = realm_name(&req)?;
    let bytes = body_limited(&req, payload, MAX_IMPORT_BYTES).await?;
    let export: RealmExport = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid realm export: {e}")))?;
    let summary = state.registry.import_realm(name, export).await?;
    Ok(HttpResponse::Created().json(summary))
}

/// Fences the realm for a move: writes answer 503 with `Retry-After: 1`, reads go on.
async fn fence_realm(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_status(&req, &state, RealmStatus::Fenced).await
}

async fn unfence_realm(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_status(&req, &state, RealmStatus::Open).await
}

async fn set_status(
    req: &HttpRequest,
    state: &AppState,
    status: RealmStatus,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(req, state).await?;
    realm.set_status(status).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The realm lives on another node now: it answers 421 and is deleted after the grace period.
async fn mark_realm_moved(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let name = realm_name(&req)?;
    let grace = match query_param(&req, "grace_seconds") {
        None => DEFAULT_MOVE_GRACE_SECONDS,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_MOVE_GRACE_SECONDS)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "grace_seconds must be 0 to {MAX_MOVE_GRACE_SECONDS}"
                ))
            })?,
    };
    state
        .registry
        .mark_moved(&name, std::time::Duration::from_secs(grace))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Realms deleted or moved away from this node (SPEC §4).
async fn list_tombstones(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tombstones: Vec<Value> = state
        .registry
        .tombstones()?
        .into_iter()
        .map(|(realm, reason)| json!({ "realm": realm, "reason": reason }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "tombstones": tombstones })))
}

/// Forgets a tombstone, so the realm's file is imported again at the next start.
async fn delete_tombstone(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let name = realm_name(&req)?;
    state.registry.remove_tombstone(&name).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn put_realm(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let name = realm_name(&req)?;
    let document: RealmDocument = json_body(&req, payload).await?;
    if document.name.as_deref().is_some_and(|n| n != name.as_str()) {
        return Err(ApiError::BadRequest(
            "name in the document does not match the realm in the path".into(),
        ));
    }
    match state.registry.put_realm(name.clone(), &document).await? {
        PutRealm::Created(exported) => Ok(HttpResponse::Created().json(exported)),
        PutRealm::Replaced => {
            let realm = existing_realm(&req, &state).await?;
            Ok(HttpResponse::Ok().json(realm.export(false).await?))
        }
    }
}

async fn delete_realm(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let name = realm_name(&req)?;
    state.registry.delete_realm(&name).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn read_provider(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    Ok(HttpResponse::Ok().json(realm.settings()))
}

async fn put_provider(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let settings: ProviderSettings = json_body(&req, payload).await?;
    realm.put_settings(settings).await?;
    Ok(HttpResponse::Ok().json(realm.settings()))
}

/// Starts signing with a new key; the previous key stays in the JWKS while tokens it signed
/// may still be live.
async fn rotate_keys(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    realm.rotate_keys().await?;
    Ok(HttpResponse::Ok().json(realm.jwks().await?))
}

async fn list_clients(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let page_size = page_size(&req, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let after = query_param(&req, "after")
        .map(|cursor| decode_cursor(&cursor))
        .transpose()?;
    let mut page = realm.list_clients(after, page_size + 1).await?;
    let next = if page.len() > page_size {
        page.truncate(page_size);
        page.last()
            .map(|record| encode_cursor(&record.profile.client_id))
    } else {
        None
    };
    let show_secrets = include_secrets(&req);
    let clients: Vec<Value> = page
        .iter()
        .map(|record| Value::Object(admin_view(record, show_secrets)))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "clients": clients, "next": next })))
}

async fn read_client(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let record = realm.find_client(path_client_id(&req)?).await?;
    Ok(HttpResponse::Ok().json(admin_view(&record, include_secrets(&req))))
}

async fn put_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let document: Map<String, Value> = json_body(&req, payload).await?;
    let client_id = path_client_id(&req)?;
    let created = realm.put_static_client(client_id, &document).await?;
    let record = realm.find_client(client_id).await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(admin_view(&record, false)))
}

async fn delete_client(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    realm.remove_client(path_client_id(&req)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// SPEC §4: `{"software_publishers": [profiles]}`, secrets left out (write-only).
async fn list_publishers(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let publishers: Vec<PublisherDocument> = realm
        .publishers()
        .iter()
        .map(|publisher| publisher.to_document(false))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "software_publishers": publishers })))
}

async fn read_publisher(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let publisher = realm.find_publisher(path_agent_id(&req)?)?;
    Ok(HttpResponse::Ok().json(publisher.to_document(false)))
}

/// Creates (201) or replaces (200) a publisher profile. A replacement is whole: a secret
/// that is not sent again is gone (it cannot be read back, so it cannot be echoed).
async fn put_publisher(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    let document: PublisherDocument = json_body(&req, payload).await?;
    let agent_id = path_agent_id(&req)?;
    let (saved, created) = realm.put_publisher(agent_id, &document).await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(saved.to_document(false)))
}

async fn delete_publisher(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let realm = existing_realm(&req, &state).await?;
    realm.remove_publisher(path_agent_id(&req)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What a cursor says before it is encoded: a guessed or mangled `after` fails to decode or
/// lacks this, and is refused instead of silently restarting at page 1.
const CURSOR_PREFIX: &str = "after:";

/// The opaque `next` of a page: the last client id (or realm name) of the page, so one
/// deleted between two requests does not break the walk.
fn encode_cursor(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{last}"))
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX).map(str::to_owned))
        .filter(|client_id| !client_id.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "after must be the next value of a previous page, unchanged".into(),
            )
        })
}

/// A client as the admin sees it: the profile plus its origin; the secret only on request.
fn admin_view(record: &ClientRecord, include_secret: bool) -> Map<String, Value> {
    let mut json = record.static_document();
    if !include_secret {
        json.remove("client_secret");
    }
    json.insert("client_origin".into(), json!(record.origin));
    json
}

fn realm_name(req: &HttpRequest) -> Result<RealmName, ApiError> {
    parse_realm_name(req.match_info().get("realm").unwrap_or_default())
}

fn parse_realm_name(raw: &str) -> Result<RealmName, ApiError> {
    RealmName::parse(raw).map_err(ApiError::BadRequest)
}

pub(super) async fn existing_realm(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Arc<RealmHandle>, ApiError> {
    let name = realm_name(req)?;
    state
        .registry
        .get(name.as_str())
        .await?
        .ok_or_else(|| ApiError::UnknownRealm(name.to_string()))
}

fn path_client_id(req: &HttpRequest) -> Result<&str, ApiError> {
    req.match_info()
        .get("client_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::BadRequest("client_id is required".into()))
}

/// The `{agent_id}` path segment, percent-decoded (the seed's is "My Software Publisher").
fn path_agent_id(req: &HttpRequest) -> Result<&str, ApiError> {
    req.match_info()
        .get("agent_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::BadRequest("agent_id is required".into()))
}

fn include_secrets(req: &HttpRequest) -> bool {
    query_param(req, "include_secrets").as_deref() == Some("true")
}

pub(super) async fn json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, ApiError> {
    let bytes = body(req, payload).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON document: {e}")))
}
