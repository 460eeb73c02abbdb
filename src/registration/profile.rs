//! A registered client (metadata plus what the server assigned) and its JSON rendering, in
//! the standard shape (unset members omitted) or AM's (unset members as placeholders).

use super::metadata::ClientMetadata;
use super::types::ClientKeys;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
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

        sink.put_str("client_id", &self.client_id);
        if let Some(secret) = &self.client_secret {
            sink.put_str("client_secret", secret.expose());
            sink.put("client_secret_expires_at", &0);
        }
        sink.put("client_id_issued_at", &self.client_id_issued_at);
        if let Some(token) = &credentials.registration_access_token {
            sink.put_str("registration_access_token", token.expose());
        }
        if let Some(uri) = &credentials.registration_client_uri {
            sink.put_str("registration_client_uri", uri);
        }
        sink.put_str("client_type", m.client_type.as_str());
        sink.put_strs("redirect_uris", &m.redirect_uris);
        sink.put_str(
            "token_endpoint_auth_method",
            m.token_endpoint_auth_method.as_str(),
        );
        sink.put_strs("grant_types", &m.grant_types);
        sink.put_strs("response_types", &m.response_types);
        sink.put_str("scope", &m.scope_string());
        sink.put_strs("scopes", &m.scopes);
        if !m.default_scopes.is_empty() {
            sink.put_strs("default_scopes", &m.default_scopes);
        }
        for localized in &m.localized {
            sink.put_str(&localized.key(), &localized.value);
        }
        if !m.contacts.is_empty() {
            sink.put_strs("contacts", &m.contacts);
        }
        sink.put_str("public_key_selector", m.keys.selector());
        match &m.keys {
            ClientKeys::Jwks(jwks) => sink.put("jwks", jwks),
            ClientKeys::JwksUri(uri) => sink.put_str("jwks_uri", uri),
            ClientKeys::None => {}
        }
        sink.put("jwks_cache_timeout", &m.jwks_cache_timeout);
        sink.put("jwks_cache_miss_cache_time", &m.jwks_cache_miss_cache_time);
        if let Some(uri) = &m.sector_identifier_uri {
            sink.put_str("sector_identifier_uri", uri);
        }
        sink.put_str("subject_type", m.subject_type.as_str());
        sink.put_str("application_type", m.application_type.as_str());

        sink.put_str(
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
        sink.put_str(
            "user_info_response_format_selector",
            format_selector(
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
            sink.put_str("request_object_encryption_enc", enc);
        }
        if let Some(alg) = &a.token_endpoint_auth_signing_alg {
            sink.put_str("token_endpoint_auth_signing_alg", alg);
        }
        sink.put_str(
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
        sink.put_str(
            "token_intro_response_format_selector",
            or(&a.introspection_response_format, "JSON"),
        );
        sink.put_str(
            "authorization_signed_response_alg",
            or(&a.authorization_signed_response_alg, DEFAULT_SIGNING_ALG),
        );
        if let Some(alg) = &a.authorization_encrypted_response_alg {
            sink.put_str("authorization_encrypted_response_alg", alg);
        }
        if let Some(enc) = &a.authorization_encrypted_response_enc {
            sink.put_str("authorization_encrypted_response_enc", enc);
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
            sink.put_strs("default_acr_values", &m.default_acr_values);
        }
        if let Some(uri) = &m.initiate_login_uri {
            sink.put_str("initiate_login_uri", uri);
        }
        if !m.request_uris.is_empty() {
            sink.put_strs("request_uris", &m.request_uris);
        }
        if !m.post_logout_redirect_uris.is_empty() {
            sink.put_strs("post_logout_redirect_uris", &m.post_logout_redirect_uris);
        }
        if let Some(uri) = &m.backchannel_logout_uri {
            sink.put_str("backchannel_logout_uri", uri);
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
            sink.put_str("software_id", id);
        }
        if let Some(version) = &m.software_version {
            sink.put_str("software_version", version);
        }
        if let Some(statement) = &m.software_statement {
            sink.put_str("software_statement", statement);
        }
    }
}

/// Where [`ClientProfile::render`] puts each field.
trait FieldSink {
    fn put<V: Serialize + ?Sized>(&mut self, key: &str, value: &V);

    fn put_str(&mut self, key: &str, value: &str) {
        self.put(key, value);
    }

    fn put_strs(&mut self, key: &str, values: &[String]) {
        self.put(key, values);
    }
}

/// Builds a JSON map (for callers that edit the profile before sending it).
struct MapSink(Map<String, Value>);

impl FieldSink for MapSink {
    fn put<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.0.insert(key.to_owned(), value);
    }
}

/// Writes the fields as one JSON object's text. Member names and strings with nothing to
/// escape are copied as they are: serde_json escapes string by string, and with ~100 short
/// strings per profile that was most of a registration response's rendering time. The bytes
/// are the same as serde_json's (a checked-in fixture test compares them).
struct JsonSink {
    out: Vec<u8>,
    error: Option<serde_json::Error>,
}

/// Room for a typical response in one allocation (a registration answer is 1.2–2 KB).
const RESPONSE_CAPACITY: usize = 2048;

impl JsonSink {
    fn new() -> Self {
        let mut out = Vec::with_capacity(RESPONSE_CAPACITY);
        out.push(b'{');
        Self { out, error: None }
    }

    fn member(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        self.string(key);
        self.out.push(b':');
    }

    fn string(&mut self, text: &str) {
        if needs_escaping(text) {
            self.serde(text);
        } else {
            self.out.push(b'"');
            self.out.extend_from_slice(text.as_bytes());
            self.out.push(b'"');
        }
    }

    fn serde<V: Serialize + ?Sized>(&mut self, value: &V) {
        if let Err(error) = serde_json::to_writer(&mut self.out, value) {
            self.error.get_or_insert(error);
        }
    }

    fn finish(mut self) -> Result<Vec<u8>, serde_json::Error> {
        match self.error {
            Some(error) => Err(error),
            None => {
                self.out.push(b'}');
                Ok(self.out)
            }
        }
    }
}

/// What JSON requires escaped in a string (RFC 8259 §7): control characters, `"` and `\`.
/// Written without an early exit so the compiler checks many bytes at once.
fn needs_escaping(text: &str) -> bool {
    text.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

impl FieldSink for JsonSink {
    fn put<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) {
        self.member(key);
        self.serde(value);
    }

    fn put_str(&mut self, key: &str, value: &str) {
        self.member(key);
        self.string(value);
    }

    fn put_strs(&mut self, key: &str, values: &[String]) {
        self.member(key);
        self.out.push(b'[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.string(value);
        }
        self.out.push(b']');
    }
}

/// A profile with its credentials, ready to render as the JSON response body.
pub struct ProfileView<'a> {
    profile: &'a ClientProfile,
    credentials: &'a ManagementCredentials,
    shape: ResponseProfile,
}

impl ProfileView<'_> {
    /// The JSON text of the profile, as serde_json would write the same members.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut sink = JsonSink::new();
        self.profile.render(self.credentials, self.shape, &mut sink);
        sink.finish()
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
        sink.put_str(key, alg);
    }
}

/// A registered value, or the default that applies to an unset one.
fn or<'a>(value: &'a Option<String>, default: &'a str) -> &'a str {
    value.as_deref().unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_render_as_serde_json_writes_them_escaped_or_not() {
        let texts = [
            "plain",
            "",
            "quote \" inside",
            "back\\slash",
            "new\nline and tab\t",
            "\u{1}\u{1f}",
            "del \u{7f} stays",
            "ünïcødé ✓ 日本",
        ];
        for text in texts {
            let mut sink = JsonSink::new();
            sink.put_str(text, text);
            sink.put_strs("list", &[text.to_owned(), text.to_owned()]);
            let rendered = String::from_utf8(sink.finish().unwrap()).unwrap();
            let quoted = serde_json::to_string(text).unwrap();
            assert_eq!(
                rendered,
                format!("{{{quoted}:{quoted},\"list\":[{quoted},{quoted}]}}")
            );
        }
    }
}
