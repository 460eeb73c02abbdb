//! A realm's view of the shared realm tree: JSON values under string keys, each stored as
//! `{realm}/{key}`. The realm layer sees realm-relative keys only.

use super::{Store, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

/// Whether a realm's data may still be written. Shared by every view of one realm: dropping
/// the realm flips it under the write lock, and every write holds the read lock while it
/// lands, so no write of a view opened before the drop outlives the drop (it fails with
/// [`StoreError::Dropped`] instead of leaving keys behind under the realm's prefix).
pub(super) type Liveness = Arc<RwLock<bool>>;

/// A stored value's bytes as [`RealmTree::get_raw`] answers them (reference-counted).
pub type StoredBytes = sled::IVec;

/// One realm's keys in the shared tree. Writes are not durable until [`RealmTree::flush`]
/// returns.
#[derive(Clone)]
pub struct RealmTree {
    data: sled::Tree,
    /// `{realm}/`: realm names never contain `/`, so it ends the name unambiguously.
    prefix: Arc<[u8]>,
    index_key: Arc<[u8]>,
    alive: Liveness,
    store: Store,
}

/// One write of an atomic batch.
pub enum BatchOp {
    Put { key: String, value: Vec<u8> },
    Remove { key: String },
}

impl BatchOp {
    /// A put of a JSON-encoded value.
    pub fn put<V: Serialize>(key: impl Into<String>, value: &V) -> Result<Self, StoreError> {
        Ok(Self::Put {
            key: key.into(),
            value: encode(value)?,
        })
    }
}

impl RealmTree {
    pub(super) fn new(
        data: sled::Tree,
        prefix: Vec<u8>,
        index_key: Vec<u8>,
        alive: Liveness,
        store: Store,
    ) -> Self {
        Self {
            data,
            prefix: prefix.into(),
            index_key: index_key.into(),
            alive,
            store,
        }
    }

    /// The value under `key`, if any.
    pub fn get<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, StoreError> {
        match self.data.get(self.full_key(key))? {
            None => Ok(None),
            Some(raw) => decode_value(key, &raw).map(Some),
        }
    }

    /// The bytes stored under `key`, not decoded (for a caller that keeps what it decoded
    /// and decodes again only when the bytes changed; [`decode_value`] decodes them).
    pub fn get_raw(&self, key: &str) -> Result<Option<StoredBytes>, StoreError> {
        Ok(self.data.get(self.full_key(key))?)
    }

    /// Whether `key` holds a value.
    pub fn contains(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.data.contains_key(self.full_key(key))?)
    }

    /// Writes `value` under `key` (not yet durable).
    pub fn put<V: Serialize>(&self, key: &str, value: &V) -> Result<(), StoreError> {
        self.put_encoded(key, encode(value)?)
    }

    /// Writes a value [`encode`]d earlier, e.g. off a busy thread (not yet durable).
    pub fn put_encoded(&self, key: &str, encoded: Vec<u8>) -> Result<(), StoreError> {
        self.while_alive(|| self.data.insert(self.full_key(key), encoded).map(drop))
    }

    /// Removes `key`; true when something was there (not yet durable).
    pub fn remove(&self, key: &str) -> Result<bool, StoreError> {
        self.while_alive(|| {
            self.data
                .remove(self.full_key(key))
                .map(|old| old.is_some())
        })
    }

    /// Applies all writes atomically (not yet durable).
    pub fn apply(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        self.add_ops(&mut batch, ops);
        self.while_alive(|| self.data.apply_batch(batch))
    }

    /// Stores a new realm: whatever its prefix held before (remains of an earlier attempt)
    /// goes, `ops` and the realm's index entry land, all in one atomic batch (not yet
    /// durable). Until this batch the realm does not exist; after it, it does completely.
    pub fn create(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        let mut batch = self.rebuild_batch()?;
        self.add_ops(&mut batch, ops);
        self.while_alive(|| self.data.apply_batch(batch))
    }

    /// Every key and value of the realm, in key order, values as the stored JSON text
    /// (copied, not decoded: a realm export of 10,000 clients stays cheap).
    pub fn entries(&self) -> Result<Vec<(String, Box<RawValue>)>, StoreError> {
        self.data
            .scan_prefix(&*self.prefix)
            .map(|entry| {
                let (key, raw) = entry?;
                let key = self.relative(&key);
                let text = String::from_utf8(raw.to_vec()).map_err(|e| StoreError::Decode {
                    key: key.clone(),
                    source: serde::de::Error::custom(e),
                })?;
                let value = RawValue::from_string(text).map_err(|source| StoreError::Decode {
                    key: key.clone(),
                    source,
                })?;
                Ok((key, value))
            })
            .collect()
    }

    /// Replaces the whole content of the realm with `entries`, byte for byte, and indexes
    /// the realm, in one atomic batch (not yet durable).
    pub fn replace_all(&self, entries: &[(String, Box<RawValue>)]) -> Result<(), StoreError> {
        let mut batch = self.rebuild_batch()?;
        for (key, value) in entries {
            batch.insert(self.full_key(key), value.get().as_bytes());
        }
        self.while_alive(|| self.data.apply_batch(batch))
    }

    /// Keys under `prefix`, in key order.
    pub fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.data
            .scan_prefix(self.full_key(prefix))
            .keys()
            .map(|key| Ok(self.relative(&key?)))
            .collect()
    }

    /// Up to `limit` values under `prefix` whose key sorts after `prefix + after`, in key order.
    pub fn page<V: DeserializeOwned>(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, V)>, StoreError> {
        let full_prefix = self.full_key(prefix);
        let start = match after {
            Some(after) => Bound::Excluded(self.full_key(&format!("{prefix}{after}"))),
            None => Bound::Included(full_prefix.clone()),
        };
        let mut out = Vec::new();
        for entry in self.data.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            if out.len() == limit {
                break;
            }
            let (key, raw) = entry?;
            let Some(suffix) = key.strip_prefix(full_prefix.as_slice()) else {
                break;
            };
            let suffix = String::from_utf8_lossy(suffix).into_owned();
            out.push((suffix, decode_value(&self.relative(&key), &raw)?));
        }
        Ok(out)
    }

    /// Waits until every write made so far is on disk (shared with concurrent writers).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.store.flush().await
    }

    fn full_key(&self, key: &str) -> Vec<u8> {
        let mut full = Vec::with_capacity(self.prefix.len() + key.len());
        full.extend_from_slice(&self.prefix);
        full.extend_from_slice(key.as_bytes());
        full
    }

    /// The realm-relative key of a stored key of this realm.
    fn relative(&self, stored: &[u8]) -> String {
        let key = stored.strip_prefix(&*self.prefix).unwrap_or(stored);
        String::from_utf8_lossy(key).into_owned()
    }

    fn add_ops(&self, batch: &mut sled::Batch, ops: Vec<BatchOp>) {
        for op in ops {
            match op {
                BatchOp::Put { key, value } => batch.insert(self.full_key(&key), value),
                BatchOp::Remove { key } => batch.remove(self.full_key(&key)),
            }
        }
    }

    /// A batch that empties the realm's prefix and writes its index entry.
    fn rebuild_batch(&self) -> Result<sled::Batch, StoreError> {
        let mut batch = sled::Batch::default();
        for key in self.data.scan_prefix(&*self.prefix).keys() {
            batch.remove(key?);
        }
        batch.insert(&*self.index_key, &[][..]);
        Ok(batch)
    }

    /// Runs a write unless the realm was dropped, holding off a drop until it has landed.
    fn while_alive<T>(&self, write: impl FnOnce() -> sled::Result<T>) -> Result<T, StoreError> {
        let alive = self.alive.read().map_err(|_| StoreError::Dropped)?;
        if !*alive {
            return Err(StoreError::Dropped);
        }
        Ok(write()?)
    }
}

/// A value as the store keeps it (JSON), for [`RealmTree::put_encoded`].
pub fn encode<V: Serialize>(value: &V) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(StoreError::Encode)
}

/// Decodes the bytes stored under `key` (the key names the entry in the error).
pub fn decode_value<V: DeserializeOwned>(key: &str, raw: &[u8]) -> Result<V, StoreError> {
    serde_json::from_slice(raw).map_err(|source| StoreError::Decode {
        key: key.to_owned(),
        source,
    })
}
