//! A realm's view of the shared realm tree: JSON values under string keys, each stored as
//! `{realm}/{key}`, and of its counters (same prefix, in the counters tree). The realm layer
//! sees realm-relative keys and counter names only.

use super::{Store, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use sled::transaction::TransactionError;
use sled::Transactional;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockWriteGuard};

/// What every view of one realm shares (one per realm incarnation: a realm created again
/// after a drop gets a new one).
pub(super) struct Liveness {
    /// Whether the realm's data may still be written. Dropping the realm flips it under the
    /// write lock, and every write holds the read lock while it lands, so no write of a view
    /// opened before the drop outlives the drop (it fails with [`StoreError::Dropped`]
    /// instead of leaving keys behind under the realm's prefix).
    alive: RwLock<bool>,
    /// Writes of the realm begun, and finished (landed or failed): see [`ReadMark`].
    writes_started: AtomicU64,
    writes_finished: AtomicU64,
}

impl Default for Liveness {
    fn default() -> Self {
        Self {
            alive: RwLock::new(true),
            writes_started: AtomicU64::new(0),
            writes_finished: AtomicU64::new(0),
        }
    }
}

impl Liveness {
    /// Stops every later write of the realm (until the guard goes, writes wait; after, they
    /// fail).
    pub(super) fn stop_writes(&self) -> Result<RwLockWriteGuard<'_, bool>, StoreError> {
        let mut alive = self.alive.write().map_err(|_| StoreError::Dropped)?;
        *alive = false;
        Ok(alive)
    }

    /// Counts a write as begun: no [`ReadMark`] taken before holds from now on.
    pub(super) fn begin_write(&self) {
        self.writes_started.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a write begun with [`Liveness::begin_write`] as finished, landed or failed.
    pub(super) fn end_write(&self) {
        self.writes_finished.fetch_add(1, Ordering::SeqCst);
    }
}

/// Proof that a read of the realm saw every write begun before it and overlapped none: taken
/// when no write was in flight from just before the read to just after it. While
/// [`RealmTree::unchanged_since`] holds for the mark, no write of the realm has begun since,
/// so what the read saw is still what is stored — a reader may keep it and skip the store.
pub struct ReadMark {
    realm: Arc<Liveness>,
    writes: u64,
}

/// A stored value's bytes as [`RealmTree::get_raw_marked`] answers them (reference-counted).
pub type StoredBytes = sled::IVec;

/// One realm's keys in the shared tree. Writes are not durable until [`RealmTree::flush`]
/// returns.
#[derive(Clone)]
pub struct RealmTree {
    data: sled::Tree,
    counters: sled::Tree,
    /// `{realm}/`: realm names never contain `/`, so it ends the name unambiguously.
    prefix: Arc<[u8]>,
    index_key: Arc<[u8]>,
    alive: Arc<Liveness>,
    store: Store,
}

/// One write of an atomic batch.
pub enum BatchOp {
    Put {
        key: String,
        value: Vec<u8>,
    },
    Remove {
        key: String,
    },
    /// Sets a counter (see [`RealmTree::counter`]).
    SetCounter {
        name: &'static str,
        value: u64,
    },
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
        counters: sled::Tree,
        prefix: Vec<u8>,
        index_key: Vec<u8>,
        alive: Arc<Liveness>,
        store: Store,
    ) -> Self {
        Self {
            data,
            counters,
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
    /// and decodes again only when the bytes changed; [`decode_value`] decodes them), with a
    /// [`ReadMark`] when no write of the realm was in flight around the read.
    pub fn get_raw_marked(
        &self,
        key: &str,
    ) -> Result<(Option<StoredBytes>, Option<ReadMark>), StoreError> {
        // Finished before, begun after: equal counts mean every write begun by the end had
        // landed before the read started (so the read saw it) and none began in between.
        let finished_before = self.alive.writes_finished.load(Ordering::SeqCst);
        let stored = self.data.get(self.full_key(key))?;
        let started_after = self.alive.writes_started.load(Ordering::SeqCst);
        let mark = (finished_before == started_after).then(|| ReadMark {
            realm: Arc::clone(&self.alive),
            writes: started_after,
        });
        Ok((stored, mark))
    }

    /// Whether no write of this realm (this incarnation of it) has begun since `mark`.
    pub fn unchanged_since(&self, mark: &ReadMark) -> bool {
        Arc::ptr_eq(&mark.realm, &self.alive)
            && self.alive.writes_started.load(Ordering::SeqCst) == mark.writes
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

    /// The counter `name`, if it was ever set. Counters are small integers rewritten often
    /// (see the module doc of `store`); they are not part of [`RealmTree::entries`].
    pub fn counter(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match self.counters.get(self.full_key(name))? {
            None => Ok(None),
            Some(raw) => decode_value(name, &raw).map(Some),
        }
    }

    /// Sets the counter `name` (not yet durable).
    pub fn set_counter(&self, name: &str, value: u64) -> Result<(), StoreError> {
        let encoded = counter_bytes(value);
        self.while_alive(|| {
            self.counters
                .insert(self.full_key(name), encoded.as_bytes())
                .map(drop)
        })
    }

    /// Applies all writes atomically (not yet durable).
    pub fn apply(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        self.commit(sled::Batch::default(), ops)
    }

    /// Stores a new realm: whatever its prefix held before (remains of an earlier attempt)
    /// goes, `ops` and the realm's index entry land, all in one atomic batch (not yet
    /// durable). Until this batch the realm does not exist; after it, it does completely.
    pub fn create(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        self.commit(self.rebuild_batch()?, ops)
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

    /// Applies `data` and `ops` atomically: one batch, or one transaction over both trees
    /// when `ops` sets counters.
    fn commit(&self, mut data: sled::Batch, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        let mut counters = sled::Batch::default();
        let mut touches_counters = false;
        for op in ops {
            match op {
                BatchOp::Put { key, value } => data.insert(self.full_key(&key), value),
                BatchOp::Remove { key } => data.remove(self.full_key(&key)),
                BatchOp::SetCounter { name, value } => {
                    touches_counters = true;
                    counters.insert(self.full_key(name), counter_bytes(value).as_bytes());
                }
            }
        }
        self.while_alive(|| {
            if !touches_counters {
                return self.data.apply_batch(data);
            }
            (&self.data, &self.counters)
                .transaction(|(data_tx, counters_tx)| {
                    data_tx.apply_batch(&data)?;
                    counters_tx.apply_batch(&counters)?;
                    Ok(())
                })
                .map_err(|error: TransactionError<()>| match error {
                    TransactionError::Storage(error) => error,
                    TransactionError::Abort(()) => {
                        sled::Error::ReportableBug("a batch transaction aborted".into())
                    }
                })
        })
    }

    /// A batch that empties the realm's prefix and writes its index entry, after removing
    /// the counters an earlier realm of the name may have left (it is no realm yet, so
    /// nothing reads them in between).
    fn rebuild_batch(&self) -> Result<sled::Batch, StoreError> {
        clear_prefix(&self.counters, &self.prefix)?;
        let (mut batch, _) = removals(&self.data, &self.prefix)?;
        batch.insert(&*self.index_key, &[][..]);
        Ok(batch)
    }

    /// Runs a write unless the realm was dropped, holding off a drop until it has landed.
    /// Counted as begun before it runs and finished after, whatever its outcome (see
    /// [`ReadMark`]).
    fn while_alive<T>(&self, write: impl FnOnce() -> sled::Result<T>) -> Result<T, StoreError> {
        let alive = self.alive.alive.read().map_err(|_| StoreError::Dropped)?;
        if !*alive {
            return Err(StoreError::Dropped);
        }
        self.alive.begin_write();
        let outcome = write();
        self.alive.end_write();
        Ok(outcome?)
    }
}

/// A counter as stored: a JSON integer (what [`RealmTree::counter`] decodes).
fn counter_bytes(value: u64) -> String {
    value.to_string()
}

/// Removes every key of `tree` under `prefix` in one batch.
pub(super) fn clear_prefix(tree: &sled::Tree, prefix: &[u8]) -> Result<(), StoreError> {
    let (batch, any) = removals(tree, prefix)?;
    if any {
        tree.apply_batch(batch)?;
    }
    Ok(())
}

/// A batch removing every key of `tree` under `prefix`, and whether there was any.
pub(super) fn removals(
    tree: &sled::Tree,
    prefix: &[u8],
) -> Result<(sled::Batch, bool), StoreError> {
    let mut batch = sled::Batch::default();
    let mut any = false;
    for key in tree.scan_prefix(prefix).keys() {
        batch.remove(key?);
        any = true;
    }
    Ok((batch, any))
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

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::BatchOp;

    #[test]
    fn counters_survive_a_reopen_stay_out_of_the_entries_and_go_with_their_realm() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            let alpha = store.realm_tree("alpha").unwrap();
            alpha
                .create(vec![BatchOp::put("keys", &1).unwrap()])
                .unwrap();
            alpha.set_counter("clients", 3).unwrap();
            alpha
                .apply(vec![
                    BatchOp::put("client/a", &"a").unwrap(),
                    BatchOp::SetCounter {
                        name: "clients",
                        value: 4,
                    },
                ])
                .unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let alpha = store.realm_tree("alpha").unwrap();
        assert_eq!(alpha.counter("clients").unwrap(), Some(4));
        assert_eq!(alpha.counter("other").unwrap(), None);
        let keys: Vec<String> = alpha.entries().unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(keys, ["client/a", "keys"]);
        assert_eq!(
            store
                .realm_tree("alphabet")
                .unwrap()
                .counter("clients")
                .unwrap(),
            None
        );

        store.drop_realm("alpha").unwrap();
        assert_eq!(
            store
                .realm_tree("alpha")
                .unwrap()
                .counter("clients")
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_read_mark_holds_until_any_write_of_its_realm_begins_and_never_for_a_new_incarnation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let alpha = store.realm_tree("alpha").unwrap();
        alpha
            .create(vec![BatchOp::put("client/a", &"a").unwrap()])
            .unwrap();
        let beta = store.realm_tree("beta").unwrap();
        beta.create(vec![]).unwrap();
        let fresh_mark = || {
            let (stored, mark) = alpha.get_raw_marked("client/a").unwrap();
            assert_eq!(stored.as_deref(), Some(&b"\"a\""[..]));
            mark.expect("no write in flight, so the read is marked")
        };

        let mark = fresh_mark();
        assert!(alpha.unchanged_since(&mark));
        beta.put("client/b", &"b").unwrap();
        assert!(alpha.unchanged_since(&mark), "another realm's write");
        let other_view = store.realm_tree("alpha").unwrap();
        assert!(other_view.unchanged_since(&mark), "any view of the realm");

        let writes: [&dyn Fn(); 5] = [
            &|| alpha.put("client/b", &"b").unwrap(),
            &|| assert!(alpha.remove("client/b").unwrap()),
            &|| alpha.set_counter("clients", 1).unwrap(),
            &|| {
                alpha
                    .apply(vec![BatchOp::put("client/a", &"a").unwrap()])
                    .unwrap()
            },
            &|| alpha.replace_all(&alpha.entries().unwrap()).unwrap(),
        ];
        for (i, write) in writes.iter().enumerate() {
            let mark = fresh_mark();
            write();
            assert!(
                !alpha.unchanged_since(&mark),
                "write {i}, even of the same bytes"
            );
        }

        let mark = fresh_mark();
        store.drop_realm("alpha").unwrap();
        assert!(!alpha.unchanged_since(&mark), "the drop");

        // The same name created again counts its writes anew: one write each time here.
        let created_with_one_write = || {
            let gamma = store.realm_tree("gamma").unwrap();
            gamma
                .create(vec![BatchOp::put("client/a", &"a").unwrap()])
                .unwrap();
            let (_, mark) = gamma.get_raw_marked("client/a").unwrap();
            (gamma, mark.unwrap())
        };
        let (_, first_mark) = created_with_one_write();
        store.drop_realm("gamma").unwrap();
        let (second, second_mark) = created_with_one_write();
        assert!(second.unchanged_since(&second_mark));
        assert!(
            !second.unchanged_since(&first_mark),
            "a mark of the dropped realm: same name, bytes and count of writes"
        );
    }

    #[test]
    fn a_new_realm_does_not_inherit_counters_left_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        // As a crash between a drop's two steps leaves them: counters, no realm.
        store
            .realm_tree("alpha")
            .unwrap()
            .set_counter("clients", 9)
            .unwrap();
        let alpha = store.realm_tree("alpha").unwrap();
        alpha
            .create(vec![BatchOp::put("keys", &1).unwrap()])
            .unwrap();
        assert_eq!(alpha.counter("clients").unwrap(), None);
        let beta = store.realm_tree("beta").unwrap();
        beta.set_counter("clients", 2).unwrap();
        beta.replace_all(&[]).unwrap();
        assert_eq!(beta.counter("clients").unwrap(), None);
    }
}
