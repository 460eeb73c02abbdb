//! Decoded clients kept between requests. A profile read or a token request decodes its
//! client's stored record (JSON) and a read renders the profile again; together that cost
//! more than the store lookup itself. [`ClientCache`] keeps the decoded record, the hash of
//! its client secret and the rendered read answer per client.
//!
//! An entry is used only while the stored bytes are byte for byte the ones it was decoded
//! from: every request still reads the record from the store, as it did without the cache,
//! and compares a few hundred bytes instead of decoding them. So nothing a write changes (a
//! rotated registration access token, a new secret, a deleted client) can be answered from
//! an older entry, no write has to invalidate anything, and no race between a write and the
//! filling of an entry can leave a stale one in use.

use super::error::RealmError;
use super::record::{client_key, ClientRecord};
use super::RealmName;
use crate::registration::{ClientProfile, ManagementCredentials, ResponseProfile};
use crate::secret::{Secret, SecretHash};
use crate::store::{decode_value, RealmTree, StoreError};
use bytes::Bytes;
use moka::sync::Cache;
use std::sync::{Arc, OnceLock};

/// What the cache of a process may hold, in bytes as [`entry_weight`] estimates them
/// (about 10,000 clients of the usual size).
pub(crate) const CLIENT_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Decoded clients of every realm of the process, bounded by [`CLIENT_CACHE_BYTES`]
/// (moka's TinyLFU: clients read once do not push out the ones read often).
pub(crate) struct ClientCache {
    /// By `{realm}/{client_id}` (realm names contain no `/`).
    entries: Cache<String, Arc<DecodedClient>>,
}

/// A client record as decoded from its stored bytes, with what requests derive from it.
pub struct DecodedClient {
    /// The stored bytes this entry was decoded from (a copy: sled's handle may share a larger
    /// buffer).
    stored: Box<[u8]>,
    record: ClientRecord,
    secret_hash: Option<SecretHash>,
    /// The profile read's JSON answer, rendered the first time in the realm's response shape.
    read_body: OnceLock<(ResponseProfile, Bytes)>,
}

impl ClientCache {
    pub(crate) fn new(max_bytes: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, client: &Arc<DecodedClient>| entry_weight(client.stored.len()))
                .build(),
        }
    }

    /// The client `client_id` of `realm` as stored in `tree` now, decoded.
    pub(crate) fn load(
        &self,
        realm: &RealmName,
        tree: &RealmTree,
        client_id: &str,
    ) -> Result<Option<Arc<DecodedClient>>, RealmError> {
        let key = client_key(client_id);
        let Some(stored) = tree.get_raw(&key)? else {
            return Ok(None);
        };
        let cache_key = format!("{realm}/{client_id}");
        if let Some(cached) = self.entries.get(&cache_key) {
            if *cached.stored == *stored {
                return Ok(Some(cached));
            }
        }
        let record: ClientRecord = decode_value(&key, &stored)?;
        let client = Arc::new(DecodedClient::new(Box::from(&*stored), record));
        self.entries.insert(cache_key, Arc::clone(&client));
        Ok(Some(client))
    }
}

/// Bytes an entry takes, estimated from its stored record: the decoded record and the
/// rendered answer are each a few times the compact stored form.
fn entry_weight(stored_len: usize) -> u32 {
    u32::try_from(stored_len.saturating_mul(8).saturating_add(256)).unwrap_or(u32::MAX)
}

impl DecodedClient {
    fn new(stored: Box<[u8]>, record: ClientRecord) -> Self {
        let secret_hash = record.profile.client_secret.as_ref().map(Secret::hash);
        Self {
            stored,
            record,
            secret_hash,
            read_body: OnceLock::new(),
        }
    }

    pub fn record(&self) -> &ClientRecord {
        &self.record
    }

    pub fn profile(&self) -> &ClientProfile {
        &self.record.profile
    }

    /// Whether `presented` is the client's secret: compared as SHA-256 hashes in constant
    /// time (the stored secret's hash is computed once per entry).
    pub fn secret_matches(&self, presented: &Secret) -> bool {
        let presented = presented.hash();
        self.secret_hash
            .as_ref()
            .is_some_and(|stored| stored.ct_eq(&presented))
    }

    /// RFC 7592 §2.1: the profile as a read answers it (no token, no URI), as JSON in `shape`.
    pub fn read_body(&self, shape: ResponseProfile) -> Result<Bytes, RealmError> {
        if let Some((rendered_shape, body)) = self.read_body.get() {
            if *rendered_shape == shape {
                return Ok(body.clone());
            }
        }
        let none = ManagementCredentials::default();
        let view = self.record.profile.view(&none, shape);
        let body = Bytes::from(serde_json::to_vec(&view).map_err(StoreError::Encode)?);
        // A realm whose shape changed renders anew; the first shape stays cached.
        let _ = self.read_body.set((shape, body.clone()));
        Ok(body)
    }
}
