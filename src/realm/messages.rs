//! Messages to a realm actor. Each carries finished work: validation, secret generation and
//! hashing happen in the sender's task, so the actor only decides and writes.

use super::error::RealmError;
use super::record::ClientRecord;
use super::settings::ProviderSettings;
use super::state::RealmStatus;
use crate::secret::SecretHash;
use crate::software_statement::SoftwarePublisher;
use actix::Message;

/// Store a newly registered client; answered once it is on disk.
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct RegisterClient {
    pub record: ClientRecord,
}

/// Replace a dynamic client if `presented` is still its registration access token. The check
/// and the write happen in one handler run, so of two updates with one token only one wins.
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct ReplaceClient {
    pub presented: SecretHash,
    pub replacement: ClientRecord,
}

/// Delete a client: with `presented`, only a dynamic client holding that token (RFC 7592);
/// without, any client (admin).
#[derive(Message)]
#[rtype(result = "Result<(), RealmError>")]
pub struct DeleteClient {
    pub client_id: String,
    pub presented: Option<SecretHash>,
}

/// Create or replace a static client; answers whether it was created.
#[derive(Message)]
#[rtype(result = "Result<bool, RealmError>")]
pub struct PutStaticClient {
    pub record: ClientRecord,
}

/// A page of clients in id order, starting after `after`.
#[derive(Message)]
#[rtype(result = "Result<Vec<ClientRecord>, RealmError>")]
pub struct ListClients {
    pub after: Option<String>,
    pub limit: usize,
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

/// Set the realm's status (fence, unfence, moved); answered once every earlier write is done.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetStatus {
    pub status: RealmStatus,
}

/// Every stored entry of the realm, read between two writes so the set is consistent.
#[derive(Message)]
#[rtype(result = "Result<Vec<(String, Box<serde_json::value::RawValue>)>, RealmError>")]
pub struct ExportEntries;
