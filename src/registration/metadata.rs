//! Validated client metadata: what a client asked for, checked and with defaults filled in.
//!
//! `validate` is a pure function of the request object and the realm's policy. It runs in
//! AM's order (reference §6 step 8), so the first error is deterministic.

use super::error::{invalid, RegistrationError};
use super::fields::{Fields, Seen};
use super::limits::*;
use super::types::*;
use super::uri::{check_redirect_uri, check_web_url};
use crate::software_statement::MAX_STATEMENT_BYTES;
use crate::uri::MAX_URI_BYTES;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// AM's default JWKS cache timings for `jwks_uri` clients, in milliseconds.
pub const DEFAULT_JWKS_CACHE_TIMEOUT_MS: u64 = 3_600_000;
pub const DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS: u64 = 60_000;
/// The grant type and response type of a client that names none (RFC 7591 §2).
pub const DEFAULT_GRANT_TYPE: &str = "authorization_code";
pub const DEFAULT_RESPONSE_TYPE: &str = "code";

/// What the realm allows for this request.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationPolicy<'a> {
    /// Scopes a client may ask for; `None` lifts the limit (static clients made by the admin).
    pub scope_allowlist: Option<&'a [String]>,
    /// Scopes given when the request names none.
    pub default_scopes: &'a [String],
    /// Whether `client_uri`, `logo_uri` and `policy_uri` may be set (seed: an access token
    /// without the realm's registration scope may not set them).
    pub may_set_info_uris: bool,
}

/// Algorithms for signed and encrypted artefacts. `None` means "not registered". The serde
/// form (field names as keys) is part of stored client records: see `realm::stored_client`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Algorithms {
    pub id_token_signed_response_alg: Option<String>,
    pub id_token_encrypted_response_alg: Option<String>,
    pub id_token_encrypted_response_enc: Option<String>,
    pub userinfo_signed_response_alg: Option<String>,
    pub userinfo_encrypted_response_alg: Option<String>,
    pub userinfo_encrypted_response_enc: Option<String>,
    pub request_object_signing_alg: Option<String>,
    pub request_object_encryption_alg: Option<String>,
    pub request_object_encryption_enc: Option<String>,
    pub token_endpoint_auth_signing_alg: Option<String>,
    pub introspection_signed_response_alg: Option<String>,
    pub introspection_encrypted_response_alg: Option<String>,
    pub introspection_encrypted_response_enc: Option<String>,
    pub authorization_signed_response_alg: Option<String>,
    pub authorization_encrypted_response_alg: Option<String>,
    pub authorization_encrypted_response_enc: Option<String>,
    /// AM's `token_intro_response_format_selector`, a setting of its own (`None`: `JSON`).
    pub introspection_response_format: Option<String>,
}

impl Algorithms {
    /// Every member under its serde name, in declaration order.
    pub fn members(&self) -> [(&'static str, &Option<String>); 17] {
        [
            (
                "id_token_signed_response_alg",
                &self.id_token_signed_response_alg,
            ),
            (
                "id_token_encrypted_response_alg",
                &self.id_token_encrypted_response_alg,
            ),
            (
                "id_token_encrypted_response_enc",
                &self.id_token_encrypted_response_enc,
            ),
            (
                "userinfo_signed_response_alg",
                &self.userinfo_signed_response_alg,
            ),
            (
                "userinfo_encrypted_response_alg",
                &self.userinfo_encrypted_response_alg,
            ),
            (
                "userinfo_encrypted_response_enc",
                &self.userinfo_encrypted_response_enc,
            ),
            (
                "request_object_signing_alg",
                &self.request_object_signing_alg,
            ),
            (
                "request_object_encryption_alg",
                &self.request_object_encryption_alg,
            ),
            (
                "request_object_encryption_enc",
                &self.request_object_encryption_enc,
            ),
            (
                "token_endpoint_auth_signing_alg",
                &self.token_endpoint_auth_signing_alg,
            ),
            (
                "introspection_signed_response_alg",
                &self.introspection_signed_response_alg,
            ),
            (
                "introspection_encrypted_response_alg",
                &self.introspection_encrypted_response_alg,
            ),
            (
                "introspection_encrypted_response_enc",
                &self.introspection_encrypted_response_enc,
            ),
            (
                "authorization_signed_response_alg",
                &self.authorization_signed_response_alg,
            ),
            (
                "authorization_encrypted_response_alg",
                &self.authorization_encrypted_response_alg,
            ),
            (
                "authorization_encrypted_response_enc",
                &self.authorization_encrypted_response_enc,
            ),
            (
                "introspection_response_format",
                &self.introspection_response_format,
            ),
        ]
    }
}

/// Lifetimes in seconds; `0` means "use the provider's value" (AM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Lifetimes {
    pub authorization_code_lifetime: u64,
    pub access_token_lifetime: u64,
    pub refresh_token_lifetime: u64,
    pub jwt_token_lifetime: u64,
}

/// Checked client metadata, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: AuthMethod,
    pub client_type: ClientType,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub scopes: Vec<String>,
    pub default_scopes: Vec<String>,
    pub localized: Vec<LocalizedValue>,
    pub contacts: Vec<String>,
    pub keys: ClientKeys,
    pub jwks_cache_timeout: u64,
    pub jwks_cache_miss_cache_time: u64,
    pub sector_identifier_uri: Option<String>,
    pub subject_type: SubjectType,
    pub application_type: ApplicationType,
    pub algorithms: Algorithms,
    /// `Some` when the client registered a value (AM's `default_max_age_enabled`).
    pub default_max_age: Option<i64>,
    pub require_auth_time: Option<bool>,
    pub default_acr_values: Vec<String>,
    pub initiate_login_uri: Option<String>,
    pub request_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    pub tls_client_certificate_bound_access_tokens: bool,
    pub require_pushed_authorization_requests: bool,
    pub lifetimes: Lifetimes,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub software_statement: Option<String>,
}

impl ClientMetadata {
    pub fn is_public(&self) -> bool {
        self.client_type == ClientType::Public
    }

    /// The `scope` string form: the scopes joined by single spaces.
    pub fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }
}

/// Checks a registration or update request and fills in defaults.
pub fn validate(
    request: &Map<String, Value>,
    policy: &RegistrationPolicy<'_>,
) -> Result<ClientMetadata, RegistrationError> {
    let fields = Fields::new(request);

    let keys = read_keys(&fields)?;
    let auth_method = match fields.string("token_endpoint_auth_method")? {
        None => AuthMethod::ClientSecretBasic,
        Some(value) => AuthMethod::parse(value).ok_or_else(|| {
            invalid(format!(
                "token_endpoint_auth_method {value:?} is not supported (supported: client_secret_basic, client_secret_post, private_key_jwt, none)"
            ))
        })?,
    };
    let client_type = read_client_type(&fields, auth_method)?;
    // AM: values below 1 become 1 and switch the setting on; an explicit
    // `default_max_age_enabled: false` (as a read response carries) keeps it off.
    let default_max_age = match fields.boolean("default_max_age_enabled")? {
        Some(false) => None,
        _ => fields.integer("default_max_age")?.map(|age| age.max(1)),
    };
    let application_type = match fields.one_of("application_type", &["web", "native"])? {
        Some(t) if t == "native" => ApplicationType::Native,
        _ => ApplicationType::Web,
    };
    let redirect_uris = fields.uris("redirect_uris", MAX_URIS)?.unwrap_or_default();
    for uri in &redirect_uris {
        check_redirect_uri(uri, application_type).map_err(|why| {
            RegistrationError::InvalidRedirectUri(format!("redirect_uris: {why}"))
        })?;
    }
    let sector_identifier_uri = read_url(&fields, "sector_identifier_uri")?;
    let scopes = read_scopes(&fields, policy)?;
    let default_scopes = fields
        .strings("default_scopes", MAX_SCOPES, MAX_SCOPE_BYTES)?
        .unwrap_or_default();
    check_allowed_scopes("default_scopes", &default_scopes, policy)?;
    let localized = read_localized(&fields, policy)?;
    let subject_type = match fields.one_of("subject_type", &["public", "pairwise"])? {
        Some(t) if t == "pairwise" => SubjectType::Pairwise,
        _ => SubjectType::Public,
    };
    let algorithms = read_algorithms(&fields)?;
    let post_logout_redirect_uris = fields
        .uris("post_logout_redirect_uris", MAX_URIS)?
        .unwrap_or_default();
    for uri in &post_logout_redirect_uris {
        check_redirect_uri(uri, application_type).map_err(|why| {
            RegistrationError::InvalidPostLogoutRedirectUri(format!(
                "post_logout_redirect_uris: {why}"
            ))
        })?;
    }
    let response_types = read_response_types(&fields)?;
    let grant_types = match fields.strings("grant_types", MAX_ENUM_VALUES, MAX_TEXT_BYTES)? {
        None => vec![DEFAULT_GRANT_TYPE.to_owned()],
        Some(list) if list.is_empty() => vec![DEFAULT_GRANT_TYPE.to_owned()],
        Some(list) => {
            if let Some(bad) = list.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
                return Err(invalid(format!(
                    "grant_types value {bad:?} is not supported"
                )));
            }
            list
        }
    };
    let lifetimes = Lifetimes {
        authorization_code_lifetime: fields.count("authorization_code_lifetime")?.unwrap_or(0),
        access_token_lifetime: fields.count("access_token_lifetime")?.unwrap_or(0),
        refresh_token_lifetime: fields.count("refresh_token_lifetime")?.unwrap_or(0),
        jwt_token_lifetime: fields.count("jwt_token_lifetime")?.unwrap_or(0),
    };
    let contacts = fields
        .strings("contacts", MAX_CONTACTS, MAX_TEXT_BYTES)?
        .unwrap_or_default();
    let request_uris = fields.uris("request_uris", MAX_URIS)?.unwrap_or_default();
    for uri in &request_uris {
        check_web_url(uri).map_err(|why| invalid(format!("request_uris: {why}")))?;
    }

    let metadata = ClientMetadata {
        redirect_uris,
        token_endpoint_auth_method: auth_method,
        client_type,
        grant_types,
        response_types,
        scopes,
        default_scopes,
        localized,
        contacts,
        jwks_cache_timeout: fields
            .count("jwks_cache_timeout")?
            .unwrap_or(DEFAULT_JWKS_CACHE_TIMEOUT_MS),
        jwks_cache_miss_cache_time: fields
            .count("jwks_cache_miss_cache_time")?
            .unwrap_or(DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS),
        keys,
        sector_identifier_uri,
        subject_type,
        application_type,
        algorithms,
        default_max_age,
        require_auth_time: fields.boolean("require_auth_time")?,
        default_acr_values: fields
            .strings("default_acr_values", MAX_ENUM_VALUES, MAX_TEXT_BYTES)?
            .unwrap_or_default(),
        initiate_login_uri: read_https_url(&fields, "initiate_login_uri")?,
        request_uris,
        post_logout_redirect_uris,
        backchannel_logout_uri: read_url(&fields, "backchannel_logout_uri")?,
        backchannel_logout_session_required: fields
            .boolean("backchannel_logout_session_required")?
            .unwrap_or(false),
        tls_client_certificate_bound_access_tokens: fields
            .boolean("tls_client_certificate_bound_access_tokens")?
            .unwrap_or(false),
        require_pushed_authorization_requests: fields
            .boolean("require_pushed_authorization_requests")?
            .unwrap_or(false),
        lifetimes,
        software_id: fields.string("software_id")?.map(str::to_owned),
        software_version: fields.string("software_version")?.map(str::to_owned),
        software_statement: fields
            .string_up_to("software_statement", MAX_STATEMENT_BYTES)?
            .map(str::to_owned),
    };
    check_public_client(&metadata)?;
    Ok(metadata)
}

fn read_keys(fields: &Fields<'_>) -> Result<ClientKeys, RegistrationError> {
    match (
        fields.object("jwks")?,
        fields.string_up_to("jwks_uri", MAX_URI_BYTES)?,
    ) {
        (Some(_), Some(_)) => Err(invalid("jwks and jwks_uri must not both be present")),
        (Some(jwks), None) => {
            check_jwk_set(jwks)?;
            Ok(ClientKeys::Jwks(jwks.clone()))
        }
        (None, Some(uri)) => {
            check_web_url(uri).map_err(|why| invalid(format!("jwks_uri: {why}")))?;
            Ok(ClientKeys::JwksUri(uri.to_owned()))
        }
        (None, None) => Ok(ClientKeys::None),
    }
}

/// RFC 7517 §5: a JWK set is `{"keys": [...]}` of objects that each have a `kty`. A set with
/// private key members is refused: a client must never hand its private key to the server.
fn check_jwk_set(jwks: &Value) -> Result<(), RegistrationError> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("jwks must be a JWK set: {\"keys\": [...]}"))?;
    check_count("jwks keys", keys.len(), MAX_JWKS_KEYS).map_err(invalid)?;
    for key in keys {
        let Some(key) = key.as_object() else {
            return Err(invalid("jwks: every key must be a JSON object"));
        };
        if !key.get("kty").is_some_and(Value::is_string) {
            return Err(invalid("jwks: every key must have a kty"));
        }
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|private| key.contains_key(*private))
        {
            return Err(invalid(
                "jwks must contain public keys only (private or symmetric key material found)",
            ));
        }
    }
    Ok(())
}

/// AM: an explicit `client_type` wins; otherwise `none` makes a public client.
fn read_client_type(
    fields: &Fields<'_>,
    auth_method: AuthMethod,
) -> Result<ClientType, RegistrationError> {
    match fields.one_of("client_type", &["Confidential", "Public"])? {
        Some(t) if t == "Public" => {
            if auth_method.uses_client_secret() {
                return Err(invalid(format!(
                    "client_type Public cannot use token_endpoint_auth_method {} (a public client has no secret)",
                    auth_method.as_str()
                )));
            }
            Ok(ClientType::Public)
        }
        Some(_) => {
            if auth_method == AuthMethod::None {
                return Err(invalid(
                    "client_type Confidential cannot use token_endpoint_auth_method none",
                ));
            }
            Ok(ClientType::Confidential)
        }
        None if auth_method == AuthMethod::None => Ok(ClientType::Public),
        None => Ok(ClientType::Confidential),
    }
}

/// SPEC §3: a non-empty `scope` wins, else `scopes`, else the realm's defaults.
fn read_scopes(
    fields: &Fields<'_>,
    policy: &RegistrationPolicy<'_>,
) -> Result<Vec<String>, RegistrationError> {
    let max_scope_string = MAX_SCOPES * (MAX_SCOPE_BYTES + 1);
    let (field, requested) = if let Some(scope) = fields.string_up_to("scope", max_scope_string)? {
        let tokens: Vec<&str> = scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .take(MAX_SCOPES + 1)
            .collect();
        check_count("scope", tokens.len(), MAX_SCOPES).map_err(invalid)?;
        let mut seen = Seen::for_items(tokens.len());
        let list = tokens
            .into_iter()
            .filter(|token| seen.insert(token))
            .map(str::to_owned)
            .collect();
        ("scope", list)
    } else {
        (
            "scopes",
            fields
                .strings("scopes", MAX_SCOPES, MAX_SCOPE_BYTES)?
                .unwrap_or_default(),
        )
    };
    if requested.is_empty() {
        return Ok(policy.default_scopes.to_vec());
    }
    check_allowed_scopes(field, &requested, policy)?;
    Ok(requested)
}

fn check_allowed_scopes(
    field: &str,
    scopes: &[String],
    policy: &RegistrationPolicy<'_>,
) -> Result<(), RegistrationError> {
    if let Some(bad) = scopes.iter().find(|s| !is_valid_scope_token(s)) {
        return Err(invalid(format!(
            "{field}: {} is not a valid scope token of at most {MAX_SCOPE_BYTES} bytes (RFC 6749 §3.3)",
            crate::uri::shown(bad)
        )));
    }
    let Some(allowlist) = policy.scope_allowlist else {
        return Ok(());
    };
    match scopes.iter().find(|s| !allowlist.contains(s)) {
        Some(bad) => Err(invalid(format!(
            "{field}: scope {bad:?} is not in the realm's client registration scope allowlist"
        ))),
        None => Ok(()),
    }
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
fn is_valid_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= MAX_SCOPE_BYTES
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// `client_name`, `client_name#ja-Jpan-JP`, `logo_uri#en`, …: tags lower-cased (BCP 47 tags
/// are case-insensitive), the last of two colliding keys wins.
fn read_localized(
    fields: &Fields<'_>,
    policy: &RegistrationPolicy<'_>,
) -> Result<Vec<LocalizedValue>, RegistrationError> {
    let mut out: Vec<LocalizedValue> = Vec::new();
    // Where each (field, tag) sits in `out`, so a colliding key replaces in constant time.
    let mut positions: HashMap<(LocalizedField, Option<String>), usize> = HashMap::new();
    for (key, value) in fields.keys() {
        let (base, tag) = match key.split_once('#') {
            Some((base, tag)) => (base, Some(tag)),
            None => (key.as_str(), None),
        };
        let Some(field) = LocalizedField::parse(base) else {
            continue;
        };
        let tag = match tag {
            None => None,
            Some(tag) if is_language_tag(tag) => Some(tag.to_ascii_lowercase()),
            Some(_) => {
                return Err(invalid(format!(
                    "{key}: the language tag must be a BCP 47 tag such as en or ja-Jpan-JP"
                )))
            }
        };
        let Value::String(text) = value else {
            return Err(invalid(format!("{key} must be a string")));
        };
        if text.is_empty() {
            continue;
        }
        let max_bytes = if field.is_uri() {
            MAX_URI_BYTES
        } else {
            MAX_TEXT_BYTES
        };
        check_text(key, text, max_bytes).map_err(invalid)?;
        if field.is_uri() {
            check_web_url(text).map_err(|why| invalid(format!("{key}: {why}")))?;
        }
        if field.needs_registration_scope() && !policy.may_set_info_uris {
            return Err(invalid(format!(
                "{key} may only be registered with an access token carrying the realm's dynamic client registration scope"
            )));
        }
        let localized = LocalizedValue {
            field,
            tag: tag.clone(),
            value: text.clone(),
        };
        match positions.get(&(field, tag.clone())) {
            Some(&at) => {
                if let Some(slot) = out.get_mut(at) {
                    *slot = localized;
                }
            }
            None => {
                check_count(
                    "language-tagged values",
                    out.len() + 1,
                    MAX_LOCALIZED_VALUES,
                )
                .map_err(invalid)?;
                positions.insert((field, tag), out.len());
                out.push(localized);
            }
        }
    }
    Ok(out)
}

fn is_language_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 64
        && tag.split('-').all(|part| {
            !part.is_empty() && part.len() <= 8 && part.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

fn read_algorithms(fields: &Fields<'_>) -> Result<Algorithms, RegistrationError> {
    let signing = |key: &str| fields.one_of(key, SIGNING_ALGS);
    let key_management = |key: &str| fields.one_of(key, KEY_MANAGEMENT_ALGS);
    let content = |key: &str| fields.one_of(key, CONTENT_ENCRYPTION_ALGS);
    let mut algorithms = Algorithms {
        id_token_signed_response_alg: signing("id_token_signed_response_alg")?,
        id_token_encrypted_response_alg: key_management("id_token_encrypted_response_alg")?,
        id_token_encrypted_response_enc: content("id_token_encrypted_response_enc")?,
        userinfo_signed_response_alg: signing("userinfo_signed_response_alg")?,
        userinfo_encrypted_response_alg: key_management("userinfo_encrypted_response_alg")?,
        userinfo_encrypted_response_enc: content("userinfo_encrypted_response_enc")?,
        request_object_signing_alg: signing("request_object_signing_alg")?,
        request_object_encryption_alg: key_management("request_object_encryption_alg")?,
        request_object_encryption_enc: content("request_object_encryption_enc")?,
        token_endpoint_auth_signing_alg: signing("token_endpoint_auth_signing_alg")?,
        introspection_signed_response_alg: signing("introspection_signed_response_alg")?,
        introspection_encrypted_response_alg: key_management(
            "introspection_encrypted_response_alg",
        )?,
        introspection_encrypted_response_enc: content("introspection_encrypted_response_enc")?,
        authorization_signed_response_alg: signing("authorization_signed_response_alg")?,
        authorization_encrypted_response_alg: key_management(
            "authorization_encrypted_response_alg",
        )?,
        authorization_encrypted_response_enc: content("authorization_encrypted_response_enc")?,
        introspection_response_format: fields.one_of(
            "token_intro_response_format_selector",
            &["JSON", "SIGNED_JWT", "SIGNED_THEN_ENCRYPTED_JWT"],
        )?,
    };
    // AM's `id_token_encryption_enabled: false` switches encryption off whatever the algorithm
    // fields say; clients that send a read response back in a PUT rely on this.
    if fields.boolean("id_token_encryption_enabled")? == Some(false) {
        algorithms.id_token_encrypted_response_alg = None;
        algorithms.id_token_encrypted_response_enc = None;
    }
    // OIDC Registration §2: an `_enc` without its `_alg` is an error.
    for (alg, enc, enc_name) in [
        (
            &algorithms.id_token_encrypted_response_alg,
            &algorithms.id_token_encrypted_response_enc,
            "id_token_encrypted_response_enc",
        ),
        (
            &algorithms.userinfo_encrypted_response_alg,
            &algorithms.userinfo_encrypted_response_enc,
            "userinfo_encrypted_response_enc",
        ),
        (
            &algorithms.request_object_encryption_alg,
            &algorithms.request_object_encryption_enc,
            "request_object_encryption_enc",
        ),
        (
            &algorithms.authorization_encrypted_response_alg,
            &algorithms.authorization_encrypted_response_enc,
            "authorization_encrypted_response_enc",
        ),
    ] {
        if enc.is_some() && alg.is_none() {
            let alg_name = enc_name.replace("_enc", "_alg");
            return Err(invalid(format!("{enc_name} requires {alg_name}")));
        }
    }
    Ok(algorithms)
}

fn read_response_types(fields: &Fields<'_>) -> Result<Vec<String>, RegistrationError> {
    let list = fields
        .strings("response_types", MAX_ENUM_VALUES, MAX_TEXT_BYTES)?
        .unwrap_or_default();
    if list.is_empty() {
        return Ok(vec![DEFAULT_RESPONSE_TYPE.to_owned()]);
    }
    for entry in &list {
        let mut parts = entry.split(' ').filter(|p| !p.is_empty()).peekable();
        if parts.peek().is_none() {
            return Err(invalid("response_types must not contain an empty entry"));
        }
        if let Some(bad) = parts.find(|p| !RESPONSE_TYPE_PARTS.contains(p)) {
            return Err(invalid(format!(
                "response_types value {entry:?} is not supported ({bad:?} is not one of code, token, id_token)"
            )));
        }
    }
    Ok(list)
}

fn read_url(fields: &Fields<'_>, key: &str) -> Result<Option<String>, RegistrationError> {
    match fields.string_up_to(key, MAX_URI_BYTES)? {
        None => Ok(None),
        Some(url) => {
            check_web_url(url).map_err(|why| invalid(format!("{key}: {why}")))?;
            Ok(Some(url.to_owned()))
        }
    }
}

fn read_https_url(fields: &Fields<'_>, key: &str) -> Result<Option<String>, RegistrationError> {
    let url = read_url(fields, key)?;
    if let Some(url) = &url {
        if !url.starts_with("https:") {
            return Err(invalid(format!("{key} must be an https URL")));
        }
    }
    Ok(url)
}

/// Reference §5.1: a public client has no secret, so nothing may depend on one.
fn check_public_client(metadata: &ClientMetadata) -> Result<(), RegistrationError> {
    if !metadata.is_public() {
        return Ok(());
    }
    let a = &metadata.algorithms;
    let signing = [
        (
            "id_token_signed_response_alg",
            &a.id_token_signed_response_alg,
        ),
        (
            "userinfo_signed_response_alg",
            &a.userinfo_signed_response_alg,
        ),
        ("request_object_signing_alg", &a.request_object_signing_alg),
        (
            "token_endpoint_auth_signing_alg",
            &a.token_endpoint_auth_signing_alg,
        ),
        (
            "introspection_signed_response_alg",
            &a.introspection_signed_response_alg,
        ),
        (
            "authorization_signed_response_alg",
            &a.authorization_signed_response_alg,
        ),
    ];
    for (name, alg) in signing {
        if let Some(alg) = alg.as_deref().filter(|alg| is_symmetric_signing(alg)) {
            return Err(invalid(format!(
                "{name} {alg} needs a client secret, which a public client does not have"
            )));
        }
    }
    let key_management = [
        (
            "id_token_encrypted_response_alg",
            &a.id_token_encrypted_response_alg,
        ),
        (
            "userinfo_encrypted_response_alg",
            &a.userinfo_encrypted_response_alg,
        ),
        (
            "request_object_encryption_alg",
            &a.request_object_encryption_alg,
        ),
        (
            "introspection_encrypted_response_alg",
            &a.introspection_encrypted_response_alg,
        ),
        (
            "authorization_encrypted_response_alg",
            &a.authorization_encrypted_response_alg,
        ),
    ];
    for (name, alg) in key_management {
        if let Some(alg) = alg
            .as_deref()
            .filter(|alg| is_symmetric_key_management(alg))
        {
            return Err(invalid(format!(
                "{name} {alg} needs a client secret, which a public client does not have"
            )));
        }
    }
    Ok(())
}
