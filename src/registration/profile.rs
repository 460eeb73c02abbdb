//! A registered client (metadata plus what the server assigned) and its JSON rendering.

use super::metadata::ClientMetadata;
use super::types::ClientKeys;
use crate::secret::Secret;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

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
    pub client_secret: Option<Secret>,
    pub client_id_issued_at: u64,
    pub metadata: ClientMetadata,
}

/// Management credentials that go into a create or update response only.
#[derive(Debug, Clone, Default)]
pub struct ManagementCredentials {
    pub registration_access_token: Option<Secret>,
    pub registration_client_uri: Option<String>,
}

impl ClientProfile {
    /// The full AM-shaped profile: every key of reference §7.1, unset algorithms as `""`.
    pub fn to_json(&self, credentials: &ManagementCredentials) -> Map<String, Value> {
        let mut sink = MapSink(Map::new());
        self.render(credentials, &mut sink);
        sink.0
    }

    /// The same profile, serialized straight to JSON text without an intermediate map (the
    /// hot path of every registration response).
    pub fn view<'a>(&'a self, credentials: &'a ManagementCredentials) -> ProfileView<'a> {
        ProfileView {
            profile: self,
            credentials,
        }
    }

    /// Writes every field of the profile into `sink`.
    fn render(&self, credentials: &ManagementCredentials, sink: &mut impl FieldSink) {
        let m = &self.metadata;
        let a = &m.algorithms;
        let format_selector =
            |signed: &Option<String>, encrypted: &Option<String>| match (signed, encrypted) {
                (_, Some(_)) => "SIGNED_THEN_ENCRYPTED_JWT",
                (Some(_), None) => "SIGNED_JWT",
                (None, None) => "JSON",
            };

        sink.put("client_id", &self.client_id);
        if let Some(secret) = &self.client_secret {
            sink.put("client_secret", &secret.expose());
            sink.put("client_secret_expires_at", &0);
        }
        sink.put("client_id_issued_at", &self.client_id_issued_at);
        if let Some(token) = &credentials.registration_access_token {
            sink.put("registration_access_token", &token.expose());
        }
        if let Some(uri) = &credentials.registration_client_uri {
            sink.put("registration_client_uri", &uri);
        }
        sink.put("client_type", &m.client_type.as_str());
        sink.put("redirect_uris", &m.redirect_uris);
        sink.put(
            "token_endpoint_auth_method",
            &m.token_endpoint_auth_method.as_str(),
        );
        sink.put("grant_types", &m.grant_types);
        sink.put("response_types", &m.response_types);
        sink.put("scope", &m.scope_string());
        sink.put("scopes", &m.scopes);
        if !m.default_scopes.is_empty() {
            sink.put("default_scopes", &m.default_scopes);
        }
        for localized in &m.localized {
            sink.put(&localized.key(), &localized.value);
        }
        if !m.contacts.is_empty() {
            sink.put("contacts", &m.contacts);
        }
        sink.put("public_key_selector", &m.keys.selector());
        match &m.keys {
            ClientKeys::Jwks(jwks) => sink.put("jwks", jwks),
            ClientKeys::JwksUri(uri) => sink.put("jwks_uri", &uri),
            ClientKeys::None => {}
        }
        sink.put("jwks_cache_timeout", &m.jwks_cache_timeout);
        sink.put("jwks_cache_miss_cache_time", &m.jwks_cache_miss_cache_time);
        if let Some(uri) = &m.sector_identifier_uri {
            sink.put("sector_identifier_uri", &uri);
        }
        sink.put("subject_type", &m.subject_type.as_str());
        sink.put("application_type", &m.application_type.as_str());

        sink.put(
            "id_token_signed_response_alg",
            or(&a.id_token_signed_response_alg, DEFAULT_SIGNING_ALG),
        );
        sink.put(
            "id_token_encryption_enabled",
            &a.id_token_encrypted_response_alg.is_some(),
        );
        sink.put(
            "id_token_encrypted_response_alg",
            or(&a.id_token_encrypted_response_alg, DEFAULT_ENCRYPTION_ALG),
        );
        sink.put(
            "id_token_encrypted_response_enc",
            or(&a.id_token_encrypted_response_enc, DEFAULT_ENCRYPTION_ENC),
        );
        sink.put(
            "userinfo_signed_response_alg",
            or(&a.userinfo_signed_response_alg, ""),
        );
        sink.put(
            "userinfo_encrypted_response_alg",
            or(&a.userinfo_encrypted_response_alg, ""),
        );
        sink.put(
            "userinfo_encrypted_response_enc",
            or(&a.userinfo_encrypted_response_enc, ""),
        );
        sink.put(
            "user_info_response_format_selector",
            &format_selector(
                &a.userinfo_signed_response_alg,
                &a.userinfo_encrypted_response_alg,
            ),
        );
        sink.put(
            "request_object_signing_alg",
            or(&a.request_object_signing_alg, ""),
        );
        sink.put(
            "request_object_encryption_alg",
            or(&a.request_object_encryption_alg, ""),
        );
        if let Some(enc) = &a.request_object_encryption_enc {
            sink.put("request_object_encryption_enc", &enc);
        }
        if let Some(alg) = &a.token_endpoint_auth_signing_alg {
            sink.put("token_endpoint_auth_signing_alg", &alg);
        }
        sink.put(
            "introspection_signed_response_alg",
            or(&a.introspection_signed_response_alg, DEFAULT_SIGNING_ALG),
        );
        sink.put(
            "introspection_encrypted_response_alg",
            or(
                &a.introspection_encrypted_response_alg,
                DEFAULT_ENCRYPTION_ALG,
            ),
        );
        sink.put(
            "introspection_encrypted_response_enc",
            or(
                &a.introspection_encrypted_response_enc,
                DEFAULT_ENCRYPTION_ENC,
            ),
        );
        sink.put(
            "token_intro_response_format_selector",
            or(&a.introspection_response_format, "JSON"),
        );
        sink.put(
            "authorization_signed_response_alg",
            or(&a.authorization_signed_response_alg, DEFAULT_SIGNING_ALG),
        );
        if let Some(alg) = &a.authorization_encrypted_response_alg {
            sink.put("authorization_encrypted_response_alg", &alg);
        }
        if let Some(enc) = &a.authorization_encrypted_response_enc {
            sink.put("authorization_encrypted_response_enc", &enc);
        }
        sink.put("default_max_age", &m.default_max_age.unwrap_or(1));
        sink.put("default_max_age_enabled", &m.default_max_age.is_some());
        if let Some(required) = m.require_auth_time {
            sink.put("require_auth_time", &required);
        }
        if !m.default_acr_values.is_empty() {
            sink.put("default_acr_values", &m.default_acr_values);
        }
        if let Some(uri) = &m.initiate_login_uri {
            sink.put("initiate_login_uri", &uri);
        }
        if !m.request_uris.is_empty() {
            sink.put("request_uris", &m.request_uris);
        }
        if !m.post_logout_redirect_uris.is_empty() {
            sink.put("post_logout_redirect_uris", &m.post_logout_redirect_uris);
        }
        if let Some(uri) = &m.backchannel_logout_uri {
            sink.put("backchannel_logout_uri", &uri);
        }
        sink.put(
            "backchannel_logout_session_required",
            &m.backchannel_logout_session_required,
        );
        sink.put(
            "tls_client_certificate_bound_access_tokens",
            &m.tls_client_certificate_bound_access_tokens,
        );
        sink.put(
            "require_pushed_authorization_requests",
            &m.require_pushed_authorization_requests,
        );
        let l = &m.lifetimes;
        sink.put(
            "authorization_code_lifetime",
            &l.authorization_code_lifetime,
        );
        sink.put("access_token_lifetime", &l.access_token_lifetime);
        sink.put("refresh_token_lifetime", &l.refresh_token_lifetime);
        sink.put("jwt_token_lifetime", &l.jwt_token_lifetime);
        if let Some(id) = &m.software_id {
            sink.put("software_id", &id);
        }
        if let Some(version) = &m.software_version {
            sink.put("software_version", &version);
        }
        if let Some(statement) = &m.software_statement {
            sink.put("software_statement", &statement);
        }
    }
}

/// Where [`ClientProfile::render`] puts each field.
trait FieldSink {
    fn put<V: Serialize + ?Sized>(&mut self, key: &str, value: &V);
}

/// Builds a JSON map (for callers that edit the profile before sending it).
struct MapSink(Map<String, Value>);

impl FieldSink for MapSink {
    fn put<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.0.insert(key.to_owned(), value);
    }
}

/// Streams fields into a serializer's map, keeping the first error.
struct SerializerSink<'a, M: SerializeMap> {
    map: &'a mut M,
    error: Option<M::Error>,
}

impl<M: SerializeMap> FieldSink for SerializerSink<'_, M> {
    fn put<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) {
        if self.error.is_none() {
            if let Err(error) = self.map.serialize_entry(key, value) {
                self.error = Some(error);
            }
        }
    }
}

/// A profile with its credentials, serializable as the JSON response body.
pub struct ProfileView<'a> {
    profile: &'a ClientProfile,
    credentials: &'a ManagementCredentials,
}

impl Serialize for ProfileView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let mut sink = SerializerSink {
            map: &mut map,
            error: None,
        };
        self.profile.render(self.credentials, &mut sink);
        if let Some(error) = sink.error {
            return Err(error);
        }
        map.end()
    }
}

/// A registered value, or the default AM reports for an unset one.
fn or<'a>(value: &'a Option<String>, default: &'a str) -> &'a str {
    value.as_deref().unwrap_or(default)
}
