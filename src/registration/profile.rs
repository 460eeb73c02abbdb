//! A registered client (metadata plus what the server assigned) and its JSON rendering.

use super::metadata::ClientMetadata;
use super::types::ClientKeys;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// AM's default key-management and content-encryption algorithms, reported even when the
/// client did not ask for encryption.
const DEFAULT_ENCRYPTION_ALG: &str = "RSA-OAEP-256";
const DEFAULT_ENCRYPTION_ENC: &str = "A128CBC-HS256";
const DEFAULT_SIGNING_ALG: &str = "RS256";

/// A client as the server knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientProfile {
    pub client_id: String,
    /// Returned on read (as AM does), so kept retrievable; `None` for public clients.
    pub client_secret: Option<String>,
    pub client_id_issued_at: u64,
    pub metadata: ClientMetadata,
}

/// Management credentials that go into a create or update response only.
#[derive(Debug, Clone, Default)]
pub struct ManagementCredentials {
    pub registration_access_token: Option<String>,
    pub registration_client_uri: Option<String>,
}

impl ClientProfile {
    /// The full AM-shaped profile: every key of reference §7.1, unset algorithms as `""`.
    pub fn to_json(&self, credentials: &ManagementCredentials) -> Map<String, Value> {
        let m = &self.metadata;
        let a = &m.algorithms;
        let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
        let or = |v: &Option<String>, default: &str| v.clone().unwrap_or_else(|| default.into());
        let format_selector =
            |signed: &Option<String>, encrypted: &Option<String>| match (signed, encrypted) {
                (_, Some(_)) => "SIGNED_THEN_ENCRYPTED_JWT",
                (Some(_), None) => "SIGNED_JWT",
                (None, None) => "JSON",
            };

        let mut out = Map::new();
        let mut put = |key: &str, value: Value| {
            out.insert(key.to_owned(), value);
        };
        put("client_id", json!(self.client_id));
        if let Some(secret) = &self.client_secret {
            put("client_secret", json!(secret));
            put("client_secret_expires_at", json!(0));
        }
        put("client_id_issued_at", json!(self.client_id_issued_at));
        if let Some(token) = &credentials.registration_access_token {
            put("registration_access_token", json!(token));
        }
        if let Some(uri) = &credentials.registration_client_uri {
            put("registration_client_uri", json!(uri));
        }
        put("client_type", json!(m.client_type.as_str()));
        put("redirect_uris", json!(m.redirect_uris));
        put(
            "token_endpoint_auth_method",
            json!(m.token_endpoint_auth_method.as_str()),
        );
        put("grant_types", json!(m.grant_types));
        put("response_types", json!(m.response_types));
        put("scope", json!(m.scope_string()));
        put("scopes", json!(m.scopes));
        if !m.default_scopes.is_empty() {
            put("default_scopes", json!(m.default_scopes));
        }
        for localized in &m.localized {
            put(&localized.key(), json!(localized.value));
        }
        if !m.contacts.is_empty() {
            put("contacts", json!(m.contacts));
        }
        put("public_key_selector", json!(m.keys.selector()));
        match &m.keys {
            ClientKeys::Jwks(jwks) => put("jwks", jwks.clone()),
            ClientKeys::JwksUri(uri) => put("jwks_uri", json!(uri)),
            ClientKeys::None => {}
        }
        put("jwks_cache_timeout", json!(m.jwks_cache_timeout));
        put(
            "jwks_cache_miss_cache_time",
            json!(m.jwks_cache_miss_cache_time),
        );
        if let Some(uri) = &m.sector_identifier_uri {
            put("sector_identifier_uri", json!(uri));
        }
        put("subject_type", json!(m.subject_type.as_str()));
        put("application_type", json!(m.application_type.as_str()));

        put(
            "id_token_signed_response_alg",
            json!(or(&a.id_token_signed_response_alg, DEFAULT_SIGNING_ALG)),
        );
        put(
            "id_token_encryption_enabled",
            json!(a.id_token_encrypted_response_alg.is_some()),
        );
        put(
            "id_token_encrypted_response_alg",
            json!(or(
                &a.id_token_encrypted_response_alg,
                DEFAULT_ENCRYPTION_ALG
            )),
        );
        put(
            "id_token_encrypted_response_enc",
            json!(or(
                &a.id_token_encrypted_response_enc,
                DEFAULT_ENCRYPTION_ENC
            )),
        );
        put(
            "userinfo_signed_response_alg",
            json!(or_empty(&a.userinfo_signed_response_alg)),
        );
        put(
            "userinfo_encrypted_response_alg",
            json!(or_empty(&a.userinfo_encrypted_response_alg)),
        );
        put(
            "userinfo_encrypted_response_enc",
            json!(or_empty(&a.userinfo_encrypted_response_enc)),
        );
        put(
            "user_info_response_format_selector",
            json!(format_selector(
                &a.userinfo_signed_response_alg,
                &a.userinfo_encrypted_response_alg
            )),
        );
        put(
            "request_object_signing_alg",
            json!(or_empty(&a.request_object_signing_alg)),
        );
        put(
            "request_object_encryption_alg",
            json!(or_empty(&a.request_object_encryption_alg)),
        );
        if let Some(enc) = &a.request_object_encryption_enc {
            put("request_object_encryption_enc", json!(enc));
        }
        if let Some(alg) = &a.token_endpoint_auth_signing_alg {
            put("token_endpoint_auth_signing_alg", json!(alg));
        }
        put(
            "introspection_signed_response_alg",
            json!(or(
                &a.introspection_signed_response_alg,
                DEFAULT_SIGNING_ALG
            )),
        );
        put(
            "introspection_encrypted_response_alg",
            json!(or(
                &a.introspection_encrypted_response_alg,
                DEFAULT_ENCRYPTION_ALG
            )),
        );
        put(
            "introspection_encrypted_response_enc",
            json!(or(
                &a.introspection_encrypted_response_enc,
                DEFAULT_ENCRYPTION_ENC
            )),
        );
        put(
            "token_intro_response_format_selector",
            json!(or(&a.introspection_response_format, "JSON")),
        );
        put(
            "authorization_signed_response_alg",
            json!(or(
                &a.authorization_signed_response_alg,
                DEFAULT_SIGNING_ALG
            )),
        );
        if let Some(alg) = &a.authorization_encrypted_response_alg {
            put("authorization_encrypted_response_alg", json!(alg));
        }
        if let Some(enc) = &a.authorization_encrypted_response_enc {
            put("authorization_encrypted_response_enc", json!(enc));
        }
        put("default_max_age", json!(m.default_max_age.unwrap_or(1)));
        put(
            "default_max_age_enabled",
            json!(m.default_max_age.is_some()),
        );
        if let Some(required) = m.require_auth_time {
            put("require_auth_time", json!(required));
        }
        if !m.default_acr_values.is_empty() {
            put("default_acr_values", json!(m.default_acr_values));
        }
        if let Some(uri) = &m.initiate_login_uri {
            put("initiate_login_uri", json!(uri));
        }
        if !m.request_uris.is_empty() {
            put("request_uris", json!(m.request_uris));
        }
        if !m.post_logout_redirect_uris.is_empty() {
            put(
                "post_logout_redirect_uris",
                json!(m.post_logout_redirect_uris),
            );
        }
        if let Some(uri) = &m.backchannel_logout_uri {
            put("backchannel_logout_uri", json!(uri));
        }
        put(
            "backchannel_logout_session_required",
            json!(m.backchannel_logout_session_required),
        );
        put(
            "tls_client_certificate_bound_access_tokens",
            json!(m.tls_client_certificate_bound_access_tokens),
        );
        put(
            "require_pushed_authorization_requests",
            json!(m.require_pushed_authorization_requests),
        );
        let l = &m.lifetimes;
        put(
            "authorization_code_lifetime",
            json!(l.authorization_code_lifetime),
        );
        put("access_token_lifetime", json!(l.access_token_lifetime));
        put("refresh_token_lifetime", json!(l.refresh_token_lifetime));
        put("jwt_token_lifetime", json!(l.jwt_token_lifetime));
        if let Some(id) = &m.software_id {
            put("software_id", json!(id));
        }
        if let Some(version) = &m.software_version {
            put("software_version", json!(version));
        }
        if let Some(statement) = &m.software_statement {
            put("software_statement", json!(statement));
        }
        out
    }
}
