//! `B/register`: RFC 7591 registration and RFC 7592 management. HTTP concerns only; the
//! realm handle does the rest.

use super::error::ApiError;
use super::extract::{bearer_token, body, query_param, realm};
use super::{no_store, AppState};
use crate::realm::RealmHandle;
use crate::realm::{RealmError, Registered};
use crate::registration::{ClientProfile, ManagementCredentials};
use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};

/// POST: register a client → 201 with the profile, token and management URI.
pub async fn register_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    let body = body(&req, payload).await?;
    let client_ip = state.trusted_proxies.client_ip(&req);
    // Boxed: the registration's future is ~4 KiB, and inline the handler's future (which
    // actix moves into a box of its own, and moves again) carried it twice over (8 KiB).
    let registered = Box::pin(realm.register(bearer_token(&req), client_ip, &body)).await?;
    let uri = realm.registration_client_uri(&registered.profile.client_id);
    let credentials = credentials(&registered, Some(uri));
    profile_response(
        &realm,
        HttpResponse::Created(),
        &registered.profile,
        &credentials,
    )
}

/// GET: read the profile (without token and URI, as the seed shows).
pub async fn read_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    body(&req, payload).await?;
    let client_id = client_id(&req)?;
    let client = realm.read_client(&client_id, bearer_token(&req)).await?;
    // Rendered once per stored version of the client (the realm keeps it with the client).
    let body = client.read_body(realm.response_profile())?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .content_type(ContentType::json())
        .body(body))
}

/// PUT: replace the profile → 200 with a new registration access token.
pub async fn replace_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    let body = body(&req, payload).await?;
    let client_id = client_id(&req)?;
    let updated = realm
        .replace_client(&client_id, bearer_token(&req), &body)
        .await?;
    // The seed's update response carries the new token but no registration_client_uri.
    let credentials = credentials(&updated, None);
    profile_response(&realm, HttpResponse::Ok(), &updated.profile, &credentials)
}

/// DELETE: remove the client → 204.
pub async fn delete_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    body(&req, payload).await?;
    let client_id = client_id(&req)?;
    realm.delete_client(&client_id, bearer_token(&req)).await?;
    Ok(HttpResponse::NoContent().insert_header(no_store()).finish())
}

/// What a create or update response adds to the profile.
fn credentials(registered: &Registered, uri: Option<String>) -> ManagementCredentials {
    ManagementCredentials {
        registration_access_token: registered.registration_access_token.clone(),
        registration_client_uri: uri,
    }
}

/// RFC 7592 management calls name the client in the query.
fn client_id(req: &HttpRequest) -> Result<String, ApiError> {
    query_param(req, "client_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| RealmError::InvalidRequest("client_id is required".into()).into())
}

/// The profile in the realm's response shape (`response_profile`).
fn profile_response(
    realm: &RealmHandle,
    mut builder: actix_web::HttpResponseBuilder,
    profile: &ClientProfile,
    credentials: &ManagementCredentials,
) -> Result<HttpResponse, ApiError> {
    let body = realm.profile_body(profile, credentials)?;
    Ok(builder
        .insert_header(no_store())
        .content_type(ContentType::json())
        .body(body))
}
