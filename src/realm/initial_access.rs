//! Initial access tokens (RFC 7591 §3): bearer tokens the admin hands to a registrar, good
//! for a number of registrations until they expire, optionally narrowing what those
//! registrations may ask for. Stored as hashes; a use is consumed by the realm actor in the
//! same batch as the client it registers.

use super::actor::RealmActor;
use super::error::RealmError;
use super::handle::RealmHandle;
use super::messages::{CreateInitialAccess, RevokeInitialAccess};
use super::record::{initial_access_key, INITIAL_ACCESS_PREFIX};
use super::settings::ProviderSettings;
use crate::registration::{validate, ClientMetadata, RegistrationError, RegistrationPolicy};
use crate::secret::{Secret, SecretHash};
use crate::time::now_unix;
use actix::{Context, Handler};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Live (unexpired) initial access tokens a realm may hold.
pub const MAX_INITIAL_ACCESS_TOKENS: usize = 1000;
/// Longest lifetime an initial access token may have: a year.
pub const MAX_LIFETIME_SECONDS: u64 = 365 * 86_400;
/// Most registrations one token may allow.
pub const MAX_USES: u64 = 1_000_000;
const DEFAULT_LIFETIME_SECONDS: u64 = 86_400;
const MAX_POLICY_ENTRIES: usize = 100;
const MAX_TEXT: usize = 256;
/// Characters of the token hash that name a token (132 bits; the full hash is still compared).
const ID_CHARS: usize = 22;

/// What a registration made with the token may ask for; absent parts do not narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialAccessPolicy {
    /// Scopes allowed (within the realm's allowlist); the realm's default scopes are cut to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// Hosts every redirect URI must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri_hosts: Option<Vec<String>>,
    /// The `software_id` the client must register with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
}

/// `POST /admin/realms/{realm}/initial-access-tokens` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialAccessRequest {
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub uses: Option<u64>,
    #[serde(default)]
    pub policy: InitialAccessPolicy,
    #[serde(default)]
    pub description: Option<String>,
}

/// A stored initial access token (its hash, never the token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitialAccessToken {
    pub id: String,
    pub hash: SecretHash,
    pub created_at: u64,
    pub expires_at: u64,
    pub uses: u64,
    pub uses_left: u64,
    pub policy: InitialAccessPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The id a token is stored under: the start of its hash, so a presented token is found with
/// one lookup and no index.
pub fn id_of(hash: &SecretHash) -> String {
    let encoded: String = (*hash).into();
    encoded.chars().take(ID_CHARS).collect()
}

impl InitialAccessRequest {
    /// Checks the request and builds the token record for `hash`.
    pub fn into_record(self, hash: SecretHash, now: u64) -> Result<InitialAccessToken, String> {
        let lifetime = self.expires_in.unwrap_or(DEFAULT_LIFETIME_SECONDS);
        if !(1..=MAX_LIFETIME_SECONDS).contains(&lifetime) {
            return Err(format!(
                "expires_in must be 1 to {MAX_LIFETIME_SECONDS} seconds"
            ));
        }
        let uses = self.uses.unwrap_or(1);
        if !(1..=MAX_USES).contains(&uses) {
            return Err(format!("uses must be 1 to {MAX_USES}"));
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.len() > MAX_TEXT)
        {
            return Err(format!("description must be at most {MAX_TEXT} bytes"));
        }
        self.policy.check()?;
        Ok(InitialAccessToken {
            id: id_of(&hash),
            hash,
            created_at: now,
            expires_at: now.saturating_add(lifetime),
            uses,
            uses_left: uses,
            policy: self.policy,
            description: self.description,
        })
    }
}

impl InitialAccessPolicy {
    fn check(&self) -> Result<(), String> {
        for (name, list) in [
            ("scopes", &self.scopes),
            ("grant_types", &self.grant_types),
            ("redirect_uri_hosts", &self.redirect_uri_hosts),
        ] {
            let Some(list) = list else { continue };
            if list.len() > MAX_POLICY_ENTRIES || list.iter().any(|e| e.len() > MAX_TEXT) {
                return Err(format!(
                    "policy.{name}: at most {MAX_POLICY_ENTRIES} entries of {MAX_TEXT} bytes"
                ));
            }
        }
        if self
            .software_id
            .as_ref()
            .is_some_and(|s| s.len() > MAX_TEXT)
        {
            return Err(format!("policy.software_id: at most {MAX_TEXT} bytes"));
        }
        Ok(())
    }

    /// Cuts a realm's scope list (allowlist or defaults) to the policy's scopes.
    fn narrow_scopes(&self, realm_scopes: &[String]) -> Vec<String> {
        match &self.scopes {
            None => realm_scopes.to_vec(),
            Some(allowed) => realm_scopes
                .iter()
                .filter(|scope| allowed.contains(scope))
                .cloned()
                .collect(),
        }
    }

    /// Validates a registration made with the token: the realm's rules with its scope lists
    /// cut to the policy's, then the policy's own checks.
    pub fn validate(
        &self,
        request: &Map<String, Value>,
        settings: &ProviderSettings,
    ) -> Result<ClientMetadata, RegistrationError> {
        let allowlist = self.narrow_scopes(&settings.client_registration_scope_allowlist);
        let defaults = self.narrow_scopes(&settings.default_scopes);
        let metadata = validate(
            request,
            &RegistrationPolicy {
                scope_allowlist: Some(&allowlist),
                default_scopes: &defaults,
                may_set_info_uris: true,
            },
        )?;
        self.check_metadata(&metadata)?;
        Ok(metadata)
    }

    /// Whether validated metadata stays within the policy (scopes are narrowed before
    /// validation); the error names the field.
    fn check_metadata(&self, metadata: &ClientMetadata) -> Result<(), RegistrationError> {
        let refused = |what: String| {
            RegistrationError::InvalidClientMetadata(format!(
                "{what} is not allowed by the initial access token"
            ))
        };
        if let Some(allowed) = &self.grant_types {
            if let Some(grant) = metadata.grant_types.iter().find(|g| !allowed.contains(g)) {
                return Err(refused(format!("grant_types: {grant:?}")));
            }
        }
        if let Some(hosts) = &self.redirect_uri_hosts {
            for uri in &metadata.redirect_uris {
                let host = url::Url::parse(uri)
                    .ok()
                    .and_then(|url| url.host_str().map(str::to_owned));
                if !host
                    .is_some_and(|h| hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(&h)))
                {
                    return Err(RegistrationError::InvalidRedirectUri(format!(
                        "redirect_uris: the host of {uri:?} is not allowed by the initial access token"
                    )));
                }
            }
        }
        if let Some(required) = &self.software_id {
            if metadata.software_id.as_ref() != Some(required) {
                return Err(refused(format!(
                    "software_id {:?}",
                    metadata.software_id.as_deref().unwrap_or("")
                )));
            }
        }
        Ok(())
    }
}

impl InitialAccessToken {
    /// Whether the token may register one more client at `now`.
    pub fn usable(&self, now: u64) -> bool {
        self.uses_left > 0 && now < self.expires_at
    }

    /// The admin's view: everything but the hash.
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "uses": self.uses,
            "uses_left": self.uses_left,
            "policy": self.policy,
            "description": self.description,
        })
    }
}

impl RealmHandle {
    /// The stored initial access token a presented token's hash names, if any.
    pub(super) fn find_initial_access(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<InitialAccessToken>, RealmError> {
        Ok(self.reader.get(&initial_access_key(&id_of(hash)))?)
    }

    /// Creates an initial access token; answers its record and the token (shown once).
    pub async fn create_initial_access(
        &self,
        request: InitialAccessRequest,
    ) -> Result<(InitialAccessToken, Secret), RealmError> {
        let secret = Secret::generate()?;
        let token = request
            .into_record(secret.hash(), now_unix())
            .map_err(RealmError::InvalidRequest)?;
        self.write(CreateInitialAccess {
            token: token.clone(),
        })
        .await?;
        log::info!(
            "realm={} initial access token {} created",
            self.name,
            token.id
        );
        Ok((token, secret))
    }

    /// The realm's initial access tokens (at most the cap of live ones; creation purges
    /// expired ones).
    pub fn initial_access_tokens(&self) -> Result<Vec<InitialAccessToken>, RealmError> {
        let stored = self.reader.page::<InitialAccessToken>(
            INITIAL_ACCESS_PREFIX,
            None,
            MAX_INITIAL_ACCESS_TOKENS,
        )?;
        Ok(stored.into_iter().map(|(_, token)| token).collect())
    }

    /// Revokes an initial access token.
    pub async fn revoke_initial_access(&self, id: &str) -> Result<(), RealmError> {
        self.write(RevokeInitialAccess { id: id.to_owned() })
            .await?;
        log::info!("realm={} initial access token {id} revoked", self.name);
        Ok(())
    }
}

impl Handler<CreateInitialAccess> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: CreateInitialAccess, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let tree = self.tree();
        let stored = tree.page::<InitialAccessToken>(INITIAL_ACCESS_PREFIX, None, usize::MAX)?;
        let mut live = 0;
        for (id, token) in stored {
            // Expired tokens are cleaned up here, where the list is read anyway.
            if token.expires_at <= msg.token.created_at {
                tree.remove(&initial_access_key(&id))?;
            } else {
                live += 1;
            }
        }
        if live >= MAX_INITIAL_ACCESS_TOKENS {
            return Err(RealmError::InvalidRequest(format!(
                "the realm already holds {MAX_INITIAL_ACCESS_TOKENS} live initial access tokens; revoke some first"
            )));
        }
        tree.put(&initial_access_key(&msg.token.id), &msg.token)?;
        Ok(())
    }
}

impl Handler<RevokeInitialAccess> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: RevokeInitialAccess, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        if !self.tree().remove(&initial_access_key(&msg.id))? {
            return Err(RealmError::NotFound(format!(
                "no initial access token {:?} in this realm",
                msg.id
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(request: Value) -> ClientMetadata {
        let scopes = vec!["openid".to_owned()];
        let policy = RegistrationPolicy {
            scope_allowlist: Some(&scopes),
            default_scopes: &scopes,
            may_set_info_uris: true,
        };
        validate(request.as_object().unwrap(), &policy).unwrap()
    }

    #[test]
    fn requests_are_bounded_and_defaulted() {
        let hash = Secret::new("t").hash();
        let record = InitialAccessRequest::default()
            .into_record(hash, 100)
            .unwrap();
        assert_eq!((record.uses, record.uses_left), (1, 1));
        assert_eq!(record.expires_at, 100 + DEFAULT_LIFETIME_SECONDS);
        assert_eq!(record.id.len(), ID_CHARS);
        assert!(record.usable(100) && !record.usable(record.expires_at));
        for bad in [
            InitialAccessRequest {
                uses: Some(0),
                ..Default::default()
            },
            InitialAccessRequest {
                expires_in: Some(0),
                ..Default::default()
            },
            InitialAccessRequest {
                expires_in: Some(MAX_LIFETIME_SECONDS + 1),
                ..Default::default()
            },
        ] {
            assert!(bad.into_record(hash, 100).is_err());
        }
    }

    #[test]
    fn the_policy_narrows_scopes_and_checks_grants_hosts_and_software_id() {
        let policy = InitialAccessPolicy {
            scopes: Some(vec!["openid".into()]),
            grant_types: Some(vec!["authorization_code".into()]),
            redirect_uri_hosts: Some(vec!["app.example".into()]),
            software_id: Some("tool-1".into()),
        };
        let realm = vec!["openid".to_owned(), "email".to_owned()];
        assert_eq!(policy.narrow_scopes(&realm), ["openid"]);
        let ok = metadata(json!({
            "redirect_uris": ["https://APP.example/cb"], "software_id": "tool-1"
        }));
        assert!(policy.check_metadata(&ok).is_ok());
        let other_host = metadata(json!({
            "redirect_uris": ["https://evil.example/cb"], "software_id": "tool-1"
        }));
        assert_eq!(
            policy.check_metadata(&other_host).unwrap_err().code(),
            "invalid_redirect_uri"
        );
        let other_grant = metadata(json!({
            "redirect_uris": ["https://app.example/cb"], "software_id": "tool-1",
            "grant_types": ["authorization_code", "client_credentials"]
        }));
        assert!(policy.check_metadata(&other_grant).is_err());
        let no_software = metadata(json!({"redirect_uris": ["https://app.example/cb"]}));
        assert!(policy.check_metadata(&no_software).is_err());
    }
}
