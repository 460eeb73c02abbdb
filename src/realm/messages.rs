//! Messages to a realm actor. Each carries finished work: validation, secret generation and
//! hashing happen in the sender's task, so the actor only decides and writes.

use super::error::RealmError;
use super::initial_access::InitialAccessToken;
use super::record::ClientRecord;
use super::settings::ProviderSettings;
use super::state::RealmStatus;
use crate::jose::{RealmKeys, StoredKey, StoredKeys};
use crate::secret::SecretHash;
use crate::software_statement::{DecryptionKeys, SoftwarePublisher};
use actix::Message;
use std::sync::Arc;

/// Store a newly registered client, within the realm's quota of dynamic clients and
/// consuming one use of the initial access token it was registered with, if any.
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct RegisterClient {
    pub client_id: String,
    /// The new client's record, encoded for the store by the caller (off the actor).
    pub record: Vec<u8>,
    pub max_dynamic_clients: Option<u64>,
    /// Hash of the initial access token presented.
    pub initial_access: Option<SecretHash>,
    pub now: u64,
}

/// What an update does with the registration access token.
#[derive(Debug, Clone, Copy)]
pub enum TokenUpdate {
    /// `rotate`: this new token replaces the presented one.
    Rotate(SecretHash),
    /// `rotate_with_grace`: this new token; the presented one stays accepted until it is used.
    RotateWithGrace(SecretHash),
    /// `never`: the token stays.
    Keep,
}

/// Replace a dynamic client if `presented` is still one of its registration access tokens
/// (the previous one only with `grace`). The check and the write happen in one handler run,
/// so of two updates with one token only one wins.
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct ReplaceClient {
    pub presented: SecretHash,
    pub grace: bool,
    pub token: TokenUpdate,
    pub replacement: ClientRecord,
}

/// The current registration access token was used: the previous one stops working.
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct ConfirmRegistrationToken {
    pub client_id: String,
    pub presented: SecretHash,
}

/// Delete a client: with `presented`, only a dynamic client holding that token (RFC 7592);
/// without, any client (admin).
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct DeleteClient {
    pub client_id: String,
    pub presented: Option<SecretHash>,
    pub grace: bool,
}

/// Store a new initial access token (within the realm's cap of live tokens).
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct CreateInitialAccess {
    pub token: InitialAccessToken,
}

/// Delete an initial access token (`NotFound` when there is none).
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct RevokeInitialAccess {
    pub id: String,
}

/// One page of a reaping run: the dynamic clients after `after` (in id order) unused for
/// `unused_for` seconds as of `as_of`, removed unless `dry_run`.
#[derive(Message)]
#[rtype(result = "Result<ReapedPage, RealmError>")]
pub struct ReapPage {
    pub after: Option<String>,
    pub as_of: u64,
    pub unused_for: u64,
    pub dry_run: bool,
}

/// What one page of a reaping run found.
#[derive(Debug, Default)]
pub struct ReapedPage {
    pub client_ids: Vec<String>,
    /// Where the next page starts; `None` when the run is complete.
    pub next: Option<String>,
}

/// Create or replace a static client; answers whether it was created.
#[derive(Message)]
#[rtype(result = "Result<bool, RealmError>")]
pub struct PutStaticClient {
    pub record: ClientRecord,
}

/// Every static client of the realm, for export.
#[derive(Message)]
#[rtype(result = "Result<Vec<ClientRecord>, RealmError>")]
pub struct ListStaticClients;

/// Replace the provider settings.
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct PutSettings {
    pub settings: ProviderSettings,
}

/// Replace settings, software publishers and the whole set of static clients (dynamic
/// clients stay).
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct ReplaceRealm {
    pub settings: ProviderSettings,
    pub publishers: Vec<SoftwarePublisher>,
    pub static_clients: Vec<ClientRecord>,
}

/// Create or replace a software publisher profile; answers whether it was created. The
/// actor checks that no other publisher of the realm has the same issuer (SPEC §4).
#[derive(Message)]
#[rtype(result = "Result<bool, RealmError>")]
pub struct PutPublisher {
    pub publisher: SoftwarePublisher,
}

/// Delete a software publisher profile (`NotFound` when there is none).
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct DeletePublisher {
    pub agent_id: String,
}

/// Start signing with a new key; the old one stays published for `keep_seconds`.
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct RotateKeys {
    pub now: u64,
    pub keep_seconds: u64,
}

/// Store the realm's RSA encryption key, unless it has one already; answers the keys as
/// stored. Not published yet: the caller first waits until they are on disk.
#[derive(Message)]
#[rtype(result = "Result<StoredKeys, RealmError>")]
pub struct AddEncryptionKey {
    pub key: StoredKey,
}

/// Publish keys that are stored and durable, loaded (PEMs parsed) by the sender.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PublishKeys {
    pub keys: Arc<RealmKeys>,
    pub decryption: Arc<DecryptionKeys>,
}

/// Write the noted client uses and stop: the realm goes back to dormant.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

/// Set the realm's status (fence, unfence, moved); answered once every earlier write is done.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetStatus {
    pub status: RealmStatus,
}
