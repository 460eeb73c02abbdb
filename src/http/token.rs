//! `B/access_token` and `B/introspect`: form parsing and client-credential extraction.

use super::error::ApiError;
use super::extract::{body, realm};
use super::AppState;
use crate::realm::{
    ClientCredentials, IssuedToken, TokenError, TokenRequest, JWT_BEARER_ASSERTION,
};
use crate::secret::Secret;
use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
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
    Ok(token_response()
        .content_type(ContentType::json())
        .body(token_body(&issued)))
}

/// RFC 6749 §5.1 successful response. Written out rather than serialized: the access token
/// is a compact JWS, base64url parts and dots only, which JSON carries as they are, and
/// serde's escaping scan of its ~500 bytes cost more than the rest of the response; the
/// scope is escaped as JSON.
fn token_body(issued: &IssuedToken) -> String {
    let token = issued.access_token.expose();
    let scope = serde_json::Value::from(issued.scope.as_str()).to_string();
    let mut body = String::with_capacity(token.len() + scope.len() + 80);
    body.push_str(r#"{"access_token":""#);
    body.push_str(token);
    body.push_str(r#"","token_type":"Bearer","expires_in":"#);
    body.push_str(&issued.expires_in.to_string());
    body.push_str(r#","scope":"#);
    body.push_str(&scope);
    body.push('}');
    body
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
    // Form-urlencoded (`%XX`, `+` for a space); most ids and secrets contain neither.
    let unescape = |s: &str| -> String {
        if !s.contains(['%', '+']) {
            return s.to_owned();
        }
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), Secret::new(unescape(secret)))))
}
