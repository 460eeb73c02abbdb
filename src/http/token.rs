//! `B/access_token` and `B/introspect`: form parsing and client-credential extraction.

use super::error::ApiError;
use super::extract::{body, realm};
use super::AppState;
use crate::realm::{ClientCredentials, TokenError, TokenRequest, JWT_BEARER_ASSERTION};
use crate::secret::Secret;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use std::collections::HashMap;

/// `POST B/access_token` (RFC 6749 §4.4).
pub async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    let mut form = form(&req, payload).await?;
    let request = TokenRequest {
        grant_type: form.params.remove("grant_type"),
        scope: form.params.remove("scope"),
        resources: form.resources,
        credentials: credentials(&req, &mut form.params)?,
    };
    let issued = realm.issue_token(request).await?;
    Ok(token_response().json(TokenResponse {
        access_token: issued.access_token.expose(),
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: &issued.scope,
    }))
}

/// RFC 6749 §5.1 successful response, serialized straight from the issued token.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    scope: &'a str,
}

/// `POST B/introspect` (RFC 7662).
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let realm = realm(&req, &state).await?;
    let mut form = form(&req, payload).await?;
    let token = form.params.remove("token");
    let credentials = credentials(&req, &mut form.params)?;
    let answer = realm.introspect(credentials, token).await?;
    Ok(token_response().json(answer))
}

fn token_response() -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

/// A parsed token or introspection request body.
struct Form {
    params: HashMap<String, String>,
    /// RFC 8707 §2: `resource` is the one parameter that may repeat.
    resources: Vec<String>,
}

/// RFC 6749 §3.2: parameters are form-encoded; one that appears twice is an error, except
/// `resource` (RFC 8707).
async fn form(req: &HttpRequest, payload: web::Payload) -> Result<Form, ApiError> {
    let bytes = body(req, payload).await?;
    let mut form = Form {
        params: HashMap::new(),
        resources: Vec::new(),
    };
    for (key, value) in url::form_urlencoded::parse(&bytes) {
        if key == "resource" {
            form.resources.push(value.into_owned());
        } else if form
            .params
            .insert(key.to_string(), value.into_owned())
            .is_some()
        {
            return Err(TokenError::InvalidRequest(format!("parameter {key} is repeated")).into());
        }
    }
    Ok(form)
}

/// Which of the RFC 6749 §2.3 methods the request uses; more than one is an error.
fn credentials(
    req: &HttpRequest,
    form: &mut HashMap<String, String>,
) -> Result<ClientCredentials, ApiError> {
    let basic = basic_credentials(req)?;
    let form_id = form.remove("client_id");
    let form_secret = form.remove("client_secret");
    let assertion_type = form.remove("client_assertion_type");
    let assertion = form.remove("client_assertion");
    let methods = usize::from(basic.is_some())
        + usize::from(form_secret.is_some())
        + usize::from(assertion.is_some());
    if methods > 1 {
        return Err(TokenError::InvalidRequest(
            "use exactly one client authentication method".into(),
        )
        .into());
    }
    if let Some((client_id, secret)) = basic {
        if form_id.as_ref().is_some_and(|id| *id != client_id) {
            return Err(TokenError::InvalidRequest(
                "client_id does not match the Authorization header".into(),
            )
            .into());
        }
        return Ok(ClientCredentials::Basic { client_id, secret });
    }
    if let Some(secret) = form_secret {
        let client_id = form_id
            .ok_or_else(|| TokenError::InvalidRequest("client_secret needs client_id".into()))?;
        return Ok(ClientCredentials::Post {
            client_id,
            secret: Secret::new(secret),
        });
    }
    if let Some(assertion) = assertion {
        if assertion_type.as_deref() != Some(JWT_BEARER_ASSERTION) {
            return Err(TokenError::InvalidRequest(format!(
                "client_assertion_type must be {JWT_BEARER_ASSERTION}"
            ))
            .into());
        }
        return Ok(ClientCredentials::Assertion {
            client_id: form_id,
            assertion: Secret::new(assertion),
        });
    }
    Ok(ClientCredentials::Unauthenticated { client_id: form_id })
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, Secret)>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::from(TokenError::InvalidClient(
            "malformed Basic credentials".into(),
        ))
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), Secret::new(unescape(secret)))))
}
