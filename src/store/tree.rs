//! A realm's sled tree with JSON values and string keys.

use super::{Store, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

/// One realm's tree. Writes are not durable until [`RealmTree::flush`] returns.
#[derive(Clone)]
pub struct RealmTree {
    tree: sled::Tree,
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
            value: serde_json::to_vec(value).map_err(StoreError::Encode)?,
        })
    }
}

impl RealmTree {
    pub(super) fn new(tree: sled::Tree, store: Store) -> Self {
        Self { tree, store }
    }

    /// The value under `key`, if any.
    pub fn get<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, StoreError> {
        match self.tree.get(key.as_bytes())? {
            None => Ok(None),
            Some(raw) => decode(key, &raw).map(Some),
        }
    }

    /// Whether `key` holds a value.
    pub fn contains(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(key.as_bytes())?)
    }

    /// Writes `value` under `key` (not yet durable).
    pub fn put<V: Serialize>(&self, key: &str, value: &V) -> Result<(), StoreError> {
        let encoded = serde_json::to_vec(value).map_err(StoreError::Encode)?;
        self.tree.insert(key.as_bytes(), encoded)?;
        Ok(())
    }

    /// Removes `key`; true when something was there (not yet durable).
    pub fn remove(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.tree.remove(key.as_bytes())?.is_some())
    }

    /// Applies all writes atomically (not yet durable).
    pub fn apply(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                BatchOp::Put { key, value } => batch.insert(key.as_bytes(), value),
                BatchOp::Remove { key } => batch.remove(key.as_bytes()),
            }
        }
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Every key and value of the tree, in key order, values as the stored JSON text (copied,
    /// not decoded: a realm export of 10,000 clients stays cheap).
    pub fn entries(&self) -> Result<Vec<(String, Box<RawValue>)>, StoreError> {
        self.tree
            .iter()
            .map(|entry| {
                let (key, raw) = entry?;
                let key = String::from_utf8_lossy(&key).into_owned();
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

    /// Replaces the whole content of the tree with `entries`, byte for byte, in one atomic
    /// batch (not yet durable).
    pub fn replace_all(&self, entries: &[(String, Box<RawValue>)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for key in self.tree.iter().keys() {
            batch.remove(key?);
        }
        for (key, value) in entries {
            batch.insert(key.as_bytes(), value.get().as_bytes());
        }
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Keys under `prefix`, in key order.
    pub fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.tree
            .scan_prefix(prefix.as_bytes())
            .keys()
            .map(|key| Ok(String::from_utf8_lossy(&key?).into_owned()))
            .collect()
    }

    /// Up to `limit` values under `prefix` whose key sorts after `prefix + after`, in key order.
    pub fn page<V: DeserializeOwned>(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, V)>, StoreError> {
        use std::ops::Bound;
        let start = match after {
            Some(after) => Bound::Excluded(format!("{prefix}{after}").into_bytes()),
            None => Bound::Included(prefix.as_bytes().to_vec()),
        };
        let mut out = Vec::new();
        for entry in self.tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            let (key, raw) = entry?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let Some(suffix) = key.strip_prefix(prefix) else {
                break;
            };
            if out.len() == limit {
                break;
            }
            let suffix = suffix.to_owned();
            out.push((suffix, decode(&key, &raw)?));
        }
        Ok(out)
    }

    /// Waits until every write made so far is on disk (shared with concurrent writers).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.store.flush().await
    }
}

fn decode<V: DeserializeOwned>(key: &str, raw: &[u8]) -> Result<V, StoreError> {
    serde_json::from_slice(raw).map_err(|source| StoreError::Decode {
        key: key.to_owned(),
        source,
    })
}
