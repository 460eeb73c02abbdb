//! `RealmHandle`: the typed way into a realm. Each method does the CPU work (authorization,
//! software statement verification, validation, secret generation and hashing) in the
//! caller's task, on whichever HTTP worker runs it, and sends the actor only the finished
//! change. One busy realm therefore uses every core, while its actor stays the single writer.

use super::access::{authorize_registration, looks_like_initial_access_token};
use super::actor::RealmActor;
use super::client_cache::{ClientCache, DecodedClient};
use super::error::RealmError;
use super::export::RealmExport;
use super::messages::*;
use super::policy::TokenRotation;
use super::rate_limit::{address_key, RateLimiter};
use super::reaping::UsageTracker;
use super::record::{is_derived, ClientOrigin, ClientRecord, TokenMatch, CLIENT_PREFIX};
use super::replay::{ReplayCache, MAX_REMEMBERED_ASSERTIONS, MAX_REMEMBERED_PER_CLIENT};
use super::settings::{ProviderSettings, RealmDocument, StaticClient};
use super::state::{load_keys, snapshot, RealmState, RealmStatus, SharedState, StatusCell};
use super::RealmName;
use crate::jwks_fetch::{CachePolicy, JwksFetcher};
use crate::log_value::Logged;
use crate::registration::{
    parse_request, validate, ClientProfile, ManagementCredentials, RegistrationError,
    ResponseProfile,
};
use crate::secret::{Secret, SecretHash};
use crate::software_statement::{
    self, KeySource, OpenedStatement, PublisherDocument, SoftwarePublisher, StatementError,
    VerifiedStatement,
};
use crate::store::{self, RealmTree};
use crate::telemetry;
use crate::time::now_unix;
use actix::Addr;
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A client profile with the registration access token minted for it, if any.
#[derive(Debug)]
pub struct Registered {
    pub profile: ClientProfile,
    pub registration_access_token: Option<Secret>,
}

/// What a realm's handles share besides the actor's state: the issuer URL, the `jwks_uri`
/// fetcher, the `jti`s of client assertions already used (RFC 7523 §3 replay check), the
/// registration rate limiters and the clients' last uses not yet written.
pub(crate) struct RealmContext {
    pub(crate) issuer: String,
    pub(crate) fetcher: Arc<JwksFetcher>,
    pub(crate) used_assertions: ReplayCache,
    /// When `used_assertions` started remembering: assertions issued earlier are refused,
    /// since they may have been used before a restart emptied the cache (README).
    pub(crate) remembering_since: u64,
    pub(crate) usage: Arc<UsageTracker>,
    per_address: RateLimiter,
    per_software_id: RateLimiter,
    /// Open, fenced or moved away; the actor is its only writer.
    pub(crate) status: Arc<StatusCell>,
    /// Serializes changes of the realm's keys made outside the actor's one handler run
    /// (adding the RSA key, rotating the signing key), so one cannot publish over the other.
    pub(crate) key_change: tokio::sync::Mutex<()>,
    /// When the realm was last asked for (Unix seconds): an idle realm's actor is stopped.
    last_used: AtomicU64,
    /// Decoded clients, shared by every realm of the process.
    clients: Arc<ClientCache>,
}

impl RealmContext {
    pub(crate) fn new(
        issuer: String,
        fetcher: Arc<JwksFetcher>,
        remembering_since: u64,
        status: Arc<StatusCell>,
        clients: Arc<ClientCache>,
    ) -> Arc<Self> {
        Arc::new(Self {
            issuer,
            fetcher,
            used_assertions: ReplayCache::new(MAX_REMEMBERED_ASSERTIONS, MAX_REMEMBERED_PER_CLIENT),
            remembering_since,
            usage: Arc::default(),
            per_address: RateLimiter::new(),
            per_software_id: RateLimiter::new(),
            status,
            key_change: tokio::sync::Mutex::new(()),
            last_used: AtomicU64::new(now_unix()),
            clients,
        })
    }

    /// Notes a request to the realm at `now`.
    pub(crate) fn touch(&self, now: u64) {
        self.last_used.store(now, Ordering::Relaxed);
    }

    /// Whether the realm was not asked for during the `idle_seconds` before `now`.
    pub(crate) fn idle_at(&self, now: u64, idle_seconds: u64) -> bool {
        now.saturating_sub(self.last_used.load(Ordering::Relaxed)) >= idle_seconds
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

    /// Sends a write to the actor, then waits until it is on disk: the actor has already made
    /// the change when it answers, and the group commit batches this wait with every other
    /// write in flight.
    pub(crate) async fn write<M, T>(&self, message: M) -> Result<T, RealmError>
    where
        M: actix::Message<Result = Result<T, RealmError>> + Send + 'static,
        T: Send + 'static,
        RealmActor: actix::Handler<M>,
    {
        let value = self.addr.send(message).await??;
        self.reader.flush().await?;
        Ok(value)
    }

    /// A client as stored now, read without asking the actor, decoded (or as decoded before
    /// from the same stored bytes: see `client_cache`).
    pub(crate) fn load_client(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<DecodedClient>>, RealmError> {
        self.context
            .clients
            .load(&self.name, &self.reader, client_id)
    }

    pub fn name(&self) -> &RealmName {
        &self.name
    }

    /// The realm's issuer identifier: its base URL as clients see it.
    pub fn issuer(&self) -> &str {
        &self.context.issuer
    }

    /// RFC 7592 §3: where the client manages its registration.
    pub fn registration_client_uri(&self, client_id: &str) -> String {
        const REGISTER: &str = "/register?client_id=";
        let issuer = self.issuer();
        let mut uri = String::with_capacity(issuer.len() + REGISTER.len() + 40);
        uri.push_str(issuer);
        uri.push_str(REGISTER);
        // Ids the server draws (UUIDs) need no encoding; checking is cheaper than encoding.
        if client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            uri.push_str(client_id);
        } else {
            uri.extend(url::form_urlencoded::byte_serialize(client_id.as_bytes()));
        }
        uri
    }

    /// The realm's current settings and keys.
    pub(crate) fn snapshot(&self) -> Arc<RealmState> {
        snapshot(&self.state)
    }

    /// The realm's current provider settings.
    pub fn settings(&self) -> ProviderSettings {
        self.snapshot().settings.clone()
    }

    /// What discovery says about the realm's registration policy.
    pub fn registration_policy_summary(&self) -> Value {
        let state = self.snapshot();
        let settings = &state.settings;
        settings
            .policy
            .discovery(settings.allow_open_dynamic_registration)
    }

    /// Whether the realm lets browser pages from `origin` call `register`, discovery and
    /// `jwk_uri` (CORS).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.snapshot().settings.policy.allows_origin(origin)
    }

    /// How this realm shapes registration responses.
    pub fn response_profile(&self) -> ResponseProfile {
        self.snapshot().settings.response_profile
    }

    /// A create or update response's JSON body: the profile with its credentials, in this
    /// realm's response shape.
    pub fn profile_body(
        &self,
        profile: &ClientProfile,
        credentials: &ManagementCredentials,
    ) -> Result<Vec<u8>, RealmError> {
        let view = profile.view(credentials, self.response_profile());
        Ok(view.to_json_bytes().map_err(store::StoreError::Encode)?)
    }

    /// The realm's public keys as a JWK set. The first time, the realm's RSA encryption key
    /// is made (publishers fetch this set to encrypt statements to the realm); a fenced realm
    /// serves the set it has.
    pub async fn jwks(&self) -> Result<Value, RealmError> {
        if self.snapshot().keys.stored().encryption.is_none() {
            match self.add_rsa_encryption_key().await {
                Ok(()) | Err(RealmError::Fenced) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(self.snapshot().keys.jwks(now_unix()))
    }

    /// Makes the realm's RSA key once (concurrent callers wait for the first): generated on
    /// the blocking pool, stored by the actor, durable, and only then published, so a
    /// statement encrypted to it can always be opened, even after a crash.
    async fn add_rsa_encryption_key(&self) -> Result<(), RealmError> {
        let _single_flight = self.context.key_change.lock().await;
        if self.snapshot().keys.stored().encryption.is_some() {
            return Ok(());
        }
        let key = blocking(crate::jose::generate_rsa_encryption_key)
            .await?
            .map_err(RealmError::from)?;
        let stored = self.write(AddEncryptionKey { key }).await?;
        let (keys, decryption) = blocking(move || load_keys(stored)).await??;
        self.addr.send(PublishKeys { keys, decryption }).await?;
        log::info!("realm={} RSA encryption key made", self.name);
        Ok(())
    }

    /// RFC 7591 §3: registers a client from a request body, and counts the attempt by mode
    /// and outcome; `client_ip` is the caller's address for the realm's per-address rate limit.
    pub async fn register(
        &self,
        bearer: Option<Secret>,
        client_ip: Option<IpAddr>,
        body: &[u8],
    ) -> Result<Registered, RealmError> {
        let request = parse_request(body);
        let has_statement = request
            .as_ref()
            .is_ok_and(|request| request.contains_key("software_statement"));
        let mode = match (has_statement, &bearer) {
            (true, _) => "software_statement",
            (false, Some(token)) if looks_like_initial_access_token(token) => {
                "initial_access_token"
            }
            (false, Some(_)) => "access_token",
            (false, None) => "open",
        };
        let result = match request {
            Ok(request) => self.register_request(bearer, client_ip, request).await,
            Err(e) => Err(e.into()),
        };
        let outcome = result.as_ref().map_or_else(RealmError::code, |_| "ok");
        telemetry::global().observe_registration(mode, outcome);
        result
    }

    async fn register_request(
        &self,
        bearer: Option<Secret>,
        client_ip: Option<IpAddr>,
        mut request: Map<String, Value>,
    ) -> Result<Registered, RealmError> {
        let state = self.snapshot();
        let settings = &state.settings;
        // The bucket key is made only when the realm limits addresses.
        if let (Some(ip), Some(limit)) = (client_ip, settings.policy.rate_limit_per_ip) {
            self.context
                .per_address
                .admit(&address_key(ip), Some(limit), "from this address")?;
        }
        let now = now_unix();
        let stored = match &bearer {
            Some(token) if looks_like_initial_access_token(token) => {
                self.find_initial_access(&token.hash())?
            }
            _ => None,
        };
        let grant = authorize_registration(bearer.as_ref(), stored, &state, self.issuer(), now)?;
        if let Some(statement) = self.check_software_statement(&request, &state).await? {
            statement.merge_into(&mut request);
        }
        let metadata = match &grant.initial_access {
            None => validate(
                &request,
                &settings.registration_policy(grant.may_set_info_uris),
            )?,
            Some((token, _)) => token.policy.validate(&request, settings)?,
        };
        if let Some(software_id) = &metadata.software_id {
            let limit = settings.policy.rate_limit_per_software_id;
            self.context
                .per_software_id
                .admit(software_id, limit, "for this software_id")?;
        }
        let [client_secret, token] = Secret::generate_many()?;
        let client_secret = (!metadata.is_public()).then_some(client_secret);
        let token =
            (grant.by_token || settings.generate_registration_access_tokens).then_some(token);
        let profile = ClientProfile {
            client_id: crate::secret::random_uuid()?,
            client_secret,
            client_id_issued_at: now,
            metadata,
        };
        let record = ClientRecord {
            profile,
            origin: ClientOrigin::Dynamic,
            registration_token: token.as_ref().map(Secret::hash),
            previous_registration_token: None,
            allowed_resources: Vec::new(),
        };
        // Encoded here, on the HTTP worker: the actor only stores the bytes.
        let encoded = store::encode(&record)?;
        let profile = record.profile;
        self.write(RegisterClient {
            client_id: profile.client_id.clone(),
            record: encoded,
            max_dynamic_clients: settings.policy.max_dynamic_clients,
            initial_access: grant.initial_access.map(|(_, hash)| hash),
            now,
        })
        .await?;
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
    ) -> Result<Arc<DecodedClient>, RealmError> {
        let grace = self.rotation() == TokenRotation::RotateWithGrace;
        let (client, presented, matched) =
            self.authenticate(client_id, presented.as_ref(), grace)?;
        if matched == TokenMatch::Current && client.record().previous_registration_token.is_some() {
            // The new token has been used: the one before it stops working.
            self.write(ConfirmRegistrationToken {
                client_id: client_id.to_owned(),
                presented,
            })
            .await?;
        }
        self.note_use(client_id);
        Ok(client)
    }

    /// RFC 7592 §2.2: replaces a dynamic client's profile and, as the realm's rotation mode
    /// says, its token. Immutable fields keep their values; a failed update changes nothing.
    pub async fn replace_client(
        &self,
        client_id: &str,
        presented: Option<Secret>,
        body: &[u8],
    ) -> Result<Registered, RealmError> {
        let rotation = self.rotation();
        let grace = rotation == TokenRotation::RotateWithGrace;
        let (current, presented, _) = self.authenticate(client_id, presented.as_ref(), grace)?;
        let current = current.record();
        let mut request = parse_request(body)?;
        let state = self.snapshot();
        // SPEC §3: an update carrying a statement must carry a valid and current one.
        let statement = self.check_software_statement(&request, &state).await?;
        if let Some(sent) = request.get("client_id") {
            if sent.as_str() != Some(client_id) {
                return Err(RegistrationError::InvalidClientMetadata(
                    "client_id in the body does not match the client_id of the request".into(),
                )
                .into());
            }
        }
        check_unchanged_secret(&request, current.profile.client_secret.as_ref())?;
        if let Some(statement) = statement {
            statement.merge_into(&mut request);
        }
        // SPEC §3: the logo/client/policy URI rule governs creation only.
        let metadata = validate(&request, &state.settings.registration_policy(true))?;
        // Reference A17: a client that becomes public loses its secret, one that becomes
        // confidential gets one; otherwise the secret never changes.
        let client_secret = match (&current.profile.client_secret, metadata.is_public()) {
            (_, true) => None,
            (Some(kept), false) => Some(kept.clone()),
            (None, false) => Some(Secret::generate()?),
        };
        let token = (rotation != TokenRotation::Never)
            .then(Secret::generate)
            .transpose()?;
        let update = match (token.as_ref().map(Secret::hash), grace) {
            (Some(hash), true) => TokenUpdate::RotateWithGrace(hash),
            (Some(hash), false) => TokenUpdate::Rotate(hash),
            (None, _) => TokenUpdate::Keep,
        };
        let profile = ClientProfile {
            client_id: current.profile.client_id.clone(),
            client_secret,
            client_id_issued_at: current.profile.client_id_issued_at,
            metadata,
        };
        // The actor sets the token fields from `update` and the stored record.
        let replacement = ClientRecord {
            profile: profile.clone(),
            origin: ClientOrigin::Dynamic,
            registration_token: None,
            previous_registration_token: None,
            allowed_resources: Vec::new(),
        };
        self.write(ReplaceClient {
            presented,
            grace,
            token: update,
            replacement,
        })
        .await?;
        self.note_use(client_id);
        log::info!(
            "realm={} client_id={} updated",
            self.name,
            Logged(client_id)
        );
        Ok(Registered {
            profile,
            registration_access_token: token,
        })
    }

    /// RFC 7592 §2.3: deletes a dynamic client with its registration access token.
    pub async fn delete_client(
        &self,
        client_id: &str,
        presented: Option<Secret>,
    ) -> Result<(), RealmError> {
        let presented = presented.ok_or(RealmError::MissingRegistrationToken)?;
        self.write(DeleteClient {
            client_id: client_id.to_owned(),
            presented: Some(presented.hash()),
            grace: self.rotation() == TokenRotation::RotateWithGrace,
        })
        .await?;
        log::info!(
            "realm={} client_id={} deleted",
            self.name,
            Logged(client_id)
        );
        Ok(())
    }

    /// SPEC §3 and §5: the request's software statement, verified; `None` when the request
    /// has none and the realm does not require one.
    async fn check_software_statement(
        &self,
        request: &Map<String, Value>,
        state: &Arc<RealmState>,
    ) -> Result<Option<VerifiedStatement>, RealmError> {
        let raw = match request.get("software_statement") {
            None | Some(Value::Null) if state.settings.require_software_statement => {
                return Err(StatementError::Required.into())
            }
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(raw)) => raw.clone(),
            Some(_) => return Err(StatementError::NotAString.into()),
        };
        match self.verify_software_statement(raw, state).await {
            Ok(statement) => {
                log::info!(
                    "realm={} software statement accepted agent_id={}",
                    self.name,
                    Logged(statement.agent_id())
                );
                Ok(Some(statement))
            }
            Err(refusal) => {
                // The reason may quote the statement (its unverified `iss`, a bad header).
                log::info!(
                    "realm={} software statement refused: {}",
                    self.name,
                    Logged(&refusal.to_string())
                );
                Err(refusal.into())
            }
        }
    }

    /// SPEC §5 end to end: the pure steps of `software_statement`, plus the publisher's
    /// `jwks_uri` through the realm's shared, SSRF-guarded fetcher and its cache.
    async fn verify_software_statement(
        &self,
        raw: String,
        state: &Arc<RealmState>,
    ) -> Result<VerifiedStatement, StatementError> {
        let opened = if software_statement::is_encrypted(&raw) {
            // An RSA decryption takes about a millisecond: off the async workers with it.
            let state = Arc::clone(state);
            tokio::task::spawn_blocking(move || open_software_statement(&raw, &state))
                .await
                .map_err(|e| {
                    log::error!("realm={} statement decryption task failed: {e}", self.name);
                    StatementError::Undecryptable("the decryption task failed")
                })??
        } else {
            open_software_statement(&raw, state)?
        };
        let fetched = match opened.key_source() {
            KeySource::JwksUri {
                uri,
                timeout_ms,
                miss_cache_ms,
                kid,
            } => {
                let policy = CachePolicy {
                    timeout_ms,
                    miss_cache_ms,
                };
                let jwks = self
                    .context
                    .fetcher
                    .get(uri, policy, kid)
                    .await
                    .map_err(|e| StatementError::KeysUnavailable(e.0))?;
                Some(jwks)
            }
            KeySource::Secret | KeySource::Jwks => None,
        };
        let settings = &state.settings;
        let required = settings.require_software_statement.then_some(
            settings
                .required_software_statement_attested_attributes
                .as_slice(),
        );
        opened.verify(fetched.as_deref(), now_unix(), required)
    }

    /// The client behind a registration access token: `MissingRegistrationToken` without one,
    /// else `InvalidRegistrationToken` for every failure alike (unknown client, wrong or
    /// rotated token), so the answer never tells whether a client exists.
    /// Also answers the presented token's hash, which an update hands to the actor's re-check,
    /// and which of the client's tokens it is (the previous one only with `grace`).
    fn authenticate(
        &self,
        client_id: &str,
        presented: Option<&Secret>,
        grace: bool,
    ) -> Result<(Arc<DecodedClient>, SecretHash, TokenMatch), RealmError> {
        // Hash before looking up, so an unknown client costs the same as a wrong token.
        let presented = presented
            .map(Secret::hash)
            .ok_or(RealmError::MissingRegistrationToken)?;
        let client = self
            .load_client(client_id)?
            .ok_or(RealmError::InvalidRegistrationToken)?;
        match client.record().match_registration_token(&presented, grace) {
            Some(matched) => Ok((client, presented, matched)),
            None => Err(RealmError::InvalidRegistrationToken),
        }
    }

    /// The realm's registration-token rotation mode.
    fn rotation(&self) -> TokenRotation {
        self.snapshot().settings.policy.registration_token_rotation
    }

    // ---- admin operations ----

    /// Replaces the provider settings.
    pub async fn put_settings(&self, settings: ProviderSettings) -> Result<(), RealmError> {
        settings.check().map_err(RealmError::InvalidRequest)?;
        self.write(PutSettings { settings }).await
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
        self.write(PutStaticClient { record }).await
    }

    /// Any client by id (admin view).
    pub async fn find_client(&self, client_id: &str) -> Result<ClientRecord, RealmError> {
        self.load_client(client_id)?
            .map(|client| client.record().clone())
            .ok_or_else(|| RealmError::NotFound(format!("no client {client_id:?} in this realm")))
    }

    /// Deletes any client (admin).
    pub async fn remove_client(&self, client_id: &str) -> Result<(), RealmError> {
        self.write(DeleteClient {
            client_id: client_id.to_owned(),
            presented: None,
            grace: false,
        })
        .await
    }

    /// A page of clients in id order.
    /// Read on the blocking pool, not by the actor: a page of a realm with a million clients
    /// neither waits behind the realm's writes nor holds up the realms sharing its arbiter.
    pub async fn list_clients(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, RealmError> {
        let reader = self.reader.clone();
        let page =
            blocking(move || reader.page::<ClientRecord>(CLIENT_PREFIX, after.as_deref(), limit))
                .await??;
        Ok(page.into_iter().map(|(_, record)| record).collect())
    }

    /// The realm's software publisher profiles, in `agent_id` order.
    pub fn publishers(&self) -> Arc<Vec<SoftwarePublisher>> {
        Arc::clone(&self.snapshot().publishers)
    }

    /// One publisher profile by `agent_id`.
    pub fn find_publisher(&self, agent_id: &str) -> Result<SoftwarePublisher, RealmError> {
        self.snapshot()
            .publishers
            .iter()
            .find(|p| p.agent_id() == agent_id)
            .cloned()
            .ok_or_else(|| {
                RealmError::NotFound(format!("no software publisher {agent_id:?} in this realm"))
            })
    }

    /// Creates or replaces a publisher profile (SPEC §4); answers the saved profile and
    /// whether it was created.
    pub async fn put_publisher(
        &self,
        agent_id: &str,
        document: &PublisherDocument,
    ) -> Result<(SoftwarePublisher, bool), RealmError> {
        let publisher = SoftwarePublisher::parse(document, Some(agent_id))
            .map_err(RealmError::InvalidRequest)?;
        let created = self
            .write(PutPublisher {
                publisher: publisher.clone(),
            })
            .await?;
        log::info!(
            "realm={} software publisher {} saved",
            self.name,
            Logged(agent_id)
        );
        Ok((publisher, created))
    }

    /// Deletes a publisher profile.
    pub async fn remove_publisher(&self, agent_id: &str) -> Result<(), RealmError> {
        self.write(DeletePublisher {
            agent_id: agent_id.to_owned(),
        })
        .await?;
        log::info!(
            "realm={} software publisher {} deleted",
            self.name,
            Logged(agent_id)
        );
        Ok(())
    }

    /// The realm as a document; secrets of static clients and publishers only when asked for.
    pub async fn export(&self, include_secrets: bool) -> Result<RealmDocument, RealmError> {
        let clients = self.addr.send(ListStaticClients).await??;
        Ok(realm_document(
            &self.name,
            self.settings(),
            &self.publishers(),
            &clients,
            include_secrets,
        ))
    }

    /// Whether the realm takes writes, is fenced, or has moved away.
    pub fn status(&self) -> RealmStatus {
        self.context.status.get()
    }

    /// Fences, unfences or marks the realm moved. Answers once the actor has taken the new
    /// status, so every write it handles afterwards sees it.
    pub async fn set_status(&self, status: RealmStatus) -> Result<(), RealmError> {
        self.addr.send(SetStatus { status }).await?;
        Ok(())
    }

    /// Everything the realm is, secrets included (see [`RealmExport`]), without the indexes
    /// derived from it (rebuilt when it is imported). Read on the blocking pool, outside the
    /// actor, so the realm's writes go on meanwhile: the entries are one consistent state only
    /// while the realm is fenced, which is why a move fences the realm before it exports.
    /// Unfenced, an export is a live read: a write racing with it may be half in it.
    pub async fn export_all(&self) -> Result<RealmExport, RealmError> {
        let reader = self.reader.clone();
        let mut entries = blocking(move || reader.entries()).await??;
        entries.retain(|(key, _)| !is_derived(key));
        let used = self.context.used_assertions.entries().into_iter().collect();
        Ok(RealmExport::new(self.name.to_string(), entries, used))
    }

    /// Adds the `jti`s an imported realm had already seen.
    pub(crate) fn remember_used_assertions(
        &self,
        used: impl IntoIterator<Item = (String, u64)>,
    ) -> Result<(), RealmError> {
        self.context.used_assertions.restore(used, now_unix());
        Ok(())
    }

    /// Replaces settings, publishers and static clients from a document (dynamic clients are
    /// kept).
    pub async fn replace(&self, document: &RealmDocument) -> Result<(), RealmError> {
        let parsed = parse_document(document)?;
        self.write(ReplaceRealm {
            settings: parsed.settings,
            publishers: parsed.publishers,
            static_clients: parsed.static_clients,
        })
        .await
    }
}

/// Runs CPU-heavy work (key generation, PEM parsing) or a long store read on the blocking
/// pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, RealmError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        log::error!("a blocking task failed: {e}");
        RealmError::Unavailable
    })
}

/// The decrypting keys of the realm and its publishers, then `software_statement::open`.
fn open_software_statement(
    raw: &str,
    state: &RealmState,
) -> Result<OpenedStatement, StatementError> {
    software_statement::open(raw, &state.publishers, &state.decryption)
}

/// A realm document after its checks.
pub(crate) struct ParsedDocument {
    pub(crate) settings: ProviderSettings,
    pub(crate) publishers: Vec<SoftwarePublisher>,
    pub(crate) static_clients: Vec<ClientRecord>,
}

impl ParsedDocument {
    /// What [`RealmHandle::export`] answers once this document is stored as a new realm:
    /// publishers in `agent_id` order and static clients in `client_id` order, as the realm
    /// reads them back. Lets a creation answer without starting the realm.
    pub(crate) fn exported(mut self, name: &RealmName, include_secrets: bool) -> RealmDocument {
        self.publishers
            .sort_by(|a, b| a.agent_id().cmp(b.agent_id()));
        self.static_clients
            .sort_by(|a, b| a.profile.client_id.cmp(&b.profile.client_id));
        realm_document(
            name,
            self.settings,
            &self.publishers,
            &self.static_clients,
            include_secrets,
        )
    }
}

/// A realm as a document; secrets of static clients and publishers only when asked for.
fn realm_document(
    name: &RealmName,
    settings: ProviderSettings,
    publishers: &[SoftwarePublisher],
    static_clients: &[ClientRecord],
    include_secrets: bool,
) -> RealmDocument {
    RealmDocument {
        name: Some(name.to_string()),
        oauth2_provider: settings,
        software_publishers: publishers
            .iter()
            .map(|publisher| publisher.to_document(include_secrets))
            .collect(),
        clients: static_clients
            .iter()
            .map(|record| {
                let mut json = record.static_document();
                if !include_secrets {
                    json.remove("client_secret");
                }
                json
            })
            .collect(),
    }
}

/// Checks a realm document as an import or an admin `PUT` does, without applying it; the
/// error names the part that is wrong. (The fuzz targets drive realm documents through it.)
pub fn check_document(document: &RealmDocument) -> Result<(), RealmError> {
    parse_document(document).map(|_| ())
}

/// Checks a realm document and turns its publishers and static clients into domain values.
pub(crate) fn parse_document(document: &RealmDocument) -> Result<ParsedDocument, RealmError> {
    let settings = document.oauth2_provider.clone();
    settings.check().map_err(RealmError::InvalidRequest)?;
    let publishers = parse_publishers(&document.software_publishers)?;
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
    Ok(ParsedDocument {
        settings,
        publishers,
        static_clients: records,
    })
}

/// SPEC §4: each profile valid, `agent_id` and `issuer` each unique in the realm.
fn parse_publishers(documents: &[PublisherDocument]) -> Result<Vec<SoftwarePublisher>, RealmError> {
    let invalid = |why: String| RealmError::InvalidRequest(format!("software_publishers: {why}"));
    let mut publishers: Vec<SoftwarePublisher> = Vec::with_capacity(documents.len());
    for document in documents {
        let publisher = SoftwarePublisher::parse(document, None).map_err(invalid)?;
        if publishers
            .iter()
            .any(|p| p.agent_id() == publisher.agent_id())
        {
            return Err(invalid(format!(
                "agent_id {:?} appears twice",
                publisher.agent_id()
            )));
        }
        if publishers.iter().any(|p| p.issuer() == publisher.issuer()) {
            return Err(invalid(format!(
                "issuer {:?} belongs to two publishers",
                publisher.issuer()
            )));
        }
        publishers.push(publisher);
    }
    Ok(publishers)
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
        previous_registration_token: None,
        allowed_resources: client.allowed_resources,
    }
}

/// RFC 7592 §2.2: an update may repeat the client's secret but not change it.
fn check_unchanged_secret(
    request: &Map<String, Value>,
    current: Option<&Secret>,
) -> Result<(), RealmError> {
    let matches = match request.get("client_secret") {
        None | Some(Value::Null) => true,
        Some(Value::String(sent)) => {
            current.is_some_and(|current| Secret::new(sent.as_str()).ct_eq(current))
        }
        Some(_) => false,
    };
    if matches {
        return Ok(());
    }
    Err(RegistrationError::InvalidClientMetadata(
        "client_secret does not match the client's current secret (RFC 7592 §2.2)".into(),
    )
    .into())
}
