//! Decoded clients kept between requests. A profile read or a token request decodes its
//! client's stored record (JSON) and a read renders the profile again; together that cost
//! more than the store lookup itself. [`ClientCache`] keeps the decoded record, the hash of
//! its client secret and the rendered read answer per client.
//!
//! An entry is used only while it is known to hold what is stored, two ways:
//! - Without reading the store, while no write of the realm has begun since a read of the
//!   store saw the entry's bytes with no write in flight (the entry's [`ReadMark`]). Any write
//!   of the realm (registration, update, deletion, usage, import, drop) ends that until a
//!   later read marks the entry again. In a big realm this skips a walk of its tree.
//! - Otherwise the request reads the record from the store, as it did without the cache, and
//!   compares a few hundred bytes instead of decoding them.
//!
//! So nothing a write changes (a rotated registration access token, a new secret, a deleted
//! client) can be answered from an older entry: the writes themselves are counted by the
//! store, not invalidated by each writer, and a mark is only ever taken from a read that no
//! write overlapped.

use super::error::RealmError;
use super::record::{client_key, ClientRecord};
use super::RealmName;
use crate::registration::{ClientProfile, ManagementCredentials, ResponseProfile};
use crate::secret::{Secret, SecretHash};
use crate::store::{decode_value, ReadMark, RealmTree, StoreError};
use bytes::Bytes;
use moka::sync::Cache;
use std::sync::{Arc, Mutex, OnceLock};

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
    /// The latest read of the store that saw `stored` with no write in flight.
    mark: Mutex<Option<ReadMark>>,
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
        let cache_key = format!("{realm}/{client_id}");
        let cached = self.entries.get(&cache_key);
        if let Some(cached) = &cached {
            if cached.unchanged_in(tree) {
                return Ok(Some(Arc::clone(cached)));
            }
        }
        let key = client_key(client_id);
        let (Some(stored), mark) = tree.get_raw_marked(&key)? else {
            return Ok(None);
        };
        if let Some(cached) = cached {
            if *cached.stored == *stored {
                cached.set_mark(mark);
                return Ok(Some(cached));
            }
        }
        let record: ClientRecord = decode_value(&key, &stored)?;
        let client = Arc::new(DecodedClient::new(Box::from(&*stored), record));
        client.set_mark(mark);
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
            mark: Mutex::new(None),
        }
    }

    /// Whether the store still holds `stored`, known without reading it (see the module doc).
    fn unchanged_in(&self, tree: &RealmTree) -> bool {
        self.mark
            .lock()
            .is_ok_and(|mark| mark.as_ref().is_some_and(|mark| tree.unchanged_since(mark)))
    }

    /// Records the latest read that saw `stored` (`None`: a write overlapped it). Any mark
    /// is true of `stored`; one older than the current writes only fails to vouch.
    fn set_mark(&self, mark: Option<ReadMark>) {
        if let Ok(mut current) = self.mark.lock() {
            *current = mark;
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
        let body = Bytes::from(view.to_json_bytes().map_err(StoreError::Encode)?);
        // A realm whose shape changed renders anew; the first shape stays cached.
        let _ = self.read_body.set((shape, body.clone()));
        Ok(body)
    }
}
