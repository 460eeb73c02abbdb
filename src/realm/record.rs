//! What the realm stores per client, and the keys it stores things under (settings, keys,
//! clients, software publishers).

use super::settings::ProviderSettings;
use crate::registration::{ClientProfile, ResponseProfile};
use crate::secret::SecretHash;
use crate::software_statement::SoftwarePublisher;
use crate::store::{BatchOp, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Key of the provider settings in the realm tree.
pub(crate) const SETTINGS_KEY: &str = "settings";
/// Key of the realm's own key pairs in the realm tree.
pub(crate) const KEYS_KEY: &str = "keys";
/// Prefix of client records in the realm tree.
pub(crate) const CLIENT_PREFIX: &str = "client/";

/// Prefix of the static-client index: `static/{client_id}` marks a static client, written in
/// the same batch as its record, so listing or replacing the static clients never reads the
/// dynamic ones. Derived from the records: left out of exports and rebuilt after an import.
pub(crate) const STATIC_PREFIX: &str = "static/";
/// Present once every static client has its marker (realms stored before the markers get them
/// at their first start).
pub(crate) const STATIC_INDEX_KEY: &str = "index/static_clients";

/// Prefix of software publisher profiles in the realm tree.
pub(crate) const PUBLISHER_PREFIX: &str = "publisher/";
/// Counter of the number of dynamic clients, set with every write that adds or removes one
/// (so the quota check never counts).
pub(crate) const DYNAMIC_CLIENTS_COUNTER: &str = "dynamic_clients";
/// Where earlier versions kept that number, among the realm's data (moved to the counter at
/// the realm's next start; derived, so never taken from an export).
pub(crate) const LEGACY_DYNAMIC_COUNT_KEY: &str = "count/dynamic_clients";
/// Prefix of the coarse last-use times of clients (reaping).
pub(crate) const USAGE_PREFIX: &str = "usage/";
/// Prefix of initial access tokens, by id.
pub(crate) const INITIAL_ACCESS_PREFIX: &str = "initial_access/";

pub(crate) fn client_key(client_id: &str) -> String {
    format!("{CLIENT_PREFIX}{client_id}")
}

pub(crate) fn static_key(client_id: &str) -> String {
    format!("{STATIC_PREFIX}{client_id}")
}

/// Whether a key belongs to an index derived from other entries (not exported).
pub(crate) fn is_derived(key: &str) -> bool {
    key.starts_with(STATIC_PREFIX) || key == STATIC_INDEX_KEY || key == LEGACY_DYNAMIC_COUNT_KEY
}

/// The writes that store a static client: its record and its index marker.
pub(crate) fn static_client_ops(record: &ClientRecord) -> Result<[BatchOp; 2], StoreError> {
    let client_id = &record.profile.client_id;
    Ok([
        BatchOp::put(client_key(client_id), record)?,
        BatchOp::put(static_key(client_id), &true)?,
    ])
}

pub(crate) fn publisher_key(agent_id: &str) -> String {
    format!("{PUBLISHER_PREFIX}{agent_id}")
}

pub(crate) fn usage_key(client_id: &str) -> String {
    format!("{USAGE_PREFIX}{client_id}")
}

pub(crate) fn initial_access_key(id: &str) -> String {
    format!("{INITIAL_ACCESS_PREFIX}{id}")
}

/// The writes that store a realm document's settings, publishers and static clients (a realm
/// creation adds its keys; a replacement first removes the old publishers and static clients).
pub(crate) fn document_ops(
    settings: &ProviderSettings,
    publishers: &[SoftwarePublisher],
    static_clients: &[ClientRecord],
) -> Result<Vec<BatchOp>, StoreError> {
    let mut ops = Vec::with_capacity(2 + publishers.len() + 2 * static_clients.len());
    ops.push(BatchOp::put(SETTINGS_KEY, settings)?);
    ops.push(BatchOp::put(STATIC_INDEX_KEY, &true)?);
    for publisher in publishers {
        ops.push(BatchOp::put(
            publisher_key(publisher.agent_id()),
            &publisher.to_document(true),
        )?);
    }
    for record in static_clients {
        ops.extend(static_client_ops(record)?);
    }
    Ok(ops)
}

/// How a client came to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientOrigin {
    /// Registered through `B/register`; managed with its registration access token.
    Dynamic,
    /// Defined by the admin (realm file or admin API); not reachable through `B/register`.
    Static,
}

/// A stored client: the profile, its origin, and the hash of its registration access token.
/// Its serde form is the stored record, versioned (`stored_client`).
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub profile: ClientProfile,
    pub origin: ClientOrigin,
    /// SHA-256 of the current registration access token; `None` when none was issued.
    pub registration_token: Option<SecretHash>,
    /// RFC 8707 resources this client's tokens may name besides the realm's
    /// `allowed_resources`. Set by the admin for static clients only: a self-registered client
    /// could claim any audience, so dynamic clients have none.
    pub allowed_resources: Vec<String>,
    /// Under `rotate_with_grace`: the token an update was made with, still accepted until
    /// the current one has been used once.
    pub previous_registration_token: Option<SecretHash>,
}

/// Which of a client's registration access tokens a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMatch {
    Current,
    /// The token before the last update (accepted only under `rotate_with_grace`).
    Previous,
}

impl ClientRecord {
    /// The client as the admin API shows and exports it: the standard profile plus the
    /// admin-only `allowed_resources` (so an export imports back unchanged).
    pub fn static_document(&self) -> Map<String, Value> {
        let mut json = self
            .profile
            .to_json(&Default::default(), ResponseProfile::Standard);
        if !self.allowed_resources.is_empty() {
            json.insert("allowed_resources".into(), json!(self.allowed_resources));
        }
        json
    }

    /// Which registration access token of this dynamic client `presented` is, if any; the
    /// previous one counts only with `grace`. Both comparisons run, in constant time.
    pub fn match_registration_token(
        &self,
        presented: &SecretHash,
        grace: bool,
    ) -> Option<TokenMatch> {
        if self.origin != ClientOrigin::Dynamic {
            return None;
        }
        let is = |stored: &Option<SecretHash>| stored.as_ref().is_some_and(|s| s.ct_eq(presented));
        let current = is(&self.registration_token);
        let previous = is(&self.previous_registration_token);
        match (current, previous && grace) {
            (true, _) => Some(TokenMatch::Current),
            (false, true) => Some(TokenMatch::Previous),
            (false, false) => None,
        }
    }
}
