//! `RealmHandle`: the typed way into a realm. Each method does the CPU work (authorization,
//! validation, secret generation and hashing) in the caller's task, on whichever HTTP worker
//! runs it, and sends the actor only the finished change. One busy realm therefore uses every
//! core, while its actor stays the single writer.

use super::access::authorize_registration;
use super::actor::RealmActor;
use super::error::RealmError;
use super::messages::*;
use super::record::{client_key, ClientOrigin, ClientRecord};
use super::settings::{ProviderSettings, RealmDocument, StaticClient};
use super::state::{snapshot, RealmState, SharedState};
use super::RealmName;
use crate::jwks_fetch::JwksFetcher;
use crate::registration::{
    parse_request, validate, ClientMetadata, ClientProfile, RegistrationError,
};
use crate::secret::Secret;
use crate::store::RealmTree;
use crate::time::now_unix;
use actix::Addr;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A client profile with the registration access token minted for it, if any.
#[derive(Debug)]
pub struct Registered {
    pub profile: ClientProfile,
    pub registration_access_token: Option<Secret>,
}

/// What a realm's handles share besides the actor's state: the issuer URL, the `jwks_uri`
/// fetcher and the `jti`s of client assertions already used (RFC 7523 §3 replay check).
pub(crate) struct RealmContext {
    pub(crate) issuer: String,
    pub(crate) fetcher: Arc<JwksFetcher>,
    pub(crate) used_assertions: Mutex<HashMap<String, u64>>,
}

impl RealmContext {
    pub(crate) fn new(issuer: String, fetcher: Arc<JwksFetcher>) -> Arc<Self> {
        Arc::new(Self {
            issuer,
            fetcher,
            used_assertions: Mutex::new(HashMap::new()),
        })
    }
}

/// A cloneable reference to one realm. Writes go to the realm's actor; reads go straight to
/// the realm's sled tree, whose lock-free reads see every write the actor has made, so a read
/// costs no thread hop and never queues behind writes.
#[derive(Clone)]
pub struct RealmHandle {
    pub(crate) name: RealmName,
    pub(crate) addr: Addr<RealmActor>,
    pub(crate) reader: RealmTree,
    pub(crate) state: SharedState,
    pub(crate) context: Arc<RealmContext>,
}

impl RealmHandle {
    pub(crate) fn new(
        name: RealmName,
        addr: Addr<RealmActor>,
        reader: RealmTree,
        state: SharedState,
        context: Arc<RealmContext>,
    ) -> Self {
        Self {
            name,
            addr,
            reader,
            state,
            context,
        }
    }

    /// A client record as stored, read without asking the actor.
    pub(crate) fn load_client(&self, client_id: &str) -> Result<Option<ClientRecord>, RealmError> {
        Ok(self.reader.get(&client_key(client_id))?)
    }

    pub fn name(&self) -> &RealmName {
        &self.name
    }

    /// The realm's issuer identifier: its base URL as clients see it.
    pub fn issuer(&self) -> &str {
        &self.context.issuer
    }

    /// The realm's current settings and keys.
    pub(crate) fn snapshot(&self) -> Arc<RealmState> {
        snapshot(&self.state)
    }

    /// The realm's current provider settings.
    pub fn settings(&self) -> ProviderSettings {
        self.snapshot().settings.clone()
    }

    /// The realm's public keys as a JWK set.
    pub fn jwks(&self) -> Value {
        self.snapshot().keys.jwks(now_unix())
    }

    /// RFC 7591 §3: registers a client from a request body.
    pub async fn register(
        &self,
        bearer: Option<Secret>,
        body: &[u8],
    ) -> Result<Registered, RealmError> {
        let request = parse_request(body)?;
        let state = self.snapshot();
        let settings = &state.settings;
        let grant = authorize_registration(bearer.as_ref(), &state, self.issuer(), now_unix())?;
        let metadata = validate(
            &request,
            &settings.registration_policy(grant.may_set_info_uris),
        )?;
        let client_secret = new_client_secret(&metadata)?;
        let token = if grant.by_access_token || settings.generate_registration_access_tokens {
            Some(Secret::generate()?)
        } else {
            None
        };
        let profile = ClientProfile {
            client_id: uuid::Uuid::new_v4().to_string(),
            client_secret,
            client_id_issued_at: now_unix(),
            metadata,
        };
        let record = ClientRecord {
            profile: profile.clone(),
            origin: ClientOrigin::Dynamic,
            registration_token: token.as_ref().map(Secret::hash),
        };
        self.addr.send(RegisterClient { record }).await??;
        log::info!(
            "realm={} client_id={} registered",
            self.name,
            profile.client_id
        );
        Ok(Registered {
            profile,
            registration_access_token: token,
        })
    }

    /// RFC 7592 §2.1: reads a dynamic client's profile with its registration access token.
    pub async fn read_client(
        &self,
        client_id: &str,
        presented: Option<Secret>,
    ) -> Result<ClientProfile, RealmError> {
        Ok(self.authenticate(client_id, presented).await?.profile)
    }

    /// RFC 7592 §2.2: replaces a dynamic client's profile and rotates its token. Immutable
    /// fields keep their values; a failed update changes nothing.
    pub async fn replace_client(
        &self,
        client_id: &str,
        presented: Option<Secret>,
        body: &[u8],
    ) -> Result<Registered, RealmError> {
        let presented_hash = presented.as_ref().map(Secret::hash);
        let current = self.authenticate(client_id, presented).await?;
        let request = parse_request(body)?;
        if let Some(sent) = request.get("client_id") {
            if sent.as_str() != Some(client_id) {
                return Err(RegistrationError::InvalidClientMetadata(
                    "client_id in the body does not match the client_id of the request".into(),
                )
                .into());
            }
        }
        let state = self.snapshot();
        // SPEC §3: the logo/client/policy URI rule governs creation only.
        let metadata = validate(&request, &state.settings.registration_policy(true))?;
        // Reference A17: a client that becomes public loses its secret, one that becomes
        // confidential gets one; otherwise the secret never changes.
        let client_secret = match (&current.profile.client_secret, metadata.is_public()) {
            (_, true) => None,
            (Some(kept), false) => Some(kept.clone()),
            (None, false) => new_client_secret(&metadata)?,
        };
        let token = Secret::generate()?;
        let profile = ClientProfile {
            client_id: current.profile.client_id.clone(),
            client_secret,
            client_id_issued_at: current.profile.client_id_issued_at,
            metadata,
        };
        let replacement = ClientRecord {
            profile: profile.clone(),
            origin: ClientOrigin::Dynamic,
            registration_token: Some(token.hash()),
        };
        let presented = presented_hash.ok_or(RealmError::InvalidRegistrationToken)?;
        self.addr
            .send(ReplaceClient {
                presented,
                replacement,
            })
            .await??;
        log::info!("realm={} client_id={} updated", self.name, client_id);
        Ok(Registered {
            profile,
            registration_access_token: Some(token),
        })
    }

    /// RFC 7592 §2.3: deletes a dynamic client with its registration access token.
    pub async fn delete_client(
        &self,
        client_id: &str,
        presented: Option<Secret>,
    ) -> Result<(), RealmError> {
        let presented = presented.ok_or(RealmError::InvalidRegistrationToken)?;
        self.addr
            .send(DeleteClient {
                client_id: client_id.to_owned(),
                presented: Some(presented.hash()),
            })
            .await??;
        log::info!("realm={} client_id={} deleted", self.name, client_id);
        Ok(())
    }

    /// The client behind a registration access token, or `InvalidRegistrationToken` for
    /// every failure alike (missing token, unknown client, wrong or rotated token).
    async fn authenticate(
        &self,
        client_id: &str,
        presented: Option<Secret>,
    ) -> Result<ClientRecord, RealmError> {
        // Hash before looking up, so an unknown client costs the same as a wrong token.
        let presented = presented
            .map(|token| token.hash())
            .ok_or(RealmError::InvalidRegistrationToken)?;
        match self.load_client(client_id)? {
            Some(record) if record.accepts_registration_token(&presented) => Ok(record),
            _ => Err(RealmError::InvalidRegistrationToken),
        }
    }

    // ---- admin operations ----

    /// Replaces the provider settings.
    pub async fn put_settings(&self, settings: ProviderSettings) -> Result<(), RealmError> {
        settings.check().map_err(RealmError::InvalidRequest)?;
        self.addr.send(PutSettings { settings }).await?
    }

    /// Creates or replaces a static client; answers whether it was created.
    pub async fn put_static_client(
        &self,
        client_id: &str,
        document: &Map<String, Value>,
    ) -> Result<bool, RealmError> {
        let client = StaticClient::parse(document, &self.settings(), Some(client_id))
            .map_err(RealmError::InvalidRequest)?;
        let record = static_record(client);
        self.addr.send(PutStaticClient { record }).await?
    }

    /// Any client by id (admin view).
    pub async fn find_client(&self, client_id: &str) -> Result<ClientRecord, RealmError> {
        self.load_client(client_id)?
            .ok_or_else(|| RealmError::NotFound(format!("no client {client_id:?} in this realm")))
    }

    /// Deletes any client (admin).
    pub async fn remove_client(&self, client_id: &str) -> Result<(), RealmError> {
        self.addr
            .send(DeleteClient {
                client_id: client_id.to_owned(),
                presented: None,
            })
            .await?
    }

    /// A page of clients in id order.
    pub async fn list_clients(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, RealmError> {
        self.addr.send(ListClients { after, limit }).await?
    }

    /// The realm as a document; static client secrets only when asked for.
    pub async fn export(&self, include_secrets: bool) -> Result<RealmDocument, RealmError> {
        let clients = self.addr.send(ListStaticClients).await??;
        Ok(RealmDocument {
            name: Some(self.name.to_string()),
            oauth2_provider: self.settings(),
            software_publishers: Vec::new(),
            clients: clients
                .iter()
                .map(|record| {
                    let mut json = record.profile.to_json(&Default::default());
                    if !include_secrets {
                        json.remove("client_secret");
                    }
                    json
                })
                .collect(),
        })
    }

    /// Replaces settings and static clients from a document (dynamic clients are kept).
    pub async fn replace(&self, document: &RealmDocument) -> Result<(), RealmError> {
        let (settings, static_clients) = parse_document(document)?;
        self.addr
            .send(ReplaceRealm {
                settings,
                static_clients,
            })
            .await?
    }
}

/// Checks a realm document and turns its static clients into records.
pub(crate) fn parse_document(
    document: &RealmDocument,
) -> Result<(ProviderSettings, Vec<ClientRecord>), RealmError> {
    let settings = document.oauth2_provider.clone();
    settings.check().map_err(RealmError::InvalidRequest)?;
    if !document.software_publishers.is_empty() {
        return Err(RealmError::InvalidRequest(
            "software_publishers are not supported yet; send an empty list".into(),
        ));
    }
    let mut records: Vec<ClientRecord> = Vec::with_capacity(document.clients.len());
    for client in &document.clients {
        let client = StaticClient::parse(client, &settings, None)
            .map_err(|why| RealmError::InvalidRequest(format!("clients: {why}")))?;
        if records
            .iter()
            .any(|r| r.profile.client_id == client.client_id)
        {
            return Err(RealmError::InvalidRequest(format!(
                "clients: client_id {:?} appears twice",
                client.client_id
            )));
        }
        records.push(static_record(client));
    }
    Ok((settings, records))
}

fn static_record(client: StaticClient) -> ClientRecord {
    ClientRecord {
        profile: ClientProfile {
            client_id: client.client_id,
            client_secret: client.client_secret,
            client_id_issued_at: now_unix(),
            metadata: client.metadata,
        },
        origin: ClientOrigin::Static,
        registration_token: None,
    }
}

/// A fresh secret for a confidential client; public clients get none.
fn new_client_secret(metadata: &ClientMetadata) -> Result<Option<String>, RealmError> {
    if metadata.is_public() {
        return Ok(None);
    }
    Ok(Some(Secret::generate()?.expose().to_owned()))
}
