//! Realm documents (SPEC §4): provider settings, software publishers and static clients, as
//! the admin API and the files in `realms/` carry them.

use super::token::check_resource_indicator;
use crate::registration::{validate, ClientMetadata, RegistrationPolicy, ResponseProfile};
use crate::secret::Secret;
use crate::software_statement::PublisherDocument;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

fn default_scope_list() -> Vec<String> {
    ["address", "phone", "openid", "profile", "email"]
        .map(String::from)
        .to_vec()
}
fn default_attested_attributes() -> Vec<String> {
    vec!["redirect_uris".to_owned()]
}
fn default_registration_scope() -> String {
    "dynamic_client_registration".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_access_token_lifetime() -> u64 {
    3600
}

/// At most this many entries in a realm's or a static client's `allowed_resources`.
pub const MAX_ALLOWED_RESOURCES: usize = 100;

/// A realm's OAuth 2.0 provider settings (`oauth2_provider`); missing fields take defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    #[serde(default)]
    pub allow_open_dynamic_registration: bool,
    #[serde(default)]
    pub require_software_statement: bool,
    #[serde(default = "default_attested_attributes")]
    pub required_software_statement_attested_attributes: Vec<String>,
    #[serde(default = "default_registration_scope")]
    pub dynamic_client_registration_scope: String,
    #[serde(default = "default_true")]
    pub generate_registration_access_tokens: bool,
    #[serde(default = "default_scope_list")]
    pub client_registration_scope_allowlist: Vec<String>,
    #[serde(default = "default_scope_list")]
    pub default_scopes: Vec<String>,
    #[serde(default = "default_access_token_lifetime")]
    pub access_token_lifetime_seconds: u64,
    /// Shape of registration, read and update responses: `standard` omits unset members,
    /// `am` reproduces ForgeRock AM's (SPEC §3).
    #[serde(default)]
    pub response_profile: ResponseProfile,
    /// RFC 9068 §2.2 `aud` of access tokens requested without an RFC 8707 `resource`;
    /// `None` means the realm's issuer.
    #[serde(default)]
    pub default_access_token_audience: Option<String>,
    /// RFC 8707 resource indicators any client of the realm may name in a token request
    /// (besides the realm's issuer and default audience, which are always allowed).
    #[serde(default)]
    pub allowed_resources: Vec<String>,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            allow_open_dynamic_registration: false,
            require_software_statement: false,
            required_software_statement_attested_attributes: default_attested_attributes(),
            dynamic_client_registration_scope: default_registration_scope(),
            generate_registration_access_tokens: true,
            client_registration_scope_allowlist: default_scope_list(),
            default_scopes: default_scope_list(),
            access_token_lifetime_seconds: default_access_token_lifetime(),
            response_profile: ResponseProfile::default(),
            default_access_token_audience: None,
            allowed_resources: Vec::new(),
        }
    }
}

impl ProviderSettings {
    /// Checks the settings an admin sends; the error says which field is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.dynamic_client_registration_scope.trim().is_empty() {
            return Err("dynamic_client_registration_scope must not be empty".into());
        }
        if self.access_token_lifetime_seconds == 0 {
            return Err("access_token_lifetime_seconds must be positive".into());
        }
        if let Some(scope) = self
            .default_scopes
            .iter()
            .find(|s| !self.client_registration_scope_allowlist.contains(s))
        {
            return Err(format!(
                "default_scopes: {scope:?} is not in client_registration_scope_allowlist"
            ));
        }
        if let Some(audience) = &self.default_access_token_audience {
            check_resource_indicator(audience)
                .map_err(|why| format!("default_access_token_audience: {why}"))?;
        }
        if self.allowed_resources.len() > MAX_ALLOWED_RESOURCES {
            return Err(format!(
                "allowed_resources: at most {MAX_ALLOWED_RESOURCES} entries"
            ));
        }
        for resource in &self.allowed_resources {
            check_resource_indicator(resource)
                .map_err(|why| format!("allowed_resources: {why}"))?;
        }
        Ok(())
    }

    /// The policy for dynamic registration in this realm.
    pub fn registration_policy(&self, may_set_info_uris: bool) -> RegistrationPolicy<'_> {
        RegistrationPolicy {
            scope_allowlist: Some(&self.client_registration_scope_allowlist),
            default_scopes: &self.default_scopes,
            may_set_info_uris,
        }
    }

    /// The policy for static clients: the admin is not bound by the registration allowlist.
    pub fn static_client_policy(&self) -> RegistrationPolicy<'_> {
        RegistrationPolicy {
            scope_allowlist: None,
            default_scopes: &self.default_scopes,
            may_set_info_uris: true,
        }
    }
}

/// A realm document: what `PUT /admin/realms/{realm}` takes and `GET` returns. Its `Debug`
/// leaves out the static clients, whose documents hold their secrets.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmDocument {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub oauth2_provider: ProviderSettings,
    /// Software publisher profiles (SPEC §4); their secrets appear in exports only on request.
    #[serde(default)]
    pub software_publishers: Vec<PublisherDocument>,
    /// Static clients: client metadata plus the admin's `client_id` and `client_secret`.
    #[serde(default)]
    pub clients: Vec<Map<String, Value>>,
}

impl std::fmt::Debug for RealmDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealmDocument")
            .field("name", &self.name)
            .field("oauth2_provider", &self.oauth2_provider)
            .field("software_publishers", &self.software_publishers)
            .field(
                "clients",
                &format_args!("[{} static clients]", self.clients.len()),
            )
            .finish()
    }
}

/// A static client as the admin defines it, after validation.
#[derive(Debug, Clone)]
pub struct StaticClient {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub metadata: ClientMetadata,
    /// RFC 8707 resources this client may ask for besides the realm's.
    pub allowed_resources: Vec<String>,
}

impl StaticClient {
    /// Parses a static client document: client metadata (same rules as registration, minus
    /// the scope allowlist) plus `client_id` and, for confidential clients, `client_secret`.
    pub fn parse(
        document: &Map<String, Value>,
        settings: &ProviderSettings,
        path_client_id: Option<&str>,
    ) -> Result<Self, String> {
        let client_id = match (document.get("client_id"), path_client_id) {
            (Some(Value::String(id)), Some(path)) if id != path => {
                return Err(format!(
                    "client_id {id:?} does not match the client_id in the path"
                ))
            }
            (Some(Value::String(id)), _) => id.clone(),
            (None, Some(path)) => path.to_owned(),
            (Some(_), _) => return Err("client_id must be a string".into()),
            (None, None) => return Err("client_id is required".into()),
        };
        check_client_id(&client_id)?;
        let metadata = validate(document, &settings.static_client_policy())
            .map_err(|e| e.description().to_owned())?;
        let client_secret = match document.get("client_secret") {
            None | Some(Value::Null) => None,
            Some(Value::String(secret)) if !secret.is_empty() => Some(Secret::new(secret.as_str())),
            Some(_) => return Err("client_secret must be a non-empty string".into()),
        };
        let allowed_resources = read_allowed_resources(document.get("allowed_resources"))
            .map_err(|why| format!("allowed_resources: {why}"))?;
        match (metadata.is_public(), &client_secret) {
            (false, None) => Err("client_secret is required for a confidential client".into()),
            (true, Some(_)) => Err("a public client must not have a client_secret".into()),
            _ => Ok(Self {
                client_id,
                client_secret,
                metadata,
                allowed_resources,
            }),
        }
    }
}

/// A static client's `allowed_resources`: absent, or an array of resource indicators.
fn read_allowed_resources(value: Option<&Value>) -> Result<Vec<String>, String> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("must be an array of URIs".into()),
    };
    if list.len() > MAX_ALLOWED_RESOURCES {
        return Err(format!("at most {MAX_ALLOWED_RESOURCES} entries"));
    }
    list.iter()
        .map(|entry| {
            let resource = entry.as_str().ok_or("must be an array of URIs")?;
            check_resource_indicator(resource)?;
            Ok(resource.to_owned())
        })
        .collect()
}

/// Admin-chosen client ids: printable ASCII without spaces, at most 256 characters.
fn check_client_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 256 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("client_id must be 1-256 printable ASCII characters without spaces".into());
    }
    Ok(())
}
