//! Client metadata: wire rules, domain types, defaults and validation. Pure: no I/O, no
//! clock, no actix, no sled, so every rule is unit-testable.

mod error;
mod fields;
pub mod limits;
mod metadata;
mod profile;
pub mod types;
mod uri;

#[cfg(test)]
mod tests;

pub use error::RegistrationError;
pub use metadata::{
    validate, Algorithms, ClientMetadata, Lifetimes, RegistrationPolicy, DEFAULT_GRANT_TYPE,
    DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS, DEFAULT_JWKS_CACHE_TIMEOUT_MS, DEFAULT_RESPONSE_TYPE,
};
pub use profile::{ClientProfile, ManagementCredentials, ProfileView, ResponseProfile};

use serde_json::{Map, Value};

/// SPEC §3: the body is JSON whatever its `Content-Type`; empty means `{}`; anything but an
/// object is `invalid_client_metadata`.
pub fn parse_request(body: &[u8]) -> Result<Map<String, Value>, RegistrationError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error::invalid("the request body must be a JSON object")),
        Err(e) => Err(error::invalid(format!(
            "the request body is not valid JSON: {e}{}",
            form_encoded_hint(body)
        ))),
    }
}

/// A hint for the common mistake of sending `key=value&…` (curl `-d` with `-H` forgotten
/// sends JSON fine; an HTML form or `--data-urlencode` does not).
fn form_encoded_hint(body: &[u8]) -> &'static str {
    let first_field = body.split(|&b| b == b'&').next().unwrap_or_default();
    let looks_form_encoded = first_field.first().is_some_and(u8::is_ascii_alphabetic)
        && first_field.contains(&b'=')
        && !first_field.iter().any(u8::is_ascii_whitespace);
    if looks_form_encoded {
        "; the body looks form-encoded: send a JSON object with Content-Type: application/json"
    } else {
        ""
    }
}
