//! A registered client (metadata plus what the server assigned) and its JSON rendering, in
//! the standard shape (unset members omitted) or AM's (unset members as placeholders).

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

/// How a realm shapes registration, read and update responses (provider setting
/// `response_profile`, SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseProfile {
    /// Members that are unset are omitted (OIDC Registration §2, RFC 7591 §3.2.1): strict
    /// clients such as the Rust `openidconnect` crate refuse `""` as an algorithm name and
    /// would read a disabled `default_max_age` as a real one.
    #[default]
    Standard,
    /// ForgeRock AM's exact shape, as the seed shows it: unset algorithms as `""` or AM's
    /// default names, `default_max_age: 1` beside `default_max_age_enabled: false`.
    Am,
}

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
    /// The profile as a JSON map, in the given response shape.
    pub fn to_json(
        &self,
        credentials: &ManagementCredentials,
        shape: ResponseProfile,
    ) -> Map<String, Value> {
        let mut sink = MapSink(Map::new());
        self.render(credentials, shape, &mut sink);
        sink.0
    }

    /// The same profile, serialized straight to JSON text without an intermediate map (the
    /// hot path of every registration response).
    pub fn view<'a>(
        &'a self,
        credentials: &'a ManagementCredentials,
        shape: ResponseProfile,
    ) -> ProfileView<'a> {
        ProfileView {
            profile: self,
            credentials,
            shape,
        }
    }

    /// Writes every field of the profile into `sink`.
    fn render(
        &self,
        credentials: &ManagementCredentials,
        shape: ResponseProfile,
        sink: &mut impl FieldSink,
    ) {
        let m = &self.metadata;
        let a = &m.algorithms;
        // An unset algorithm: AM reports a placeholder, the standard shape omits the member.
        let unset = |am_placeholder: &'static str| match shape {
            ResponseProfile::Am => Some(am_placeholder),
            ResponseProfile::Standard => None,
        };
        // AM applies its default encryption algorithms to introspection responses whenever
        // the client chose the encrypted format, registered algorithms or not.
        let introspection_encrypted =
            a.introspection_response_format.as_deref() == Some("SIGNED_THEN_ENCRYPTED_JWT");
        let introspection_default = |default: &'static str| {
            if introspection_encrypted {
                Some(default)
            } else {
                unset(default)
            }
        };
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
        put_algorithm(
            sink,
            "id_token_encrypted_response_alg",
            &a.id_token_encrypted_response_alg,
            unset(DEFAULT_ENCRYPTION_ALG),
        );
        put_algorithm(
            sink,
            "id_token_encrypted_response_enc",
            &a.id_token_encrypted_response_enc,
            // OIDC Registration §2: the content encryption an `_alg` implies.
            match a.id_token_encrypted_response_alg {
                Some(_) => Some(DEFAULT_ENCRYPTION_ENC),
                None => unset(DEFAULT_ENCRYPTION_ENC),
            },
        );
        put_algorithm(
            sink,
            "userinfo_signed_response_alg",
            &a.userinfo_signed_response_alg,
            unset(""),
        );
        put_algorithm(
            sink,
            "userinfo_encrypted_response_alg",
            &a.userinfo_encrypted_response_alg,
            unset(""),
        );
        put_algorithm(
            sink,
            "userinfo_encrypted_response_enc",
            &a.userinfo_encrypted_response_enc,
            unset(""),
        );
        sink.put(
            "user_info_response_format_selector",
            &format_selector(
                &a.userinfo_signed_response_alg,
                &a.userinfo_encrypted_response_alg,
            ),
        );
        put_algorithm(
            sink,
            "request_object_signing_alg",
            &a.request_object_signing_alg,
            unset(""),
        );
        put_algorithm(
            sink,
            "request_object_encryption_alg",
            &a.request_object_encryption_alg,
            unset(""),
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
        put_algorithm(
            sink,
            "introspection_encrypted_response_alg",
            &a.introspection_encrypted_response_alg,
            introspection_default(DEFAULT_ENCRYPTION_ALG),
        );
        put_algorithm(
            sink,
            "introspection_encrypted_response_enc",
            &a.introspection_encrypted_response_enc,
            match a.introspection_encrypted_response_alg {
                Some(_) => Some(DEFAULT_ENCRYPTION_ENC),
                None => introspection_default(DEFAULT_ENCRYPTION_ENC),
            },
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
        // AM reports its floor of 1 s while the setting is off; a standard client would read
        // that as a real maximum authentication age.
        match (m.default_max_age, shape) {
            (Some(age), _) => sink.put("default_max_age", &age),
            (None, ResponseProfile::Am) => sink.put("default_max_age", &1),
            (None, ResponseProfile::Standard) => {}
        }
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
    shape: ResponseProfile,
}

impl Serialize for ProfileView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let mut sink = SerializerSink {
            map: &mut map,
            error: None,
        };
        self.profile.render(self.credentials, self.shape, &mut sink);
        if let Some(error) = sink.error {
            return Err(error);
        }
        map.end()
    }
}

/// An algorithm member: the registered value, else `when_unset`, else nothing.
fn put_algorithm(
    sink: &mut impl FieldSink,
    key: &str,
    value: &Option<String>,
    when_unset: Option<&str>,
) {
    if let Some(alg) = value.as_deref().or(when_unset) {
        sink.put(key, alg);
    }
}

/// A registered value, or the default that applies to an unset one.
fn or<'a>(value: &'a Option<String>, default: &'a str) -> &'a str {
    value.as_deref().unwrap_or(default)
}
